/**
 * The report ids an in-memory store (or a backtest's reading) has counted, so that each is
 * counted once, and forgotten after a horizon. A `Set` of a million strings costs three or four
 * cache misses a lookup (its buckets, its entries, each candidate string's header), and a
 * million strings that live for years of days, each copied by the garbage collector as it
 * ages; in a backtest that was a sixth of the time. Here an id is one slot of an
 * open-addressing table: a 52-bit fingerprint in a `Float64Array`, the day it was counted in
 * an `Int32Array` beside it, and the id's characters in one shared `Uint16Array`, compared
 * only when the fingerprints match, so the answer is exact. An id may carry a number with it
 * (`prefix`: a backtest's category, so that one id in two categories is two reports) without
 * a string being built for the pair. Slots of ids older than the horizon are reused; the
 * table is rebuilt when too few slots are free, the characters compacted when they fill up.
 */
export class IdSet {
  private fingerprints: Float64Array;
  private days: Int32Array;
  private prefixes: Int32Array;
  private starts: Int32Array;
  private lengths: Int32Array;
  /** Each id's slot hash, before it is masked to the table's size (a rebuild places the ids by it). */
  private hashes: Uint32Array;
  private chars = new Uint16Array(1024);
  private charsUsed = 0;
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
    private readonly hash: (id: string, prefix: number) => { fingerprint: number; slot: number } = hashOf,
  ) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, capacity)));
    this.fingerprints = new Float64Array(size);
    this.days = new Int32Array(size);
    this.prefixes = new Int32Array(size);
    this.starts = new Int32Array(size);
    this.lengths = new Int32Array(size);
    this.hashes = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** How many ids are remembered (counted on or after the horizon). */
  get size(): number {
    return this.live;
  }

  /** Whether `id` (with `prefix`) is remembered (counted, not forgotten). */
  has(id: string, prefix = 0): boolean {
    const { fingerprint, slot } = this.hash(id, prefix);
    for (let i = slot & this.mask; ; i = (i + 1) & this.mask) {
      const f = this.fingerprints[i]!;
      if (f === 0) return false;
      if (f === fingerprint && this.days[i]! >= this.horizon && this.holds(i, id, prefix)) return true;
    }
  }

  /**
   * Adds `id` (with `prefix`, a whole number), counted on `day` (a whole day number). An id
   * given a day earlier than one given before, or than the horizon, is kept under the later
   * day: forgotten later, never sooner. False when the id is remembered already.
   */
  add(id: string, day: number, prefix = 0): boolean {
    if (!Number.isInteger(day) || Math.abs(day) >= 2 ** 31) throw new RangeError(`a day is a whole number of days since 1970, not ${day}`);
    const { fingerprint, slot } = this.hash(id, prefix);
    const fingerprints = this.fingerprints;
    const days = this.days;
    let free = -1;
    let empty = false;
    for (let i = slot & this.mask; ; i = (i + 1) & this.mask) {
      const f = fingerprints[i]!;
      if (f === 0) {
        if (free < 0) {
          free = i;
          empty = true;
        }
        break;
      }
      if (days[i]! < this.horizon) {
        if (free < 0) free = i;
      } else if (f === fingerprint && this.holds(i, id, prefix)) return false;
    }
    if (this.charsUsed + id.length > this.chars.length) {
      // New, and no room for its characters: the forgotten ids are dropped (the array doubles only when the remembered ones fill half of it), then it is placed anew.
      this.rebuild(id.length);
      return this.add(id, day, prefix);
    }
    if (empty) this.used++;
    fingerprints[free] = fingerprint;
    days[free] = this.countOn(day);
    this.prefixes[free] = prefix;
    this.hashes[free] = slot;
    const chars = this.chars;
    const start = this.charsUsed;
    for (let j = 0; j < id.length; j++) chars[start + j] = id.charCodeAt(j);
    this.starts[free] = start;
    this.lengths[free] = id.length;
    this.charsUsed += id.length;
    if (this.used > this.fingerprints.length * 0.7) this.rebuild(0);
    return true;
  }

  /** The table's slots (for tests: bounded by the remembered ids, not by every id ever added). */
  get capacity(): number {
    return this.fingerprints.length;
  }

  /** The characters kept (for tests: bounded by the remembered ids too). */
  get characters(): number {
    return this.chars.length;
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

  /** Whether slot `i` holds exactly this id and prefix. */
  private holds(i: number, id: string, prefix: number): boolean {
    const n = id.length;
    if (this.lengths[i] !== n || this.prefixes[i] !== prefix) return false;
    const chars = this.chars;
    const start = this.starts[i]!;
    for (let j = 0; j < n; j++) if (chars[start + j] !== id.charCodeAt(j)) return false;
    return true;
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

  /** The table without the forgotten ids: sized for the remembered ones (at most 40% full after; rebuilt at 70%), their characters compacted with room for `room` more. */
  private rebuild(room: number): void {
    const { fingerprints, days, prefixes, starts, lengths, hashes, chars } = this;
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, (this.live + 1) / 0.4)));
    let liveChars = 0;
    for (let j = 0; j < fingerprints.length; j++) if (fingerprints[j] !== 0 && days[j]! >= this.horizon) liveChars += lengths[j]!;
    this.fingerprints = new Float64Array(size);
    this.days = new Int32Array(size);
    this.prefixes = new Int32Array(size);
    this.starts = new Int32Array(size);
    this.lengths = new Int32Array(size);
    this.hashes = new Uint32Array(size);
    // Room for as many again as are remembered, at least: compacted again only after that many new characters.
    this.chars = new Uint16Array(Math.max(1024, 2 ** Math.ceil(Math.log2((liveChars + room) * 2 + 1))));
    this.charsUsed = 0;
    this.mask = size - 1;
    this.used = 0;
    for (let j = 0; j < fingerprints.length; j++) {
      const f = fingerprints[j]!;
      if (f === 0 || days[j]! < this.horizon) continue;
      let i = hashes[j]! & this.mask;
      while (this.fingerprints[i] !== 0) i = (i + 1) & this.mask;
      this.fingerprints[i] = f;
      this.days[i] = days[j]!;
      this.prefixes[i] = prefixes[j]!;
      this.hashes[i] = hashes[j]!;
      const from = starts[j]!;
      const length = lengths[j]!;
      const to = this.charsUsed;
      this.starts[i] = to;
      this.lengths[i] = length;
      for (let c = 0; c < length; c++) this.chars[to + c] = chars[from + c]!;
      this.charsUsed += length;
      this.used++;
    }
  }
}

/** Two 32-bit FNV-1a variants over the prefix and the id's UTF-16 units: the slot from one, a 52-bit fingerprint (never 0) from both. */
const hashed = { fingerprint: 0, slot: 0 };
export function hashOf(id: string, prefix = 0): { fingerprint: number; slot: number } {
  let a = Math.imul(0x811c9dc5 ^ prefix, 0x01000193);
  let b = Math.imul(0x9747b28c ^ prefix, 0x5bd1e995);
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
