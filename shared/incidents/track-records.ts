import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from '../platform/aws.js';
import { dayToIso } from '../detection/keys.js';
import { batchGetAll } from '../platform/query.js';
import { jitteredBackoff, retryingConflicts } from '../platform/retry.js';
import {
  emptyTrack,
  rateOf,
  recordOf,
  settleTrack,
  standingOf,
  trackDismissal,
  trackRecall,
  trackSignal,
  type CategoryRecord,
  type CategoryTrack,
  type Standing,
  type StandingOf,
  type TrackRecordConfig,
} from '../detection/track-record.js';

/**
 * The categories' track records in the table (`shared/detection/track-record.ts` says what a
 * record is): the live system learns what a backtest learns from `--truth`, from its own
 * declared incidents. The stream notes each signal episode; declaring an incident judges the
 * episodes of its products and defects as hits; episodes a year old with no incident are
 * misses. Candidates read the standing before they open (`candidates.ts`).
 *
 * | access pattern               | key                                      |
 * |------------------------------|------------------------------------------|
 * | a category's track record    | pk=TRACK#<category>   sk=RECORD          |
 *
 * One item per category, changed read-modify-write on its version (a signal episode starts
 * once per product and defect in 90 days and notes the day it last signalled at most once a
 * day, incidents are declared rarely: little contention; a lost race reads again after a
 * jittered wait). Its size is bounded: the episodes of the
 * judging period for at most `MAX_TRACKED_PRODUCTS` products, and the products recalled in the
 * last `RECALLS_REMEMBERED_DAYS` (see `track-record.ts`), well under DynamoDB's 400 KB.
 */
const trackKey = (category: string) => ({ pk: `TRACK#${category}`, sk: 'RECORD' });
const ATTEMPTS = 8;

interface Stored {
  track: CategoryTrack;
  version: number;
  /** The standing QA was last told of (`noteSignals`). */
  told?: Standing;
}

async function read(category: string): Promise<Stored> {
  const { Item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: trackKey(category), ConsistentRead: true }));
  return Item ? { track: Item.track as CategoryTrack, version: Item.version as number, ...(Item.told ? { told: Item.told as Standing } : {}) } : { track: emptyTrack(), version: 0 };
}

/** Applies `change` to the category's record and writes it if it changed, on the version read; a lost race reads again. */
async function update(category: string, change: (track: CategoryTrack) => boolean): Promise<Stored> {
  for (let attempt = 1; ; attempt++) {
    const stored = await read(category);
    const { track, version } = stored;
    if (!change(track)) return stored;
    try {
      await retryingConflicts(() =>
        dynamo().send(
          // An update, not a put: the standing QA was told of (`told`) is not the record's to overwrite.
          new UpdateCommand({
            TableName: tableName(),
            Key: trackKey(category),
            UpdateExpression: 'SET #kind = :kind, category = :category, track = :track, version = :next',
            ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
            ExpressionAttributeNames: { '#kind': 'kind' },
            ExpressionAttributeValues: { ':kind': 'track-record', ':category': category, ':track': track, ':next': version + 1, ...(version === 0 ? {} : { ':v': version }) },
          }),
        ),
      );
      return { ...stored, version: version + 1 };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || attempt >= ATTEMPTS) throw error;
      // Another writer changed the record since it was read: read again after a jittered wait.
      await jitteredBackoff(attempt);
    }
  }
}

/** Every listed category's record, settled to `day` (nothing written); absent ones are empty. */
async function readAll(categories: readonly string[], day: number, config: TrackRecordConfig): Promise<Map<string, CategoryTrack>> {
  const found = new Map<string, CategoryTrack>();
  for (const item of await batchGetAll(tableName(), categories.map(trackKey), { ConsistentRead: true, maxRounds: 8 })) found.set(item.category as string, item.track as CategoryTrack);
  for (const category of categories) {
    const track = found.get(category) ?? emptyTrack();
    settleTrack(track, day, config);
    found.set(category, track);
  }
  return found;
}

/**
 * The other categories' records, as the thresholds compare against their sum: read at most
 * every `OVERALL_CACHE_MS` per function instance (they change slowly: a miss needs a year,
 * a hit a declared incident); the category being judged is always read fresh.
 */
export const OVERALL_CACHE_MS = 5 * 60_000;
let othersCache: { at: number; key: string; records: Map<string, CategoryRecord> } | undefined;

async function overallWith(category: string, fresh: CategoryRecord, categories: readonly string[], day: number, config: TrackRecordConfig, now = Date.now()): Promise<CategoryRecord> {
  const key = categories.join('\u0000');
  if (!othersCache || othersCache.key !== key || now - othersCache.at > OVERALL_CACHE_MS) {
    const all = await readAll(categories, day, config);
    othersCache = { at: now, key, records: new Map([...all].map(([c, t]) => [c, recordOf(t)])) };
  }
  let hits = fresh.hits;
  let misses = fresh.misses;
  for (const [c, r] of othersCache.records) {
    if (c === category) continue;
    hits += r.hits;
    misses += r.misses;
  }
  return { hits, misses };
}

/** Forgets the cached records of the other categories (tests that change them). */
export function forgetCachedRecords(): void {
  othersCache = undefined;
}

/**
 * Signals on these products of `category` on `day` (candidate-opening ones, not harm): each
 * starts an episode unless one started within the episode period. Returns the category's
 * standing against every category of the taxonomy (`categories`), which the stream reads
 * before it opens a candidate.
 */
