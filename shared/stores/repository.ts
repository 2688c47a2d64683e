import { BatchGetCommand, PutCommand, type BatchGetCommandInput } from '@aws-sdk/lib-dynamodb';
import { queryPages } from '../platform/query.js';
import { dynamo, tableName } from '../platform/aws.js';
import type { Store } from './model.js';

/**
 * The store directory in the single table.
 *
 * | access pattern            | key / index                                   |
 * |---------------------------|-----------------------------------------------|
 * | store by id               | pk=STORE#<storeId>  sk=STORE                  |
 * | the stores of a region    | byKind pk=STORES#<region>  sk=<storeId>       |
 */
const storeKey = (storeId: string) => ({ pk: `STORE#${storeId}`, sk: 'STORE' });

/** Creates or updates a store (a store that moves region moves its index entry with it). */
export async function putStore(store: Store): Promise<void> {
  await dynamo().send(
    new PutCommand({ TableName: tableName(), Item: { ...storeKey(store.storeId), kind: 'store', record: store, byKindPk: `STORES#${store.region}`, byKindSk: store.storeId } }),
  );
}

export async function getStores(ids: readonly string[]): Promise<Map<string, Store>> {
  const out = new Map<string, Store>();
  for (let i = 0; i < ids.length; i += 100) {
    let request: BatchGetCommandInput['RequestItems'] = { [tableName()]: { Keys: ids.slice(i, i + 100).map(storeKey) } };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));
      const page: { Responses?: Record<string, Record<string, unknown>[]>; UnprocessedKeys?: BatchGetCommandInput['RequestItems'] } = await dynamo().send(new BatchGetCommand({ RequestItems: request }));
      for (const item of page.Responses?.[tableName()] ?? []) out.set((item.record as Store).storeId, item.record as Store);
      request = page.UnprocessedKeys;
    }
  }
  return out;
}

/** Every store of a region (all pages). */
export async function storesOfRegion(region: string): Promise<Store[]> {
  const { items } = await queryPages({ TableName: tableName(), IndexName: 'byKind', KeyConditionExpression: 'byKindPk = :pk', ExpressionAttributeValues: { ':pk': `STORES#${region}` } });
  return items.map((i) => i.record as Store);
}
