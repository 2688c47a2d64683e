import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { created, httpRoute } from '../shared/platform/http.js';
import { IncidentIdPath } from '../shared/incidents/schema.js';
import { sendIncidentReplies } from '../shared/notices/replies.js';
import { ReplyCreate } from '../shared/notices/schema.js';

loadConfig(['TABLE_NAME']);

/** POST /incidents/{id}/replies: the written reply to every linked customer still owed one. */
export const handler = httpRoute(
  { roles: ['qa', 'admin'], path: IncidentIdPath, body: ReplyCreate },
  async ({ path, body, principal }) => created(await sendIncidentReplies({ clock: systemClock }, path.id, body, principal!)),
);
