import { describe, expect, it } from 'vitest';
import { MemoryCounterStore, type LotCounter } from '../../../shared/detection/memory-store.js';
import { cusum, weeklyCounts } from '../../../shared/detection/statistics.js';
import { mulberry32 } from '../../../shared/platform/random.js';

describe('the in-memory counter store', () => {
  it('totals a key over windows, whether it was seen on one day or many', async () => {
    const store = new MemoryCounterStore();
    // One day only (held packed), then a second report on that day, then a later day.
    expect(store.countSync('r1', ['k'], 100)).toBe(true);
    expect(store.readerAt(100).total('k', 1)).toBe(1);
    store.countSync('r2', ['k'], 100);
    expect(store.readerAt(100).total('k', 1)).toBe(2);
    expect(store.readerAt(101).total('k', 1)).toBe(0);
    expect(store.readerAt(101).total('k', 2)).toBe(2);
    store.countSync('r3', ['k'], 105);
    const reader = await store.read(['k'], 105, 30);
    expect([reader.total('k', 1), reader.total('k', 5), reader.total('k', 6), reader.total('k', 30)]).toEqual([1, 1, 3, 3]);
    // An out-of-order day is inserted in place.
    store.countSync('r4', ['k'], 102);
    expect([store.readerAt(105).total('k', 4), store.readerAt(105).total('k', 6)]).toEqual([2, 4]);
    expect(store.readerAt(99).total('k', 30)).toBe(0);
  });

  it('totals every window and week over a random history as counting the reports one by one does (dense, sparse and late days)', () => {
    const random = mulberry32(7);
    for (let round = 0; round < 20; round++) {
      // Kept long enough that nothing is pruned (pruning has its own tests): every day stays readable.
      const store = new MemoryCounterStore(100_000);
      const days: number[] = [];
      // Busy stretches, long gaps and now and then a report dated a few days late.
      let day = Math.floor(random() * 50);
      for (let i = 0; i < 300; i++) {
        day += random() < 0.1 ? Math.floor(random() * 60) : random() < 0.5 ? 0 : 1 + Math.floor(random() * 3);
        const at = random() < 0.05 ? Math.max(0, day - Math.floor(random() * 5)) : day;
        store.countSync(`r${round}-${i}`, ['k'], at);
        days.push(at);
      }
      for (const on of [day, day - 1, day - 17, day - 200, day + 40, Math.floor(day / 2)]) {
        const reader = store.readerAt(on);
        for (const w of [1, 2, 7, 30, 90, 365, 730]) {
          expect(reader.total('k', w)).toBe(days.filter((d) => d <= on && d > on - w).length);
        }
        // And the weeks the CUSUM reads, each the reports of its seven days.
        expect(reader.weekly('k', 78)).toEqual(Array.from({ length: 78 }, (_, j) => days.filter((d) => d <= on - 7 * (77 - j) && d > on - 7 * (78 - j)).length));
      }
    }
  });

  it('counts a report once however often it is delivered', () => {
    const store = new MemoryCounterStore();
    expect(store.countSync('r1', ['a', 'b'], 10)).toBe(true);
    expect(store.countSync('r1', ['a', 'b'], 10)).toBe(false);
    expect(store.readerAt(10).total('a', 1)).toBe(1);
    expect(store.readerAt(10).total('b', 1)).toBe(1);
  });

  it('gives the same weekly series as window totals do, for keys seen once and often', () => {
    const store = new MemoryCounterStore();
    let id = 0;
    for (let day = 0; day < 400; day++) {
      if (day % 3 === 0) store.countSync(`a${id++}`, ['busy'], day);
      if (day % 11 === 0) store.countSync(`b${id++}`, ['busy'], day);
    }
    store.countSync(`c${id++}`, ['once'], 390);
    for (const day of [390, 399, 450]) {
      const reader = store.readerAt(day);
      for (const key of ['busy', 'once', 'never']) {
        const expected = weeklyCounts((w) => reader.total(key, w), 78);
        expect(reader.weekly(key, 78)).toEqual(expected);
        const scratch = [9, 9, 9];
        expect(reader.weekly(key, 78, scratch)).toEqual(expected);
        expect(cusum(reader.weekly(key, 78), { baselineWeeks: 26, spanWeeks: 52, k: 0.5, h: 3, sdFloor: 0.5 })).toEqual(
          cusum(expected, { baselineWeeks: 26, spanWeeks: 52, k: 0.5, h: 3, sdFloor: 0.5 }),
        );
      }
    }
  });

  it('holds only what its retention needs: old days, quiet keys and old report ids are forgotten', () => {
    const store = new MemoryCounterStore(100);
    store.countSync('old', ['lot|A', 'product|P'], 0);
    for (let day = 1; day <= 300; day++) store.countSync(`r${day}`, ['product|P'], day);
    // The lot quiet for 300 days is gone; the product keeps its recent days.
    expect(store.size).toBe(1);
    expect(store.readerAt(300).total('product|P', 100)).toBe(100);
    expect(store.readerAt(300).total('lot|A', 1000)).toBe(0);
    // Ids are remembered for the retention only: bounded by the days, not by the history.
    expect(store.rememberedIds).toBeLessThanOrEqual(102);
    expect(store.countSync('r300', ['product|P'], 300)).toBe(false);
  });

  it('keeps a busy key\'s windows whole when a report comes in dated before its first day, or long after its last', () => {
    const store = new MemoryCounterStore(100);
    let id = 0;
    // A report every day from day 200.
    for (let day = 200; day < 260; day++) store.countSync(`r${id++}`, ['product|X'], day);
    store.countSync(`r${id++}`, ['product|X'], 190);
    expect(store.readerAt(259).total('product|X', 70)).toBe(61);
    expect(store.readerAt(259).total('product|X', 60)).toBe(60);
    expect(store.readerAt(259).weekly('product|X', 10)).toEqual([1, 4, 7, 7, 7, 7, 7, 7, 7, 7]);
    // Older than the retention before its last report: outside every window, and no window moves.
    store.countSync(`r${id++}`, ['product|X'], 100);
    expect(store.readerAt(259).total('product|X', 70)).toBe(61);
    // 400 days on: the days older than the retention are let go, the windows within it are whole.
    for (let day = 400; day < 600; day += 2) store.countSync(`r${id++}`, ['product|X'], day);
    expect(store.readerAt(599).total('product|X', 100)).toBe(50);
    expect(store.readerAt(599).total('product|X', 7)).toBe(3);
    expect(store.readerAt(700).total('product|X', 100)).toBe(0);
  });

  it('counts a group of keys through its handles, and a lot the caller keeps, as countSync counts them: keys shared between groups, sweeps, a key swept and back, busy days', () => {
    // Two products' groups share the totals' key, as every product's group does.
    const a = { keys: ['product|A', 'total|all'] };
    const b = { keys: ['product|B', 'total|all'] };
    const viaGroups = new MemoryCounterStore(100, { lotRetainDays: 30 });
    const viaKeys = new MemoryCounterStore(100, { lotRetainDays: 30 });
    // The lots' counters, kept by the caller as a backtest keeps them (one per lot key).
    const lots = new Map<string, LotCounter>();
    const random = mulberry32(3);
    let id = 0;
    for (let day = 0; day < 700; day += random() < 0.7 ? 1 : 9) {
      // Days 400–550: only product A, so that B is swept (quiet longer than the retention) and then comes back.
      const quietB = day >= 400 && day < 550;
      for (let n = Math.floor(random() * 4); n > 0; n--) {
        const group = quietB || random() < 0.6 ? a : b;
        const lot = random() < 0.5 ? `lot|${group.keys[0]}|L${day % 7}` : undefined;
        const at = day - (random() < 0.1 ? Math.floor(random() * 20) : 0);
        if (lot && !lots.has(lot)) lots.set(lot, { key: lot, held: undefined });
        viaGroups.countReplayedSync(lot ? lots.get(lot) : undefined, group, at);
        viaKeys.countSync(`r${id++}`, lot ? [lot, ...group.keys] : group.keys, at);
      }
      for (const key of ['product|A', 'product|B', 'total|all']) {
        for (const w of [1, 7, 30, 90]) expect(viaGroups.readerAt(day).total(key, w), `${key} ${w}d on day ${day}`).toBe(viaKeys.readerAt(day).total(key, w));
      }
      // A lot's windows, read right after it was counted (as the rules read it).
      const lot = `lot|product|A|L${day % 7}`;
      if (!lots.has(lot)) lots.set(lot, { key: lot, held: undefined });
      viaGroups.countReplayedSync(lots.get(lot), { keys: [] }, day);
      viaKeys.countSync(`r${id++}`, [lot], day);
      for (const w of [1, 7, 30]) expect(viaGroups.readerAt(day).total(lot, w), `${lot} ${w}d on day ${day}`).toBe(viaKeys.readerAt(day).total(lot, w));
    }
    expect(viaKeys.readerAt(549).total('product|B', 100)).toBe(0);
    expect(viaGroups.readerAt(699).total('product|B', 90)).toBeGreaterThan(10);
    expect(viaGroups.readerAt(699).total('total|all', 90)).toBeGreaterThan(20);
  });

  it('keeps lot keys only for the lots\' retention, and everything the windows read within it', () => {
    const store = new MemoryCounterStore(800, { lotRetainDays: 98 });
    store.countSync('a', ['lot|P|L1|x', 'product|P|x'], 0);
    store.countSync('b', ['lot|P|L1|x', 'product|P|x'], 90);
    for (let day = 91; day <= 300; day++) store.countSync(`r${day}`, ['product|P|x'], day);
    // Quiet for 210 days, the lot is gone; the product keeps its 730 days of history.
    expect(store.readerAt(300).total('lot|P|L1|x', 1000)).toBe(0);
    expect(store.readerAt(300).total('product|P|x', 730)).toBe(212);
    // Within the lots' retention, a lot's windows are whole.
    const recent = new MemoryCounterStore(800, { lotRetainDays: 98 });
    for (let day = 0; day <= 97; day++) recent.countSync(`r${day}`, ['lot|P|L2|x'], day);
    expect(recent.readerAt(97).total('lot|P|L2|x', 98)).toBe(98);
  });
});

