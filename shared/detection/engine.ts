import { burstFor, type Burst, type CusumConfig, type DetectionConfig } from './config.js';
import { clusterKeys, counterKeys, dayOf, familyAlarmKeys, familyCounterKey, totalKeys, type ClusterKey, type ClusterKind, type Observation } from './keys.js';
import type { WeeklyCounterReader } from './memory-store.js';
import { chiSquaredYates, cusum, cusumQuietNow, cusumSd, expectedA, expectedOfTotals, ic025Of, informationComponent, poissonUpperTail, prr, weeklyCounts, type CusumResult } from './statistics.js';
import type { CounterReader, CounterStore } from './store.js';

/**
 * - `harm`: the complaint's category is itself harm (the taxonomy says so): opens a candidate.
 * - `harm-report`: an injury or illness reported under another category: QA is notified at
 *   once, but it does not open a candidate by itself (on real data one candidate per such
 *   report was mostly noise); the cluster rules weigh the key's reports as usual.
 * - `lot-burst`: a lot draws more reports of a defect within days than its history allows.
 * - `slow-burn`: a product's reports of a defect accumulate above its own trend (CUSUM over
 *   weeks) and the product is credibly over-represented in that defect against every product
 *   (BCPNN IC025 over two years).
 * - `family-burn`: the product's family (model years of one model, sizes of one recipe)
 *   accumulates reports of a defect above its trend, and this product has its share of them;
 *   or the rule fired on a sibling lately and this product has as many reports of the defect.
 */
export type RuleId = 'harm' | 'harm-report' | 'lot-burst' | 'slow-burn' | 'family-burn';

/** Rules whose signal opens a candidate incident (`harm-report` only notifies). */
export const CANDIDATE_RULES: readonly RuleId[] = ['harm', 'lot-burst', 'slow-burn', 'family-burn'];

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

/** A number as QA reads it in an explanation. */
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? String(Number(x.toFixed(digits))) : x > 0 ? 'infinity' : '0');

const round = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x > 0 ? 'Infinity' : 0);

/** Windows a cluster summary shows. */
export const SUMMARY_WINDOWS = [7, 30, 90, 365] as const;

/** The longest window any rule or summary reads, for this category. */
export function longestWindow(config: DetectionConfig, category: Observation['category']): number {
  const burst = burstFor(config, category);
  const weeks = (c: CusumConfig | null) => (c ? 7 * (c.baselineWeeks + c.spanWeeks) : 0);
  return Math.max(
    365,
    ...config.slowBurn.windowsDays,
    weeks(config.slowBurn.trigger),
    config.familyBurn.enabled ? Math.max(weeks(config.familyBurn.cusum), config.familyBurn.windowDays, config.familyBurn.icWindowDays) : 0,
    Math.max(...burst.windowsDays) + burst.baselineDays,
  );
}

/** Scratch for weekly series (read at once by the CUSUM, never kept). */
const scratchWeeks: number[] = [];

/** A key's weekly counts: in one pass when the reader can (the in-memory store), else from window totals. */
function weeklyOf(reader: CounterReader, key: string, weeks: number): number[] {
  const r = reader as Partial<WeeklyCounterReader>;
  return typeof r.weekly === 'function' ? r.weekly(key, weeks, scratchWeeks) : weeklyCounts((w) => reader.total(key, w), weeks);
}

/** What a trend that cannot have passed its threshold in the span reports (only `weeksSinceAlarm` is read of it). */
const QUIET_TREND: CusumResult = { fired: false, s: 0, count: 0, expected: 0, sd: 0, runWeeks: 0, runCount: 0, weeksSinceAlarm: Number.POSITIVE_INFINITY, alarmRunCount: 0, alarmRunWeeks: 0, alarmS: 0 };

