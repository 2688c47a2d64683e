import * as z from 'zod';
import type { DefectCategory } from '../reports/schema.js';
import { DEFAULT_TRACK_RECORD, TrackRecordConfig } from './track-record.js';

/**
 * Detection rules and their thresholds. Defaults below; a deployment overrides them with
 * `DETECTION_CONFIG` (JSON), a backtest with `--config RULES.json`. Any category can
 * tighten or loosen the burst rule: allergen mislabelling fires on fewer reports than an
 * off taste, because a wrong label hurts people and a flat taste does not.
 */
const LotBurst = z.strictObject({
  /** The short windows whose counts are tested, in days (today included); e.g. a day and a week. */
  windowsDays: z.array(z.number().int().min(1).max(60)).min(1),
  /** The key's own history before the window, in days, that sets its expected rate. */
  baselineDays: z.number().int().min(7).max(365),
  /** Never signal on fewer reports than this in the window. */
  minCount: z.number().int().min(1),
  /** Signal when P(X ≥ count | expected) under a Poisson model is below this. */
  alpha: z.number().positive().max(0.5),
  /** ... and the count is at least this many times the expected count (effect size). */
  minRatio: z.number().min(1),
  /** Expected reports per day assumed for a key with little history. */
  floorRatePerDay: z.number().positive(),
  /** Share of its product's rate a lot is expected to draw (a lot inherits its product's history). */
  lotShareOfProduct: z.number().min(0).max(1),
  /**
   * The keys the burst rule judges. Default: lots only (a lot that is its own product, as
   * when a source has no lots, is left to the product rules). Product and plant keys are
   * judged over months by the slow-burn and family rules: a week's jump on a whole product
   * line was, on real data, mostly noise (see test/bench/detection.ts).
   */
  kinds: z.array(z.enum(['lot', 'product', 'plant'])).min(1),
});

/**
 * CUSUM accumulation over weekly counts (weeks end on the complaint's day): S = max(0, S +
 * (x − μ) / σ − k), μ = the mean of the `baselineWeeks` weeks before each week, σ =
 * max(√μ, sdFloor); the rule fires when S passes h in the latest week, and S restarts at 0
 * after each pass (reset on alarm). Recomputed over the last `spanWeeks` weeks from the day
 * counters, so the engine keeps no state of its own.
 */
const Cusum = z.strictObject({
  baselineWeeks: z.number().int().min(2).max(104),
  spanWeeks: z.number().int().min(1).max(104),
  /** Allowance per week, in standard deviations: weeks less than k above expectation wear S down. */
  k: z.number().min(0),
  /** Decision threshold, in accumulated standard deviations. */
  h: z.number().positive(),
  /** Floor of σ, so that a quiet key's first reports do not look infinitely surprising. */
  sdFloor: z.number().positive(),
  /**
   * Over-dispersion φ of weekly counts (negative binomial: Var = μ + φμ²); 0 = Poisson. Busy
   * keys vary more from week to week than a Poisson count does.
   */
  dispersion: z.number().min(0).max(10),
  /** The trend counts as up for this many weeks after S passed h (1: only the week it passes). */
  withinWeeks: z.number().int().min(1).max(52),
});
export type CusumConfig = z.infer<typeof Cusum>;

const SlowBurn = z.strictObject({
  /**
   * Windows of the disproportionality statistic (the product against every product): the
   * product's share of this defect, over each window.
   */
  windowsDays: z.array(z.number().int().min(7).max(730)).min(1),
  /**
   * `confirm`: one window meets every threshold and every other window confirms a
   * significant excess. `all`: every window meets every threshold. `any`: one window suffices.
   */
  windowsRequired: z.enum(['confirm', 'all', 'any']),
  /**
   * `ic025` (default): the BCPNN information component's lower 95% bound, log2 of observed
   * over expected shrunk toward no effect when counts are small (a small product with three
   * reports cannot look extreme); fires above `minIc025`, confirms above 0. `prr`: the raw
   * proportional reporting ratio with Yates' χ² (fires at PRR ≥ minPrr, χ² ≥ minChi2).
   */
  statistic: z.enum(['ic025', 'prr']),
  minIc025: z.number(),
  minPrr: z.number().positive(),
  minChi2: z.number().nonnegative(),
  minCount: z.number().int().min(1),
  /**
   * The product's own trend must accumulate first (CUSUM over its weekly counts): a product
   * that was always over-represented is no news, one that starts drawing more reports of a
   * defect it is over-represented in is. `null`: disproportionality alone.
   */
  trigger: Cusum.nullable(),
  /**
   * A second way to a slow burn, without the trend: the product has become over-represented
   * in this defect, i.e. credibly so over the last `windowDays` (IC025 > minIc025, at least
   * minCount reports), still so over `confirmDays` (IC025 > 0), and it was not before: over
   * the `priorDays` before the window its information component was at most `maxPriorIc`.
   * Persistent differences between products (one model simply draws more of a defect) are
   * not news; a change is. `null`: off.
   */
  emerging: z
    .strictObject({
      windowDays: z.number().int().min(7).max(365),
      minIc025: z.number(),
      confirmDays: z.number().int().min(7).max(730),
      priorDays: z.number().int().min(30).max(365),
      maxPriorIc: z.number(),
    })
    .nullable(),
});