describe('memory counter store against a plain reference', () => {
  // Quiet keys (reports on a few days) and busy ones (a report most days), each with reports
  // days late; busy keys start one after another, so that a report can come in dated before
  // a busy key's first day.
  it.each([
    { keys: 'quiet', newDay: 0.1, seeds: 40, staggered: 0, lateness: 0.5 },
    { keys: 'busy', newDay: 0.6, seeds: 25, staggered: 150, lateness: 1 },
  ])('gives the totals and weekly series of a list of every count, with days out of order, within its retention ($keys keys)', ({ newDay, seeds, staggered, lateness }) => {
    for (let seed = 1; seed <= seeds; seed++) {
      const random = mulberry32(seed);
      const retain = 30 + Math.floor(random() * 100);
      const store = new MemoryCounterStore(retain, { lotRetainDays: Math.floor(retain / 2) });
      // The reference keeps every count: key → days counted (one entry per report).
      const reference = new Map<string, number[]>();
      const keys = ['lot|A', 'lot|B', 'product|A', 'product|B', 'plant|P', 'total|all'];
      let day = Math.floor(random() * 40) - 20;
      let newest = Number.NEGATIVE_INFINITY;
      let n = 0;
      for (let step = 0; step < 1500; step++) {
        if (random() < newDay) day += Math.floor(random() * (random() < 0.05 ? 60 : 4));
        // Now and then a report dated days back (out of order): within the lots' retention, or
        // up to the whole retention (read back only as far as each key's retention keeps).
        const at = random() < 0.15 ? day - Math.floor(random() * Math.floor(retain * lateness)) : day;
        const chosen = keys.filter((_, i) => random() < 0.5 && step >= i * staggered);
        const id = random() < 0.1 && n > 0 ? `r${n - 1}` : `r${n++}`;
        const counted = store.countSync(id, chosen, at);
        if (counted) for (const k of chosen) (reference.get(k) ?? reference.set(k, []).get(k)!).push(at);
        newest = Math.max(newest, at);
        // Reads of windows the retention keeps (lots: half of it).
        const key = keys[Math.floor(random() * keys.length)]!;
        const keep = key.startsWith('lot|') ? Math.floor(retain / 2) : retain;
        const readAt = newest - Math.floor(random() * 5);
        const w = 1 + Math.floor(random() * (keep - 6));
        const expected = (reference.get(key) ?? []).filter((d) => d <= readAt && d > readAt - w).length;
        expect(store.readerAt(readAt).total(key, w), `seed ${seed} step ${step} ${key} ${w}d at ${readAt}`).toBe(expected);
        const weeks = Math.max(1, Math.floor((keep - 6) / 7));
        const series = store.readerAt(readAt).weekly(key, weeks);
        const want = Array.from({ length: weeks }, (_, i) =>
          (reference.get(key) ?? []).filter((d) => d <= readAt - 7 * (weeks - 1 - i) && d > readAt - 7 * (weeks - i)).length,
        );
        expect(series, `seed ${seed} step ${step} weekly ${key}`).toEqual(want);
      }
    }
  });
});