/**
 * A key's CUSUM over its weekly counts; `QUIET_TREND` when it cannot have passed h in the
 * last `withinWeeks` (all a rule reads of a quiet trend). Exact shortcuts when the trend counts
 * only in the week it passes (`withinWeeks` 1): S can pass h in the latest week only if that
 * week is more than k standard deviations above its expectation (S never stays above h: it
 * resets), which two totals settle for many keys without the weekly series; and the last
 * weeks of the series settle most of the others without the whole CUSUM (`cusumQuietNow`).
 * Exported for tests (against the whole CUSUM).
 */
export function trendOf(reader: CounterReader, key: string, c: CusumConfig): CusumResult {
  if (c.withinWeeks === 1) {
    const latest = reader.total(key, 7);
    const mu = (reader.total(key, 7 * (c.baselineWeeks + 1)) - latest) / c.baselineWeeks;
    if (!((latest - mu) / cusumSd(mu, c) - c.k > 0)) return QUIET_TREND;
  }
  const weekly = weeklyOf(reader, key, c.baselineWeeks + c.spanWeeks);
  if (c.withinWeeks === 1 && cusumQuietNow(weekly, c)) return QUIET_TREND;
  return cusum(weekly, c);
}

/** The product's own accumulation over weeks (the slow-burn trigger), from its day counters. */
function productTrend(o: Observation, reader: CounterReader, config: DetectionConfig): CusumResult | undefined {
  const trigger = config.slowBurn.trigger;
  if (!trigger) return undefined;
  const id = clusterKeys(o).product.id;
  return trendOf(reader, id, trigger);
}

/** The slow-burn rule needs the totals only when its cheap part passes: the product's own trend fired (or there is none) and enough reports. */
function slowBurnPossible(o: Observation, reader: CounterReader, config: DetectionConfig): boolean {
  const id = clusterKeys(o).product.id;
  if (config.slowBurn.windowsDays.every((w) => reader.total(id, w) < config.slowBurn.minCount)) return false;
  const emerging = config.slowBurn.emerging;
  if (emerging && reader.total(id, emerging.windowDays) >= config.slowBurn.minCount) return true;
  const trend = productTrend(o, reader, config);
  return trend ? trend.weeksSinceAlarm < config.slowBurn.trigger!.withinWeeks : true;
}

/** The family's accumulation over weeks, from its day counters (the family must exist). */
function familyTrend(o: Observation, reader: CounterReader, config: DetectionConfig) {
  const family = familyCounterKey(o, config)!;
  const c = config.familyBurn.cusum;
  const trend = trendOf(reader, family.id, c);
  return { family, trend: trend === QUIET_TREND ? trend : { ...trend, fired: trend.weeksSinceAlarm < c.withinWeeks } };
}

