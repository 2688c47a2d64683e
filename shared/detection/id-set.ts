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
  /**
   * Per slot, eight 32-bit words side by side (one cache line: a lookup or an insert touches
   * one line, not one per field): the fingerprint's low and high words (both 0: an empty
   * slot), the day, the prefix, the id's first character and length in `chars`, its slot hash.
   */
  private table: Int32Array;
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
    this.table = new Int32Array(size * WORDS);
    this.mask = size - 1;
  }

  /** How many ids are remembered (counted on or after the horizon). */
  get size(): number {
    return this.live;
  }

  /** Whether `id` (with `prefix`) is remembered (counted, not forgotten). */
  has(id: string, prefix = 0): boolean {
    const { fingerprint, slot } = this.hash(id, prefix);
    const lo = fingerprint | 0;
    const hi = ((fingerprint - (fingerprint >>> 0)) / 2 ** 32) | 0;
    const t = this.table;
    for (let i = slot & this.mask; ; i = (i + 1) & this.mask) {
      const w = i * WORDS;
      if (t[w] === 0 && t[w + 1] === 0) return false;
      if (t[w] === lo && t[w + 1] === hi && t[w + 2]! >= this.horizon && this.holds(w, id, prefix)) return true;
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
    const lo = fingerprint | 0;
    const hi = ((fingerprint - (fingerprint >>> 0)) / 2 ** 32) | 0;
    const t = this.table;
    let free = -1;
    let empty = false;
    for (let i = slot & this.mask; ; i = (i + 1) & this.mask) {
      const w = i * WORDS;
      if (t[w] === 0 && t[w + 1] === 0) {
        if (free < 0) {
          free = w;
          empty = true;
        }
        break;
      }
      if (t[w + 2]! < this.horizon) {
        if (free < 0) free = w;
      } else if (t[w] === lo && t[w + 1] === hi && this.holds(w, id, prefix)) return false;
    }
    if (this.charsUsed + id.length > this.chars.length) {
      // New, and no room for its characters: the forgotten ids are dropped (the array doubles only when the remembered ones fill half of it), then it is placed anew.
      this.rebuild(id.length);
      return this.add(id, day, prefix);
    }
    if (empty) this.used++;
    const chars = this.chars;
    const start = this.charsUsed;
    for (let j = 0; j < id.length; j++) chars[start + j] = id.charCodeAt(j);
    this.charsUsed += id.length;
    t[free] = lo;
    t[free + 1] = hi;
    t[free + 2] = this.countOn(day);
    t[free + 3] = prefix;
    t[free + 4] = start;
    t[free + 5] = id.length;
    t[free + 6] = slot;
    if (this.used > (this.mask + 1) * 0.7) this.rebuild(0);
    return true;
  }

  /** The table's slots (for tests: bounded by the remembered ids, not by every id ever added). */
  get capacity(): number {
    return this.mask + 1;
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

  /** Whether the slot at word `w` holds exactly this id and prefix. */
  private holds(w: number, id: string, prefix: number): boolean {
    const t = this.table;
    const n = id.length;
    if (t[w + 5] !== n || t[w + 3] !== prefix) return false;
    const chars = this.chars;
    const start = t[w + 4]!;
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
    const { table: old, chars: oldChars } = this;
    const slots = this.mask + 1;
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, (this.live + 1) / 0.4)));
    let liveChars = 0;
    for (let w = 0; w < slots * WORDS; w += WORDS) if ((old[w] !== 0 || old[w + 1] !== 0) && old[w + 2]! >= this.horizon) liveChars += old[w + 5]!;
    const t = (this.table = new Int32Array(size * WORDS));
    // Room for as many again as are remembered, at least: compacted again only after that many new characters.
    const chars = (this.chars = new Uint16Array(Math.max(1024, 2 ** Math.ceil(Math.log2((liveChars + room) * 2 + 1)))));
    this.charsUsed = 0;
    this.mask = size - 1;
    this.used = 0;
    for (let v = 0; v < slots * WORDS; v += WORDS) {
      if ((old[v] === 0 && old[v + 1] === 0) || old[v + 2]! < this.horizon) continue;
      let i = old[v + 6]! & this.mask;
      while (t[i * WORDS] !== 0 || t[i * WORDS + 1] !== 0) i = (i + 1) & this.mask;
      const w = i * WORDS;
      const from = old[v + 4]!;
      const length = old[v + 5]!;
      const to = this.charsUsed;
      for (let c = 0; c < length; c++) chars[to + c] = oldChars[from + c]!;
      this.charsUsed += length;
      t[w] = old[v]!;
      t[w + 1] = old[v + 1]!;
      t[w + 2] = old[v + 2]!;
      t[w + 3] = old[v + 3]!;
      t[w + 4] = to;
      t[w + 5] = length;
      t[w + 6] = old[v + 6]!;
      this.used++;
    }
  }
}

/** 32-bit words per slot (`IdSet.table`): seven used, one to keep a slot within a cache line. */
const WORDS = 8;

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
