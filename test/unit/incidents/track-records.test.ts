import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TRACK_RECORD, emptyTrack, type CategoryTrack } from '../../../shared/detection/track-record.js';
import { forgetCachedRecords, noteSignals, OVERALL_CACHE_MS } from '../../../shared/incidents/track-records.js';

/**
 * The live track records' read of the other categories (their sum is the overall rate the
 * thresholds are fractions of), with the table mocked: the category being judged is read
 * fresh every time, the others at most every five minutes.
 */
const ddb = mockClient(DynamoDBDocumentClient);
const stored = new Map<string, CategoryTrack>();
const record = (hits: number, misses: number): CategoryTrack => ({ ...emptyTrack(), hits, misses });
const DAY = 20_000;

beforeEach(() => {
  process.env.TABLE_NAME = 'recall-test';
  process.env.AWS_REGION = 'us-east-1';
  forgetCachedRecords();
  ddb.reset();
  stored.clear();
  ddb.on(GetCommand).callsFake(async (input) => {
    const category = String(input.Key.pk).slice('TRACK#'.length);
    const track = stored.get(category);
    return { Item: track ? { ...input.Key, category, track: structuredClone(track), version: 1 } : undefined };
  });
  ddb.on(UpdateCommand).callsFake(async (input) => {
    const track = input.ExpressionAttributeValues[':track'];
    if (track) stored.set(String(input.Key.pk).slice('TRACK#'.length), structuredClone(track));
    return {};
  });
  ddb.on(BatchGetCommand).callsFake(async (input) => {
    const [table, { Keys }] = Object.entries(input.RequestItems as Record<string, { Keys: { pk: string }[] }>)[0]!;
    const items = Keys.flatMap((k) => {
      const category = k.pk.slice('TRACK#'.length);
      const track = stored.get(category);
      return track ? [{ ...k, category, track: structuredClone(track) }] : [];
    });
    return { Responses: { [table]: items } };
  });
});
afterAll(() => ddb.restore());

describe('live track records', () => {
  const categories = ['seals', 'lids', 'other'];

  it('judges a category against every category of the taxonomy, itself counted once', async () => {
    stored.set('lids', record(10, 0));
    stored.set('other', record(0, 15));
    const standing = await noteSignals('other', ['P-1'], DAY, DEFAULT_TRACK_RECORD, categories, 0);
    // Overall: 10 hits of 25 judged (not 10 of 40: "other" counted once), rate 10.5 / 26.
    expect(standing).toMatchObject({ standing: 'held', hits: 0, misses: 15, overallRate: 10.5 / 26 });
    expect(stored.get('other')!.episodes['P-1']).toEqual([{ start: DAY }]);
  });

  it('reads the other categories at most every five minutes, the judged one every time', async () => {
    stored.set('lids', record(10, 0));
    stored.set('other', record(0, 15));
    await noteSignals('other', ['P-1'], DAY, DEFAULT_TRACK_RECORD, categories, 0);
    const batches = () => ddb.commandCalls(BatchGetCommand).length;
    expect(batches()).toBe(1);
    // Another category's record changes: not seen within the five minutes...
    stored.set('lids', record(0, 40));
    const within = await noteSignals('other', ['P-2'], DAY, DEFAULT_TRACK_RECORD, categories, OVERALL_CACHE_MS);
    expect(batches()).toBe(1);
    expect(within).toMatchObject({ standing: 'held', overallRate: 10.5 / 26 });
    // ... while the judged category's own record is always fresh.
    stored.set('other', record(5, 15));
    expect(await noteSignals('other', ['P-3'], DAY, DEFAULT_TRACK_RECORD, categories, OVERALL_CACHE_MS)).toMatchObject({ hits: 5, misses: 15 });
    // After them the others are read again: with "lids" now poor too, nothing stands out.
    const after = await noteSignals('other', ['P-4'], DAY, DEFAULT_TRACK_RECORD, categories, OVERALL_CACHE_MS + 1);
    expect(batches()).toBe(2);
    expect(after).toMatchObject({ standing: 'normal', overallRate: 5.5 / 61 });
  });

  it('judges nothing before every category together has 5 hits: there is nothing to compare against', async () => {
    stored.set('other', record(0, 15));
    stored.set('lids', record(4, 0));
    // 0.031 would be below 0.4 × (4.5 / 20), but 4 hits in all are too few.
    expect(await noteSignals('other', ['P-1'], DAY, DEFAULT_TRACK_RECORD, categories, 0)).toMatchObject({ standing: 'normal', overallRate: 4.5 / 20 });
    stored.set('lids', record(5, 0));
    forgetCachedRecords();
    expect(await noteSignals('other', ['P-2'], DAY, DEFAULT_TRACK_RECORD, categories, 0)).toMatchObject({ standing: 'held', overallRate: 5.5 / 21 });
  });
});

describe('the weekly review of held categories', () => {
  it('reviews by the week that starts on Monday, UTC', async () => {
    const { weekOf } = await import('../../../shared/incidents/use-cases.js');
    expect(weekOf(new Date('2026-11-30T00:00:00Z'))).toBe('2026-11-30');
    expect(weekOf(new Date('2026-12-06T23:59:59Z'))).toBe('2026-11-30');
    expect(weekOf(new Date('2026-12-07T00:00:00Z'))).toBe('2026-12-07');
    // Over a year's end: 2027-01-01 is a Friday.
    expect(weekOf(new Date('2027-01-01T12:00:00Z'))).toBe('2026-12-28');
  });
});
