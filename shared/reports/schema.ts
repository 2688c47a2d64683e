import * as z from 'zod';
import type { Clock } from '../platform/clock.js';
import { code, isoDate, isoDateTime, text } from '../platform/fields.js';
import { activeCategories, type Categories } from './taxonomy.js';

/**
 * The case record ("karte") of DOMAIN.md §1 as schemas. Create / Read / List variants;
 * types come from `z.infer`. Every object is strict: unknown fields are rejected, each named.
 */
export type DefectCategory = string;

export const CHANNELS = ['phone', 'mail', 'email', 'web_form', 'store', 'social_media'] as const;

export const MAX_DESCRIPTION = 4000;
/** Tolerated clock skew between the desk's machine and ours for "not in the future". */
const SKEW_MS = 5 * 60_000;

/** The customer's contact: personal data, stored apart and shown only to roles that need it. */
export const Contact = z
  .strictObject({
    name: text(200),
    phone: z.string().trim().regex(/^\+?[0-9 ()-]{6,20}$/, 'a phone number').optional(),
    email: z.email('an e-mail address').max(254).optional(),
    postalAddress: text(500).optional(),
    preferredChannel: z.enum(['phone', 'email', 'mail']).optional(),
  })
  .refine((c) => c.phone || c.email || c.postalAddress, {
    message: 'give at least one of phone, email or postalAddress: the 14-day reply must reach the customer',
    path: ['phone'],
  });

const Harm = z.strictObject({
  injury: z.boolean(),
  illness: z.boolean(),
  medicalAttention: z.boolean(),
  description: text(MAX_DESCRIPTION).optional(),
});

const FiveW1H = z.strictObject({
  who: text(1000).optional(),
  what: text(1000).optional(),
  when: text(1000).optional(),
  where: text(1000).optional(),
  why: text(1000).optional(),
  how: text(1000).optional(),
});

/** A landing point is a promise to the customer: it is due in the future, never already broken. */
export function landingPointSchema(clock: Clock) {
  return z.strictObject({
    promise: text(500),
    owner: text(100),
    dueAt: isoDateTime.refine((v) => new Date(v).getTime() >= clock.now().getTime() - SKEW_MS, 'must not be in the past: a promise is due later'),
  });
}
export type LandingPointCreate = z.infer<ReturnType<typeof landingPointSchema>>;

/** The default horizon of `receivedAt` (CLOCK_POLICY.receivedHorizonDays). */
export const DEFAULT_RECEIVED_HORIZON_DAYS = 365;

/**
 * Builds the create schema around a clock, so "not in the future" is testable. `receivedAt`
 * lies within the horizon: a complaint from years ago is history for a backtest, and a
 * claimed old time must not slip a report past every clock and window.
 */
export function reportCreateSchema(clock: Clock, horizonDays = DEFAULT_RECEIVED_HORIZON_DAYS, categories: Categories = activeCategories()) {
  // A calendar date is in the future only once that day has begun somewhere (UTC+14).
  const pastDate = isoDate.refine(
    (v) => new Date(`${v}T00:00:00Z`).getTime() - 14 * 3600_000 <= clock.now().getTime(),
    'must not be in the future',
  );
  const pastDateTime = isoDateTime.refine((v) => new Date(v).getTime() <= clock.now().getTime() + SKEW_MS, 'must not be in the future');
  return z
    .strictObject({
      product: z.strictObject({
        sku: code(64),
        gtin: z.string().regex(/^(\d{8}|\d{12,14})$/, 'a GTIN of 8, 12, 13 or 14 digits').optional(),
        name: text(200),
      }),
      lotCode: code(64),
      productionDate: pastDate.optional(),
      bestBeforeDate: isoDate.optional(),
      plant: code(64),
      purchase: z.strictObject({
        storeId: code(64),
        region: code(64),
        date: pastDate.optional(),
      }),
      defect: z.strictObject({
        category: categories.field(),
        description: text(MAX_DESCRIPTION),
      }),
      harm: Harm,
      howFound: text(1000).optional(),
      sampleCollected: z.boolean(),
      channel: z.enum(CHANNELS),
      receivedAt: pastDateTime.refine(
        (v) => new Date(v).getTime() >= clock.now().getTime() - horizonDays * 86_400_000,
        `must be within the last ${horizonDays} days (older complaints go into a backtest)`,
      ),
      receivingAgent: text(100).optional(),
      fiveW1H: FiveW1H.optional(),
      resolutionProposed: text(2000).optional(),
      landingPoints: z.array(landingPointSchema(clock)).max(10, 'at most 10 landing points').optional(),
      contact: Contact,
    })
    .superRefine((r, ctx) => {
      if (!r.productionDate && !r.bestBeforeDate) {
        ctx.addIssue({ code: 'custom', path: ['productionDate'], message: 'give productionDate, bestBeforeDate or both' });
      }
      if (r.productionDate && r.bestBeforeDate && r.bestBeforeDate < r.productionDate) {
        ctx.addIssue({ code: 'custom', path: ['bestBeforeDate'], message: 'must not be before productionDate' });
      }
      if (r.purchase.date && r.productionDate && r.purchase.date < r.productionDate) {
        ctx.addIssue({ code: 'custom', path: ['purchase', 'date'], message: 'must not be before productionDate' });
      }
    });
}
export type ReportCreate = z.infer<ReturnType<typeof reportCreateSchema>>;

export const ReportIdPath = z.strictObject({ id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a report id (ULID)') });

export const CLOCK_STATES = ['open', 'overdue', 'closed'] as const;

export const ReportListQuery = z
  .strictObject({
    sku: code(64).optional(),
    lot: code(64).optional(),
    category: activeCategories().field().optional(),
    storeId: code(64).optional(),
    region: code(64).optional(),
    receivedFrom: isoDateTime.optional(),
    receivedTo: isoDateTime.optional(),
    clockState: z.enum(CLOCK_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(2000).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.lot && !q.sku) ctx.addIssue({ code: 'custom', path: ['lot'], message: 'a lot is filtered together with its sku' });
    if (q.receivedFrom && q.receivedTo && Date.parse(q.receivedTo) < Date.parse(q.receivedFrom)) {
      ctx.addIssue({ code: 'custom', path: ['receivedTo'], message: 'must not be before receivedFrom' });
    }
  });
export type ReportListQuery = z.infer<typeof ReportListQuery>;

export function milestoneSchema(clock: Clock) {
  return z.strictObject({
    clock: z.string().regex(/^(handoff|qa|reply|lp-[0-9A-Z]{26})$/, 'handoff, qa, reply or a landing point id'),
    at: isoDateTime
      .refine((v) => new Date(v).getTime() <= clock.now().getTime() + SKEW_MS, 'must not be in the future')
      .optional(),
    note: text(1000).optional(),
  });
}
export type MilestoneCreate = z.infer<ReturnType<typeof milestoneSchema>>;

export const SurveyCreate = z.strictObject({
  satisfaction: z.number().int().min(1).max(5),
  comment: text(2000).optional(),
});
export type SurveyCreate = z.infer<typeof SurveyCreate>;

export const IdempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8 to 128 characters of letters, digits and _ . : -');
