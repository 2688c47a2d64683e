import { describe, expect, it } from 'vitest';
import { demoYear, NOISE_SKU, SLOW_SKU } from '../../../infra/demo/data.js';
import { DEFAULT_DETECTION_CONFIG } from '../../../shared/detection/config.js';
import { observe } from '../../../shared/detection/engine.js';
import { MemoryCounterStore } from '../../../shared/detection/memory-store.js';

/** What the demo's story needs detection to find, for every seed and size a user may choose. */
async function found(seed: number, background: number) {
  const store = new MemoryCounterStore();
  let slowBurn = false;
  let duplicateCalls = false;
  let i = 0;
  for (const r of demoYear({ seed, background, days: 360 })) {
    const at = new Date(Date.UTC(2026, 10, 30) - r.daysAgo * 86_400_000 + r.minute * 60_000).toISOString();
    const { signals } = await observe({ reportId: `R${i++}`, at, sku: r.sku, lot: r.lot, plant: r.plant, category: r.category, injury: r.injury, illness: false }, store, DEFAULT_DETECTION_CONFIG);
    for (const s of signals) {
      if (s.rule === 'slow-burn' && s.key.sku === SLOW_SKU && s.key.category === 'foreign_matter') slowBurn = true;
      if (s.key.sku === NOISE_SKU && s.key.lot === 'LGU-DUP') duplicateCalls = true;
    }
  }
  return { slowBurn, duplicateCalls };
}

describe('the demo year', () => {
  it('hides the slow problem from weekly counts: never two of its complaints in one week', () => {
    const slow = demoYear({ seed: 1, background: 300, days: 360 }).filter((c) => c.role === 'slow-burn').map((c) => c.daysAgo);
    for (let i = 1; i < slow.length; i++) expect(slow[i - 1]! - slow[i]!).toBeGreaterThanOrEqual(7);
  });

  it.each([50, 150, 300])('lets detection find the slow burn and the duplicate calls for every seed 1-20 (background %i)', async (background) => {
    for (let seed = 1; seed <= 20; seed++) expect(await found(seed, background), `seed ${seed}`).toEqual({ slowBurn: true, duplicateCalls: true });
  });
});
