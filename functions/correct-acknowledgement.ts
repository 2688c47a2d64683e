import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { AckCorrection, AckPath } from '../shared/notices/schema.js';
import { correctAcknowledgement } from '../shared/notices/use-cases.js';

loadConfig(['TABLE_NAME']);

/** PUT /notices/{id}/acks/{storeId}: QA corrects a store's figures, with the reason; the old ones stay in the record. */
export const handler = httpRoute({ roles: ['qa', 'admin'], path: AckPath, body: AckCorrection }, async ({ path, body, principal }) => {
  const { acknowledgement, replayed } = await correctAcknowledgement({ clock: systemClock }, path.id, path.storeId, body, principal!);
  return ok(acknowledgement, replayed ? { 'idempotent-replayed': 'true' } : {});
});
