import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG, type DetectionConfig } from '../../../shared/detection/config.js';
import { evaluate, observe, type Signal } from '../../../shared/detection/engine.js';
import { counterKeys, dayOf, ruleKeys, type Observation } from '../../../shared/detection/keys.js';
import { MemoryCounterStore } from '../../../shared/detection/memory-store.js';
import { lotHorizonDays } from '../../../shared/detection/backtest.js';
import type { CounterReader } from '../../../shared/detection/store.js';
import { synthesize } from '../../bench/synthetic.js';
import { complaint } from '../../support/detection.js';

/**
 * The in-memory store gives the engine weekly series in one walk and the engine skips a
 * trend that cannot pass its threshold this week; a store that only totals windows (as
 * DynamoDB does) must raise exactly the same signals.
 */
/** Counts and judges each row in turn, as a backtest does; `reader` may narrow what the rules see of the store. */
function replay(
  rows: readonly Observation[],
  store: MemoryCounterStore,
  config = DEFAULT_DETECTION_CONFIG,
  reader: (r: CounterReader) => CounterReader = (r) => r,
  keysOf: typeof counterKeys = counterKeys,
): Signal[] {
  return rows.flatMap((o) => {
    const day = dayOf(o.at);
    store.countSync(o.reportId, keysOf(o, config), day);
    return evaluate(o, reader(store.readerAt(day)), config).signals;
  });
}

describe('the engine on either kind of counter reader', () => {
  it('raises the same signals from weekly series as from window totals alone', async () => {
    const { rows } = synthesize({ seed: 7, products: 60, days: 400, meanRate: 0.3, lotBursts: 6, slowBurns: 6, injuries: 4 });
    const viaWeekly = replay(rows, new MemoryCounterStore());
    // Only `total`, as the DynamoDB store's reader has.
    const viaTotals = replay(rows, new MemoryCounterStore(), DEFAULT_DETECTION_CONFIG, (inner) => ({ total: (key, w) => inner.total(key, w) }));
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

  it('raises the same signals when lot keys are kept only for the burst rule\'s horizon (as backtests keep them)', () => {
    // Long enough that lots fall out of the short retention many times over.
    const { rows } = synthesize({ seed: 11, products: 40, days: 700, meanRate: 0.4, lotBursts: 8, slowBurns: 4, injuries: 3 });
    const config = DEFAULT_DETECTION_CONFIG;
    expect(lotHorizonDays(config)).toBe(98 + 70);
    expect(lotHorizonDays({ ...config, categories: { other: { lotBurst: { baselineDays: 200 } } } })).toBe(208 + 70);
    const whole = new MemoryCounterStore();
    const short = new MemoryCounterStore(undefined, { lotRetainDays: lotHorizonDays(config) });
    const a = replay(rows, whole, config);
    const b = replay(rows, short, config);
    expect(a.filter((s) => s.rule === 'lot-burst').length).toBeGreaterThan(5);
    expect(b).toEqual(a);
    expect(short.size).toBeLessThan(whole.size);
  });

  it('raises the same signals from only the counters the rules read (as backtests count) as from every counter', () => {
    const { rows } = synthesize({ seed: 5, products: 50, days: 400, meanRate: 0.4, lotBursts: 8, slowBurns: 4, injuries: 3 });
    const plants: DetectionConfig = { ...DEFAULT_DETECTION_CONFIG, lotBurst: { ...DEFAULT_DETECTION_CONFIG.lotBurst, kinds: ['lot', 'product', 'plant'] } };
    // A source without lots: each lot is its product (NHTSA's complaints).
    const noLots = rows.map((o) => ({ ...o, lot: o.sku }));
    for (const [config, input] of [[DEFAULT_DETECTION_CONFIG, rows], [plants, rows], [DEFAULT_DETECTION_CONFIG, noLots]] as const) {
      const every = new MemoryCounterStore();
      const read = new MemoryCounterStore();
      const all = replay(input, every, config);
      expect(all.length).toBeGreaterThan(5);
      expect(replay(input, read, config, undefined, ruleKeys)).toEqual(all);
      // Judging plants, every counter is read.
      if (config === plants) expect(read.size).toBe(every.size);
      else expect(read.size).toBeLessThan(every.size);
    }
    expect(replay(rows, new MemoryCounterStore(), plants).some((s) => s.key.kind === 'plant')).toBe(true);
    expect(ruleKeys(rows[0]!, plants).some((k) => k.startsWith('plant|'))).toBe(true);
    expect(ruleKeys(rows[0]!).some((k) => k.startsWith('plant|'))).toBe(false);
    expect(ruleKeys(noLots[0]!).some((k) => k.startsWith('lot|'))).toBe(false);
  });

  // The lot's own baseline decides in these two (its product's rate is not used).
  const ownBaseline = { ...DEFAULT_DETECTION_CONFIG, lotBurst: { ...DEFAULT_DETECTION_CONFIG.lotBurst, lotShareOfProduct: 0 } };
  const at = (day: number, i: number) => new Date(Date.UTC(2026, 0, 1) + day * 86_400_000 + i * 60_000);
  const reports = (n: number, day: number, prefix: string) => Array.from({ length: n }, (_, i) => complaint(at(day, i), { reportId: `${prefix}-${i}` }));
  /** The lot bursts raised on the reports whose id starts with `late`, replaying `rows` in their order. */
  const lateBursts = (rows: Observation[], store: MemoryCounterStore) =>
    replay(rows, store, ownBaseline).filter((s) => s.rule === 'lot-burst' && s.reportId.startsWith('late'));

  it('keeps a quiet lot for its burst baseline, where a shorter retention would raise a false burst', () => {
    // 30 reports, seven weeks of quiet, then 3 in a day: no burst against that history, a burst against none.
    const rows = [...reports(30, 0, 'early'), ...reports(3, 50, 'late')];
    expect(lateBursts(rows, new MemoryCounterStore(undefined, { lotRetainDays: lotHorizonDays(ownBaseline) }))).toEqual([]);
    expect(lateBursts(rows, new MemoryCounterStore(undefined, { lotRetainDays: 20 })).length).toBeGreaterThan(0);
  });

  it('judges a row that arrives late on its whole lot history (rows out of order within the margin)', () => {
    // 30 reports on day 0, another product on day 100, then 3 reports dated day 95 (late).
    const rows = [...reports(30, 0, 'early'), complaint(at(100, 0), { reportId: 'other', sku: 'SKU-2', lot: 'LOT-9' }), ...reports(3, 95, 'late')];
    expect(lateBursts(rows, new MemoryCounterStore())).toEqual([]);
    expect(lateBursts(rows, new MemoryCounterStore(undefined, { lotRetainDays: lotHorizonDays(ownBaseline) }))).toEqual([]);
    expect(lateBursts(rows, new MemoryCounterStore(undefined, { lotRetainDays: 98 })).length).toBeGreaterThan(0);
  });
});