/** The family rule reads the family's counters only when the product itself has enough reports. */
function familyBurnPossible(o: Observation, reader: CounterReader, config: DetectionConfig): boolean {
  const { enabled, windowDays, minCount } = config.familyBurn;
  return enabled && familyCounterKey(o, config) !== undefined && reader.total(clusterKeys(o).product.id, windowDays) >= minCount;
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
  const keys = counterKeys(o, config);
  const counted = await store.count(o.reportId, keys, day);
  const longest = longestWindow(config, o.category);
  const cluster = clusterKeys(o);
  // One read for the three cluster keys; the family and the totals only when a cheap
  // pre-check on the product's own counters says a rule that needs them can fire.
  const clusterReader = await store.read([cluster.lot.id, cluster.product.id, cluster.plant.id], day, longest);
  const family = familyBurnPossible(o, clusterReader, config) ? familyCounterKey(o, config) : undefined;
  const alarms = family && config.familyBurn.siblingDays > 0 ? familyAlarmKeys(o, config) : undefined;
  const familyReader = family ? await store.read([family.id, ...(alarms ? [alarms.family, alarms.product] : [])], day, longest) : undefined;
  const familyFired = familyReader !== undefined && config.familyBurn.minProductIc !== null && familyTrend(o, familyReader, config).trend.fired;
  const needTotals = familyFired || slowBurnPossible(o, clusterReader, config);
  const totalsReader = needTotals ? await store.read(Object.values(totalKeys(o)), day, longest) : undefined;
  const reader: CounterReader = {
    total: (key, w) =>
      key.startsWith('total|')
        ? (totalsReader?.total(key, w) ?? 0)
        : key.startsWith('family|') || key.startsWith('alarm|')
          ? (familyReader?.total(key, w) ?? 0)
          : clusterReader.total(key, w),
  };
  const { signals } = evaluate(o, reader, config);
  const alarm = familyAlarm(o, signals, config);
  if (alarm) await store.count(alarm.id, alarm.keys, day);
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
  // Made when a rule fires (most complaints raise nothing): see `pushSignal`.
  let signals: Signal[] | undefined;

  if (config.harm.enabled && o.categoryIsHarm) {
    signals = pushSignal(signals, o, 'harm', keys.lot, { category: o.category, categoryIsHarm: true, injury: o.injury, illness: o.illness, explanation: `a report of ${o.category}, a harm category: every one is looked at` });
  } else if (config.harm.enabled && (o.injury || o.illness)) {
    signals = pushSignal(signals, o, 'harm-report', keys.lot, {
      category: o.category,
      injury: o.injury,
      illness: o.illness,
      opensCandidate: false,
      explanation: `a report of ${o.category} that mentions ${o.injury ? 'an injury' : 'an illness'}: QA is told now; it joins a candidate when its key's cluster rules fire`,
    });
  }

  // The baseline is the key's history before the longest burst window. Add-one: a key seen
  // rarely is not assumed never to be seen, which keeps small histories from making every
  // small cluster look like a burst. Computed only for keys that reach the minimum count.
  // (The lot, the product, the plant: by index, with no array or closure made per complaint.)
  for (let k = 0; k < 3; k++) {
    const key = k === 0 ? keys.lot : k === 1 ? keys.product : keys.plant;
    if (!burst.kinds.includes(key.kind)) continue;
    // A lot that is its product (the source has no lots) carries no lot information.
    if (key.kind === 'lot' && key.lot === key.sku) continue;
    // Same-day clusters are a lot's signature; a product or plant is judged over the longest window.
    const keyWindows = key.kind === 'lot' ? burst.sortedWindows : burst.longestWindow;
    for (const windowDays of keyWindows) {
      const count = reader.total(key.id, windowDays);
      if (count < burst.minCount) continue;
      // A lot is new by nature: its product's rate for this defect is its baseline too.
      const productRate = key.kind === 'lot' ? baselineRate(reader, keys.product.id, burst, longestBurst) : 0;
      const ratePerDay = Math.max(baselineRate(reader, key.id, burst, longestBurst), productRate * burst.lotShareOfProduct, burst.floorRatePerDay);
      const expected = ratePerDay * windowDays;
      // The effect-size test is cheap and settles most busy keys before the Poisson tail.
      if (count < burst.minRatio * expected) continue;
      const p = poissonUpperTail(count, expected);
      if (p < burst.alpha) {
        signals = pushSignal(signals, o, 'lot-burst', key, {
          windowDays,
          count,
          baselineDays: burst.baselineDays,
          baselineCount: baselineCount(reader, key.id, burst, longestBurst),
          ...(key.kind === 'lot' ? { productRatePerDay: round(productRate) } : {}),
          expected: round(expected),
          statistic: 'poisson-upper-tail',
          pValue: round(p, 8),
          alpha: burst.alpha,
          minRatio: burst.minRatio,
          minCount: burst.minCount,
          explanation:
            `${count} reports of ${o.category} on this ${key.kind} in ${windowDays} day(s) against ${fmt(expected)} expected from its last ` +
            `${burst.baselineDays} days: P = ${p > 0 && p < 1e-6 ? p.toExponential(1) : fmt(p, 6)} by chance (signal below ${burst.alpha}, at least ${burst.minCount} reports and ${burst.minRatio}× expected)`,
        });
        break; // the shortest window that shows the burst is its evidence
      }
    }
  }

  const family = familyBurn(o, reader, config);
  if (family) signals = pushSignal(signals, o, 'family-burn', keys.product, family);
  const slow = slowBurn(o, reader, config);
  if (slow) signals = pushSignal(signals, o, 'slow-burn', keys.product, slow);
  return signals ? { signals } : NO_SIGNALS;
}