const FamilyBurn = z.strictObject({
  enabled: z.boolean(),
  /**
   * Regular expression on the SKU whose first capture group is the product family: model
   * years of one model, pack sizes of one recipe. A SKU it does not match has no family. The
   * default takes a trailing year or size off: `FORD EXPLORER 2017` → `FORD EXPLORER`,
   * `CHOC-100-200G` → `CHOC-100`, `MILK 1.5 L` → `MILK`; `SKU-0042` has none.
   */
  skuPattern: z.string().min(1).refine((p) => {
    try {
      return new RegExp(p).source.includes('(');
    } catch {
      return false;
    }
  }, 'a valid regular expression with a capture group'),
  /** The family's accumulation over weekly counts (its products pooled). */
  cusum: Cusum,
  /** ... and the product itself must have at least `minCount` reports in the last `windowDays`. */
  windowDays: z.number().int().min(1).max(365),
  minCount: z.number().int().min(1),
  /**
   * ... and the product is not under-represented in the defect: its information component
   * against every product over `icWindowDays` is above this (log2 scale; 0 = at least as
   * many reports of the defect as its volume predicts). A family-wide rise should show in the SKUs that carry it,
   * not in one that barely draws the defect. `null`: no such check (no totals read).
   */
  minProductIc: z.number().nullable(),
  icWindowDays: z.number().int().min(7).max(730),
  /**
   * A family's defect reaches the family's other products too: for this many days after the
   * rule fired on one product, another product of the family with at least `minCount` reports
   * of the defect in the last `windowDays` is a candidate as well (a recall covers model
   * years or pack sizes together; on real data, 70 of the recalls missed were siblings of
   * ones caught). 0: off.
   */
  siblingDays: z.number().int().min(0).max(365),
});

const CategoryOverride = z.strictObject({ lotBurst: LotBurst.partial().optional() });

export const DetectionConfig = z.strictObject({
  /** Harm categories open a candidate (`harm`); injury or illness flags on others notify QA (`harm-report`). */
  harm: z.strictObject({ enabled: z.boolean() }),
  lotBurst: LotBurst,
  slowBurn: SlowBurn,
  familyBurn: FamilyBurn,
  /** Per-category overrides of the burst rule (partial). */
  categories: z.record(z.string().min(1), CategoryOverride),
  /** Categories learn from what their signals became (see `track-record.ts`); `null`: every signal is raised. */
  trackRecord: TrackRecordConfig.nullable(),
});
export type DetectionConfig = z.infer<typeof DetectionConfig>;

export const DEFAULT_DETECTION_CONFIG: DetectionConfig = {
  harm: { enabled: true },
  lotBurst: { windowsDays: [1, 7], baselineDays: 90, minCount: 3, alpha: 0.001, minRatio: 2, floorRatePerDay: 0.01, lotShareOfProduct: 1, kinds: ['lot'] },
  slowBurn: {
    windowsDays: [730],
    windowsRequired: 'any',
    statistic: 'ic025',
    minIc025: 0.5,
    minPrr: 2,
    minChi2: 4,
    minCount: 3,
    trigger: { baselineWeeks: 26, spanWeeks: 52, k: 0.5, h: 3, sdFloor: 0.5, dispersion: 0, withinWeeks: 1 },
    emerging: { windowDays: 90, minIc025: 0.25, confirmDays: 365, priorDays: 365, maxPriorIc: 1 },
  },
  familyBurn: {
    enabled: true,
    skuPattern: '^(.+?)[ _-]+(?:(?:19|20)\\d{2}|\\d+(?:[.,]\\d+)?\\s*[A-Za-z]{1,3})$',
    cusum: { baselineWeeks: 26, spanWeeks: 52, k: 0.5, h: 4, sdFloor: 0.5, dispersion: 0, withinWeeks: 1 },
    windowDays: 90,
    minCount: 5,
    minProductIc: 0,
    icWindowDays: 730,
    siblingDays: 56,
  },
  categories: {
    mislabelling_allergen: { lotBurst: { minCount: 2, floorRatePerDay: 0.005 } },
    off_taste_odour: { lotBurst: { minCount: 5 } },
    other: { lotBurst: { minCount: 5 } },
  },
  trackRecord: DEFAULT_TRACK_RECORD,
};

