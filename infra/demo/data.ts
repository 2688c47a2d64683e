import { mulberry32 } from '../../shared/platform/random.js';
import type { DefectCategory } from '../../shared/reports/schema.js';

/**
 * The demo's year of complaints, the same for the same seed: background complaints across
 * many products, lots and two stores; a slow foreign-matter problem in one product (never two
 * in a week, so weekly counts hide it: DOMAIN.md §3); one injury on one of its lots; and one
 * customer who calls three times about the same lot on the same day (noise for QA to dismiss).
 */
export interface DemoComplaint {
  readonly daysAgo: number;
  readonly minute: number;
  readonly sku: string;
  readonly name: string;
  readonly lot: string;
  readonly plant: string;
  readonly store: { storeId: string; region: string };
  readonly category: DefectCategory;
  readonly injury: boolean;
  readonly role: 'background' | 'slow-burn' | 'injury' | 'duplicate-calls';
}

export const SLOW_SKU = 'CHOC-ALM-100';
export const NOISE_SKU = 'GUM-MINT-30';

const PRODUCTS = [
  [SLOW_SKU, 'Almond chocolate 100 g', 'PLANT-SAITAMA'],
  ['CHOC-MLK-100', 'Milk chocolate 100 g', 'PLANT-SAITAMA'],
  ['WAFER-COCOA-6', 'Cocoa wafers, 6 pack', 'PLANT-SAITAMA'],
  ['COOKIE-BTR-12', 'Butter cookies, 12', 'PLANT-KOBE'],
  ['CANDY-LMN-80', 'Lemon candy 80 g', 'PLANT-KOBE'],
  [NOISE_SKU, 'Mint gum, 30 pieces', 'PLANT-KOBE'],
  ['CRACKER-SES-8', 'Sesame crackers, 8', 'PLANT-SENDAI'],
  ['JELLY-GRP-6', 'Grape jelly cups, 6', 'PLANT-SENDAI'],
  ['PUDDING-CRM-3', 'Custard pudding, 3', 'PLANT-SENDAI'],
  ['BAR-GRN-5', 'Granola bars, 5', 'PLANT-KOBE'],
] as const;
const CATEGORIES: DefectCategory[] = ['foreign_matter', 'packaging_failure', 'container_damage', 'contamination_spoilage', 'off_taste_odour', 'other'];
const STORES = [
  { storeId: 'store-0101', region: 'kanto' },
  { storeId: 'store-0201', region: 'kansai' },
];


/** `background` complaints over `days` days, plus the injected problems. Oldest first. */
export function demoYear(options: { seed: number; background: number; days: number }): DemoComplaint[] {
  const rand = mulberry32(options.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const lotOf = (sku: string, daysAgo: number) => `L${sku.slice(0, 2)}${String(Math.floor((options.days - daysAgo) / 30)).padStart(2, '0')}`;
  const out: DemoComplaint[] = [];
  const add = (c: Omit<DemoComplaint, 'lot' | 'name' | 'plant'> & { lot?: string }) => {
    const product = PRODUCTS.find((p) => p[0] === c.sku)!;
    out.push({ ...c, name: product[1], plant: product[2], lot: c.lot ?? lotOf(c.sku, c.daysAgo) });
  };
  for (let i = 0; i < options.background; i++) {
    // Never the slow product's foreign matter in the background: its excess is the story.
    const [sku] = pick(PRODUCTS);
    let category = pick(CATEGORIES);
    while (sku === SLOW_SKU && category === 'foreign_matter') category = pick(CATEGORIES);
    add({ daysAgo: 1 + Math.floor(rand() * (options.days - 1)), minute: Math.floor(rand() * 600), sku, store: pick(STORES), category, injury: false, role: 'background' });
  }
  // One extra foreign-matter complaint every 7 to 9 days over the last months: no week has two.
  for (let daysAgo = Math.min(options.days - 5, 200); daysAgo > 3; daysAgo -= 7 + Math.floor(rand() * 3)) {
    add({ daysAgo, minute: 60 + Math.floor(rand() * 400), sku: SLOW_SKU, store: pick(STORES), category: 'foreign_matter', injury: false, role: 'slow-burn' });
  }
  add({ daysAgo: 6, minute: 200, sku: SLOW_SKU, store: STORES[0]!, category: 'foreign_matter', injury: true, role: 'injury' });
  for (let n = 0; n < 3; n++) add({ daysAgo: 12, minute: 300 + n * 20, sku: NOISE_SKU, lot: 'LGU-DUP', store: STORES[1]!, category: 'packaging_failure', injury: false, role: 'duplicate-calls' });
  return out.sort((a, b) => b.daysAgo - a.daysAgo || a.minute - b.minute);
}
