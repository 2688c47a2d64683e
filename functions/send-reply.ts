import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { created, httpRoute } from '../shared/platform/http.js';
import { sendReply } from '../shared/notices/replies.js';
import { ReplyCreate } from '../shared/notices/schema.js';
import { ReportIdPath } from '../shared/reports/schema.js';

loadConfig(['TABLE_NAME']);

/** POST /reports/{id}/reply: the written reply to one complaint; stops its 14-day clock. */
export const handler = httpRoute(
  { roles: ['agent', 'qa', 'admin'], path: ReportIdPath, body: ReplyCreate },
  async ({ path, body, principal }) => created(await sendReply({ clock: systemClock }, path.id, body, principal!)),
);
