import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
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
