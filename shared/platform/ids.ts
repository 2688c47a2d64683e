import { createHash } from 'node:crypto';
import { monotonicFactory, ulid } from 'ulid';

const next = monotonicFactory();

/** A new sortable id (ULID): ids made later sort later, so ids double as creation order. */
export function newId(at: Date = new Date()): string {
  return next(at.getTime());
}

/**
 * A ULID for a moment, whose random part is derived from `seed` when one is given: the same
 * moment and seed always give the same id. Used to make retried creations land on the same
 * item, so a conditional put is the whole idempotency check.
 */
export function idAt(at: Date, seed?: string): string {
  if (!seed) return ulid(at.getTime());
  const bytes = createHash('sha256').update(seed).digest();
  let i = 0;
  return ulid(at.getTime(), () => bytes[i++ % bytes.length]! / 256);
}
