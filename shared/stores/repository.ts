import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, queryPages } from '../platform/query.js';
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
  for (const item of await batchGetAll(tableName(), ids.map(storeKey))) out.set((item.record as Store).storeId, item.record as Store);
  return out;
}

/** Every store of a region (all pages). */
export async function storesOfRegion(region: string): Promise<Store[]> {
  const { items } = await queryPages({ TableName: tableName(), IndexName: 'byKind', KeyConditionExpression: 'byKindPk = :pk', ExpressionAttributeValues: { ':pk': `STORES#${region}` } });
  return items.map((i) => i.record as Store);
}
