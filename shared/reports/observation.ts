import type { Observation } from '../detection/keys.js';
import type { Report } from './model.js';

/** What detection sees of a case record: product, lot, plant, category, harm; no person. */
export function observationOf(report: Report): Observation {
  return {
    reportId: report.id,
    at: report.receivedAt,
    sku: report.product.sku,
    lot: report.lotCode,
    plant: report.plant,
    category: report.defect.category,
    injury: report.harm.injury,
    illness: report.harm.illness,
  };
}
