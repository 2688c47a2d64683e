import { systemClock } from '../platform/clock.js';
import { ConfigError, loadConfig } from '../platform/config.js';
import { DynamoCounterStore } from '../detection/dynamo-store.js';
import { detectionConfigFrom } from '../detection/config.js';
import { incidentPolicyFrom } from './policy.js';
import type { IncidentDeps } from './use-cases.js';

/** Cold-start wiring for incident functions: fails fast on a missing table or a bad policy. */
export function incidentDeps(): IncidentDeps {
  const config = loadConfig(['TABLE_NAME']);
  return { clock: systemClock, policy: incidentPolicyFrom(), counters: new DynamoCounterStore(config.TABLE_NAME), trackRecord: trackRecordFromEnv() };
}

/** The track-record settings of `DETECTION_CONFIG` (the stream validates the rest; an incident function needs only these). */
export function trackRecordFromEnv(env: Record<string, string | undefined> = process.env) {
  try {
    const raw = env.DETECTION_CONFIG ? (JSON.parse(env.DETECTION_CONFIG) as { trackRecord?: unknown }) : {};
    return detectionConfigFrom(raw.trackRecord === undefined ? {} : { trackRecord: raw.trackRecord }).trackRecord;
  } catch (error) {
    throw new ConfigError([`DETECTION_CONFIG: ${(error as Error).message}`]);
  }
}