/** What `evaluate` returns for a complaint that raised nothing (one object for all of them: never mutate it). */
const NO_SIGNALS: { signals: Signal[] } = Object.freeze({ signals: Object.freeze([]) as unknown as Signal[] });

/** Adds a signal to the complaint's list, made by the first one. */
function pushSignal(signals: Signal[] | undefined, o: Observation, rule: RuleId, key: ClusterKey, evidence: Signal['evidence']): Signal[] {
  const signal: Signal = { rule, key, at: o.at, reportId: o.reportId, evidence };
  if (!signals) return [signal];
  signals.push(signal);
  return signals;
}

/** A key's reports in the burst rule's baseline: the `baselineDays` before its longest window. */
function baselineCount(reader: CounterReader, keyId: string, burst: Burst, longestBurst: number): number {
  return reader.total(keyId, longestBurst + burst.baselineDays) - reader.total(keyId, longestBurst);
}

/** Its rate per day, add-one (a key seen rarely is not assumed never to be seen). */
function baselineRate(reader: CounterReader, keyId: string, burst: Burst, longestBurst: number): number {
  return (baselineCount(reader, keyId, burst, longestBurst) + 1) / burst.baselineDays;
}

const trendEvidence = (prefix: string, t: CusumResult, c: CusumConfig) => ({
  [`${prefix}Statistic`]: 'cusum-weekly',
  [`${prefix}WeekCount`]: t.count,
  [`${prefix}WeekExpected`]: round(t.expected),
  [`${prefix}Cusum`]: round(t.s),
  [`${prefix}Threshold`]: c.h,
  [`${prefix}K`]: c.k,
  [`${prefix}BaselineWeeks`]: c.baselineWeeks,
  [`${prefix}RunWeeks`]: t.runWeeks,
  [`${prefix}RunCount`]: t.runCount,
  [`${prefix}WeeksSinceAlarm`]: t.weeksSinceAlarm,
  [`${prefix}WithinWeeks`]: c.withinWeeks,
});

/**
 * Slow burn: the product's weekly reports of this defect accumulate above its own trend
 * (CUSUM, the trigger) and, over the disproportionality windows, the product draws a
 * credibly larger share of this defect than every product together (IC025, or PRR).
 */
function slowBurn(o: Observation, reader: CounterReader, config: DetectionConfig): Signal['evidence'] | undefined {
  const { statistic, trigger } = config.slowBurn;
  // No window can fire below the minimum count: most complaints stop here.
  if (!reachesMinCount(reader, clusterKeys(o).product.id, config)) return undefined;
  const trend = productTrend(o, reader, config);
  if (trend && !(trend.weeksSinceAlarm < trigger!.withinWeeks)) return emergingBurn(o, reader, config);
  // Without a window that fires there is no signal: settled first without the evidence's objects (most complaints here).
  if (statistic === 'ic025' && !someWindowFires(o, reader, config)) return emergingBurn(o, reader, config);
  return slowBurnEvidence(o, reader, config, trend);
}

/**
 * The rest of `slowBurn`: the windows' tables, and the evidence when they fire. A function of
 * its own, since the closures here would make every call of `slowBurn` allocate their scope.
 */
