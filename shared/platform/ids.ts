import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** A new sortable id (ULID): ids made later sort later, so ids double as creation order. */
export function newId(at: Date = new Date()): string {
  return next(at.getTime());
}
