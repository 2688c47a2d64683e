import { keyCode as normalise } from '../platform/fields.js';
import { DEFAULT_DETECTION_CONFIG, familyOf, type DetectionConfig } from './config.js';
import type { DefectCategory } from '../reports/schema.js';

/**
 * What detection needs of a complaint: the same fields whether it comes from the live table
 * or from a historical file replayed by a backtest.
 */
export interface Observation {
  readonly reportId: string;
  /** When the complaint was received (ISO 8601). */
  readonly at: string;
  readonly sku: string;
  readonly lot: string;
  readonly plant: string;
  readonly category: DefectCategory;
  readonly injury: boolean;
  readonly illness: boolean;
  /** The taxonomy says the category itself is harm (e.g. `injury`): a signal on its own. */
  readonly categoryIsHarm?: boolean;
}

/** The cluster keys a complaint counts toward, and what each is compared against. */
export const CLUSTER_KINDS = ['lot', 'product', 'plant'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];

export interface ClusterKey {
  readonly kind: ClusterKind;
  /** Stable string form, e.g. `lot|CHOC-100|L1103|foreign_matter`. */
  readonly id: string;
  readonly sku?: string;
  readonly lot?: string;
  readonly plant?: string;
  readonly category: DefectCategory;
}

/** `keyCode` of the platform, remembered: a stream repeats the same few thousand codes. */
const codes = new Map<string, string>();
// Printable ASCII without lower case, single spaces inside: already its own code (NFKC, trim, case).
const PLAIN_CODE = /^[!-`{-~]+(?: [!-`{-~]+)*$/;
function keyCode(value: string): string {
  if (PLAIN_CODE.test(value)) return value;
  let code = codes.get(value);
  if (code === undefined) {
    if (codes.size >= 100_000) codes.clear();
    codes.set(value, (code = normalise(value)));
  }
  return code;
}

// `|` cannot occur in SKU, lot or plant codes (the report schema forbids it), so keys are unambiguous.
// Codes are normalised (`keyCode`: NFKC, trimmed, upper case) so spellings of one lot do not split its cluster.
export const lotKey = (sku: string, lot: string, category: DefectCategory): ClusterKey => {
  const s = keyCode(sku);
  const l = keyCode(lot);
  return { kind: 'lot', id: `lot|${s}|${l}|${category}`, sku: s, lot: l, category };
};
export const productKey = (sku: string, category: DefectCategory): ClusterKey => {
  const s = keyCode(sku);
  return { kind: 'product', id: `product|${s}|${category}`, sku: s, category };
};
export const plantKey = (plant: string, category: DefectCategory): ClusterKey => {
  const p = keyCode(plant);
  return { kind: 'plant', id: `plant|${p}|${category}`, plant: p, category };
};

// The keys of the latest observation asked about (the engine asks many times per complaint).
let keysFor: Observation | undefined;
let keysOfLatest: Record<ClusterKind, ClusterKey> | undefined;
export function clusterKeys(o: Observation): Record<ClusterKind, ClusterKey> {
  if (keysFor !== o || !keysOfLatest) {
    keysFor = o;
    keysOfLatest = { lot: lotKey(o.sku, o.lot, o.category), product: productKey(o.sku, o.category), plant: plantKey(o.plant, o.category) };
  }
  return keysOfLatest;
}

/** Totals the disproportionality statistics compare against. */
export function totalKeys(o: Observation) {
  return { productAll: `total|product|${keyCode(o.sku)}`, categoryAll: `total|category|${o.category}`, all: 'total|all' };
}

/**
 * The counter of a product family for this defect (model years of one model, sizes of one
 * recipe), when the configured pattern gives the SKU a family: pooled, a defect shared by
 * the family shows before any one SKU has many reports.
 */
export function familyCounterKey(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): { family: string; id: string } | undefined {
  if (!config.familyBurn.enabled) return undefined;
  const family = familyOf(config, keyCode(o.sku));
  return family === undefined ? undefined : { family, id: `family|${family}|${o.category}` };
}

/** Every counter one complaint increments: three cluster keys, three totals and its family's key (if any). */
export function counterKeys(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): string[] {
  const c = clusterKeys(o);
  const t = totalKeys(o);
  const family = familyCounterKey(o, config);
  return [c.lot.id, c.product.id, c.plant.id, t.productAll, t.categoryAll, t.all, ...(family ? [family.id] : [])];
}

/** Days since the epoch (UTC) of an ISO time: the counters' bucket. */
export function dayOf(at: string | number | Date): number {
  return Math.floor(new Date(at).getTime() / 86_400_000);
}

export function dayToIso(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}
