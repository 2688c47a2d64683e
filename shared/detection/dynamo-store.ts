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
 */
const TOTAL_SHARDS = 8;
const shardOf = (key: string, reportId: string) =>
  key.startsWith('total|') ? reportId.charCodeAt(reportId.length - 1) % TOTAL_SHARDS : 0;
const RETAIN_SECONDS = 400 * 86_400;

export class DynamoCounterStore implements CounterStore {
  constructor(private readonly tableName: string) {}

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
    await Promise.all(
      keys.map(async (key) => {
        const byDay = new Map<number, number>();
        let start: Record<string, unknown> | undefined;
        do {
          const page = await dynamo().send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':pk': `COUNT#${key}`, ':from': `DAY#${dayToIso(day - longestDays + 1)}`, ':to': `DAY#${dayToIso(day)}#\uffff` },
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
        series.set(key, byDay);
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
}
