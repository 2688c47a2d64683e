import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG, detectionConfigFrom, familyOf } from '../../../shared/detection/config.js';
import { longestWindow, observe, trendOf, type Signal } from '../../../shared/detection/engine.js';
import { counterKeys, type Observation } from '../../../shared/detection/keys.js';
import { MemoryCounterStore } from '../../../shared/detection/memory-store.js';
import { cusum, cusumSd, expectedA, expectedOfTotals, ic025Of, informationComponent, weeklyCounts, type CusumParameters } from '../../../shared/detection/statistics.js';
import { DAY } from '../../../shared/platform/clock.js';
import { mulberry32 } from '../../../shared/platform/random.js';
import { background, complaint } from '../../support/detection.js';


async function feed(observations: Observation[], config = DEFAULT_DETECTION_CONFIG): Promise<Signal[]> {
  const store = new MemoryCounterStore();
  const signals: Signal[] = [];
  for (const o of [...observations].sort((a, b) => a.at.localeCompare(b.at))) signals.push(...(await observe(o, store, config)).signals);
  return signals;
}


describe('statistics for the trend rules', () => {
  it('computes the BCPNN information component and its shrunk lower bound', () => {
    // 10 observed against 2 expected: IC = log2(10.5 / 2.5); IC025 = IC − 3.3/√10.5 − 2/10.5^1.5.
    const { ic, ic025 } = informationComponent(10, 2);
    expect(ic).toBeCloseTo(Math.log2(10.5 / 2.5), 12);
    expect(ic025).toBeCloseTo(Math.log2(10.5 / 2.5) - 3.3 / Math.sqrt(10.5) - 2 / 10.5 ** 1.5, 12);
    // Shrinkage: 2 against 0.2 is a raw ratio of 10, but the credible lower bound is below 0.
    expect(informationComponent(2, 0.2).ic025).toBeLessThan(0);
    expect(informationComponent(5, 5).ic).toBeCloseTo(0, 12);
    expect(expectedA({ a: 6, b: 4, c: 100, d: 900 })).toBeCloseTo((10 * 106) / 1010, 12);
  });

  it('gives the same IC025 and expectation from the margins alone as from the table (the rules\' pre-checks)', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 1000; i++) {
      const [a, b, c, d] = [0, 0, 0, 0].map(() => Math.floor(random() * (random() < 0.3 ? 5 : 5000)));
      const table = { a: a!, b: b!, c: c!, d: d! };
      const expected = expectedA(table);
      expect(expectedOfTotals(a! + b!, a! + c!, a! + b! + c! + d!)).toBe(expected);
      expect(ic025Of(a!, expected)).toBe(informationComponent(a!, expected).ic025);
    }
  });

  it('accumulates as the textbook CUSUM does, σ from cusumSd, for counts past its lookup table and over-dispersed ones', () => {
    // The CUSUM as its doc states it, one week at a time, with no table and no shortcut.
    const reference = (weekly: number[], p: CusumParameters) => {
      let s = 0;
      let alarmAt = Number.NEGATIVE_INFINITY;
      let last = { s: 0, expected: 0, sd: p.sdFloor };
      for (let i = Math.max(0, weekly.length - p.spanWeeks); i < weekly.length; i++) {
        const baseline = weekly.slice(Math.max(0, i - p.baselineWeeks), i).reduce((x, y) => x + y, 0);
        const mu = baseline / p.baselineWeeks;
        const sd = cusumSd(mu, p);
        s = Math.max(0, s + (weekly[i]! - mu) / sd - p.k);
        last = { s, expected: mu, sd };
        if (s > p.h) {
          alarmAt = i;
          s = 0;
        }
      }
      return { ...last, weeksSinceAlarm: weekly.length - 1 - alarmAt };
    };
    const random = mulberry32(11);
    for (const dispersion of [0, 0.3]) {
      const p = { baselineWeeks: 26, spanWeeks: 52, k: 0.5, h: 3, sdFloor: 0.5, dispersion };
      for (let i = 0; i < 200; i++) {
        // Busy keys (a baseline of thousands of reports: outside the table) and quiet ones, with a surge now and then.
        const rate = random() < 0.5 ? 40 + random() * 200 : random() * 3;
        const weekly = Array.from({ length: 78 }, (_, w) => Math.round(rate * (0.5 + random()) * (w > 70 && random() < 0.3 ? 3 : 1)));
        const got = cusum(weekly, p);
        const want = reference(weekly, p);
        expect(got.s).toBeCloseTo(want.s, 9);
        expect(got.expected).toBeCloseTo(want.expected, 9);
        expect(got.sd).toBeCloseTo(want.sd, 9);
        expect(got.weeksSinceAlarm).toBe(want.weeksSinceAlarm);
      }
    }
  });

  it('accumulates weekly excess with CUSUM and resets on alarm', () => {
    const p = { baselineWeeks: 2, spanWeeks: 4, k: 0.5, h: 3, sdFloor: 0.5, withinWeeks: 1 };
    // Weeks (oldest first): baseline 0, 0; then 1, 2, 0, 0.
    // week 3: μ = 0, σ = 0.5: S = (1 − 0)/0.5 − 0.5 = 1.5
    // week 4: μ = (0 + 1)/2 = 0.5, σ = max(√0.5, 0.5) = 0.7071: S = 1.5 + 1.5/0.7071 − 0.5 = 3.1213 > 3: alarm, reset
    // week 5: μ = 1.5, σ = 1.2247: S = max(0, 0 − 1.2247 − 0.5) = 0
    // week 6: μ = 1: S = 0
    const series = [0, 0, 1, 2, 0, 0];
    const last = cusum(series, p);
    expect(last).toMatchObject({ fired: false, s: 0, weeksSinceAlarm: 2, alarmRunCount: 3 });
    const atAlarm = cusum(series.slice(0, 4), p);
    expect(atAlarm.fired).toBe(true);
    expect(atAlarm.s).toBeCloseTo(1.5 + 1.5 / Math.SQRT1_2 - 0.5, 10);
    expect(atAlarm).toMatchObject({ weeksSinceAlarm: 0, count: 2, expected: 0.5, runWeeks: 2, runCount: 3 });
    // A steady key never accumulates: every week as expected.
    expect(cusum([2, 2, 2, 2, 2, 2], p)).toMatchObject({ fired: false, s: 0, weeksSinceAlarm: Number.POSITIVE_INFINITY });
  });

  it('says the trend passed h this week exactly when the whole CUSUM over its weeks does, shortcuts or not', () => {
    const random = mulberry32(17);
    const trigger = DEFAULT_DETECTION_CONFIG.slowBurn.trigger!;
    const settings = [trigger, DEFAULT_DETECTION_CONFIG.familyBurn.cusum, { ...trigger, dispersion: 0.4, k: 0.25, h: 2 }, { ...trigger, spanWeeks: 3 }];
    let fired = 0;
    let quiet = 0;
    for (let n = 0; n < 4000; n++) {
      const c = settings[n % settings.length]!;
      // Reports per day ending today: sparse, steady or busy, sometimes with a recent burst or a quiet spell.
      const rate = [0.02, 0.05, 0.3, 2, 40][n % 5]!;
      const days = Array.from({ length: 7 * (c.baselineWeeks + c.spanWeeks) }, (_, ago) => {
        const burst = n % 3 === 0 && ago < 7 * (1 + (n % 4)) ? 3 * rate + 0.3 : n % 3 === 1 && ago < 21 ? -rate : 0;
        return Math.max(0, Math.floor(random() * 2 * (rate + burst) + (ago === 0 ? 1 : 0) * Number(random() < 0.8)));
      });
      const reader = { total: (_key: string, windowDays: number) => days.slice(0, windowDays).reduce((a, b) => a + b, 0) };
      const whole = cusum(weeklyCounts((w) => reader.total('k', w), c.baselineWeeks + c.spanWeeks), c);
      const trend = trendOf(reader, 'k', c);
      expect(trend.weeksSinceAlarm < c.withinWeeks, `case ${n}`).toBe(whole.weeksSinceAlarm < c.withinWeeks);
      if (whole.weeksSinceAlarm < c.withinWeeks) {
        fired++;
        expect(trend).toEqual(whole);
      } else quiet++;
    }
    expect(fired).toBeGreaterThan(200);
    expect(quiet).toBeGreaterThan(200);
  });

  it('turns window totals into weekly counts, oldest first', () => {
    // Reports on days 0 (today), 3, 8 and 20 days ago.
    const daysAgo = [0, 3, 8, 20];
    const total = (w: number) => daysAgo.filter((d) => d < w).length;
    expect(weeklyCounts(total, 4)).toEqual([0, 1, 1, 2]);
  });
});

