import { burstFor, type DetectionConfig } from './config.js';
import { clusterKeys, counterKeys, dayOf, totalKeys, type ClusterKey, type Observation } from './keys.js';
import { chiSquaredYates, poissonUpperTail, prr } from './statistics.js';
import type { CounterReader, CounterStore } from './store.js';

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
  /** The cluster keys' totals over the summary windows: key → window days → total. */
  readonly totals: Record<string, Record<number, number>>;
}

const round = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x > 0 ? 'Infinity' : 0);

/** Windows a cluster summary shows. */
export const SUMMARY_WINDOWS = [7, 30, 90, 365] as const;

/** The longest window any rule or summary reads, for this category. */
export function longestWindow(config: DetectionConfig, category: Observation['category']): number {
  const burst = burstFor(config, category);
  return Math.max(365, ...config.slowBurn.windowsDays, Math.max(...burst.windowsDays) + burst.baselineDays);
}

/**
 * Detection for one complaint.
 * 1. Counts it once into its day buckets: three cluster keys and three totals.
 * 2. Reads each key's days over the longest window (one read per key whatever the history).
 * 3. Evaluates the rules. Rules are evaluated even when the complaint had been counted
 *    before, so a retry after a failure still raises what the first attempt should have;
 *    acting on a signal is idempotent downstream.
 */
export async function observe(o: Observation, store: CounterStore, config: DetectionConfig): Promise<Observed> {
  const day = dayOf(o.at);
  const keys = counterKeys(o);
  const counted = await store.count(o.reportId, keys, day);
  const longest = longestWindow(config, o.category);
  const cluster = clusterKeys(o);
  // The totals only matter when the slow-burn rule can fire: read them only then.
  const clusterReader = await store.read([cluster.lot.id, cluster.product.id, cluster.plant.id], day, longest);
  const slowBurnPossible = config.slowBurn.windowsDays.some((w) => clusterReader.total(cluster.product.id, w) >= config.slowBurn.minCount);
  const totalsReader = slowBurnPossible ? await store.read(Object.values(totalKeys(o)), day, longest) : undefined;
  const reader: CounterReader = {
    total: (key, w) => (key.startsWith('total|') ? (totalsReader?.total(key, w) ?? 0) : clusterReader.total(key, w)),
  };
  const { signals } = evaluate(o, reader, config);
  const totals: Record<string, Record<number, number>> = {};
  for (const key of Object.values(cluster)) {
    totals[key.id] = Object.fromEntries(SUMMARY_WINDOWS.map((w) => [w, reader.total(key.id, w)]));
  }
  return { counted, signals, totals };
}

/**
 * The rules, as a pure function of the complaint and its keys' totals (`reader.total(key,
 * windowDays)` counts the days ending with the complaint's day). Only the totals a rule needs
 * are read, so quiet keys cost almost nothing.
 */
export function evaluate(o: Observation, reader: CounterReader, config: DetectionConfig): { signals: Signal[] } {
  const keys = clusterKeys(o);
  const totals = totalKeys(o);
  const burst = burstFor(config, o.category);
  const longestBurst = burst.sortedWindows[burst.sortedWindows.length - 1]!;
  const over = (key: string, w: number) => reader.total(key, w);

  const signals: Signal[] = [];
  const signal = (rule: RuleId, key: ClusterKey, evidence: Signal['evidence']) =>
    signals.push({ rule, key, at: o.at, reportId: o.reportId, evidence });

  if (config.harm.enabled && (o.injury || o.illness)) {
    signal('harm', keys.lot, { injury: o.injury, illness: o.illness, category: o.category });
  }

  // The baseline is the key's history before the longest burst window. Add-one: a key seen
  // rarely is not assumed never to be seen, which keeps small histories from making every
  // small cluster look like a burst. Computed only for keys that reach the minimum count.
  const baselineCount = (keyId: string) => over(keyId, longestBurst + burst.baselineDays) - over(keyId, longestBurst);
  const baselineRate = (keyId: string) => (baselineCount(keyId) + 1) / burst.baselineDays;
  for (const key of [keys.lot, keys.product, keys.plant]) {
    // Same-day clusters are a lot's signature; a product or plant is judged over the longest window.
    const keyWindows = key.kind === 'lot' ? burst.sortedWindows : [longestBurst];
    for (const windowDays of keyWindows) {
      const count = over(key.id, windowDays);
      if (count < burst.minCount) continue;
      // A lot is new by nature: its product's rate for this defect is its baseline too.
      const productRate = key.kind === 'lot' ? baselineRate(keys.product.id) : 0;
      const ratePerDay = Math.max(baselineRate(key.id), productRate * burst.lotShareOfProduct, burst.floorRatePerDay);
      const expected = ratePerDay * windowDays;
      // The effect-size test is cheap and settles most busy keys before the Poisson tail.
      if (count < burst.minRatio * expected) continue;
      const p = poissonUpperTail(count, expected);
      if (p < burst.alpha) {
        signal('lot-burst', key, {
          windowDays,
          count,
          baselineDays: burst.baselineDays,
          baselineCount: baselineCount(key.id),
          ...(key.kind === 'lot' ? { productRatePerDay: round(productRate) } : {}),
          expected: round(expected),
          statistic: 'poisson-upper-tail',
          pValue: round(p, 8),
          alpha: burst.alpha,
          minRatio: burst.minRatio,
          minCount: burst.minCount,
        });
        break; // the shortest window that shows the burst is its evidence
      }
    }
  }

  const { minPrr, minChi2, minCount, windowsRequired } = config.slowBurn;
  // No window can fire below the minimum count: most complaints stop here.
  if (config.slowBurn.windowsDays.every((w) => over(keys.product.id, w) < minCount)) return { signals };
  const slow = config.slowBurn.windowsDays.map((w) => {
    const a = over(keys.product.id, w);
    const productAll = over(totals.productAll, w);
    const categoryAll = over(totals.categoryAll, w);
    const all = over(totals.all, w);
    const table = { a, b: productAll - a, c: categoryAll - a, d: all - productAll - (categoryAll - a) };
    const ratio = prr(table);
    const chi2 = chiSquaredYates(table);
    return { w, table, ratio, chi2, fires: a >= minCount && ratio >= minPrr && chi2 >= minChi2, confirms: ratio > 1 && chi2 >= minChi2 };
  });
  const firing = slow.filter((x) => x.fires);
  const confirmed =
    windowsRequired === 'any' ? true : windowsRequired === 'all' ? firing.length === slow.length : slow.every((x) => x.fires || x.confirms);
  if (firing.length > 0 && confirmed) {
    // The shortest window that shows it is the evidence; the others are listed alongside.
    const shown = firing[0]!;
    signal('slow-burn', keys.product, {
      windowDays: shown.w,
      ...shown.table,
      statistic: 'prr',
      prr: round(shown.ratio),
      chi2: round(shown.chi2),
      ...Object.fromEntries(slow.filter((x) => x !== shown).flatMap((x) => [[`prr${x.w}d`, round(x.ratio)], [`chi2_${x.w}d`, round(x.chi2)], [`a${x.w}d`, x.table.a]])),
      minPrr,
      minChi2,
      minCount,
    });
  }

  return { signals };
}
