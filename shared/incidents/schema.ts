import * as z from 'zod';
import type { Clock } from '../platform/clock.js';
import { code, isoDate, isoDateTime, text, ulid } from '../platform/fields.js';
import { CLUSTER_KINDS } from '../detection/keys.js';
import { activeCategories } from '../reports/taxonomy.js';
import { DEADLINE_IDS, HAZARD_CLASSES, INCIDENT_STATUSES } from './model.js';

/**
 * Payloads of the incident endpoints. Every object is strict: unknown fields are rejected,
 * each named. Free text here is written by staff about the product, never about a customer.
 */
export const ClusterListQuery = z.strictObject({
  window: z.coerce.number().pipe(z.union([z.literal(7), z.literal(30), z.literal(90), z.literal(365)])).default(30),
  kind: z.enum(CLUSTER_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const IncidentListQuery = z.strictObject({
  status: z.enum(INCIDENT_STATUSES).default('candidate'),
  hazardClass: z.enum(HAZARD_CLASSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2000).optional(),
});
export type IncidentListQuery = z.infer<typeof IncidentListQuery>;

export const IncidentIdPath = z.strictObject({ id: ulid('an incident id') });

export const IncidentReadQuery = z.strictObject({
  /** Read the lifecycle state back as it was at this version (from the timeline). */
  asOfVersion: z.coerce.number().int().min(1).optional(),
});

export const IncidentReportQuery = z.strictObject({
  format: z.enum(['json', 'markdown']).default('json'),
});

const unique = <T extends z.ZodType>(item: T, max: number, what: string, keyOf: (v: z.infer<T>) => string = (v) => JSON.stringify(v)) =>
  z
    .array(item)
    .max(max, `at most ${max} ${what}`)
    .refine((list) => new Set(list.map(keyOf)).size === list.length, `each ${what.replace(/s$/, '')} once`);

export const Scope = z
  .strictObject({
    products: unique(z.strictObject({ sku: code(64), name: text(200) }), 50, 'products', (p) => p.sku).optional(),
    lots: unique(z.strictObject({ sku: code(64), lotCode: code(64) }), 200, 'lots', (l) => `${l.sku}|${l.lotCode}`).optional(),
    productionDates: z
      .strictObject({ from: isoDate, to: isoDate })
      .refine((d) => d.from <= d.to, { message: 'from must not be after to', path: ['to'] })
      .optional(),
    regions: unique(code(64), 50, 'regions').optional(),
    stores: unique(code(64), 500, 'stores').optional(),
  })
  .superRefine((s, ctx) => {
    const skus = new Set((s.products ?? []).map((p) => p.sku));
    (s.lots ?? []).forEach((l, i) => {
      if (!skus.has(l.sku)) ctx.addIssue({ code: 'custom', path: ['lots', i, 'sku'], message: 'a lot belongs to a product in scope: list its product too (a scope is given whole: what is left out is removed)' });
    });
  });
export type ScopeInput = z.infer<typeof Scope>;

const Declaration = {
  title: text(200),
  hazardClass: z.enum(HAZARD_CLASSES),
  hazard: text(500),
  scope: Scope.optional(),
  qaOwner: text(100).optional(),
};

/** POST /incidents: quality assurance opens a declared incident by hand, without a candidate. */
export const IncidentOpen = z
  .strictObject({
    ...Declaration,
    /** The defect the incident is about: its cluster keys are derived from it and the scope. */
    category: activeCategories().field(),
    scope: Scope,
  })
  .refine((o) => (o.scope.products?.length ?? 0) > 0, { path: ['scope', 'products'], message: 'an incident opened by hand names at least one product: its keys come from the products and lots' });
export type IncidentOpen = z.infer<typeof IncidentOpen>;

const version = { expectedVersion: z.number().int().min(1) };

/** Builds the action schema around a clock, so "not in the future" is testable. */
export function incidentActionSchema(clock: Clock) {
  const SKEW_MS = 5 * 60_000;
  const past = isoDateTime.refine((v) => new Date(v).getTime() <= clock.now().getTime() + SKEW_MS, 'must not be in the future');
  return z.discriminatedUnion('action', [
    z.strictObject({ action: z.literal('declare'), ...version, ...Declaration, merge: unique(ulid('a candidate id'), 20, 'candidates').optional() }),
    z.strictObject({ action: z.literal('dismiss'), ...version, reason: text(2000) }),
    z
      .strictObject({
        action: z.literal('update-scope'),
        ...version,
        title: Declaration.title.optional(),
        hazardClass: Declaration.hazardClass.optional(),
        hazard: Declaration.hazard.optional(),
        scope: Scope.optional(),
        qaOwner: Declaration.qaOwner,
      })
      .refine((u) => u.title || u.hazardClass || u.hazard || u.scope || u.qaOwner, { path: ['scope'], message: 'change at least one of title, hazardClass, hazard, scope, qaOwner' }),
    z.strictObject({ action: z.literal('record-hold'), ...version, locations: unique(code(64), 50, 'locations').min(1, 'at least one warehouse or plant'), heldAt: past.optional(), note: text(1000).optional() }),
    z.strictObject({ action: z.literal('issue-withdrawal'), ...version, instructions: text(2000).optional() }),
    z.strictObject({ action: z.literal('accept-sponsorship'), ...version, reason: text(1000).optional() }),
    z.strictObject({ action: z.literal('draft-disclosure'), ...version, mode: z.enum(['public-notice', 'no-public-notice']).default('public-notice'), text: text(10_000) }),
    z.strictObject({ action: z.literal('approve-disclosure'), ...version, textHash: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the text you approve (from GET /incidents/{id})') }),
    z.strictObject({ action: z.literal('contain'), ...version }),
    z.strictObject({ action: z.literal('disclose'), ...version }),
    z.strictObject({ action: z.literal('remediate'), ...version }),
    z.strictObject({ action: z.literal('record-root-cause'), ...version, text: text(4000) }),
    z.strictObject({ action: z.literal('add-action'), ...version, kind: z.enum(['corrective', 'preventive']), description: text(2000), owner: text(100), dueDate: isoDate }),
    z.strictObject({ action: z.literal('complete-action'), ...version, actionId: z.string().regex(/^capa-\d{1,3}$/, 'an action id such as capa-1'), completedAt: past.optional() }),
    z.strictObject({ action: z.literal('verify'), ...version }),
    z.strictObject({ action: z.literal('override-verification'), ...version, reason: text(2000) }),
    z.strictObject({ action: z.literal('acknowledge-breach'), ...version, deadline: z.enum(DEADLINE_IDS), reason: text(2000) }),
    z.strictObject({ action: z.literal('close'), ...version }),
  ]);
}
export type IncidentAction = z.infer<ReturnType<typeof incidentActionSchema>>;