function slowBurnEvidence(o: Observation, reader: CounterReader, config: DetectionConfig, trend: CusumResult | undefined): Signal['evidence'] | undefined {
  const keys = clusterKeys(o);
  const totals = totalKeys(o);
  const { minPrr, minChi2, minCount, windowsRequired, statistic, minIc025, trigger } = config.slowBurn;
  const slow = config.slowBurn.windowsDays.map((w) => {
    const a = reader.total(keys.product.id, w);
    const productAll = reader.total(totals.productAll, w);
    const categoryAll = reader.total(totals.categoryAll, w);
    const all = reader.total(totals.all, w);
    const table = { a, b: productAll - a, c: categoryAll - a, d: all - productAll - (categoryAll - a) };
    if (statistic === 'ic025') {
      const expected = expectedA(table);
      const { ic, ic025 } = informationComponent(a, expected);
      return { w, table, expected, ic, ic025, ratio: Number.NaN, chi2: Number.NaN, fires: a >= minCount && ic025 > minIc025, confirms: ic025 > 0 };
    }
    const ratio = prr(table);
    const chi2 = chiSquaredYates(table);
    return { w, table, expected: expectedA(table), ic: Number.NaN, ic025: Number.NaN, ratio, chi2, fires: a >= minCount && ratio >= minPrr && chi2 >= minChi2, confirms: ratio > 1 && chi2 >= minChi2 };
  });
  const firing = slow.filter((x) => x.fires);
  const confirmed =
    windowsRequired === 'any' ? true : windowsRequired === 'all' ? firing.length === slow.length : slow.every((x) => x.fires || x.confirms);
  if (firing.length === 0 || !confirmed) return emergingBurn(o, reader, config);
  // The shortest window that shows it is the evidence; the others are listed alongside.
  const shown = firing[0]!;
  const stat = (x: (typeof slow)[number]) =>
    statistic === 'ic025' ? { ic: round(x.ic), ic025: round(x.ic025) } : { prr: round(x.ratio), chi2: round(x.chi2) };
  return {
    windowDays: shown.w,
    ...shown.table,
    expected: round(shown.expected),
    statistic,
    ...stat(shown),
    ...(statistic === 'ic025' ? { minIc025 } : { minPrr, minChi2 }),
    minCount,
    ...Object.fromEntries(
      slow.filter((x) => x !== shown).flatMap((x) => [...Object.entries(stat(x)).map(([k, v]) => [`${k}_${x.w}d`, v]), [`a${x.w}d`, x.table.a]]),
    ),
    ...(trend && trigger ? { count: trend.alarmRunCount, ...trendEvidence('trend', trend, trigger) } : {}),
    explanation:
      (trend && trigger
        ? `reports of ${o.category} on this product rose above its own trend: ${trend.alarmRunCount} in the last ${trend.alarmRunWeeks} week(s) ` +
          `added up to ${fmt(trend.alarmS)} standard deviations above the weekly expectation (signal above ${trigger.h}); and `
        : '') +
      `over ${shown.w} days it drew ${shown.table.a} reports of ${o.category} where its volume predicts ${fmt(shown.expected)}` +
      (statistic === 'ic025'
        ? ` (information component ${fmt(shown.ic)}, credible lower bound ${fmt(shown.ic025)} > ${minIc025})`
        : ` (PRR ${fmt(shown.ratio)} >= ${minPrr}, chi-squared ${fmt(shown.chi2)} >= ${minChi2})`),
  };
}

/** Some disproportionality window fires by IC025, as `slowBurn` judges it (no closure, no object: the hot path). */
function someWindowFires(o: Observation, reader: CounterReader, config: DetectionConfig): boolean {
  const { windowsDays, minCount, minIc025 } = config.slowBurn;
  const productId = clusterKeys(o).product.id;
  for (let i = 0; i < windowsDays.length; i++) {
    const w = windowsDays[i]!;
    if (reader.total(productId, w) >= minCount && ic025Over(o, reader, w) > minIc025) return true;
  }
  return false;
}

/** Some disproportionality window holds at least the minimum count (no closure: the hot path). */
function reachesMinCount(reader: CounterReader, productId: string, config: DetectionConfig): boolean {
  const { windowsDays, minCount } = config.slowBurn;
  for (let i = 0; i < windowsDays.length; i++) if (reader.total(productId, windowsDays[i]!) >= minCount) return true;
  return false;
}

