import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG, detectionConfigFrom } from '../../../shared/detection/config.js';
import { CANDIDATE_RULES, observe, type Signal } from '../../../shared/detection/engine.js';
import type { Observation } from '../../../shared/detection/keys.js';
import { MemoryCounterStore } from '../../../shared/detection/memory-store.js';
import { chiSquaredYates, poissonUpperTail, prr } from '../../../shared/detection/statistics.js';
import { fixedClock, DAY } from '../../../shared/platform/clock.js';
import { background, complaint } from '../../support/detection.js';


async function feed(store: MemoryCounterStore, observations: Observation[], config = DEFAULT_DETECTION_CONFIG): Promise<Signal[]> {
  const signals: Signal[] = [];
  for (const o of observations) signals.push(...(await observe(o, store, config)).signals);
  return signals;
}


describe('detection', () => {
  describe('statistics', () => {
    it('computes Poisson upper tails', () => {
      expect(poissonUpperTail(1, 1)).toBeCloseTo(1 - Math.exp(-1), 10);
      expect(poissonUpperTail(0, 3)).toBe(1);
      expect(poissonUpperTail(3, 0.14)).toBeCloseTo(1 - Math.exp(-0.14) * (1 + 0.14 + 0.14 ** 2 / 2), 12);
      expect(poissonUpperTail(5, 0)).toBe(0);
    });

    it('computes PRR and Yates chi-squared for a 2x2 table', () => {
      const table = { a: 6, b: 4, c: 100, d: 900 };
      expect(prr(table)).toBeCloseTo(0.6 / 0.1, 10);
      expect(chiSquaredYates(table)).toBeCloseTo((1010 * 4495 ** 2) / (10 * 1000 * 106 * 904), 10);
      expect(prr({ a: 3, b: 0, c: 0, d: 50 })).toBe(Number.POSITIVE_INFINITY);
    });
  });

  describe('harm', () => {
    it('signals at once, on the lot key, on a single report whose category is itself harm', async () => {
      const clock = fixedClock('2026-03-01T10:00:00Z');
      const signals = await feed(new MemoryCounterStore(), [complaint(clock.now(), { category: 'injury', injury: true, categoryIsHarm: true })]);
      expect(signals.map((s) => [s.rule, s.key.id])).toEqual([['harm', 'lot|SKU-1|LOT-1|injury']]);
      expect(signals[0]!.evidence).toMatchObject({ category: 'injury', categoryIsHarm: true });
    });

    it('notifies QA of illness reported under another category, without opening a candidate by itself', async () => {
      const clock = fixedClock('2026-03-01T10:00:00Z');
      const signals = await feed(new MemoryCounterStore(), [complaint(clock.now(), { category: 'contamination_spoilage', illness: true })]);
      expect(signals.map((s) => s.rule)).toEqual(['harm-report']);
      expect(signals[0]!.evidence).toMatchObject({ category: 'contamination_spoilage', illness: true, injury: false, opensCandidate: false });
      expect(signals[0]!.evidence.explanation).toContain('mentions an illness');
      expect(CANDIDATE_RULES).not.toContain('harm-report');
      expect(CANDIDATE_RULES).toContain('harm');
    });

    it('stays quiet on a complaint with no harm', async () => {
      const clock = fixedClock('2026-03-01T10:00:00Z');
      expect(await feed(new MemoryCounterStore(), [complaint(clock.now())])).toEqual([]);
    });

    it('can be switched off', async () => {
      const config = detectionConfigFrom({ harm: { enabled: false } });
      const at = new Date('2026-03-01T10:00:00Z');
      expect(await feed(new MemoryCounterStore(), [complaint(at, { category: 'injury', injury: true, categoryIsHarm: true }), complaint(at, { illness: true })], config)).toEqual([]);
    });
  });

  describe('lot burst', () => {
    it('signals when a quiet lot gets three foreign-matter reports in two days, with its evidence', async () => {
      const clock = fixedClock('2026-03-01T10:00:00Z');
      const store = new MemoryCounterStore();
      await feed(store, background(new Date('2025-12-01T00:00:00Z'), 90));
      const reports = [0, 1, 2].map((i) => complaint(new Date(clock.now().getTime() + i * 16 * 3600_000), { sku: 'NEW', lot: 'NEW-L1' }));
      const signals = (await feed(store, reports)).filter((s) => s.rule === 'lot-burst' && s.key.kind === 'lot');
      expect(signals).toHaveLength(1);
      expect(signals[0]!.reportId).toBe(reports[2]!.reportId);
      expect(signals[0]!.evidence).toMatchObject({ windowDays: 7, count: 3, baselineCount: 0, statistic: 'poisson-upper-tail', alpha: 0.001 });
      expect(Number(signals[0]!.evidence.pValue)).toBeLessThan(0.001);
    });

    it('does not signal when a key is as busy as it always was', async () => {
      const store = new MemoryCounterStore();
      const start = new Date('2026-01-01T08:00:00Z');
      // One off-taste report a day for 100 days on one product and lot: steady, not a burst.
      const steady = Array.from({ length: 100 }, (_, d) => complaint(new Date(start.getTime() + d * DAY), { category: 'off_taste_odour' }));
      const signals = await feed(store, steady);
      expect(signals.filter((s) => s.rule === 'lot-burst' && s.evidence.baselineCount !== 0 && Number(s.evidence.baselineCount) >= 60)).toEqual([]);
    });

    it('is stricter for allergen mislabelling than for off taste', async () => {
      const at = (h: number) => new Date(Date.UTC(2026, 2, 1, h));
      const allergen = await feed(new MemoryCounterStore(), [0, 1].map((h) => complaint(at(h), { category: 'mislabelling_allergen' })));
      expect(allergen.filter((s) => s.rule === 'lot-burst')).not.toEqual([]);
      const taste = await feed(new MemoryCounterStore(), [0, 1, 2, 3].map((h) => complaint(at(h), { category: 'off_taste_odour' })));
      expect(taste.filter((s) => s.rule === 'lot-burst')).toEqual([]);
    });

    it('takes thresholds from the configuration', async () => {
      const config = detectionConfigFrom({ categories: { off_taste_odour: { lotBurst: { minCount: 2, alpha: 0.01 } } } });
      const at = (h: number) => new Date(Date.UTC(2026, 2, 1, h));
      const taste = await feed(new MemoryCounterStore(), [0, 1].map((h) => complaint(at(h), { category: 'off_taste_odour' })), config);
      expect(taste.filter((s) => s.rule === 'lot-burst')).not.toEqual([]);
    });
  });

  describe('slow burn', () => {
    it('finds over months what no week and no month shows: a product over-represented in a defect', async () => {
      const store = new MemoryCounterStore();
      const start = new Date('2025-06-01T00:00:00Z');
      const world = background(start, 240);
      // One foreign-matter report on SKU-FILM every 16 days, each from a different lot.
      const film = Array.from({ length: 15 }, (_, i) =>
        complaint(new Date(start.getTime() + (i * 16 + 3) * DAY), { sku: 'SKU-FILM', lot: `FILM-L${i}`, category: 'foreign_matter' }),
      );
      const all = [...world, ...film].sort((x, y) => x.at.localeCompare(y.at));
      const signals = await feed(store, all);
      const slow = signals.filter((s) => s.rule === 'slow-burn' && s.key.sku === 'SKU-FILM');
      expect(slow.length).toBeGreaterThan(0);
      // The film product became over-represented in foreign matter (it was not before): the
      // emerging-disproportionality way to a slow burn, with its counts and shrunk statistic.
      const e = slow[0]!.evidence;
      expect(e).toMatchObject({ statistic: 'ic025-emerging', windowDays: 90, minIc025: 0.25, minCount: 3, priorDays: 365, maxPriorIc: 1 });
      expect(Number(e.ic025)).toBeGreaterThan(0.25);
      expect(Number(e.a)).toBeGreaterThanOrEqual(3);
      expect(Number(e.a)).toBeGreaterThan(Number(e.expected));
      expect(Number(e.priorIc)).toBeLessThanOrEqual(1);
      expect(String(e.explanation)).toMatch(/^this product has newly become over-represented in foreign_matter: \d+ reports in 90 days where its volume predicts [\d.]+/);
      // Never more than one such report in any week: the burst rule cannot see it.
      expect(signals.filter((s) => s.rule === 'lot-burst' && s.key.sku === 'SKU-FILM')).toEqual([]);
      // And no background product is flagged: their shares are all alike.
      expect(signals.filter((s) => s.rule === 'slow-burn' && s.key.sku !== 'SKU-FILM')).toEqual([]);
    });
  });

  describe('exactly once', () => {
    it('counts a redelivered complaint once and raises the same signals again', async () => {
      const store = new MemoryCounterStore();
      const o = complaint(new Date('2026-03-01T10:00:00Z'), { category: 'injury', injury: true });
      const first = await observe(o, store, DEFAULT_DETECTION_CONFIG);
      const again = await observe(o, store, DEFAULT_DETECTION_CONFIG);
      expect(first.counted).toBe(true);
      expect(again.counted).toBe(false);
      expect(again.totals).toEqual(first.totals);
      expect(again.signals.map((s) => s.rule)).toEqual(first.signals.map((s) => s.rule));
    });
  });
});
