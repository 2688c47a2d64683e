import { flat } from '../platform/strings.js';
import { IdSet } from './id-set.js';
import type { CounterGroup } from './keys.js';
import type { CounterReader, CounterStore } from './store.js';

/** A reader that can also give a key's weekly counts in one pass (the in-memory store's). */
export interface WeeklyCounterReader extends CounterReader {
  /**
   * The key's counts per 7-day week, oldest first, the last week ending with the reader's day;
   * written into `into` when given (a scratch array the caller reuses), else a new array.
   */
  weekly(key: string, weeks: number, into?: number[]): number[];
}

/**
 * One key's days with reports, ascending, with running totals, in one flat array (one object
 * to reach per key, not three): `[dropped, day₀, total₀, day₁, total₁, …]`, where `dropped`
 * counts the reports on days pruned and totalᵢ every report up to dayᵢ.
 */
type Series = number[];

/**
 * How many of the series' days are on or before `day`. Searched from the newest day back, in
 * doubling steps, then by halves between the last two steps: the rules' windows end on the
 * newest day or start a few weeks before it, whose days are a few steps from the end (and in
 * cache, just counted), where a search over the whole series would read its far half first.
 */
function daysUpTo(s: Series, day: number): number {
  const days = (s.length - 1) >> 1;
  if (days === 0 || s[2 * days - 1]! <= day) return days;
  // The day at `hi` is after `day`; step back until one is not (or the series' start).
  let hi = days - 1;
  let step = 1;
  let lo = hi - step;
  while (lo >= 0 && s[1 + 2 * lo]! > day) {
    hi = lo;
    step *= 2;
    lo = hi - step;
  }
  // The answer is in (lo, hi]: the first day after `day`.
  lo = lo < 0 ? 0 : lo + 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[1 + 2 * mid]! <= day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reports up to the series' `n`-th day (n = 0: the dropped ones). */
const upTo = (s: Series, n: number) => s[2 * n]!;

/**
 * In-memory counters for unit tests and backtests. Per key, the days that had reports in
 * ascending order with running totals, so a window total is two binary searches. Memory is
 * bounded by the reports of the last `retainDays` (default: longer than the longest window the
 * default rules read, 730 days), not by the length of the history:
 * - days older than `retainDays` before the newest are dropped from each key's series;
 * - a key with no report in `retainDays` is dropped whole (lots come and go);
 * - lot keys (`lot|…`) can be kept for a shorter `lotRetainDays`: only the burst rule reads
 *   them, over its windows and baseline (97 days by default), and they are most of the keys;
 * - the report ids counted (for counting each report once) are forgotten with their day.
 */
export class MemoryCounterStore implements CounterStore {
  /**
   * Every key: its series once it has reports on two days or more; before that (most lots)
   * day × PACK + count, a number, so a new key costs no objects. Lots in a map of their own:
   * they are most of the keys, and the other keys' map stays small enough to stay in cache.
   */
  private readonly lots = new Map<string, Series | number>();
  private readonly others = new Map<string, Series | number>();
  private readonly counted = new IdSet();
  private newest = Number.NEGATIVE_INFINITY;
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** Bumped by every sweep: a group's handles resolved before it may name series swept since. */
  private generation = 0;
  /** The keys just counted and what the store held for each after counting (the rules read them next). */
  private recentKeys: readonly string[] = [];
  private recentSeries: readonly (Series | number)[] = [];
  private readonly recentScratch: (Series | number)[] = [];
  private recentLot: string | undefined;
  private recentLotHeld: Series | number | undefined;

  private readonly lotRetainDays: number;

  constructor(
    private readonly retainDays = RETAIN_DAYS,
    options: { lotRetainDays?: number } = {},
  ) {
    this.lotRetainDays = Math.min(retainDays, options.lotRetainDays ?? retainDays);
  }

  private retentionOf(key: string): number {
    return isLot(key) ? this.lotRetainDays : this.retainDays;
  }

  private mapOf(key: string): Map<string, Series | number> {
    return isLot(key) ? this.lots : this.others;
  }

  async count(reportId: string, keys: readonly string[], day: number): Promise<boolean> {
    return this.countSync(reportId, keys, day);
  }

  countSync(reportId: string, keys: readonly string[], day: number): boolean {
    if (!this.countOnce(reportId, day)) return false;
    // The keys just counted are the ones the rules read next: remembered, they skip the map.
    const held = this.recentScratch;
    for (let i = 0; i < keys.length; i++) held[i] = this.add(keys[i]!, day);
    held.length = keys.length;
    this.remember(undefined, undefined, keys, held);
    return true;
  }

  /**
   * Counts one report for a replay that counts each report once itself (a backtest's reading
   * does): its lot's counter, which the replay keeps (counted in place, without a lookup), and
   * a group of keys that recur together (its product's keys: `sharedRuleKeys` in keys.ts gives
   * every complaint about a product and defect the same group object), through the handles the
   * store keeps on the group's counters (without a lookup a key either).
   */
  countReplayedSync(lot: LotCounter | undefined, group: CounterGroup, day: number): void {
    if (day > this.newest) this.advance(day);
    const series = this.handlesOf(group);
    const retain = group.heldRetain!;
    if (typeof retain === 'number') for (let i = 0; i < series.length; i++) countOn(series[i]!, day, retain);
    else for (let i = 0; i < series.length; i++) countOn(series[i]!, day, retain[i]!);
    if (lot) lot.held = plusOne(lot.held as Series | number | undefined, day, this.lotRetainDays);
    this.remember(lot?.key, lot?.held as Series | number | undefined, group.keys, series);
  }

  /** Counts keys with no report id (the caller counts each once: a backtest's family-rule firings). */
  addSync(keys: readonly string[], day: number): void {
    if (day > this.newest) this.advance(day);
    for (const key of keys) this.add(key, day);
    this.remember(undefined, undefined, [], []);
  }

  /** Whether `reportId` is new (and now remembered); moves the store's day on first. */
  private countOnce(reportId: string, day: number): boolean {
    if (day > this.newest) {
      // Checked before the day moves on: a repeat is refused while its id is remembered, and moves nothing.
      if (this.counted.has(reportId)) return false;
      this.advance(day);
    }
    return this.counted.add(reportId, day);
  }

  private remember(lot: string | undefined, lotHeld: Series | number | undefined, keys: readonly string[], held: readonly (Series | number)[]): void {
    this.recentLot = lot;
    this.recentLotHeld = lotHeld;
    this.recentKeys = keys;
    this.recentSeries = held;
  }

  /**
   * The group's series in this store, kept on the group and resolved once per sweep (a sweep may
   * drop a series, and a later report make a new one); with them the keys' retention, one number
   * when they share it (a product's keys do: no lot among them).
   */
  private handlesOf(group: CounterGroup): Series[] {
    const held = group.held as Series[] | undefined;
    if (held && group.heldBy === this) {
      if (group.heldSince === this.generation) return held;
      // Resolved again in place after a sweep (every group is, once after each sweep).
      for (let i = 0; i < group.keys.length; i++) held[i] = this.seriesOf(group.keys[i]!);
      group.heldSince = this.generation;
      return held;
    }
    const retain = group.keys.map((k) => this.retentionOf(k));
    group.heldRetain = retain.every((r) => r === retain[0]) ? (retain[0] ?? this.retainDays) : retain;
    const series = group.keys.map((k) => this.seriesOf(k));
    group.held = series;
    group.heldBy = this;
    group.heldSince = this.generation;
    return series;
  }

  /** The key's series, made one when it holds none or a single day. */
  private seriesOf(key: string): Series {
    const map = this.mapOf(key);
    const held = map.get(key);
    if (typeof held === 'object') return held;
    const s = unpacked(held);
    map.set(flat(key), s);
    return s;
  }

  async read(_keys: readonly string[], day: number, _longestDays?: number): Promise<CounterReader> {
    return this.readerAt(day);
  }

  /** A synchronous reader (backtests skip the promise per row). */
  readerAt(day: number): WeeklyCounterReader {
    // One reader a day (a backtest asks for one per complaint, most on a day asked before).
    if (this.reader?.day !== day) this.reader = new DayReader(this, day);
    return this.reader;
  }
  private reader: DayReader | undefined;

  /** How many keys are held (for progress output). */
  get size(): number {
    return this.lots.size + this.others.size;
  }

  /** How many report ids are remembered for counting once (bounded by `retainDays`). */
  get rememberedIds(): number {
    return this.counted.size;
  }

  /** What the store holds for a key: the series of the keys just counted without a map lookup. */
  private lookup(key: string): Series | number | undefined {
    if (key === this.recentLot) return this.recentLotHeld;
    const recent = this.recentKeys;
    for (let i = 0; i < recent.length; i++) if (recent[i] === key) return this.recentSeries[i];
    return this.mapOf(key).get(key);
  }

  /** Counts one report on `day` for `key`; returns what the store now holds for it. */
  private add(key: string, day: number): Series | number {
    const map = this.mapOf(key);
    const held = map.get(key);
    const now = plusOne(held, day, this.retentionOf(key));
    if (now !== held) map.set(held === undefined ? flat(key) : key, now);
    return now;
  }

  /** The newest day moved on: forget report ids and whole keys older than `retainDays`. */
  private advance(day: number): void {
    this.newest = day;
    const horizon = day - this.retainDays;
    this.counted.forgetBefore(horizon);
    // A sweep over every key now and then (every fifth of the retention, half the lots'):
    // keys quiet for longer than their retention hold nothing any window can read.
    if (day - this.lastSweep >= Math.max(1, Math.floor(Math.min(this.retainDays / 5, this.lotRetainDays / 2)))) {
      this.lastSweep = day;
      sweep(this.lots, day - this.lotRetainDays);
      // A group's handles name no lot: they are stale only when one of the other keys was dropped.
      if (sweep(this.others, horizon) > 0) this.generation++;
      this.remember(undefined, undefined, [], []);
    }
  }

  /** Reports for `key` on days from..to inclusive. (No closures: this is the hot path.) */
  /** @internal */
  total(key: string, from: number, to: number): number {
    const s = this.lookup(key);
    if (s === undefined) return 0;
    if (typeof s === 'number') {
      const d = Math.floor(s / PACK);
      return d >= from && d <= to ? s % PACK : 0;
    }
    if (s.length === 1) return 0;
    return upTo(s, daysUpTo(s, to)) - upTo(s, daysUpTo(s, from - 1));
  }

  /** Weekly counts ending with `day`, oldest first: one walk back over the key's days. */
  /** @internal */
  weekly(key: string, weeks: number, day: number, into?: number[]): number[] {
    const out = into ?? new Array<number>(weeks);
    out.length = weeks;
    out.fill(0);
    const s = this.lookup(key);
    if (s === undefined) return out;
    if (typeof s === 'number') {
      const d = Math.floor(s / PACK);
      if (d <= day && d > day - 7 * weeks) out[weeks - 1 - Math.floor((day - d) / 7)] = s % PACK;
      return out;
    }
    const earliest = day - 7 * weeks;
    for (let i = daysUpTo(s, day); i >= 1; i--) {
      const d = s[2 * i - 1]!;
      if (d <= earliest) break;
      out[weeks - 1 - Math.floor((day - d) / 7)]! += upTo(s, i) - upTo(s, i - 1);
    }
    return out;
  }
}

/** How long a store keeps a key's days by default: longer than the longest window the default rules read (730 days), and the out-of-order margin of a replay. */
export const RETAIN_DAYS = 800;

/** A single-day key packs its day and count into one number: day × PACK + count. */
const PACK = 1024;

/** What is held for a key after one report on `day` is counted into what it held: the same series, or a new number or series. */
function plusOne(held: Series | number | undefined, day: number, retainDays: number): Series | number {
  if (typeof held === 'object') {
    countOn(held, day, retainDays);
    return held;
  }
  if (held === undefined && day >= 0) return day * PACK + 1;
  if (held !== undefined) {
    const first = Math.floor(held / PACK);
    const count = held % PACK;
    if (first === day && count < PACK - 1) return held + 1;
    // A second day after the first, within the retention (most lots' second report): the series
    // made at its size, not made for one day and then grown (a grown array keeps room for 16 more).
    if (first < day && first >= day - retainDays) return [0, first, count, day, count + 1];
  }
  const s = unpacked(held);
  countOn(s, day, retainDays);
  return s;
}

/**
 * A lot's counter kept by a replay rather than by the store (`countReplayedSync`): its key,
 * and what the store would hold for it (opaque to the replay; undefined before its first report).
 */
export interface LotCounter {
  readonly key: string;
  held: unknown;
}

/** A key's series from what the store held for it: nothing yet, or its one day packed in a number. */
const unpacked = (held: number | undefined): Series => (held === undefined ? [0] : [0, Math.floor(held / PACK), held % PACK]);

const isLot = (key: string) => key.charCodeAt(0) === 108 && key.startsWith('lot|');

/** Counts one report on `day` into the series (kept `retainDays` back from its newest day). */
function countOn(s: Series, day: number, retainDays: number): void {
  const n = s.length;
  if (n > 1 && s[n - 2] === day) {
    s[n - 1]! += 1;
  } else if (n === 1 || s[n - 2]! < day) {
    s.push(day, s[n - 1]! + 1);
    if (s[1]! < day - retainDays) prune(s, day, retainDays);
  } else {
    // An out-of-order day: insert it and shift the running totals after it.
    const before = daysUpTo(s, day);
    let i = 1 + 2 * before;
    if (before > 0 && s[i - 2] === day) i -= 2;
    else s.splice(i, 0, day, upTo(s, before));
    for (let j = i + 1; j < s.length; j += 2) s[j]! += 1;
  }
}

function prune(s: Series, newest: number, retainDays: number): void {
  const cut = daysUpTo(s, newest - retainDays);
  const days = (s.length - 1) >> 1;
  if (cut > 64 || cut === days - 1) {
    s[0] = upTo(s, cut);
    s.splice(1, 2 * cut);
  }
}

/** Drops the keys whose last report is before `horizon`: they hold nothing any window can read. Returns how many. */
function sweep(map: Map<string, Series | number>, horizon: number): number {
  let dropped = 0;
  map.forEach((held, key) => {
    const last = typeof held === 'number' ? Math.floor(held / PACK) : held.length > 1 ? held[held.length - 2]! : Number.NEGATIVE_INFINITY;
    if (last < horizon) {
      map.delete(key);
      dropped++;
    }
  });
  return dropped;
}

/** A reader at one day (a class, not closures: one per complaint). */
class DayReader implements WeeklyCounterReader {
  constructor(
    private readonly store: MemoryCounterStore,
    readonly day: number,
  ) {}
  total(key: string, windowDays: number): number {
    return this.store.total(key, this.day - windowDays + 1, this.day);
  }
  weekly(key: string, weeks: number, into?: number[]): number[] {
    return this.store.weekly(key, weeks, this.day, into);
  }
}

