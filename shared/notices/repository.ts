import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { queryPages } from '../platform/query.js';
import { dynamo, tableName } from '../platform/aws.js';
import { outboxItem, outboxKey, type OutboxMessage } from '../platform/outbox.js';
import type { Acknowledgement, PublicNotice, StoreNotice } from './model.js';

/**
 * Notices, acknowledgements and the public notices in the single table.
 *
 * | access pattern                         | key / index                                         |
 * |----------------------------------------|-----------------------------------------------------|
 * | store notice by id                     | pk=OUTBOX#<noticeId>  sk=OUTBOX (its outbox item)   |
 * | notices of a region, newest first      | byKind pk=NOTICES#<region>  sk=<issuedAt>#<id>      |
 * | a notice's acknowledgements            | pk=NOTICE#<noticeId>  sk=ACK#<storeId>              |
 * | published public notices, newest first | byKind pk=PUBLIC_NOTICES    sk=<publishedAt>#<id>   |
 *
 * A store notice is its outbox item: written in the incident action's transaction, listed by
 * region (`noticeListing`), so a withdrawal to 50 regions is 50 items, not 100, and never
 * a notice without its message. Acknowledgements are written by the stores, one per store.
 */
const ackKey = (noticeId: string, storeId: string) => ({ pk: `NOTICE#${noticeId}`, sk: `ACK#${storeId}` });

/** The listing that makes a store withdrawal's outbox item the notice's record. */
export const noticeListing = (notice: StoreNotice) => ({ partition: `NOTICES#${notice.region}`, record: notice as unknown as Record<string, unknown> });

export function publicNoticeItem(notice: PublicNotice): Record<string, unknown> {
  return { pk: `PUBLIC#${notice.incidentId}`, sk: 'PUBLIC', kind: 'public-notice', record: notice, byKindPk: 'PUBLIC_NOTICES', byKindSk: `${notice.publishedAt}#${notice.incidentId}` };
}

export async function getNotice(noticeId: string): Promise<StoreNotice | undefined> {
  const result = await dynamo().send(new GetCommand({ TableName: tableName(), Key: outboxKey(noticeId), ConsistentRead: true }));
  const record = result.Item?.record as StoreNotice | undefined;
  return record?.type === 'store-withdrawal' ? record : undefined;
}

/** Records a store's acknowledgement once; returns the one already recorded when there is one. */
export async function putAcknowledgement(ack: Acknowledgement): Promise<{ created: boolean; existing?: Acknowledgement }> {
  try {
    await dynamo().send(
      new PutCommand({ TableName: tableName(), Item: { ...ackKey(ack.noticeId, ack.storeId), kind: 'notice-ack', record: ack }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return { created: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return { created: false, existing: (await getAcknowledgement(ack.noticeId, ack.storeId))! };
  }
}

/** A store's acknowledgement of a notice, if it gave one. */
export async function getAcknowledgement(noticeId: string, storeId: string): Promise<Acknowledgement | undefined> {
  const found = await dynamo().send(new GetCommand({ TableName: tableName(), Key: ackKey(noticeId, storeId), ConsistentRead: true }));
  return found.Item?.record as Acknowledgement | undefined;
}

/**
 * Replaces an acknowledgement with its corrected version, if it is still the one read
 * (`expectedCorrections`: how many corrections its record had): false when someone corrected it meanwhile.
 */
export async function replaceAcknowledgement(ack: Acknowledgement, expectedCorrections: number): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...ackKey(ack.noticeId, ack.storeId), kind: 'notice-ack', record: ack },
        ConditionExpression: expectedCorrections === 0 ? 'attribute_exists(pk) AND attribute_not_exists(#record.corrections)' : 'size(#record.corrections) = :n',
        ExpressionAttributeNames: { '#record': 'record' },
        ...(expectedCorrections === 0 ? {} : { ExpressionAttributeValues: { ':n': expectedCorrections } }),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

async function queryAll(input: { pk: string; prefix?: string; index?: string; limit?: number; newestFirst?: boolean }): Promise<Record<string, unknown>[]> {
  const { items } = await queryPages(
    {
      TableName: tableName(),
      ...(input.index ? { IndexName: input.index } : { ConsistentRead: true }),
      KeyConditionExpression: input.prefix ? '#pk = :pk AND begins_with(sk, :prefix)' : '#pk = :pk',
      ExpressionAttributeNames: { '#pk': input.index ? `${input.index}Pk` : 'pk' },
      ExpressionAttributeValues: { ':pk': input.pk, ...(input.prefix ? { ':prefix': input.prefix } : {}) },
      ...(input.newestFirst ? { ScanIndexForward: false } : {}),
    },
    input.limit,
  );
  return items;
}

export async function acknowledgements(noticeId: string): Promise<Acknowledgement[]> {
  return (await queryAll({ pk: `NOTICE#${noticeId}`, prefix: 'ACK#' })).map((i) => i.record as Acknowledgement);
}

/** The store notices of a region, newest first (at most `limit`). */
export async function noticesOfRegion(region: string, limit = 200): Promise<StoreNotice[]> {
  return (await queryAll({ pk: `NOTICES#${region}`, index: 'byKind', limit, newestFirst: true })).map((i) => i.record as StoreNotice);
}

export async function publicNotices(limit: number): Promise<PublicNotice[]> {
  return (await queryAll({ pk: 'PUBLIC_NOTICES', index: 'byKind', limit, newestFirst: true })).map((i) => i.record as PublicNotice);
}

/** Writes messages to the outbox, each once (an id already there is left as it is). */
export async function writeOutbox(messages: readonly OutboxMessage[], now: Date): Promise<void> {
  for (const message of messages) {
    try {
      await dynamo().send(new PutCommand({ TableName: tableName(), Item: outboxItem(message, now), ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/**
 * Ids of outbox items not yet published that were written at or before `cutoff`, oldest
 * first, every page up to `limit`: items that keep failing must not hide the ones behind them.
 */
export async function pendingOutbox(duePk: string, cutoff: string, limit = 2000): Promise<string[]> {
  const { items } = await queryPages(
    { TableName: tableName(), IndexName: 'dueWork', KeyConditionExpression: 'dueWorkPk = :pk AND dueWorkSk <= :cutoff', ExpressionAttributeValues: { ':pk': duePk, ':cutoff': `${cutoff}#\uffff` } },
    limit,
  );
  return items.map((i) => String(i.pk).slice('OUTBOX#'.length));
}
