/** Pure statistics for the detection rules. No I/O, no clock. */

const LOG_FACTORIALS: number[] = [0, 0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1]! + Math.log(i));
  return LOG_FACTORIALS[n]!;
}

/** P(X ≥ k) for X ~ Poisson(lambda), summed over the upper tail for precision at small p. */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  let logTerm = -lambda + k * Math.log(lambda) - logFactorial(k);
  let sum = 0;
  for (let i = k; i < k + 10_000; i++) {
    const term = Math.exp(logTerm);
    sum += term;
    if (term < sum * 1e-12 && i > lambda) break;
    logTerm += Math.log(lambda) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

export interface TwoByTwo {
  /** This product, this category. */
  readonly a: number;
  /** This product, other categories. */
  readonly b: number;
  /** Other products, this category. */
  readonly c: number;
  /** Other products, other categories. */
  readonly d: number;
}

/**
 * Proportional reporting ratio: the product's share of the category against the share
 * among all other products. Infinite when no other product has the category at all.
 */
export function prr({ a, b, c, d }: TwoByTwo): number {
  if (a + b === 0) return 0;
  const own = a / (a + b);
  if (c + d === 0) return own > 0 ? Number.POSITIVE_INFINITY : 0;
  const others = c / (c + d);
  if (others === 0) return own > 0 ? Number.POSITIVE_INFINITY : 0;
  return own / others;
}

/** Pearson's chi-squared with Yates' continuity correction for a 2×2 table. */
export function chiSquaredYates({ a, b, c, d }: TwoByTwo): number {
  const n = a + b + c + d;
  const denominator = (a + b) * (c + d) * (a + c) * (b + d);
  if (denominator === 0) return 0;
  const diff = Math.max(0, Math.abs(a * d - b * c) - n / 2);
  return (n * diff * diff) / denominator;
}

/**
 * The BCPNN information component (Bate et al. 1998, with Norén's approximation of its
 * credibility interval): IC = log2((a + ½) / (E + ½)) for `a` observed against `expected`
 * reports, and its lower 95% bound IC025 ≈ IC − 3.3 (a + ½)^−½ − 2 (a + ½)^−3/2. The ½
 * shrinks small counts toward no effect, so three reports on a rare product cannot look as
 * extreme as a raw ratio would make them; IC025 > 0 says the excess is credible.
 */
export function informationComponent(a: number, expected: number): { ic: number; ic025: number } {
  const ic = icOf(a, expected);
  return { ic, ic025: ic025OfIc(ic, a) };
}

/** The information component alone (`informationComponent`'s IC). */
function icOf(a: number, expected: number): number {
  return Math.log2((a + 0.5) / (Math.max(0, expected) + 0.5));
}

const ic025OfIc = (ic: number, a: number) => ic - 3.3 * (a + 0.5) ** -0.5 - 2 * (a + 0.5) ** -1.5;

/** IC025 alone (`informationComponent`'s, without the object: for the rules' pre-checks on the hot path). */
export function ic025Of(a: number, expected: number): number {
  return ic025OfIc(icOf(a, expected), a);
}

/** The 2×2 table's expected count in cell a: (a + b)(a + c) / n. */
export function expectedA({ a, b, c, d }: TwoByTwo): number {
  return expectedOfTotals(a + b, a + c, a + b + c + d);
}

/** The same from the table's margins: the row's total (a + b), the column's (a + c) and the whole (n). */
export function expectedOfTotals(row: number, column: number, n: number): number {
  return n === 0 ? 0 : (row * column) / n;
}

export interface CusumParameters {
  /** Weeks before each week whose mean is its expectation μ. */
  readonly baselineWeeks: number;
  /** Weeks accumulated (the latest `spanWeeks` of the series). */
  readonly spanWeeks: number;
  readonly k: number;
  readonly h: number;
  readonly sdFloor: number;
  /** Negative-binomial over-dispersion φ: Var = μ + φμ² (0: Poisson). */
  readonly dispersion?: number;
}

export interface CusumResult {
  /** S passed h in the latest week. */
  readonly fired: boolean;
  /** S in the latest week, before any reset. */
  readonly s: number;
  /** The latest week's count, its expectation and σ. */
  readonly count: number;
  readonly expected: number;
  readonly sd: number;
  /** Weeks S has been above 0 without a reset (the run the evidence speaks of), and their reports. */
  readonly runWeeks: number;
  readonly runCount: number;
  /** Weeks since S last passed h (0: the latest week), Infinity if it never did in the span. */
  readonly weeksSinceAlarm: number;
  /** The run that ended in the latest alarm: its reports, its weeks and S when it passed h. */
  readonly alarmRunCount: number;
  readonly alarmRunWeeks: number;
  readonly alarmS: number;
}

/** σ of a week whose expectation is μ: √(μ + φμ²), at least the floor. */
export function cusumSd(mu: number, p: CusumParameters): number {
  return Math.max(Math.sqrt(mu + (p.dispersion ?? 0) * mu * mu), p.sdFloor);
}

/** Whether a week's μ and σ are read from the table: its baseline count is whole and in it (weekly counts are). */
function inTable(table: Expectations, baseline: number): boolean {
  return baseline < table.mu.length && (baseline | 0) === baseline;
}

type Expectations = { readonly mu: Float64Array; readonly sd: Float64Array };

/** Per parameters, μ and σ for each whole baseline count below the table's length (as `cusum` computes them). */
const expectations = new WeakMap<CusumParameters, Expectations>();
const EXPECTATIONS = 1024;
function expectationsOf(p: CusumParameters): Expectations {
  let table = expectations.get(p);
  if (table === undefined) {
    const mus = new Float64Array(EXPECTATIONS);
    const sds = new Float64Array(EXPECTATIONS);
    for (let b = 0; b < EXPECTATIONS; b++) {
      const mu = b / p.baselineWeeks;
      mus[b] = mu;
      sds[b] = cusumSd(mu, p);
    }
    table = { mu: mus, sd: sds };
    expectations.set(p, table);
  }
  return table;
}

/**
 * A one-sided CUSUM with reset on alarm, over weekly counts, oldest first (the last is the
 * latest week; the series must hold baselineWeeks + spanWeeks weeks, older missing weeks
 * counting as zero): S = max(0, S + (x − μ) / max(√μ, sdFloor) − k), μ the mean of the
 * `baselineWeeks` weeks before. Accumulation lets a modest excess that persists add up to a
 * signal; the reset makes the next signal on the key need new evidence.
 */
export function cusum(weekly: readonly number[], p: CusumParameters): CusumResult {
  const n = weekly.length;
  const first = Math.max(0, n - p.spanWeeks);
  let baseline = 0;
  for (let i = Math.max(0, first - p.baselineWeeks); i < first; i++) baseline += weekly[i]!;
  let s = 0;
  let runWeeks = 0;
  let runCount = 0;
  let lastFired = false;
  let lastS = 0;
  let lastCount = 0;
  let lastExpected = 0;
  let lastSd = p.sdFloor;
  let lastRunWeeks = 0;
  let lastRunCount = 0;
  let alarmAt = Number.NEGATIVE_INFINITY;
  let alarmRunCount = 0;
  let alarmRunWeeks = 0;
  let alarmS = 0;
  const { baselineWeeks, k, h, sdFloor } = p;
  const dispersion = p.dispersion ?? 0;
  const table = expectationsOf(p);
  for (let i = first; i < n; i++) {
    const x = weekly[i]!;
    // A whole baseline (weekly counts are) reads μ and σ from the table: the same numbers, without a square root a week.
    const whole = inTable(table, baseline);
    const mu = whole ? table.mu[baseline]! : baseline / baselineWeeks;
    // σ as `cusumSd` has it, written out: a call in this loop, even one seldom taken, had the
    // compiler box a number every week (about 1 KB per CUSUM, a fifth of a backtest's garbage).
    const sd = whole ? table.sd[baseline]! : Math.max(Math.sqrt(mu + dispersion * mu * mu), sdFloor);
    s = Math.max(0, s + (x - mu) / sd - k);
    if (s > 0) {
      runWeeks += 1;
      runCount += x;
    } else {
      runWeeks = 0;
      runCount = 0;
    }
    const fired = s > h;
    lastFired = fired;
    lastS = s;
    lastCount = x;
    lastExpected = mu;
    lastSd = sd;
    lastRunWeeks = runWeeks;
    lastRunCount = runCount;
    if (fired) {
      alarmAt = i;
      alarmRunCount = runCount;
      alarmRunWeeks = runWeeks;
      alarmS = s;
      s = 0;
      runWeeks = 0;
      runCount = 0;
    }
    baseline += x;
    if (i - baselineWeeks >= 0) baseline -= weekly[i - baselineWeeks]!;
  }
  return {
    fired: lastFired,
    s: lastS,
    count: lastCount,
    expected: lastExpected,
    sd: lastSd,
    runWeeks: lastRunWeeks,
    runCount: lastRunCount,
    weeksSinceAlarm: n - 1 - alarmAt,
    alarmRunCount,
    alarmRunWeeks,
    alarmS,
  };
}

/** Weeks `cusumQuietNow` reads back. */
const RECENT_WEEKS = 4;

/**
 * Exact: `cusum(weekly, p)` does not pass h in the latest week, judged from its last few
 * weeks alone. S before them is at most h (above h it passes and resets), and from there S
 * grows by at most the sum of (z − k) of the weeks since; a run that starts within them reaches
 * at most the sum from its start. So when that whole sum is not above 0 and no sum from a later
 * week to the latest passes h, S does not pass h now (a margin far wider than rounding keeps it
 * exact). A key whose one report this week stands after weeks without any, as most keys'
 * reports do, is settled in a few steps instead of the whole span. False: it may have passed.
 */
export function cusumQuietNow(weekly: readonly number[], p: CusumParameters): boolean {
  const n = weekly.length;
  const { baselineWeeks, k, h, sdFloor } = p;
  const dispersion = p.dispersion ?? 0;
  if (p.spanWeeks < RECENT_WEEKS || n < p.spanWeeks + baselineWeeks) return false;
  const table = expectationsOf(p);
  // The baseline of the latest week: the `baselineWeeks` weeks before it; then one week back at a time.
  let baseline = 0;
  for (let j = n - 1 - baselineWeeks; j < n - 1; j++) baseline += weekly[j]!;
  let suffix = 0;
  let highest = Number.NEGATIVE_INFINITY;
  for (let t = n - 1; t > n - 1 - RECENT_WEEKS; t--) {
    const whole = inTable(table, baseline);
    const mu = whole ? table.mu[baseline]! : baseline / baselineWeeks;
    // σ written out, as in `cusum` (no call in the loop).
    const sd = whole ? table.sd[baseline]! : Math.max(Math.sqrt(mu + dispersion * mu * mu), sdFloor);
    suffix += (weekly[t]! - mu) / sd - k;
    if (suffix > highest) highest = suffix;
    baseline += weekly[t - 1 - baselineWeeks]! - weekly[t - 1]!;
  }
  return highest <= h - 1e-9 && suffix <= -1e-9;
}

/** A key's weekly counts, oldest first, ending with the reader's day: `weeks` weeks. */
export function weeklyCounts(total: (windowDays: number) => number, weeks: number): number[] {
  const out = new Array<number>(weeks);
  let previous = 0;
  for (let j = 0; j < weeks; j++) {
    const cumulative = total(7 * (j + 1));
    out[weeks - 1 - j] = cumulative - previous;
    previous = cumulative;
  }
  return out;
}

/** Index of the first element greater than `value` in an ascending array (binary search). */
export function upperBound(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
