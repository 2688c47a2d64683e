import * as z from 'zod';

/** Field shapes every payload schema shares: codes, free text, dates. */
export const code = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'required')
    .max(max, `at most ${max} characters`)
    .regex(/^([\p{L}\p{N}][\p{L}\p{N} ._\/#:-]*)?$/u, 'starts with a letter or digit; letters, digits, space and . _ / # : - only');
export const text = (max: number) => z.string().trim().min(1, 'required').max(max, `at most ${max} characters`);
export const isoDate = z.iso.date({ message: 'a date as YYYY-MM-DD' });
export const isoDateTime = z.iso.datetime({ offset: true, message: 'a date-time in ISO 8601 with a time zone' });
/** A ULID, as every id the system makes. */
export const ulid = (what: string) => z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, `${what} (ULID)`);

/**
 * The one form of a product, lot or plant code that keys are built from: Unicode NFKC (so a
 * full-width `ＬＯＴ１` and a half-width `LOT1` are one lot), whitespace trimmed and runs of it
 * collapsed, ASCII letters in upper case. The record keeps the text as it was typed; only keys use this.
 */
export function keyCode(value: string): string {
  // ASCII letters only: full upper-casing would fold distinct codes (ß → SS) and is not
  // idempotent for some scripts; NFKC has already turned full-width letters into ASCII.
  return value.normalize('NFKC').trim().replace(/\s+/gu, ' ').replace(/[a-z]+/g, (m) => m.toUpperCase());
}