/** The product against every product over the days [day − from + 1, day − to] (to = 0: ending today). */
function disproportionality(o: Observation, reader: CounterReader, from: number, to = 0) {
  const keys = clusterKeys(o);
  const totals = totalKeys(o);
  const a = between(reader, keys.product.id, from, to);
  const productAll = between(reader, totals.productAll, from, to);
  const categoryAll = between(reader, totals.categoryAll, from, to);
  const table = { a, b: productAll - a, c: categoryAll - a, d: between(reader, totals.all, from, to) - productAll - (categoryAll - a) };
  const expected = expectedA(table);
  const { ic, ic025 } = informationComponent(a, expected);
  return { a: table.a, b: table.b, c: table.c, d: table.d, expected, ic, ic025 };
}

/** `disproportionality`'s IC025 alone, without its objects (the rules' pre-checks on the hot path). */
function ic025Over(o: Observation, reader: CounterReader, from: number, to = 0): number {
  const totals = totalKeys(o);
  const a = between(reader, clusterKeys(o).product.id, from, to);
  return ic025Of(a, expectedOfTotals(between(reader, totals.productAll, from, to), between(reader, totals.categoryAll, from, to), between(reader, totals.all, from, to)));
}

/** A key's reports over the days [day − from + 1, day − to]. */
const between = (reader: CounterReader, key: string, from: number, to: number) => reader.total(key, from) - (to > 0 ? reader.total(key, to) : 0);

/** Slow burn, second way: the product has newly become over-represented in this defect (see `slowBurn.emerging`). */
function emergingBurn(o: Observation, reader: CounterReader, config: DetectionConfig): Signal['evidence'] | undefined {
  const e = config.slowBurn.emerging;
  if (!e) return undefined;
  // The product's own count first: most complaints stop here without the totals.
  if (reader.total(clusterKeys(o).product.id, e.windowDays) < config.slowBurn.minCount) return undefined;
  if (!(ic025Over(o, reader, e.windowDays) > e.minIc025)) return undefined;
  const now = disproportionality(o, reader, e.windowDays);
  const confirm = disproportionality(o, reader, e.confirmDays);
  if (!(confirm.ic025 > 0)) return undefined;
  const prior = disproportionality(o, reader, e.windowDays + e.priorDays, e.windowDays);
  if (prior.ic > e.maxPriorIc) return undefined;
  return {
    windowDays: e.windowDays,
    a: now.a,
    b: now.b,
    c: now.c,
    d: now.d,
    count: now.a,
    expected: round(now.expected),
    statistic: 'ic025-emerging',
    ic: round(now.ic),
    ic025: round(now.ic025),
    minIc025: e.minIc025,
    minCount: config.slowBurn.minCount,
    [`ic025_${e.confirmDays}d`]: round(confirm.ic025),
    [`a${e.confirmDays}d`]: confirm.a,
    priorDays: e.priorDays,
    priorCount: prior.a,
    priorExpected: round(prior.expected),
    priorIc: round(prior.ic),
    maxPriorIc: e.maxPriorIc,
    explanation:
      `this product has newly become over-represented in ${o.category}: ${now.a} reports in ${e.windowDays} days where its volume predicts ` +
      `${fmt(now.expected)} (credible lower bound of the information component ${fmt(now.ic025)} > ${e.minIc025}; still above 0 over ` +
      `${e.confirmDays} days: ${fmt(confirm.ic025)}), where in the ${e.priorDays} days before it drew ${prior.a} against ${fmt(prior.expected)} ` +
      `(information component ${fmt(prior.ic)}, at most ${e.maxPriorIc})`,
  };
}

/**
 * The family rule fired on this product by the family's own trend (not by a sibling's): the
 * counters to add one to (`familyAlarmKeys`), under an id of their own so that a redelivered
 * report counts its firing once. Both the stream and backtests count it after `evaluate`.
 */
