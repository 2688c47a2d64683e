import * as z from 'zod';
import { code, text } from '../platform/fields.js';

/** Notice ids are built from incident ids and hex: letters, digits and hyphens. */
export const NoticeIdPath = z.strictObject({ id: z.string().regex(/^withdrawal-[0-9A-Z]{26}-s?[0-9a-f]{2,64}$/, 'a store notice id (withdrawal-…)') });

const quantity = z.number().int('a whole number of units').min(0).max(10_000_000);
/** A store removes what it had: more is a typo (a store's own acknowledgement and QA's correction alike). */
const removedAtMostOnHand = (a: { quantityOnHand: number; quantityRemoved: number }) => a.quantityRemoved <= a.quantityOnHand;
const removedTooMany = { path: ['quantityRemoved'], message: 'cannot be more than quantityOnHand (the units the store had)' };
export const AckCreate = z.strictObject({ quantityOnHand: quantity, quantityRemoved: quantity, note: text(1000).optional() }).refine(removedAtMostOnHand, removedTooMany);
export type AckCreate = z.infer<typeof AckCreate>;

/** A store's acknowledgement and the store, in the path of QA's correction. */
export const AckPath = z.strictObject({ id: NoticeIdPath.shape.id, storeId: code(64) });

/** QA corrects a store's figures (a typo the store reported): the new figures and why; the old ones stay in the record. */
export const AckCorrection = z.strictObject({ quantityOnHand: quantity, quantityRemoved: quantity, reason: text(1000) }).refine(removedAtMostOnHand, removedTooMany);
export type AckCorrection = z.infer<typeof AckCorrection>;

export const StoreNoticesQuery = z.strictObject({ all: z.enum(['true', 'false']).default('false') });

export const PublicNoticesQuery = z.strictObject({
  format: z.enum(['html', 'json']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** The written reply of the 14-day rule: what was found, why, what changes; in plain words. */
export const ReplyCreate = z.strictObject({
  investigation: text(2000),
  cause: text(2000),
  prevention: text(2000),
  /** Replaces the standard apology, e.g. with a word about compensation. */
  apology: text(1000).optional(),
});
export type ReplyCreate = z.infer<typeof ReplyCreate>;
