import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { created, httpRoute, ok } from '../shared/platform/http.js';
import { countMetric, METRIC } from '../shared/platform/metrics.js';
import { AckCreate, NoticeIdPath } from '../shared/notices/schema.js';
import { acknowledgeNotice } from '../shared/notices/use-cases.js';

loadConfig(['TABLE_NAME']);

/** POST /notices/{id}/acks: a store confirms a withdrawal with what it had and what it pulled. */
export const handler = httpRoute({ roles: ['store'], path: NoticeIdPath, body: AckCreate }, async ({ path, body, principal }) => {
  const { acknowledgement, replayed } = await acknowledgeNotice({ clock: systemClock }, path.id, body, principal!);
  if (replayed) return ok(acknowledgement, { 'idempotent-replayed': 'true' });
  countMetric(METRIC.acknowledgements);
  return created(acknowledgement);
});
