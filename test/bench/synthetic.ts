import type { Observation } from '../../shared/detection/keys.js';
import type { DefectCategory } from '../../shared/reports/schema.js';

/**
 * A seeded synthetic complaint history: background complaints over many products, lots and
 * plants, with injected clusters of three kinds whose truth is known:
 * - `lot-burst`: one lot suddenly draws several complaints of one defect within days;
 * - `slow-burn`: a product draws one extra complaint of one defect every week or two for
 *   months (never two in a week: invisible in weekly counts);
 * - `injury`: a single report of an injury.
 */
export interface SyntheticRow extends Observation {
  /** The injected cluster this row belongs to, if any. */
  readonly cluster?: string;
}

export interface InjectedCluster {
  readonly id: string;
  readonly kind: 'lot-burst' | 'slow-burn' | 'injury';
  readonly sku: string;
  readonly lot?: string;
  readonly plant: string;
  readonly category: DefectCategory;
  readonly onsetDay: number;
  readonly endDay: number;
}

export interface SyntheticOptions {
  seed?: number;
  products?: number;
  days?: number;
  /** Mean background complaints per product per day. */
  meanRate?: number;
  lotBursts?: number;
  slowBurns?: number;
  injuries?: number;
  start?: string;
}

export { mulberry32 } from '../../shared/platform/random.js';
import { mulberry32 } from '../../shared/platform/random.js';

function poisson(random: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

const BACKGROUND: [DefectCategory, number][] = [
  ['off_taste_odour', 0.25],
  ['packaging_failure', 0.2],
  ['container_damage', 0.15],
  ['foreign_matter', 0.15],
  ['contamination_spoilage', 0.1],
  ['mislabelling_allergen', 0.05],
  ['other', 0.1],
];
const LOT_DAYS = 14;

export function synthesize(options: SyntheticOptions = {}): { rows: SyntheticRow[]; clusters: InjectedCluster[]; products: number; days: number; start: string } {
  const { seed = 42, products = 300, days = 730, meanRate = 0.15, lotBursts = 20, slowBurns = 12, injuries = 20, start = '2024-01-01T00:00:00Z' } = options;
  const random = mulberry32(seed);
  const t0 = Date.parse(start);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const category = (): DefectCategory => {
    let u = random();
    for (const [c, w] of BACKGROUND) if ((u -= w) <= 0) return c;
    return 'other';
  };
  const catalog = Array.from({ length: products }, (_, p) => ({
    sku: `SKU-${String(p).padStart(4, '0')}`,
    plant: `PLANT-${p % 6}`,
    // Rates spread over a factor of ten around the mean, as real product lines do.
    rate: meanRate * Math.exp((random() - 0.5) * 2.3),
  }));
  const lotOf = (sku: string, day: number) => `${sku}-L${Math.floor(day / LOT_DAYS)}`;
  let seq = 0;
  const rows: SyntheticRow[] = [];
  const row = (day: number, product: (typeof catalog)[number], c: DefectCategory, extra: Partial<SyntheticRow> = {}) =>
    rows.push({
      reportId: `syn-${++seq}`,
      at: new Date(t0 + day * 86_400_000 + Math.floor(random() * 86_400_000)).toISOString(),
      sku: product.sku,
      lot: lotOf(product.sku, day),
      plant: product.plant,
      category: c,
      injury: false,
      illness: false,
      ...extra,
    });

  for (let day = 0; day < days; day++) {
    for (const product of catalog) {
      for (let n = poisson(random, product.rate); n > 0; n--) row(day, product, category());
    }
  }

  const clusters: InjectedCluster[] = [];
  const onset = (minDay: number, maxDay: number) => minDay + Math.floor(random() * (maxDay - minDay));
  for (let i = 0; i < lotBursts; i++) {
    const product = pick(catalog);
    const c = pick<DefectCategory>(['foreign_matter', 'contamination_spoilage', 'mislabelling_allergen', 'packaging_failure']);
    const d0 = onset(120, days - 30);
    const n = 4 + Math.floor(random() * 5);
    const id = `burst-${i}`;
    // The lot on sale at onset draws the complaints over the next five days.
    const lot = lotOf(product.sku, d0);
    for (let k = 0; k < n; k++) row(d0 + Math.floor(random() * 5), product, c, { lot, cluster: id });
    clusters.push({ id, kind: 'lot-burst', sku: product.sku, lot, plant: product.plant, category: c, onsetDay: d0, endDay: d0 + 5 });
  }
  for (let i = 0; i < slowBurns; i++) {
    const product = pick(catalog);
    const c = pick<DefectCategory>(['foreign_matter', 'container_damage', 'contamination_spoilage']);
    const d0 = onset(120, days - 250);
    const length = 180 + Math.floor(random() * 60);
    const id = `slow-${i}`;
    // One extra complaint every 8 to 12 days: never two in one week.
    for (let d = d0 + Math.floor(random() * 8); d < d0 + length; d += 8 + Math.floor(random() * 5)) row(d, product, c, { cluster: id });
    clusters.push({ id, kind: 'slow-burn', sku: product.sku, plant: product.plant, category: c, onsetDay: d0, endDay: d0 + length });
  }
  for (let i = 0; i < injuries; i++) {
    const product = pick(catalog);
    const d0 = onset(30, days - 1);
    const id = `injury-${i}`;
    // The food taxonomy's `injury` category is itself harm: it opens a candidate on its own.
    row(d0, product, 'injury', { injury: true, categoryIsHarm: true, cluster: id });
    clusters.push({ id, kind: 'injury', sku: product.sku, lot: lotOf(product.sku, d0), plant: product.plant, category: 'injury', onsetDay: d0, endDay: d0 });
  }
  rows.sort((a, b) => a.at.localeCompare(b.at));
  return { rows, clusters, products, days, start };
}

export const CSV_HEADER = 'case_no,received_at,item_code,lot_no,factory,complaint_type,injured,ill';
export function toCsvLine(r: SyntheticRow, categoryLabel: (c: DefectCategory) => string = (c) => c): string {
  return [r.reportId, r.at, r.sku, r.lot, r.plant, categoryLabel(r.category), r.injury ? 'yes' : 'no', r.illness ? 'yes' : 'no'].join(',');
}
