import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoCounterStore, TOTALS_CACHE_MS } from '../../../shared/detection/dynamo-store.js';
import { dayOf } from '../../../shared/detection/keys.js';

/**
 * The DynamoDB counters on DynamoDB Local: window totals summed over shards, each report
 * counted once, and the totals' settled days served from memory (see dynamo-store.ts).
 */
const NOW = Date.UTC(2026, 5, 15, 12);
const today = dayOf(NOW);

function store(clock: { now: number }) {
  return new DynamoCounterStore(process.env.TABLE_NAME!, () => clock.now);
}

describe('the DynamoDB counter store', () => {
  it('totals a window over every shard and counts a report once', async () => {
    const clock = { now: NOW };
    const counters = store(clock);
    const key = `total|category|t-${randomUUID()}`;
    const cluster = `product|P-${randomUUID()}|x`;
    // Report ids chosen to land on different shards.
    for (const [i, day] of [today, today, today - 3, today - 40].entries()) {
      expect(await counters.count(`r-${i}-${'abcdefgh'[i]}`, [key, cluster], day)).toBe(true);
    }
    expect(await counters.count('r-0-a', [key, cluster], today)).toBe(false);
    const reader = await counters.read([key, cluster], today, 730);
    expect([1, 7, 30, 730].map((w) => reader.total(key, w))).toEqual([2, 3, 3, 4]);
    expect([1, 7, 30, 730].map((w) => reader.total(cluster, w))).toEqual([2, 3, 3, 4]);
  });

  it('serves a total\'s settled days from memory until the entry expires, and always reads the recent days', async () => {
    const clock = { now: NOW };
    const reader = store(clock);
    const other = store(clock); // another instance of the function, counting in parallel
    const key = `total|all-${randomUUID()}`;
    const cluster = `lot|P|L-${randomUUID()}|x`;
    await other.count('a-1', [key, cluster], today - 10);
    expect((await reader.read([key, cluster], today, 730)).total(key, 730)).toBe(1);

    // Another instance counts a backdated report (a settled day) and a report of today.
    await other.count('a-2', [key, cluster], today - 10);
    await other.count('a-3', [key, cluster], today);
    const cached = await reader.read([key, cluster], today, 730);
    expect(cached.total(key, 730)).toBe(2); // today's report: read; the backdated one: not yet
    expect(cached.total(cluster, 730)).toBe(3); // cluster keys are read whole every time

    // This instance's own backdated report drops the cached entry: the next read is whole.
    await reader.count('a-4', [key, cluster], today - 20);
    expect((await reader.read([key], today, 730)).total(key, 730)).toBe(4);

    // Another backdated report elsewhere: seen once the entry expires.
    await other.count('a-5', [key], today - 10);
    expect((await reader.read([key], today, 730)).total(key, 730)).toBe(4);
    clock.now += TOTALS_CACHE_MS + 1;
    expect((await reader.read([key], today, 730)).total(key, 730)).toBe(5);
    // A read reaching further back than the cache holds reads the table.
    await other.count('a-6', [key], today - 700);
    expect((await reader.read([key], today, 730)).total(key, 730)).toBe(5);
    expect((await reader.read([key], today, 800)).total(key, 800)).toBe(6);
  });
});
