import { z } from 'zod';
import { ConfigError } from '../platform/config.js';

/**
 * What a company tunes about running a recall: per-class stage deadlines (the *speed*
 * principle) and the verification window of the *prevention* gate. Defaults below;
 * a deployment overrides them with `INCIDENT_POLICY` (JSON, partial), validated at
 * start-up so a bad value fails the deploy, not the first declaration.
 */
const ClassDeadlines = z.strictObject({
  /** Hours from declaration until every region in scope has its store withdrawal notice. */
  storesNotifiedHours: z.number().positive().max(24 * 30),
  /** Hours from declaration until the disclosure; null: no public-notice deadline. */
  disclosedHours: z.number().positive().max(24 * 90).nullable(),
});

export const IncidentPolicy = z.strictObject({
  deadlines: z.strictObject({ I: ClassDeadlines, II: ClassDeadlines, III: ClassDeadlines }),
  /** Days after the fix during which no new report may arrive on the incident's keys. */
  verificationDays: z.number().int().min(1).max(365),
});
export type IncidentPolicy = z.infer<typeof IncidentPolicy>;

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = {
  deadlines: {
    I: { storesNotifiedHours: 2, disclosedHours: 24 },
    II: { storesNotifiedHours: 24, disclosedHours: 72 },
    III: { storesNotifiedHours: 72, disclosedHours: null },
  },
  verificationDays: 30,
};

/** Reads `INCIDENT_POLICY` over the defaults (per class, partially); throws ConfigError naming each bad path. */
export function incidentPolicyFrom(env: Record<string, string | undefined> = process.env): IncidentPolicy {
  const raw = env.INCIDENT_POLICY;
  if (!raw) return DEFAULT_INCIDENT_POLICY;
  let parsed: { deadlines?: Record<string, object>; verificationDays?: number };
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError([`INCIDENT_POLICY is not JSON: ${raw}`]);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(['INCIDENT_POLICY must be a JSON object']);
  const merged = {
    ...DEFAULT_INCIDENT_POLICY,
    ...parsed,
    deadlines: Object.fromEntries(
      Object.entries({ ...DEFAULT_INCIDENT_POLICY.deadlines, ...(parsed.deadlines ?? {}) }).map(([cls, d]) => [
        cls,
        { ...(DEFAULT_INCIDENT_POLICY.deadlines as Record<string, object>)[cls], ...d },
      ]),
    ),
  };
  const result = IncidentPolicy.safeParse(merged);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `INCIDENT_POLICY.${i.path.join('.')}: ${i.message}`));
  return result.data;
}
