import { describe, expect, it } from 'vitest';
import { IdSet } from '../../../shared/detection/id-set.js';
import { mulberry32 } from '../../../shared/platform/random.js';

describe('the set of counted report ids', () => {
  it('answers exactly like a Set over many ids, through every rebuild', () => {
    const ids = new IdSet(16);
    const reference = new Set<string>();
    const random = mulberry32(7);
    for (let n = 0; n < 50_000; n++) {
      // Ids drawn from a range, so that about a third are repeats.
      const id = `r-${Math.floor(random() * 75_000)}`;
      expect(ids.add(id, 0)).toBe(!reference.has(id));
      reference.add(id);
    }
    expect(ids.size).toBe(reference.size);
  });

  it('tells apart ids that share their slot (a table of 16 holds 10 before it grows)', () => {
    const ids = new IdSet(16);
    const all = Array.from({ length: 200 }, (_, i) => String.fromCharCode(65 + (i % 26)) + i);
    for (const id of all) expect(ids.add(id, 1)).toBe(true);
    for (const id of all) expect(ids.add(id, 1)).toBe(false);
    expect(ids.add('', 1)).toBe(true);
    expect(ids.add('', 1)).toBe(false);
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

  it('finds an id cut out of a longer text by its value', () => {
    const ids = new IdSet();
    const buffer = 'x'.repeat(10_000) + 'report-0123456789';
    const id = buffer.slice(10_000);
    expect(ids.add(id, 0)).toBe(true);
    expect(ids.add('report-0123456789', 0)).toBe(false);
  });
});
