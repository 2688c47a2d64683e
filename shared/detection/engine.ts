import { burstFor, type DetectionConfig } from './config.js';
import { clusterKeys, counterKeys, dayOf, totalKeys, type ClusterKey, type Observation } from './keys.js';
import { chiSquaredYates, poissonUpperTail, prr } from './statistics.js';
import type { CounterStore } from './store.js';

export type RuleId = 'harm' | 'lot-burst' | 'slow-burn';

/** A reason to look: which rule fired on which key, with the evidence a person can judge. */
export interface Signal {
  readonly rule: RuleId;
  readonly key: ClusterKey;
  /** Time of the complaint that made the rule fire. */
  readonly at: string;
  readonly reportId: string;
  readonly evidence: Record<string, number | string | boolean>;
}

/** What one complaint did: whether it was counted now (false on a redelivery), the signals. */
export interface Observed {
  readonly counted: boolean;
  readonly signals: Signal[];
  /** The key totals over each window, for cluster summaries: key → window days → total. */
  readonly totals: Record<string, Record<number, number>>;
}

const round = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x > 0 ? 'Infinity' : 0);

/**
 * Detection for one complaint.
 * 1. Counts it once into its day buckets: three cluster keys and three totals.
 * 2. Reads each key's totals over the windows the rules need (one read per key whatever the
 *    history size).
 * 3. Evaluates the rules. Rules are evaluated even when the complaint had been counted
 *    before, so a retry after a failure still raises what the first attempt should have;
 *    acting on a signal is idempotent downstream.
 */
export async function observe(o: Observation, store: CounterStore, config: DetectionConfig): Promise<Observed> {
  const day = dayOf(o.at);
  const counted = await store.count(o.reportId, counterKeys(o), day);
  const keys = clusterKeys(o);
  const totals = totalKeys(o);
  const burst = burstFor(config, o.category);
  const windows = [...new Set([1, 7, 30, burst.windowDays, burst.windowDays + burst.baselineDays, ...config.slowBurn.windowsDays])].sort((a, b) => a - b);
  const read = await store.windowTotals(counterKeys(o), day, windows);
  const over = (key: string, w: number) => read[key]![windows.indexOf(w)]!;

  const signals: Signal[] = [];
  const signal = (rule: RuleId, key: ClusterKey, evidence: Signal['evidence']) =>
    signals.push({ rule, key, at: o.at, reportId: o.reportId, evidence });

  if (config.harm.enabled && (o.injury || o.illness || o.category === 'injury' || o.category === 'illness')) {
    signal('harm', keys.lot, { injury: o.injury || o.category === 'injury', illness: o.illness || o.category === 'illness', category: o.category });
  }

  for (const key of [keys.lot, keys.product, keys.plant]) {
    const count = over(key.id, burst.windowDays);
    if (count < burst.minCount) continue;
    const baselineCount = over(key.id, burst.windowDays + burst.baselineDays) - count;
    const ratePerDay = Math.max(baselineCount / burst.baselineDays, burst.floorRatePerDay);
    const expected = ratePerDay * burst.windowDays;
    const p = poissonUpperTail(count, expected);
    if (p < burst.alpha) {
      signal('lot-burst', key, {
        windowDays: burst.windowDays,
        count,
        baselineDays: burst.baselineDays,
        baselineCount,
        expected: round(expected),
        statistic: 'poisson-upper-tail',
        pValue: round(p, 8),
        alpha: burst.alpha,
        minCount: burst.minCount,
      });
    }
  }

  const { minPrr, minChi2, minCount } = config.slowBurn;
  for (const w of config.slowBurn.windowsDays) {
    const a = over(keys.product.id, w);
    if (a < minCount) continue;
    const productAll = over(totals.productAll, w);
    const categoryAll = over(totals.categoryAll, w);
    const all = over(totals.all, w);
    const table = { a, b: productAll - a, c: categoryAll - a, d: all - productAll - (categoryAll - a) };
    const ratio = prr(table);
    const chi2 = chiSquaredYates(table);
    if (ratio >= minPrr && chi2 >= minChi2) {
      signal('slow-burn', keys.product, {
        windowDays: w,
        ...table,
        statistic: 'prr',
        prr: round(ratio),
        chi2: round(chi2),
        minPrr,
        minChi2,
        minCount,
      });
      break; // the shortest window that shows it is the evidence; longer ones add nothing new
    }
  }

  const summary: Record<string, Record<number, number>> = {};
  for (const key of [keys.lot, keys.product, keys.plant]) {
    summary[key.id] = Object.fromEntries(windows.map((w) => [w, over(key.id, w)]));
  }
  return { counted, signals, totals: summary };
}
