import { describe, expect, it } from 'vitest';
import { hashOf, IdSet } from '../../../shared/detection/id-set.js';
import { mulberry32 } from '../../../shared/platform/random.js';

describe('the set of counted report ids', () => {
  it('answers exactly like a Set of the ids of the last days, through every rebuild', () => {
    const ids = new IdSet(16);
    const counted = new Map<string, number>(); // id → day it was counted
    const random = mulberry32(7);
    let day = 0;
    for (let n = 0; n < 50_000; n++) {
      if (random() < 0.01) {
        day += 1;
        ids.forgetBefore(day - 20);
        for (const [id, d] of counted) if (d < day - 20) counted.delete(id);
      }
      // Ids drawn from a range, so that many are repeats, some of them forgotten.
      const id = `r-${Math.floor(random() * 40_000)}`;
      expect(ids.add(id, day)).toBe(!counted.has(id));
      if (!counted.has(id)) counted.set(id, day);
      expect(ids.has(id)).toBe(true);
    }
    expect(ids.size).toBe(counted.size);
  });

  it('tells apart ids whose fingerprints and slots are the same', () => {
    // Every id hashes alike: each lookup walks the whole run and compares the ids themselves.
    const ids = new IdSet(16, () => ({ fingerprint: 42, slot: 3 }));
    const all = Array.from({ length: 300 }, (_, i) => `id-${i}`);
    for (const id of all) expect(ids.add(id, 1)).toBe(true);
    for (const id of all) expect(ids.add(id, 1)).toBe(false);
    expect(ids.has('id-300')).toBe(false);
    ids.forgetBefore(2);
    expect(ids.add('id-7', 2)).toBe(true);
    expect(ids.size).toBe(1);
  });

  it('keeps an id with each number it is given apart (a backtest\'s id in two categories), and ids of any length and script', () => {
    const ids = new IdSet(16);
    const long = 'x'.repeat(5000);
    for (const id of ['', 'a', '日本語', long]) {
      expect(ids.add(id, 1, 0)).toBe(true);
      expect(ids.add(id, 1, 7)).toBe(true);
      expect(ids.add(id, 1, 7)).toBe(false);
      expect(ids.has(id, 3)).toBe(false);
    }
    expect(ids.has(long.slice(1), 0)).toBe(false);
    expect(ids.size).toBe(8);
  });

  it('hashes every id to a fingerprint that is never 0 (0 marks an empty slot)', () => {
    for (const id of ['', 'a', 'r-1', 'x'.repeat(100), '日本語']) expect(hashOf(id).fingerprint).toBeGreaterThan(0);
  });

  it('forgets ids counted before the horizon, and reuses their slots', () => {
    const ids = new IdSet(16);
    for (let day = 0; day < 1000; day++) {
      expect(ids.add(`d${day}-a`, day)).toBe(true);
      expect(ids.add(`d${day}-b`, day)).toBe(true);
      ids.forgetBefore(day - 9);
      // Ten days remembered, two ids a day: bounded by the days, not by the history.
      expect(ids.size).toBeLessThanOrEqual(20);
    }
    expect(ids.add('d995-a', 999)).toBe(false); // within the horizon
    expect(ids.add('d100-a', 999)).toBe(true); // forgotten: counted again
    // 2,000 ids added, 20 remembered: the table and the characters kept are sized by the remembered ones.
    expect(ids.capacity).toBeLessThanOrEqual(128);
    expect(ids.characters).toBeLessThanOrEqual(1024);
  });

  it('keeps an id given out of order under the latest day: forgotten later, never sooner', () => {
    const ids = new IdSet();
    ids.add('late', 50);
    ids.add('early', 10);
    ids.forgetBefore(40);
    expect(ids.size).toBe(2);
    expect(ids.add('early', 50)).toBe(false);
    ids.forgetBefore(51);
    expect(ids.size).toBe(0);
    expect(ids.add('early', 51)).toBe(true);
  });

  it('keeps an id given a day before the horizon until the horizon moves past it, and refuses days that are not whole', () => {
    const ids = new IdSet();
    ids.add('a', 10);
    ids.forgetBefore(20);
    expect(ids.add('b', 5)).toBe(true);
    expect(ids.add('b', 5)).toBe(false);
    expect(ids.size).toBe(1);
    ids.forgetBefore(21);
    expect(ids.size).toBe(0);
    expect(() => ids.add('c', Number.NaN)).toThrow(RangeError);
    expect(() => ids.add('c', 1.5)).toThrow(RangeError);
  });

  it('finds an id cut out of a longer text by its value', () => {
    const ids = new IdSet();
    const buffer = 'x'.repeat(10_000) + 'report-0123456789';
    const id = buffer.slice(10_000);
    expect(ids.add(id, 0)).toBe(true);
    expect(ids.add('report-0123456789', 0)).toBe(false);
  });
});