export function familyAlarm(o: Observation, signals: readonly Signal[], config: DetectionConfig): { id: string; keys: string[] } | undefined {
  if (config.familyBurn.siblingDays === 0 || signals.length === 0) return undefined;
  if (!signals.some((s) => s.rule === 'family-burn' && s.evidence.statistic === 'cusum-weekly')) return undefined;
  const keys = familyAlarmKeys(o, config);
  return keys ? { id: `${o.reportId}#family-alarm`, keys: [keys.family, keys.product] } : undefined;
}

/**
 * Family burn: the product family's weekly reports of this defect (its SKUs pooled)
 * accumulate above the family's own trend, and this product has at least `minCount` of
 * them in the last `windowDays`: a defect shared by model years or pack sizes shows in the
 * pool before any one SKU stands out.
 */
function familyBurn(o: Observation, reader: CounterReader, config: DetectionConfig): Signal['evidence'] | undefined {
  if (!familyBurnPossible(o, reader, config)) return undefined;
  const { trend, family } = familyTrend(o, reader, config);
  const { cusum: c, windowDays, minCount, minProductIc, icWindowDays } = config.familyBurn;
  if (!trend.fired) return siblingBurn(o, reader, config, family.family);
  const own = minProductIc === null ? undefined : { ...disproportionality(o, reader, icWindowDays), min: minProductIc };
  if (own && !(own.ic > own.min)) return siblingBurn(o, reader, config, family.family);
  const over = reader.total.bind(reader);
  return {
    family: family.family,
    familyKey: family.id,
    windowDays,
    count: over(clusterKeys(o).product.id, windowDays),
    minCount,
    familyCount: over(family.id, windowDays),
    statistic: 'cusum-weekly',
    ...trendEvidence('family', trend, c),
    ...(own ? { productIcWindowDays: icWindowDays, productCount: own.a, productExpected: round(own.expected), productIc: round(own.ic), minProductIc: own.min } : {}),
    explanation:
      `reports of ${o.category} across the ${family.family} family rose above its trend: ${trend.alarmRunCount} in the last ${trend.alarmRunWeeks} week(s) ` +
      `added up to ${fmt(trend.alarmS)} standard deviations above the weekly expectation (signal above ${c.h}); this product has ` +
      `${over(clusterKeys(o).product.id, windowDays)} of the family's ${over(family.id, windowDays)} in the last ${windowDays} days (at least ${minCount})` +
      (own ? ` and draws ${own.a} over ${icWindowDays} days where its volume predicts ${fmt(own.expected)} (information component ${fmt(own.ic)} > ${own.min})` : ''),
  };
}

/** Family burn by a sibling: the rule fired on another product of the family in the last `siblingDays`, and this one has `minCount` reports of the defect. */
function siblingBurn(o: Observation, reader: CounterReader, config: DetectionConfig, family: string): Signal['evidence'] | undefined {
  const { siblingDays, windowDays, minCount } = config.familyBurn;
  const alarms = siblingDays > 0 ? familyAlarmKeys(o, config) : undefined;
  if (!alarms) return undefined;
  const siblings = reader.total(alarms.family, siblingDays) - reader.total(alarms.product, siblingDays);
  if (siblings <= 0) return undefined;
  const count = reader.total(clusterKeys(o).product.id, windowDays);
  return {
    family,
    windowDays,
    count,
    minCount,
    statistic: 'family-sibling',
    siblingDays,
    siblingFirings: siblings,
    explanation:
      `the family rule fired on ${siblings === 1 ? 'another product' : `other products (${siblings} times)`} of the ${family} family for ${o.category} ` +
      `in the last ${siblingDays} days, and this product has ${count} reports of it in the last ${windowDays} days (at least ${minCount}): ` +
      `a defect of one model year or pack size is often the family's`,
  };
}
