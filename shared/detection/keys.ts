import { keyCode as normalise } from '../platform/fields.js';
import { detached, flat } from '../platform/strings.js';
import { burstFor, DEFAULT_DETECTION_CONFIG, familyOf, type DetectionConfig } from './config.js';
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
  /**
   * A replay's own handle on the complaint's product and defect (one object per product code
   * and defect, kept by the replay): its keys are kept on it, found without a lookup.
   */
  readonly productHandle?: ProductHandle;
  /** The complaint's lot key when the replay keeps one per lot (`lotKey` of its product code, lot and defect). */
  readonly lotKey?: ClusterKey;
}

/** Where the engine keeps a product's keys for a replay (opaque to the replay). */
export interface ProductHandle {
  keys?: unknown;
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
/** A code as cluster keys hold it (`keyCode`: NFKC, trimmed, upper case), remembered for the codes a stream repeats. */
export const clusterCode = (value: string): string => keyCode(value);
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
export const lotKey = (sku: string, lot: string, category: DefectCategory): ClusterKey => lotKeyOfCodes(keyCode(sku), keyCode(lot), category);
/** `lotKey` of codes already normalised (`clusterCode`): a replay that keeps codes builds its lots' keys without normalising them again. */
export const lotKeyOfCodes = (sku: string, lot: string, category: DefectCategory): ClusterKey => ({ kind: 'lot', id: flat(`lot|${sku}|${lot}|${category}`), sku, lot, category });
export const productKey = (sku: string, category: DefectCategory): ClusterKey => {
  const s = keyCode(sku);
  return { kind: 'product', id: `product|${s}|${category}`, sku: s, category };
};
export const plantKey = (plant: string, category: DefectCategory): ClusterKey => {
  const p = keyCode(plant);
  return { kind: 'plant', id: `plant|${p}|${category}`, plant: p, category };
};

/**
 * The keys of one product and defect, built once and then shared by every complaint about
 * it: the same string objects each time, already flat with their hashes computed, so the
 * counter store's map finds them without rebuilding and rehashing them each complaint. The
 * plant's key is kept for the plant last seen (a product is mostly made in one); the family
 * keys per configuration (its SKU pattern says what a family is). A lot's key is built per
 * complaint: most lots draw one or two complaints, a cache of them would miss.
 */
interface ProductKeys {
  readonly product: ClusterKey;
  readonly totals: { readonly productAll: string; readonly categoryAll: string; readonly all: string };
  plantText?: string;
  plant?: ClusterKey;
  /** The configuration `family` and `readsPlant` were worked out for. */
  configuredFor?: DetectionConfig;
  family?: FamilyKeys;
  /** A burst rule judges the plant's key in this defect (else only a cluster summary shows it). */
  readsPlant?: boolean;
  /** The product's keys the rules read (`sharedRuleKeys`), for the configuration and plant they were built for. */
  ruleGroup?: CounterGroup & { readonly plant: ClusterKey | undefined };
}

/**
 * Keys counted together for every complaint about one product and defect, one object shared
 * by all of them, with slots where a counter store may keep its handles on their counters
 * (the in-memory store's `countReplayedSync`: counted without a lookup a key).
 */
export interface CounterGroup {
  readonly keys: readonly string[];
  /**
   * The store's, opaque to everyone else, on the group itself (one object fewer to reach per
   * complaint): whose handles they are and since when, one per key, and the keys' retention.
   */
  heldBy?: unknown;
  heldSince?: number;
  held?: unknown[];
  heldRetain?: number | readonly number[];
}
interface FamilyKeys {
  readonly family: string;
  readonly id: string;
  /** Where the family rule's own firings are counted: the family's and the product's `alarm|` keys. */
  readonly alarms: { readonly family: string; readonly product: string };
}

/**
 * Defect → SKU as written → its keys: the defects are few, so the first map stays in cache and
 * one lookup a complaint reaches far. Cleared whole at this many products × defects (a
 * mis-mapped column could hold a million values).
 */
const interned = new Map<DefectCategory, Map<string, ProductKeys>>();
const MAX_INTERNED = 100_000;
let internedCount = 0;

// The latest observation asked about and its product's keys (the engine asks many times per complaint).
let productFor: Observation | undefined;
let productOfLatest: ProductKeys | undefined;

function productKeysOf(o: Observation): ProductKeys {
  if (productFor === o && productOfLatest) return productOfLatest;
  productOfLatest = lookupProductKeys(o);
  productFor = o;
  return productOfLatest;
}

function lookupProductKeys(o: Observation): ProductKeys {
  const handle = o.productHandle;
  if (handle) return (handle.keys as ProductKeys | undefined) ?? (handle.keys = productKeysFor(o.sku, o.category));
  let bySku = interned.get(o.category);
  let keys = bySku?.get(o.sku);
  if (keys === undefined) {
    if (internedCount >= MAX_INTERNED) {
      interned.clear();
      internedCount = 0;
      bySku = undefined;
    }
    const category = detached(o.category);
    if (bySku === undefined) interned.set(category, (bySku = new Map()));
    internedCount++;
    bySku.set(detached(o.sku), (keys = productKeysFor(o.sku, category)));
  }
  return keys;
}

function productKeysFor(sku: string, category: DefectCategory): ProductKeys {
  const product = productKey(detached(sku), detached(category));
  return {
    product: { ...product, id: flat(product.id) },
    totals: { productAll: flat(`total|product|${product.sku!}`), categoryAll: flat(`total|category|${product.category}`), all: 'total|all' },
  };
}

function plantKeyOf(o: Observation, keys: ProductKeys): ClusterKey {
  if (keys.plantText !== o.plant || !keys.plant) {
    const plant = plantKey(detached(o.plant), keys.product.category);
    keys.plantText = detached(o.plant);
    keys.plant = { ...plant, id: flat(plant.id) };
  }
  return keys.plant;
}

// The keys of the latest observation asked about (the engine asks many times per complaint).
let keysFor: Observation | undefined;
let keysOfLatest: Readonly<Record<ClusterKind, ClusterKey>> | undefined;

/** The complaint's three cluster keys (the product's and plant's are shared between complaints: never mutate them). */
export function clusterKeys(o: Observation): Readonly<Record<ClusterKind, ClusterKey>> {
  if (keysFor !== o || !keysOfLatest) {
    const keys = productKeysOf(o);
    keysFor = o;
    keysOfLatest = { lot: o.lotKey ?? lotKey(keys.product.sku!, o.lot, keys.product.category), product: keys.product, plant: plantKeyOf(o, keys) };
  }
  return keysOfLatest;
}

/** Totals the disproportionality statistics compare against. */
export function totalKeys(o: Observation): ProductKeys['totals'] {
  return productKeysOf(o).totals;
}

/** The product's keys with what `config` says of them worked out (once per configuration). */
function configuredKeysOf(o: Observation, config: DetectionConfig): ProductKeys {
  const keys = productKeysOf(o);
  if (keys.configuredFor !== config) {
    keys.configuredFor = config;
    keys.ruleGroup = undefined;
    keys.readsPlant = burstFor(config, keys.product.category).kinds.includes('plant');
    const family = config.familyBurn.enabled ? familyOf(config, keys.product.sku!) : undefined;
    const id = family === undefined ? undefined : flat(`family|${family}|${keys.product.category}`);
    keys.family = id === undefined ? undefined : { family: family!, id, alarms: { family: flat(`alarm|${id}`), product: flat(`alarm|${keys.product.id}`) } };
  }
  return keys;
}

function familyKeysOf(o: Observation, config: DetectionConfig): FamilyKeys | undefined {
  return configuredKeysOf(o, config).family;
}

/**
 * The counter of a product family for this defect (model years of one model, sizes of one
 * recipe), when the configured pattern gives the SKU a family: pooled, a defect shared by
 * the family shows before any one SKU has many reports. Shared by the product's complaints: never mutate it.
 */
export function familyCounterKey(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): Readonly<FamilyKeys> | undefined {
  return familyKeysOf(o, config);
}

/**
 * Where the family rule's own firings are counted (one count per firing, not per report): on
 * the family's key and on the product's, each prefixed `alarm|`, so that a product can tell
 * whether the rule fired on one of its siblings lately (the family's count less its own).
 */
export function familyAlarmKeys(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): FamilyKeys['alarms'] | undefined {
  return familyKeysOf(o, config)?.alarms;
}

/** Every counter one complaint increments: three cluster keys, three totals and its family's key (if any). */
export function counterKeys(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): string[] {
  const c = clusterKeys(o);
  const t = totalKeys(o);
  const family = familyKeysOf(o, config);
  return family
    ? [c.lot.id, c.product.id, c.plant.id, t.productAll, t.categoryAll, t.all, family.id]
    : [c.lot.id, c.product.id, c.plant.id, t.productAll, t.categoryAll, t.all];
}

/**
 * The counters the rules can read for this complaint, for a replay that shows no cluster
 * summary (backtests): `counterKeys` without the plant's key when no burst rule judges plants
 * in this defect, and without the lot's when the source has no lots (the lot is its product,
 * and the burst rule skips such a lot). The same signals, fewer counters to keep.
 */
export function ruleKeys(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): string[] {
  const lot = ruleLotKey(o);
  const shared = sharedRuleKeys(o, config).keys;
  return lot === undefined ? [...shared] : [lot, ...shared];
}

/** The lot's key among `ruleKeys`: undefined when the lot is its product (the source has no lots). */
export function ruleLotKey(o: Observation): string | undefined {
  const lot = clusterKeys(o).lot;
  return lot.lot !== lot.sku ? lot.id : undefined;
}

/**
 * The rest of `ruleKeys`: the product's, its plant's (when a burst rule judges plants), the
 * totals and the family's, as one group shared by every complaint about the product and
 * defect (never mutate it): the same object each time while the configuration and plant stay.
 */
export function sharedRuleKeys(o: Observation, config: DetectionConfig = DEFAULT_DETECTION_CONFIG): CounterGroup {
  const keys = configuredKeysOf(o, config);
  const plant = keys.readsPlant ? plantKeyOf(o, keys) : undefined;
  const group = keys.ruleGroup;
  if (group && group.plant === plant) return group;
  const t = keys.totals;
  const out: string[] = [keys.product.id];
  if (plant) out.push(plant.id);
  out.push(t.productAll, t.categoryAll, t.all);
  if (keys.family) out.push(keys.family.id);
  keys.ruleGroup = { keys: out, plant, heldBy: undefined, heldSince: 0, held: undefined, heldRetain: undefined };
  return keys.ruleGroup;
}

/** Days since the epoch (UTC) of an ISO time: the counters' bucket. */
export function dayOf(at: string | number | Date): number {
  return Math.floor(new Date(at).getTime() / 86_400_000);
}

export function dayToIso(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}
