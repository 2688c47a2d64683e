import { systemClock } from '../platform/clock.js';
import { loadConfig } from '../platform/config.js';
import { clockPolicyFrom } from './clocks.js';
import type { ReportDeps } from './use-cases.js';

/** Cold-start wiring for report functions: fails fast on a missing table or a bad policy. */
export function reportDeps(): ReportDeps {
  loadConfig(['TABLE_NAME']);
  return { clock: systemClock, policy: clockPolicyFrom() };
}
