import * as z from 'zod';
import { jsonSetting } from '../platform/config.js';
import { text } from '../platform/fields.js';

/**
 * The company's own defect taxonomy: deployment configuration, not a code enum. Each category
 * has a code (what a case record carries), a label (what people read), whether the category
 * is itself harm (`injury` / `illness`: such a report is a signal on its own, DOMAIN.md §3),
 * and optional detection-rule overrides (merged into DETECTION_CONFIG.categories, validated
 * there). A deployment sets `DEFECT_TAXONOMY` (JSON); functions read it at cold start and
 * fail fast on anything invalid. The defaults are the food categories of DOMAIN.md §1.
 */
export const CATEGORY_CODE = /^[A-Za-z0-9][A-Za-z0-9_./ -]{0,63}$/;

const Category = z.strictObject({
  code: z.string().regex(CATEGORY_CODE, 'a code of 1–64 characters: letters, digits, _ . / - and space, starting with a letter or digit'),
  label: text(100),
  /** The category itself is harm to a person (a report in it is a signal on its own). */
  harm: z.enum(['injury', 'illness']).optional(),
  /** Detection-rule overrides for this category (the shape of DETECTION_CONFIG.categories.<code>). */
  rules: z.record(z.string(), z.unknown()).optional(),
});
export type TaxonomyCategory = z.infer<typeof Category>;

export const Taxonomy = z
  .strictObject({ categories: z.array(Category).min(1, 'at least one category').max(200, 'at most 200 categories') })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.categories.forEach((c, i) => {
      if (seen.has(c.code)) ctx.addIssue({ code: 'custom', path: ['categories', i, 'code'], message: `duplicate code ${c.code}` });
      seen.add(c.code);
    });
  });
export type Taxonomy = z.infer<typeof Taxonomy>;

export const DEFAULT_TAXONOMY: Taxonomy = {
  categories: [
    { code: 'foreign_matter', label: 'Foreign matter' },
    { code: 'packaging_failure', label: 'Packaging failure (seal, closure)' },
    { code: 'container_damage', label: 'Container damage (cracked, leaking)' },
    { code: 'contamination_spoilage', label: 'Contamination or spoilage' },
    { code: 'off_taste_odour', label: 'Off taste or odour' },
    { code: 'mislabelling_allergen', label: 'Mislabelling (allergens)' },
    { code: 'illness', label: 'Illness', harm: 'illness' },
    { code: 'injury', label: 'Injury', harm: 'injury' },
    { code: 'other', label: 'Other' },
  ],
};

/** Reads `DEFECT_TAXONOMY` (JSON) or the defaults; throws ConfigError naming each bad path. */
export function taxonomyFromEnv(env: Record<string, string | undefined> = process.env): Taxonomy {
  const raw = env.DEFECT_TAXONOMY;
  return raw ? jsonSetting('DEFECT_TAXONOMY', raw, Taxonomy) : DEFAULT_TAXONOMY;
}

/** Lookups over one taxonomy. */
export class Categories {
  readonly codes: [string, ...string[]];
  private readonly byCode: Map<string, TaxonomyCategory>;
  constructor(readonly taxonomy: Taxonomy) {
    this.codes = taxonomy.categories.map((c) => c.code) as [string, ...string[]];
    this.byCode = new Map(taxonomy.categories.map((c) => [c.code, c]));
  }
  has(code: string): boolean {
    return this.byCode.has(code);
  }
  harmOf(code: string): 'injury' | 'illness' | undefined {
    return this.byCode.get(code)?.harm;
  }
  /** The per-category detection overrides, keyed by code. */
  ruleOverrides(): Record<string, unknown> {
    return Object.fromEntries(this.taxonomy.categories.flatMap((c) => (c.rules ? [[c.code, c.rules]] : [])));
  }
  /** A category field of a payload: one of the codes, and the error names them. */
  field() {
    const allowed = this.codes.length <= 30 ? this.codes.join(', ') : `${this.codes.slice(0, 30).join(', ')}, … (GET /taxonomy lists all ${this.codes.length})`;
    return z.enum(this.codes, { error: () => `one of the defect taxonomy's codes: ${allowed}` });
  }
}

let active: Categories | undefined;
/** The running deployment's taxonomy (read once from the environment; fails fast). */
export function activeCategories(): Categories {
  return (active ??= new Categories(taxonomyFromEnv()));
}
