import type { Observation } from '../detection/keys.js';
import type { Report } from './model.js';
import { activeCategories, type Categories } from './taxonomy.js';

/** What detection sees of a case record: product, lot, plant, category, harm; no person. */
export function observationOf(report: Report, categories: Categories = activeCategories()): Observation {
  const harm = categories.harmOf(report.defect.category);
  return {
    reportId: report.id,
    at: report.receivedAt,
    sku: report.product.sku,
    lot: report.lotCode,
    plant: report.plant,
    category: report.defect.category,
    // A category that is itself harm (the default taxonomy's `injury`, `illness`) counts as harm.
    injury: report.harm.injury || harm === 'injury',
    illness: report.harm.illness || harm === 'illness',
    categoryIsHarm: harm !== undefined,
  };
}