/** A category's burst settings, with its windows sorted and the longest alone (the window a product or plant is judged over). */
export type Burst = DetectionConfig['lotBurst'] & { sortedWindows: number[]; longestWindow: number[] };
const burstCache = new WeakMap<DetectionConfig, Map<DefectCategory, Burst>>();

/** The burst settings for one category: defaults with its overrides applied (cached). */
export function burstFor(config: DetectionConfig, category: DefectCategory): Burst {
  let byCategory = burstCache.get(config);
  if (!byCategory) burstCache.set(config, (byCategory = new Map()));
  let burst = byCategory.get(category);
  if (!burst) {
    const merged = { ...config.lotBurst, ...config.categories[category]?.lotBurst };
    const sortedWindows = [...merged.windowsDays].sort((a, b) => a - b);
    burst = { ...merged, sortedWindows, longestWindow: [sortedWindows[sortedWindows.length - 1]!] };
    byCategory.set(category, burst);
  }
  return burst;
}

/** A nested setting of a partial override merged over its default (null stays null: off). */
function nested<T extends object | null>(base: T, override: object | undefined, name: string): unknown {
  if (!override || !(name in override)) return base;
  const value = (override as Record<string, unknown>)[name];
  return value && typeof value === 'object' && base ? { ...base, ...value } : value;
}

/** Merges a partial override (from a file or the environment) over the defaults, validated. */
export function detectionConfigFrom(raw: unknown): DetectionConfig {
  const override = (raw ?? {}) as Partial<DetectionConfig>;
  return DetectionConfig.parse({
    harm: { ...DEFAULT_DETECTION_CONFIG.harm, ...override.harm },
    lotBurst: { ...DEFAULT_DETECTION_CONFIG.lotBurst, ...override.lotBurst },
    slowBurn: {
      ...DEFAULT_DETECTION_CONFIG.slowBurn,
      ...override.slowBurn,
      // Nested settings merge too ({"slowBurn":{"trigger":{"h":4}}}); null switches one off.
      trigger: nested(DEFAULT_DETECTION_CONFIG.slowBurn.trigger, override.slowBurn, 'trigger'),
      emerging: nested(DEFAULT_DETECTION_CONFIG.slowBurn.emerging, override.slowBurn, 'emerging'),
    },
    familyBurn: {
      ...DEFAULT_DETECTION_CONFIG.familyBurn,
      ...override.familyBurn,
      cusum: nested(DEFAULT_DETECTION_CONFIG.familyBurn.cusum, override.familyBurn, 'cusum'),
    },
    categories: { ...DEFAULT_DETECTION_CONFIG.categories, ...override.categories },
    trackRecord: nested(DEFAULT_DETECTION_CONFIG.trackRecord, override, 'trackRecord'),
  });
}

const familyCache = new WeakMap<DetectionConfig, { pattern: RegExp; bySku: Map<string, string> }>();

/** The product family of a SKU under the configured pattern (its first capture group), if any. */
export function familyOf(config: DetectionConfig, sku: string): string | undefined {
  let cache = familyCache.get(config);
  if (!cache) familyCache.set(config, (cache = { pattern: new RegExp(config.familyBurn.skuPattern), bySku: new Map() }));
  // One lookup: a SKU without a family is remembered as '' (no family is ever empty).
  const known = cache.bySku.get(sku);
  if (known !== undefined) return known || undefined;
  const family = cache.pattern.exec(sku)?.[1]?.trim() || undefined;
  if (cache.bySku.size > 100_000) cache.bySku.clear();
  cache.bySku.set(sku, family ?? '');
  return family;
}
