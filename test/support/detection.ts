import type { Observation } from '../../shared/detection/keys.js';
import { DAY } from '../../shared/platform/clock.js';

/** Complaints for the detection rules' unit tests: one product, lot and plant unless overridden. */
let seq = 0;
export function complaint(at: Date, overrides: Partial<Observation> = {}): Observation {
  return { reportId: `r-${++seq}`, at: at.toISOString(), sku: 'SKU-1', lot: 'LOT-1', plant: 'PLANT-1', category: 'foreign_matter', injury: false, illness: false, ...overrides };
}

/** Background: 40 products, each with one complaint every 4 days, categories rotating (every share alike). */
export function background(from: Date, days: number): Observation[] {
  const categories = ['off_taste_odour', 'packaging_failure', 'container_damage', 'foreign_matter', 'other'] as const;
  const out: Observation[] = [];
  for (let d = 0; d < days; d++) {
    for (let p = 0; p < 40; p++) {
      if ((d + p) % 4 !== 0) continue;
      out.push(complaint(new Date(from.getTime() + d * DAY + p * 60_000), { sku: `BG-${p}`, lot: `BG-${p}-L${Math.floor(d / 30)}`, plant: `PLANT-${p % 3}`, category: categories[(d + p) % categories.length]! }));
    }
  }
  return out;
}
