import { mondayOf } from './scoring.js';
import { chiSquaredYates, prr } from './statistics.js';

/**
 * The classic complaint-cluster detectors the engine is measured against, as parameterised
 * in the real data set's README (test/fixtures/nhtsa-ford-toyota-tesla/README.md). Each reads
 * the whole history (they are references for a bench, not production rules) keyed by
 * (sku, category), and returns its alerts; weekly ones alert on the Sunday closing the week
 * (weeks run Monday to Sunday). Days are days since the epoch, UTC.
 */
export interface ClassicComplaint {
  readonly sku: string;
  readonly category: string;
  readonly day: number;
  readonly injury?: boolean;
}

export interface ClassicAlert {
  readonly sku: string;
  readonly category: string;
  readonly day: number;
}

interface KeySeries {
  sku: string;
  category: string;
  /** Complaints per day. */
  days: Map<number, number>;
  first: number;
}

function byKey(complaints: Iterable<ClassicComplaint>): Map<string, KeySeries> {
  const keys = new Map<string, KeySeries>();
  for (const c of complaints) {
    const id = `${c.sku}\u0000${c.category}`;
    let s = keys.get(id);
    if (!s) keys.set(id, (s = { sku: c.sku, category: c.category, days: new Map(), first: c.day }));
    s.days.set(c.day, (s.days.get(c.day) ?? 0) + 1);
    s.first = Math.min(s.first, c.day);
  }
  return keys;
}

function weekly(s: KeySeries): Map<number, number> {
  const weeks = new Map<number, number>();
  for (const [d, n] of s.days) weeks.set(mondayOf(d), (weeks.get(mondayOf(d)) ?? 0) + n);
  return weeks;
}

/** Fixed threshold: ≥ `threshold` complaints on a key in a calendar week (alert on its Sunday). */
export function fixedWeekly(complaints: Iterable<ClassicComplaint>, threshold = 3): ClassicAlert[] {
  const alerts: ClassicAlert[] = [];
  for (const s of byKey(complaints).values()) {
    for (const [monday, n] of weekly(s)) if (n >= threshold) alerts.push({ sku: s.sku, category: s.category, day: monday + 6 });
  }
  return alerts;
}

/**
 * EARS C2, daily: today's count c against the mean and sample standard deviation of days
 * t−9..t−3 (a two-day guard band), sd floored at `sdFloor`; alert when c ≥ `minCount` and
 * (c − mean) / sd > `z`.
 */
export function earsC2(complaints: Iterable<ClassicComplaint>, { sdFloor = 0.5, minCount = 2, z = 3 } = {}): ClassicAlert[] {
  const alerts: ClassicAlert[] = [];
  for (const s of byKey(complaints).values()) {
    for (const [day, c] of s.days) {
      if (c < minCount) continue;
      const base = Array.from({ length: 7 }, (_, i) => s.days.get(day - 9 + i) ?? 0);
      const mean = base.reduce((a, b) => a + b, 0) / 7;
      const sd = Math.sqrt(base.reduce((a, b) => a + (b - mean) ** 2, 0) / 6);
      if ((c - mean) / Math.max(sd, sdFloor) > z) alerts.push({ sku: s.sku, category: s.category, day });
    }
  }
  return alerts;
}

/**
 * Poisson CUSUM, weekly: μ = mean count of the 26 prior weeks, σ = max(√μ, `sigmaFloor`),
 * S = max(0, S + (x − μ) / σ − k); alert when S > h, then S resets to 0. Each key's series
 * starts with its first complaint's week (weeks before it count as zero in the baseline)
 * and runs to the last week of the history.
 */
export function poissonCusum(
  complaints: Iterable<ClassicComplaint>,
  { baselineWeeks = 26, sigmaFloor = 0.5, k = 0.5, h = 4 } = {},
): ClassicAlert[] {
  const keys = byKey(complaints);
  let lastWeek = -Infinity;
  for (const s of keys.values()) for (const d of s.days.keys()) lastWeek = Math.max(lastWeek, mondayOf(d));
  const alerts: ClassicAlert[] = [];
  for (const s of keys.values()) {
    const weeks = weekly(s);
    const first = mondayOf(s.first);
    const counts: number[] = [];
    for (let w = first; w <= lastWeek; w += 7) counts.push(weeks.get(w) ?? 0);
    let sum = 0; // of the baseline window
    let cusum = 0;
    for (let i = 0; i < counts.length; i++) {
      const mu = sum / baselineWeeks;
      const sigma = Math.max(Math.sqrt(mu), sigmaFloor);
      cusum = Math.max(0, cusum + (counts[i]! - mu) / sigma - k);
      if (cusum > h) {
        alerts.push({ sku: s.sku, category: s.category, day: first + i * 7 + 6 });
        cusum = 0;
      }
      sum += counts[i]!;
      if (i >= baselineWeeks) sum -= counts[i - baselineWeeks]!;
    }
  }
  return alerts;
}

/**
 * PRR screen, newly flagged, weekly: every Sunday, each (sku, category) over the trailing
 * `windowDays` is flagged when a ≥ `minCount`, PRR ≥ `minPrr` and Yates χ² ≥ `minChi2`
 * (a = this sku and category, against all other skus); an alert when a key is flagged this
 * week and was not flagged the week before.
 */
export function prrNewlyFlagged(
  complaints: Iterable<ClassicComplaint>,
  { windowDays = 365, minCount = 3, minPrr = 2, minChi2 = 4 } = {},
): ClassicAlert[] {
  const list = [...complaints].sort((a, b) => a.day - b.day);
  if (list.length === 0) return [];
  const alerts: ClassicAlert[] = [];
  const key = new Map<string, number>();
  const sku = new Map<string, number>();
  const category = new Map<string, number>();
  let all = 0;
  const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
  const flagged = new Set<string>();
  let entered = 0;
  let left = 0;
  for (let sunday = mondayOf(list[0]!.day) + 6; left < list.length; sunday += 7) {
    while (entered < list.length && list[entered]!.day <= sunday) {
      const c = list[entered++]!;
      add(key, `${c.sku}\u0000${c.category}`, 1), add(sku, c.sku, 1), add(category, c.category, 1), (all += 1);
    }
    while (left < entered && list[left]!.day <= sunday - windowDays) {
      const c = list[left++]!;
      add(key, `${c.sku}\u0000${c.category}`, -1), add(sku, c.sku, -1), add(category, c.category, -1), (all -= 1);
    }
    const now = new Set<string>();
    for (const [k, a] of key) {
      if (a < minCount) continue;
      const [s, cat] = k.split('\u0000') as [string, string];
      const table = { a, b: sku.get(s)! - a, c: category.get(cat)! - a, d: all - sku.get(s)! - category.get(cat)! + a };
      if (prr(table) >= minPrr && chiSquaredYates(table) >= minChi2) {
        now.add(k);
        if (!flagged.has(k)) alerts.push({ sku: s, category: cat, day: sunday });
      }
    }
    flagged.clear();
    for (const k of now) flagged.add(k);
    if (entered === list.length && left === entered) break;
  }
  return alerts;
}

/** The reference row: one alert per complaint that reports an injury. */
export function perInjury(complaints: Iterable<ClassicComplaint>): ClassicAlert[] {
  const alerts: ClassicAlert[] = [];
  for (const c of complaints) if (c.injury) alerts.push({ sku: c.sku, category: c.category, day: c.day });
  return alerts;
}