export async function noteSignals(
  category: string,
  skus: readonly string[],
  day: number,
  config: TrackRecordConfig,
  categories: readonly string[],
  now = Date.now(),
): Promise<StandingOf & { changedFrom?: Standing }> {
  const stored = await update(category, (t) => {
    let changed = settleTrack(t, day, config);
    for (const sku of new Set(skus)) changed = trackSignal(t, sku, day, config) || changed;
    return changed;
  });
  const record = recordOf(stored.track);
  const standing = standingOf(record, category, config, await overallWith(category, record, categories, day, config, now));
  const told = stored.told ?? 'normal';
  if (standing.standing === told) return standing;
  // The standing moved: remembered, so that QA is told once (`candidates.ts` alerts). Two
  // instances racing both tell; the alert's id is per category, standing and day: one alert.
  await dynamo().send(
    new UpdateCommand({ TableName: tableName(), Key: trackKey(category), UpdateExpression: 'SET told = :s', ExpressionAttributeValues: { ':s': standing.standing } }),
  );
  return { ...standing, changedFrom: told };
}

/** Products and defects grouped by defect: one record to change per category. */
function byCategory(pairs: readonly { sku: string; category: string }[]): Map<string, Set<string>> {
  const grouped = new Map<string, Set<string>>();
  for (const p of pairs) (grouped.get(p.category) ?? grouped.set(p.category, new Set()).get(p.category)!).add(p.sku);
  return grouped;
}

/** An incident was declared on these products and defects on `day`: their episodes of the judging period are hits. */
export async function noteDeclared(pairs: readonly { sku: string; category: string }[], day: number, config: TrackRecordConfig): Promise<void> {
  for (const [category, skus] of byCategory(pairs)) {
    await update(category, (t) => {
      settleTrack(t, day, config);
      for (const sku of skus) trackRecall(t, sku, day, config);
      return true;
    });
  }
}

/**
 * QA dismissed candidates on these products and defects on `day`: their episodes then count
 * as misses at once, not a year later (a recall in their judging period still makes them
 * hits). QA's judgement is the fastest outcome the system gets; a category whose candidates QA
 * keeps dismissing is held back sooner.
 */
export async function noteDismissed(pairs: readonly { sku: string; category: string }[], day: number, config: TrackRecordConfig): Promise<void> {
  for (const [category, skus] of byCategory(pairs)) {
    await update(category, (t) => {
      let changed = settleTrack(t, day, config);
      for (const sku of skus) changed = trackDismissal(t, sku, day) || changed;
      return changed;
    });
  }
}

/** Every listed category's record and standing as it stands on `day`, in the order given, and the overall record (GET /track-records). */
export async function standingsNow(categories: readonly string[], day: number, config: TrackRecordConfig) {
  return standingsOf(await readAll(categories, day, config), categories, config);
}

function standingsOf(all: Map<string, CategoryTrack>, categories: readonly string[], config: TrackRecordConfig) {
  const records = new Map([...all].map(([category, track]) => [category, recordOf(track)]));
  const overall = [...records.values()].reduce((sum, r) => ({ hits: sum.hits + r.hits, misses: sum.misses + r.misses }), { hits: 0, misses: 0 });
  const items = categories.map((category) => {
    const track = all.get(category)!;
    // Not judged yet (QA's dismissals are judged: misses).
    const pending = Object.values(track.episodes).reduce((n, episodes) => n + episodes.filter((e) => !e.hit && !e.late && !e.dismissed).length, 0);
    return { category, ...standingOf(records.get(category)!, category, config, overall), pending };
  });
  return { overall: { ...overall, rate: rateOf(overall) }, items };
}

/** How far back the weekly review lists a held category's products (`heldForReview`). */
export const REVIEW_RECENT_DAYS = 30;
/** The review names at most this many products per category (the count says how many more). */
const REVIEW_MAX_PRODUCTS = 20;

/**
 * The categories held back on `day`, for QA's weekly review: each with its record and the
 * products that signalled in the last `REVIEW_RECENT_DAYS` with no incident declared on
 * them since: signals that opened no candidate because of the hold, which only a person can
 * now turn into an incident. A product recalled in the category before (its episode `late`)
 * is listed too, marked: a defect back after a recall is worth a look of its own.
 */
export type HeldReview = Awaited<ReturnType<typeof heldForReview>>;
export async function heldForReview(categories: readonly string[], day: number, config: TrackRecordConfig) {
  const all = await readAll(categories, day, config);
  const { overall, items } = standingsOf(all, categories, config);
  const held = items.filter((i) => i.standing === 'held');
  return {
    overall,
    recentDays: REVIEW_RECENT_DAYS,
    held: held.map((i) => {
      const recent = Object.entries(all.get(i.category)!.episodes).flatMap(([sku, episodes]) => {
        const latest = episodes[episodes.length - 1];
        const lastSignal = latest ? (latest.last ?? latest.start) : Number.NEGATIVE_INFINITY;
        return latest && !latest.hit && lastSignal > day - REVIEW_RECENT_DAYS ? [{ sku, since: latest.start, lastSignal, recalledBefore: latest.late === true }] : [];
      });
      recent.sort((a, b) => b.lastSignal - a.lastSignal || a.sku.localeCompare(b.sku));
      return {
        category: i.category,
        hits: i.hits,
        misses: i.misses,
        rate: i.rate,
        overallRate: i.overallRate,
        explanation: i.explanation,
        recentProducts: recent.length,
        products: recent.slice(0, REVIEW_MAX_PRODUCTS).map((r) => ({
          sku: r.sku,
          since: dayToIso(r.since),
          lastSignal: dayToIso(r.lastSignal),
          ...(r.recalledBefore ? { recalledBefore: true } : {}),
        })),
      };
    }),
  };
}
