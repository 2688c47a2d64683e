import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG } from '../../../shared/detection/config.js';
import { evaluate, observe, type Signal } from '../../../shared/detection/engine.js';
import { counterKeys, dayOf } from '../../../shared/detection/keys.js';
import { MemoryCounterStore } from '../../../shared/detection/memory-store.js';
import type { CounterReader } from '../../../shared/detection/store.js';
import { synthesize } from '../../bench/synthetic.js';

/**
 * The in-memory store gives the engine weekly series in one walk and the engine skips a
 * trend that cannot pass its threshold this week; a store that only totals windows (as
 * DynamoDB does) must raise exactly the same signals.
 */
describe('the engine on either kind of counter reader', () => {
  it('raises the same signals from weekly series as from window totals alone', async () => {
    const { rows } = synthesize({ seed: 7, products: 60, days: 400, meanRate: 0.3, lotBursts: 6, slowBurns: 6, injuries: 4 });
    const fast = new MemoryCounterStore();
    const plain = new MemoryCounterStore();
    const viaWeekly: Signal[] = [];
    const viaTotals: Signal[] = [];
    for (const o of rows) {
      const day = dayOf(o.at);
      fast.countSync(o.reportId, counterKeys(o, DEFAULT_DETECTION_CONFIG), day);
      viaWeekly.push(...evaluate(o, fast.readerAt(day), DEFAULT_DETECTION_CONFIG).signals);
      plain.countSync(o.reportId, counterKeys(o, DEFAULT_DETECTION_CONFIG), day);
      // Only `total`, as the DynamoDB store's reader has.
      const inner = plain.readerAt(day);
      const totalsOnly: CounterReader = { total: (key, w) => inner.total(key, w) };
      viaTotals.push(...evaluate(o, totalsOnly, DEFAULT_DETECTION_CONFIG).signals);
    }
    expect(viaWeekly.length).toBeGreaterThan(10);
    expect(new Set(viaWeekly.map((s) => s.rule)).size).toBeGreaterThan(1);
    expect(viaWeekly).toEqual(viaTotals);
  });

  it('observe and evaluate agree', async () => {
    const { rows } = synthesize({ seed: 3, products: 30, days: 200, meanRate: 0.3, lotBursts: 3, slowBurns: 3, injuries: 2 });
    const a = new MemoryCounterStore();
    const b = new MemoryCounterStore();
    for (const o of rows) {
      const day = dayOf(o.at);
      const observed = (await observe(o, a, DEFAULT_DETECTION_CONFIG)).signals;
      b.countSync(o.reportId, counterKeys(o, DEFAULT_DETECTION_CONFIG), day);
      expect(observed).toEqual(evaluate(o, b.readerAt(day), DEFAULT_DETECTION_CONFIG).signals);
    }
  });
});