describe('product families', () => {
  it('takes a trailing year or pack size off the SKU, and gives no family otherwise', () => {
    const f = (sku: string) => familyOf(DEFAULT_DETECTION_CONFIG, sku);
    expect(f('FORD EXPLORER 2017')).toBe('FORD EXPLORER');
    expect(f('TESLA MODEL 3 2018')).toBe('TESLA MODEL 3');
    expect(f('FORD F-150 2020')).toBe('FORD F-150');
    expect(f('CHOC-100-200G')).toBe('CHOC-100');
    expect(f('CHOC-100-1KG')).toBe('CHOC-100');
    expect(f('MILK 1.5 L')).toBe('MILK');
    expect(f('SKU-0042')).toBeUndefined();
    expect(f('BG-12')).toBeUndefined();
  });

  it('counts a family key only when the SKU has a family, under a configurable pattern', () => {
    const o = complaint(new Date('2026-03-01T10:00:00Z'), { sku: 'CHOC-100-200G' });
    expect(counterKeys(o)).toContain('family|CHOC-100|foreign_matter');
    expect(counterKeys({ ...o, sku: 'SKU-0042' }).some((k) => k.startsWith('family|'))).toBe(false);
    const byPrefix = detectionConfigFrom({ familyBurn: { skuPattern: '^([A-Z]+)-' } });
    expect(counterKeys({ ...o, sku: 'SKU-0042' }, byPrefix)).toContain('family|SKU|foreign_matter');
    expect(counterKeys(o, detectionConfigFrom({ familyBurn: { enabled: false } })).some((k) => k.startsWith('family|'))).toBe(false);
  });

  it('rejects a pattern that is not a regular expression with a capture group', () => {
    expect(() => detectionConfigFrom({ familyBurn: { skuPattern: '(' } })).toThrow();
    expect(() => detectionConfigFrom({ familyBurn: { skuPattern: '^CHOC' } })).toThrow();
    expect(detectionConfigFrom({ familyBurn: { minCount: 7 } }).familyBurn).toMatchObject({ minCount: 7, windowDays: 90, enabled: true });
    // Nested settings merge over their defaults; null switches an optional part off.
    const c = detectionConfigFrom({ slowBurn: { trigger: { h: 4 }, emerging: null }, familyBurn: { cusum: { dispersion: 0.2 } } });
    expect(c.slowBurn.trigger).toEqual({ ...DEFAULT_DETECTION_CONFIG.slowBurn.trigger, h: 4 });
    expect(c.slowBurn.emerging).toBeNull();
    expect(c.familyBurn.cusum).toEqual({ ...DEFAULT_DETECTION_CONFIG.familyBurn.cusum, dispersion: 0.2 });
    expect(() => detectionConfigFrom({ slowBurn: { trigger: { h: -1 } } })).toThrow();
  });

  it('reads two years back at most', () => {
    expect(longestWindow(DEFAULT_DETECTION_CONFIG, 'foreign_matter')).toBe(730);
  });
});

