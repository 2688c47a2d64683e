import { BatchGetCommand, QueryCommand, type BatchGetCommandInput, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './aws.js';

/**
 * Every page of a Query, up to `cap` items (then `truncated`), 500 at a time at most. The one
 * pagination loop the repositories share: a list that stops at the first page loses items
 * silently once a partition grows.
 */
export async function queryPages(input: QueryCommandInput, cap = Number.POSITIVE_INFINITY): Promise<{ items: Record<string, unknown>[]; truncated: boolean }> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({ ...input, Limit: Math.min(500, cap - items.length), ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && items.length < cap);
  return { items, truncated: !!start };
}

type KeysAndAttributes = NonNullable<BatchGetCommandInput['RequestItems']>[string];

/**
 * Every item of these keys in one table, 100 keys a BatchGetItem. The one batch-read loop the
 * repositories share: keys DynamoDB leaves unprocessed (throttling) are read again after a
 * growing wait, so a missed item is never taken for an absent one. After `maxRounds` rounds
 * for one batch it throws instead (default: no limit but the function's own timeout).
 */
export async function batchGetAll(
  TableName: string,
  keys: readonly Record<string, unknown>[],
  options: Omit<KeysAndAttributes, 'Keys'> & { maxRounds?: number } = {},
): Promise<Record<string, any>[]> {
  const { maxRounds = Number.POSITIVE_INFINITY, ...read } = options;
  const items: Record<string, any>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let request: BatchGetCommandInput['RequestItems'] = { [TableName]: { ...read, Keys: keys.slice(i, i + 100) } };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt >= maxRounds) throw new Error(`DynamoDB left items of ${TableName} unread after ${maxRounds} rounds: try again`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));
      const page: { Responses?: Record<string, Record<string, any>[]>; UnprocessedKeys?: BatchGetCommandInput['RequestItems'] } = await dynamo().send(new BatchGetCommand({ RequestItems: request }));
      items.push(...(page.Responses?.[TableName] ?? []));
      request = page.UnprocessedKeys;
    }
  }
  return items;
}
