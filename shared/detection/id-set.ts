import { detached } from '../platform/strings.js';

/**
 * The report ids an in-memory store has counted, so that each is counted once, and forgotten
 * after a horizon. A `Set` of a million strings costs three or four cache misses a lookup (its
 * buckets, its entries, each candidate string's header); in a backtest that was a sixth of the
 * time. Here an id is one slot of an open-addressing table: a 52-bit fingerprint in a
 * `Float64Array`, the day it was counted in an `Int32Array` beside it, and the id itself,
 * compared only when the fingerprints match, so the answer is exact. Slots of ids older than
 * the horizon are reused; the table is rebuilt when too few slots are free.
 */
export class IdSet {
  private fingerprints: Float64Array;
  private days: Int32Array;
  private ids: (string | undefined)[];
  private mask: number;
  /** Slots holding an id, forgotten or not (a forgotten one is reused only by an insert that passes it). */
  private used = 0;
  private horizon = Number.NEGATIVE_INFINITY;
  /** Ids counted per day (live ones: on or after the horizon), oldest first: what `size` reports. */
  private readonly perDay: { day: number; count: number }[] = [];
  private perDayHead = 0;
  private live = 0;

  constructor(
    capacity = 1024,
    /** The id's slot and fingerprint (tests give one that collides). */
    private readonly hash: (id: string) => { fingerprint: number; slot: number } = hashOf,
  ) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, capacity)));
    this.fingerprints = new Float64Array(size);
    this.days = new Int32Array(size);
    this.ids = new Array<string | undefined>(size);
    this.mask = size - 1;
  }

  /** How many ids are remembered (counted on or after the horizon). */
  get size(): number {
    return this.live;
  }

  /** Whether `id` is remembered (counted, not forgotten). */
  has(id: string): boolean {
    const { fingerprint, slot } = this.hash(id);
    for (let i = slot & this.mask; ; i = (i + 1) & this.mask) {
      const f = this.fingerprints[i]!;
      if (f === 0) return false;
      if (f === fingerprint && this.days[i]! >= this.horizon && this.ids[i] === id) return true;
    }
  }

  /**
   * Adds `id`, counted on `day` (a whole day number). An id given a day earlier than one given
   * before, or than the horizon, is kept under the later day: forgotten later, never sooner.
   * False when the id is remembered already.
   */
  add(id: string, day: number): boolean {
    if (!Number.isInteger(day) || Math.abs(day) >= 2 ** 31) throw new RangeError(`a day is a whole number of days since 1970, not ${day}`);
    const { fingerprint, slot } = this.hash(id);
    const fingerprints = this.fingerprints;
    const days = this.days;
    let free = -1;
    for (let i = slot & this.mask; ; i = (i + 1) & this.mask) {
      const f = fingerprints[i]!;
      if (f === 0) {
        if (free < 0) {
          free = i;
          this.used++;
        }
        break;
      }
      if (days[i]! < this.horizon) {
        if (free < 0) free = i;
      } else if (f === fingerprint && this.ids[i] === id) return false;
    }
    fingerprints[free] = fingerprint;
    days[free] = this.countOn(day);
    // Copied: an id cut out of a parser's buffer would keep the whole buffer alive.
    this.ids[free] = detached(id);
    if (this.used > this.fingerprints.length * 0.7) this.rebuild();
    return true;
  }

  /** The table's slots (for tests: bounded by the remembered ids, not by every id ever added). */
  get capacity(): number {
    return this.fingerprints.length;
  }

  /** Forgets every id counted before `day`. */
  forgetBefore(day: number): void {
    if (day <= this.horizon) return;
    this.horizon = day;
    while (this.perDayHead < this.perDay.length && this.perDay[this.perDayHead]!.day < day) {
      this.live -= this.perDay[this.perDayHead]!.count;
      this.perDayHead++;
    }
    if (this.perDayHead > 1024 && this.perDayHead * 2 > this.perDay.length) {
      this.perDay.splice(0, this.perDayHead);
      this.perDayHead = 0;
    }
  }

  /** Counts an id on `day`, or on the latest day counted if that is later (forgotten later, never sooner); returns the day it is kept under. */
  private countOn(given: number): number {
    this.live++;
    const day = Math.max(given, this.horizon);
    const last = this.perDay.length > this.perDayHead ? this.perDay[this.perDay.length - 1] : undefined;
    if (last && last.day >= day) {
      last.count++;
      return last.day;
    }
    this.perDay.push({ day, count: 1 });
    return day;
  }

  /** A table sized for the remembered ids (at most 40% full after; rebuilt at 70%), without the forgotten ones. */
  private rebuild(): void {
    const { fingerprints, days, ids } = this;
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, (this.live + 1) / 0.4)));
    this.fingerprints = new Float64Array(size);
    this.days = new Int32Array(size);
    this.ids = new Array<string | undefined>(size);
    this.mask = size - 1;
    this.used = 0;
    for (let j = 0; j < fingerprints.length; j++) {
      const f = fingerprints[j]!;
      if (f === 0 || days[j]! < this.horizon) continue;
      let i = this.hash(ids[j]!).slot & this.mask;
      while (this.fingerprints[i] !== 0) i = (i + 1) & this.mask;
      this.fingerprints[i] = f;
      this.days[i] = days[j]!;
      this.ids[i] = ids[j];
      this.used++;
    }
  }
}

/** Two 32-bit FNV-1a variants over the id's UTF-16 units: the slot from one, a 52-bit fingerprint (never 0) from both. */
const hashed = { fingerprint: 0, slot: 0 };
export function hashOf(id: string): { fingerprint: number; slot: number } {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a >>>= 0;
  b >>>= 0;
  hashed.slot = a;
  hashed.fingerprint = (a * 0x100000 + (b >>> 12)) || 1;
  return hashed;
}
