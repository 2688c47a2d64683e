import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../platform/aws.js';
import { cancellationReasons, retryingConflicts } from '../platform/retry.js';
import { dayOf, dayToIso } from './keys.js';
import type { CounterReader, CounterStore } from './store.js';

/**
 * Day-bucket counters in the table.
 *
 * | access pattern               | key                                            |
 * |------------------------------|------------------------------------------------|
 * | a key's counter for one day  | pk=COUNT#<key>        sk=DAY#<yyyy-mm-dd>#<shard> |
 * | a key's days in a window     | pk=COUNT#<key>        sk BETWEEN DAY#… AND DAY#…  |
 * | "this report was counted"    | pk=COUNTED#<reportId> sk=COUNTED               |
 *
 * Counting is one transaction: the marker (conditional on absence) and the six increments,
 * so a redelivered report changes nothing and a failed one leaves nothing half-counted.
 * Reading is one Query per key over the longest window: a constant number of operations
 * whatever the history size. Counters expire (TTL) 400 days after their day.
 *
 * The totals (`total|…`) take every report of a day, so each day's total is split over
 * `TOTAL_SHARDS` items chosen by report id: concurrent counting transactions then rarely
 * touch the same item (DynamoDB cancels conflicting transactions). Readers sum the shards.
 *
 * Read over two years, a total is up to 730 days × 8 shards of items, and one is read for
 * nearly every report. Its settled days (before yesterday, UTC) are kept in the function's
 * memory for `TOTALS_CACHE_MS` (the least recently used dropped past `MAX_CACHED_TOTALS`):
 * later reads fetch only the days after them. A settled day changes only when a report
 * arrives with a receipt time in the past: the function that counts it drops its cached
 * entries for that day, other instances see it when their entry expires (minutes),
 * the cluster keys (lot, product, plant, family, read
 * whole every time) at once. Totals are the background of the disproportionality statistics,
 * where a few minutes' lag on backdated reports changes nothing a rule can see.
 */
const TOTAL_SHARDS = 8;
const shardOf = (key: string, reportId: string) =>
  key.startsWith('total|') ? reportId.charCodeAt(reportId.length - 1) % TOTAL_SHARDS : 0;
const RETAIN_SECONDS = 400 * 86_400;
export const TOTALS_CACHE_MS = 5 * 60_000;
/** Totals cached at most (one per category and per product read recently, plus `total|all`). */
const MAX_CACHED_TOTALS = 256;

interface CachedTotal {
  /** The days held: every day in [from, through] (days without reports are absent from `byDay`). */
  readonly from: number;
  readonly through: number;
  readonly byDay: ReadonlyMap<number, number>;
  readonly expiresAt: number;
}

export class DynamoCounterStore implements CounterStore {
  private readonly settled = new Map<string, CachedTotal>();

  constructor(
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async count(reportId: string, keys: readonly string[], day: number): Promise<boolean> {
    const expiresAt = day * 86_400 + RETAIN_SECONDS;
    try {
      // A conflict with another report's counting is retried (nothing of it was written).
      await retryingConflicts(() =>
        dynamo().send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: `COUNTED#${reportId}`, sk: 'COUNTED', kind: 'counted', day: dayToIso(day), expiresAt },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...keys.map((key) => ({
                Update: {
                  TableName: this.tableName,
                  Key: { pk: `COUNT#${key}`, sk: `DAY#${dayToIso(day)}#${shardOf(key, reportId)}` },
                  UpdateExpression: 'ADD n :one SET kind = :kind, expiresAt = :exp',
                  ExpressionAttributeValues: { ':one': 1, ':kind': 'counter', ':exp': expiresAt },
                },
              })),
            ],
          }),
        ),
      );
      // This function's own backdated report: the cached totals holding its day are dropped,
      // so the next read sees it (adding it to them could count it twice, were it read already).
      for (const key of keys) {
        const cached = this.settled.get(key);
        if (cached && day >= cached.from && day <= cached.through) this.settled.delete(key);
      }
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') {
        return false;
      }
      throw error;
    }
  }

  async read(keys: readonly string[], day: number, longestDays: number): Promise<CounterReader> {
    const series = new Map<string, Map<number, number>>();
    const from = day - longestDays + 1;
    await Promise.all(
      keys.map(async (key) => {
        series.set(key, key.startsWith('total|') ? await this.total(key, from, day) : await this.days(key, from, day));
      }),
    );
    return {
      total(key, windowDays) {
        let sum = 0;
        for (const [d, n] of series.get(key) ?? []) if (d > day - windowDays && d <= day) sum += n;
        return sum;
      },
    };
  }

  /** A total's days in [from, to]: the settled ones from memory when held, the rest from the table. */
  private async total(key: string, from: number, to: number): Promise<Map<number, number>> {
    const now = this.now();
    const settledThrough = dayOf(now) - 2;
    let cached = this.settled.get(key);
    if (cached && (cached.expiresAt <= now || cached.from > from)) cached = undefined;
    if (!cached) {
      const byDay = await this.days(key, from, to);
      if (to >= settledThrough) this.remember(key, { from, through: settledThrough, byDay: settledPart(byDay, settledThrough), expiresAt: now + TOTALS_CACHE_MS });
      return byDay;
    }
    this.remember(key, cached); // most recently used
    const byDay = new Map<number, number>();
    for (const [d, n] of cached.byDay) if (d >= from && d <= to) byDay.set(d, n);
    if (to > cached.through) for (const [d, n] of await this.days(key, cached.through + 1, to)) byDay.set(d, n);
    return byDay;
  }

  private remember(key: string, entry: CachedTotal): void {
    this.settled.delete(key);
    if (this.settled.size >= MAX_CACHED_TOTALS) this.settled.delete(this.settled.keys().next().value!);
    this.settled.set(key, entry);
  }

  /** A key's counters for the days [from, to], shards summed: one Query, paged. */
  private async days(key: string, from: number, to: number): Promise<Map<number, number>> {
    const byDay = new Map<number, number>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamo().send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': `COUNT#${key}`, ':from': `DAY#${dayToIso(from)}`, ':to': `DAY#${dayToIso(to)}#\uffff` },
          ProjectionExpression: 'sk, n',
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const d = dayOf(String(item.sk).slice(4, 14));
        byDay.set(d, (byDay.get(d) ?? 0) + Number(item.n));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return byDay;
  }
}

function settledPart(byDay: ReadonlyMap<number, number>, through: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const [d, n] of byDay) if (d <= through) out.set(d, n);
  return out;
}
