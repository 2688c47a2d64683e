import { systemClock } from '../platform/clock.js';
import { loadConfig } from '../platform/config.js';
import { DynamoCounterStore } from '../detection/dynamo-store.js';
import { incidentPolicyFrom } from './policy.js';
import type { IncidentDeps } from './use-cases.js';

/** Cold-start wiring for incident functions: fails fast on a missing table or a bad policy. */
export function incidentDeps(): IncidentDeps {
  const config = loadConfig(['TABLE_NAME']);
  return { clock: systemClock, policy: incidentPolicyFrom(), counters: new DynamoCounterStore(config.TABLE_NAME) };
}
