import * as z from 'zod';
import { ConfigError, jsonSetting } from '../platform/config.js';

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

/**
 * The FDA effectiveness-check level of a class (21 CFR 7.42(b)(3)): the share of consignees
 * (here: stores in scope) that must confirm they received the notice and acted on it.
 * A = 100 %, B = more than C and less than A, C = 10 %, D = 2 %, E = no check.
 */
export const EFFECTIVENESS_LEVELS = { A: 100, B: null, C: 10, D: 2, E: 0 } as const;
const Effectiveness = z
  .strictObject({ level: z.enum(['A', 'B', 'C', 'D', 'E']), targetPercent: z.number().min(0).max(100) })
  .refine((e) => e.level !== 'B' ? e.targetPercent === EFFECTIVENESS_LEVELS[e.level] : e.targetPercent > 10 && e.targetPercent < 100, {
    message: 'targetPercent must match the level: A 100, B between 10 and 100, C 10, D 2, E 0',
    path: ['targetPercent'],
  });

export const IncidentPolicy = z.strictObject({
  deadlines: z.strictObject({ I: ClassDeadlines, II: ClassDeadlines, III: ClassDeadlines }),
  /** Days after the fix during which no new report may arrive on the incident's keys. */
  verificationDays: z.number().int().min(1).max(365),
  effectiveness: z.strictObject({ I: Effectiveness, II: Effectiveness, III: Effectiveness }),
  /** Stores that have not acknowledged a withdrawal are re-notified, then escalated to QA. */
  storeResponse: z.strictObject({ renotifyAfterHours: z.number().positive().max(24 * 14), escalateAfterHours: z.number().positive().max(24 * 14) }),
});
export type IncidentPolicy = z.infer<typeof IncidentPolicy>;

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = {
  deadlines: {
    I: { storesNotifiedHours: 2, disclosedHours: 24 },
    II: { storesNotifiedHours: 24, disclosedHours: 72 },
    III: { storesNotifiedHours: 72, disclosedHours: null },
  },
  verificationDays: 30,
  effectiveness: { I: { level: 'A', targetPercent: 100 }, II: { level: 'B', targetPercent: 90 }, III: { level: 'C', targetPercent: 10 } },
  storeResponse: { renotifyAfterHours: 4, escalateAfterHours: 4 },
};

/** Reads `INCIDENT_POLICY` over the defaults (per class, partially); throws ConfigError naming each bad path. */
export function incidentPolicyFrom(env: Record<string, string | undefined> = process.env): IncidentPolicy {
  const raw = env.INCIDENT_POLICY;
  return raw ? jsonSetting('INCIDENT_POLICY', raw, IncidentPolicy, withDefaults) : DEFAULT_INCIDENT_POLICY;
}

/** The given policy over the defaults, partial at every level: a class, a field of a class, a field of storeResponse. */
function withDefaults(parsed: unknown): unknown {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(['INCIDENT_POLICY must be a JSON object']);
  const defaults = DEFAULT_INCIDENT_POLICY as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...defaults, ...parsed };
  const isObject = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
  for (const section of ['deadlines', 'effectiveness', 'storeResponse'] as const) {
    const given = (parsed as Record<string, unknown>)[section];
    if (given !== undefined && !isObject(given)) throw new ConfigError([`INCIDENT_POLICY.${section}: must be an object`]);
    if (section === 'storeResponse') continue;
    for (const [cls, d] of Object.entries((given ?? {}) as Record<string, unknown>)) {
      if (!isObject(d)) throw new ConfigError([`INCIDENT_POLICY.${section}.${cls}: must be an object`]);
    }
  }
  for (const section of ['deadlines', 'effectiveness'] as const) {
    const given = (parsed as Record<string, Record<string, object> | undefined>)[section] ?? {};
    const base = DEFAULT_INCIDENT_POLICY[section] as Record<string, object>;
    merged[section] = Object.fromEntries(Object.entries({ ...base, ...given }).map(([cls, d]) => [cls, { ...base[cls], ...d }]));
  }
  merged.storeResponse = { ...DEFAULT_INCIDENT_POLICY.storeResponse, ...((parsed as { storeResponse?: object }).storeResponse ?? {}) };
  return merged;
}