describe('family burn', () => {
  const start = new Date('2025-01-06T00:00:00Z');
  // Three pack sizes of one recipe start drawing foreign-matter reports together after 30
  // quiet weeks: two a week each for five weeks; a fourth size draws only two in all.
  const family = () => {
    const out: Observation[] = [];
    for (const sku of ['CHOC-100-200G', 'CHOC-100-500G', 'CHOC-100-1KG']) {
      for (let week = 30; week < 35; week++) for (const d of [1, 4]) out.push(complaint(new Date(start.getTime() + (week * 7 + d) * DAY + 3600_000), { sku, lot: `${sku}-L${week}` }));
    }
    for (const week of [31, 33]) out.push(complaint(new Date(start.getTime() + (week * 7 + 2) * DAY), { sku: 'CHOC-100-2KG', lot: `2KG-L${week}` }));
    return out;
  };

  it('signals on a product whose family accumulates reports of a defect, with the pooled evidence', async () => {
    const signals = await feed([...background(start, 250), ...family()]);
    const fam = signals.filter((s) => s.rule === 'family-burn');
    expect(fam.length).toBeGreaterThan(0);
    expect(new Set(fam.map((s) => s.key.kind))).toEqual(new Set(['product']));
    const first = fam[0]!;
    expect(first.evidence).toMatchObject({ family: 'CHOC-100', familyKey: 'family|CHOC-100|foreign_matter', statistic: 'cusum-weekly', windowDays: 90, minCount: 5, familyThreshold: 4, minProductIc: 0 });
    expect(Number(first.evidence.count)).toBeGreaterThanOrEqual(5);
    expect(Number(first.evidence.familyCount)).toBeGreaterThan(Number(first.evidence.count));
    expect(Number(first.evidence.familyCusum)).toBeGreaterThan(4);
    expect(Number(first.evidence.productIc)).toBeGreaterThan(0);
    expect(String(first.evidence.explanation)).toMatch(/^reports of foreign_matter across the CHOC-100 family rose above its trend: \d+ in the last \d+ week\(s\) added up to [\d.]+ standard deviations above the weekly expectation \(signal above 4\); this product has \d+ of the family's \d+ in the last 90 days \(at least 5\)/);
    // The size with two reports is not signalled on: the family's rise does not show in it.
    expect(fam.filter((s) => s.key.sku === 'CHOC-100-2KG')).toEqual([]);
    // No background product (no family, shares alike) is signalled by any trend rule.
    expect(signals.filter((s) => s.key.sku?.startsWith('BG-') && s.rule !== 'lot-burst')).toEqual([]);
  });

  it('is silent when switched off', async () => {
    const signals = await feed([...background(start, 250), ...family()], detectionConfigFrom({ familyBurn: { enabled: false } }));
    expect(signals.filter((s) => s.rule === 'family-burn')).toEqual([]);
  });

  // A fifth size draws its reports after the family's rise has passed: two a week in weeks
  // 35 to 37, too few to move the family's trend, but its share of a defect the rule just
  // found on its siblings. A sixth draws as many, but from week 45: too long after.
  const lateSizes = () =>
    ['CHOC-100-750G', 'CHOC-100-900G'].flatMap((sku, i) => {
      const out: Observation[] = [];
      for (let week = 35 + 10 * i; week < 38 + 10 * i; week++) for (const d of [1, 4]) out.push(complaint(new Date(start.getTime() + (week * 7 + d) * DAY + 3600_000), { sku, lot: `${sku}-L${week}-${d}` }));
      return out;
    });

  it("reaches a sibling with its share of the defect within siblingDays of the rule's last firing, once per firing", async () => {
    const store = new MemoryCounterStore();
    const signals: Signal[] = [];
    const all = [...background(start, 250), ...family(), ...lateSizes()].sort((a, b) => a.at.localeCompare(b.at));
    for (const o of all) signals.push(...(await observe(o, store, DEFAULT_DETECTION_CONFIG)).signals);
    const own = signals.filter((s) => s.rule === 'family-burn' && s.evidence.statistic === 'cusum-weekly');
    const lastOwn = own[own.length - 1]!;
    const sibling = signals.filter((s) => s.evidence.statistic === 'family-sibling' && ['CHOC-100-750G', 'CHOC-100-900G'].includes(s.key.sku!));
    // Of the late sizes only the one inside the window, from its fifth report on (minCount 5 in 90 days).
    expect(new Set(sibling.map((s) => s.key.sku))).toEqual(new Set(['CHOC-100-750G']));
    expect(signals.filter((s) => s.key.sku === 'CHOC-100-900G')).toEqual([]);
    const fifth = all.filter((o) => o.sku === 'CHOC-100-750G')[4]!;
    expect(sibling[0]).toMatchObject({ rule: 'family-burn', reportId: fifth.reportId, key: { kind: 'product', id: 'product|CHOC-100-750G|foreign_matter' } });
    expect(sibling[0]!.evidence).toMatchObject({ family: 'CHOC-100', statistic: 'family-sibling', siblingDays: 56, count: 5, minCount: 5, windowDays: 90 });
    expect(Date.parse(sibling[0]!.at) - Date.parse(lastOwn.at)).toBeLessThanOrEqual(56 * DAY);
    expect(String(sibling[0]!.evidence.explanation)).toMatch(/^the family rule fired on other products \(\d+ times\) of the CHOC-100 family for foreign_matter in the last 56 days, and this product has 5 reports of it in the last 90 days \(at least 5\)/);
    // Each own firing is counted once on the family (a sibling's signal is not a firing),
    // and a redelivered report that fired counts nothing more.
    const alarms = () => store.readerAt(Math.floor(Date.parse(all[all.length - 1]!.at) / DAY)).total('alarm|family|CHOC-100|foreign_matter', 800);
    expect(alarms()).toBe(own.length);
    const redelivered = all.find((o) => o.reportId === lastOwn.reportId)!;
    expect((await observe(redelivered, store, DEFAULT_DETECTION_CONFIG)).signals.some((s) => s.evidence.statistic === 'cusum-weekly')).toBe(true);
    expect(alarms()).toBe(own.length);
    // Off with siblingDays 0.
    expect((await feed(all, detectionConfigFrom({ familyBurn: { siblingDays: 0 } }))).filter((s) => s.evidence.statistic === 'family-sibling')).toEqual([]);
  });
});

describe('slow burn through the product trend', () => {
  const start = new Date('2025-01-06T00:00:00Z');
  const trendOnly = detectionConfigFrom({ slowBurn: { emerging: null } });

  it('signals when the product accumulates reports of a defect it is credibly over-represented in, with both statistics', async () => {
    // SKU-RISE: quiet for 30 weeks, then three foreign-matter reports a week for four weeks.
    const rise: Observation[] = [];
    for (let week = 30; week < 34; week++) for (const d of [0, 2, 4]) rise.push(complaint(new Date(start.getTime() + (week * 7 + d) * DAY + 7200_000), { sku: 'SKU-RISE', lot: `RISE-L${week}-${d}` }));
    const signals = await feed([...background(start, 240), ...rise], trendOnly);
    const slow = signals.filter((s) => s.rule === 'slow-burn' && s.key.sku === 'SKU-RISE');
    expect(slow.length).toBeGreaterThan(0);
    const e = slow[0]!.evidence;
    expect(e).toMatchObject({ statistic: 'ic025', windowDays: 730, minIc025: 0.5, trendStatistic: 'cusum-weekly', trendThreshold: 3, trendWeeksSinceAlarm: 0 });
    expect(Number(e.trendCusum)).toBeGreaterThan(3);
    expect(Number(e.ic025)).toBeGreaterThan(0.5);
    expect(Number(e.a)).toBeGreaterThan(Number(e.expected));
    expect(Number(e.count)).toBeGreaterThanOrEqual(3);
    expect(String(e.explanation)).toContain('reports of foreign_matter on this product rose above its own trend');
    expect(String(e.explanation)).toContain(`over 730 days it drew ${e.a} reports of foreign_matter where its volume predicts ${Number(Number(e.expected).toFixed(2))}`);
  });

  it('does not signal when the product rises in every defect alike (more sales, not a defect)', async () => {
    const categories = ['off_taste_odour', 'packaging_failure', 'container_damage', 'foreign_matter', 'other'];
    const busy: Observation[] = [];
    for (let week = 30; week < 34; week++) for (const c of categories) for (const d of [0, 3]) busy.push(complaint(new Date(start.getTime() + (week * 7 + d) * DAY + 7200_000), { sku: 'SKU-BUSY', lot: `BUSY-L${week}-${c}-${d}`, category: c }));
    const signals = await feed([...background(start, 240), ...busy], trendOnly);
    expect(signals.filter((s) => s.rule === 'slow-burn')).toEqual([]);
  });
});

describe('lot burst on keys that carry no lot', () => {
  it('leaves a lot that is its own product (a source without lots) to the product rules', async () => {
    const at = (h: number) => new Date(Date.UTC(2026, 2, 1, h));
    const noLots = [0, 1, 2, 3].map((h) => complaint(at(h), { sku: 'CAR 2020', lot: 'CAR 2020' }));
    expect((await feed(noLots)).filter((s) => s.rule === 'lot-burst')).toEqual([]);
    const withLots = [0, 1, 2, 3].map((h) => complaint(at(h), { sku: 'CAR 2020', lot: 'L-77' }));
    expect(new Set((await feed(withLots)).filter((s) => s.rule === 'lot-burst').map((s) => s.key.kind))).toEqual(new Set(['lot']));
    // A deployment may judge product keys over the burst windows too.
    const products = detectionConfigFrom({ lotBurst: { kinds: ['lot', 'product'] } });
    expect(new Set((await feed(noLots, products)).filter((s) => s.rule === 'lot-burst').map((s) => s.key.kind))).toEqual(new Set(['product']));
  });
});
