import { z } from 'zod';
import { DEFECT_CATEGORIES, type DefectCategory } from '../reports/schema.js';

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
});

const SlowBurn = z.strictObject({
  windowsDays: z.array(z.number().int().min(7).max(365)).min(1),
  /**
   * `confirm` (default): one window meets every threshold and every other window confirms a
   * significant excess (PRR > 1 with χ² ≥ minChi2): noise rarely persists across windows,
   * a slow burn does. `all`: every window meets every threshold. `any`: one window suffices.
   */
  windowsRequired: z.enum(['confirm', 'all', 'any']),
  minPrr: z.number().positive(),
  minChi2: z.number().nonnegative(),
  minCount: z.number().int().min(1),
});

export const DetectionConfig = z.strictObject({
  harm: z.strictObject({ enabled: z.boolean() }),
  lotBurst: LotBurst,
  slowBurn: SlowBurn,
  /** Per-category overrides of the burst rule (partial). */
  categories: z.partialRecord(z.enum(DEFECT_CATEGORIES), z.strictObject({ lotBurst: LotBurst.partial().optional() })),
});
export type DetectionConfig = z.infer<typeof DetectionConfig>;

export const DEFAULT_DETECTION_CONFIG: DetectionConfig = {
  harm: { enabled: true },
  lotBurst: { windowsDays: [1, 7], baselineDays: 90, minCount: 3, alpha: 0.001, minRatio: 2, floorRatePerDay: 0.01, lotShareOfProduct: 1 },
  slowBurn: { windowsDays: [90, 365], windowsRequired: 'confirm', minPrr: 2, minChi2: 4, minCount: 3 },
  categories: {
    mislabelling_allergen: { lotBurst: { minCount: 2, floorRatePerDay: 0.005 } },
    off_taste_odour: { lotBurst: { minCount: 5 } },
    other: { lotBurst: { minCount: 5 } },
  },
};

type Burst = DetectionConfig['lotBurst'] & { sortedWindows: number[] };
const burstCache = new WeakMap<DetectionConfig, Map<DefectCategory, Burst>>();

/** The burst settings for one category: defaults with its overrides applied (cached). */
export function burstFor(config: DetectionConfig, category: DefectCategory): Burst {
  let byCategory = burstCache.get(config);
  if (!byCategory) burstCache.set(config, (byCategory = new Map()));
  let burst = byCategory.get(category);
  if (!burst) {
    const merged = { ...config.lotBurst, ...config.categories[category]?.lotBurst };
    burst = { ...merged, sortedWindows: [...merged.windowsDays].sort((a, b) => a - b) };
    byCategory.set(category, burst);
  }
  return burst;
}

/** Merges a partial override (from a file or the environment) over the defaults, validated. */
export function detectionConfigFrom(raw: unknown): DetectionConfig {
  const override = (raw ?? {}) as Partial<DetectionConfig>;
  return DetectionConfig.parse({
    harm: { ...DEFAULT_DETECTION_CONFIG.harm, ...override.harm },
    lotBurst: { ...DEFAULT_DETECTION_CONFIG.lotBurst, ...override.lotBurst },
    slowBurn: { ...DEFAULT_DETECTION_CONFIG.slowBurn, ...override.slowBurn },
    categories: { ...DEFAULT_DETECTION_CONFIG.categories, ...override.categories },
  });
}
