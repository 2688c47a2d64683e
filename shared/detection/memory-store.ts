import type { CounterReader, CounterStore } from './store.js';

/**
 * In-memory counters for unit tests and backtests. Per key, the days that had reports in
 * ascending order with running totals, so a window total is two binary searches. Days older
 * than `retainDays` (default: longer than the longest window the default rules read, 730 days) before the newest are dropped, so memory stays bounded by the number of
 * keys, not the number of reports.
 */
export class MemoryCounterStore implements CounterStore {
  private readonly series = new Map<string, { days: number[]; cumulative: number[]; dropped: number }>();
  private readonly counted = new Set<string>();
  private readonly countedByDay: { day: number; ids: string[] }[] = [];

  constructor(private readonly retainDays = 800) {}

  async count(reportId: string, keys: readonly string[], day: number): Promise<boolean> {
    return this.countSync(reportId, keys, day);
  }

  countSync(reportId: string, keys: readonly string[], day: number): boolean {
    if (this.counted.has(reportId)) return false;
    this.counted.add(reportId);
    this.rememberCounted(reportId, day);
    for (const key of keys) this.add(key, day);
    return true;
  }

  async read(_keys: readonly string[], day: number): Promise<CounterReader> {
    return this.readerAt(day);
  }

  /** A synchronous reader (backtests skip the promise per row). */
  readerAt(day: number): CounterReader {
    return { total: (key, windowDays) => this.total(key, day - windowDays + 1, day) };
  }

  /** How many keys are held (for progress output). */
  get size(): number {
    return this.series.size;
  }

  private add(key: string, day: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = { days: [], cumulative: [], dropped: 0 };
      this.series.set(key, s);
    }
    const last = s.days.length - 1;
    const before = last >= 0 ? s.cumulative[last]! : s.dropped;
    if (last >= 0 && s.days[last] === day) {
      s.cumulative[last]! += 1;
    } else if (last < 0 || s.days[last]! < day) {
      s.days.push(day);
      s.cumulative.push(before + 1);
      this.prune(s, day);
    } else {
      // An out-of-order day: insert it and shift the running totals after it.
      let i = upperBound(s.days, day);
      if (s.days[i - 1] === day) i -= 1;
      else {
        s.days.splice(i, 0, day);
        s.cumulative.splice(i, 0, i > 0 ? s.cumulative[i - 1]! : s.dropped);
      }
      for (let j = i; j < s.cumulative.length; j++) s.cumulative[j]! += 1;
    }
  }

  private prune(s: { days: number[]; cumulative: number[]; dropped: number }, newest: number): void {
    const cut = upperBound(s.days, newest - this.retainDays);
    if (cut > 64) {
      s.dropped = s.cumulative[cut - 1]!;
      s.days.splice(0, cut);
      s.cumulative.splice(0, cut);
    }
  }

  private rememberCounted(reportId: string, day: number): void {
    // Forget report ids long past every window, so a million-row backtest stays bounded.
    const last = this.countedByDay[this.countedByDay.length - 1];
    if (last && last.day === day) last.ids.push(reportId);
    else this.countedByDay.push({ day, ids: [reportId] });
    while (this.countedByDay.length > 0 && this.countedByDay[0]!.day < day - this.retainDays) {
      for (const id of this.countedByDay.shift()!.ids) this.counted.delete(id);
    }
  }

  /** Reports for `key` on days from..to inclusive. (No closures: this is the hot path.) */
  private total(key: string, from: number, to: number): number {
    const s = this.series.get(key);
    if (!s || s.days.length === 0) return 0;
    const i = upperBound(s.days, to);
    const j = upperBound(s.days, from - 1);
    return (i === 0 ? s.dropped : s.cumulative[i - 1]!) - (j === 0 ? s.dropped : s.cumulative[j - 1]!);
  }
}

/** Index of the first element greater than `value` in an ascending array. */
function upperBound(values: number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
