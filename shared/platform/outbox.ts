import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { dynamo, snsClient } from './aws.js';
import { TOPICS, type TopicId } from './topics.js';

/**
 * The transactional outbox (DESIGN.md decision 6). A state change writes its outgoing
 * message as an item in the same transaction; the stream-triggered publisher sends it and
 * marks it published with the SNS message id. Redeliveries find it published and skip it.
 * Messages must never carry personal data: build them from ids, codes and counts.
 */
export interface OutboxMessage {
  readonly id: string;
  readonly topic: TopicId;
  readonly subject: string;
  /** A JSON document, or a text sent exactly as given (a public notice is byte-identical to what was approved). */
  readonly message: Record<string, unknown> | string;
  /** Scalar String message attributes (subscribers filter on these). */
  readonly attributes: Record<string, string>;
  /**
   * Makes the message listable after it is sent (a store's notices by region): the item goes
   * into the `byKind` index under this partition, newest first, showing `record`.
   */
  readonly listing?: { readonly partition: string; readonly record: Record<string, unknown> };
}

/** Pending items older than the stream's retries are found here by the sweeper. */
export const OUTBOX_DUE_PK = 'DUE#OUTBOX';

/** How long a published item stays (for audit and de-duplication) before TTL removes it. */
const PUBLISHED_RETENTION_SECONDS = 90 * 86_400;

export const outboxKey = (id: string) => ({ pk: `OUTBOX#${id}`, sk: 'OUTBOX' });

/** SNS subjects are ASCII, without line breaks, at most 100 characters: anything else is replaced. */
export function snsSubject(subject: string): string {
  return subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100) || 'recall';
}

export function outboxItem(message: OutboxMessage, now: Date): Record<string, unknown> {
  return {
    ...outboxKey(message.id),
    kind: 'outbox',
    id: message.id,
    topic: message.topic,
    subject: snsSubject(message.subject),
    message: typeof message.message === 'string' ? message.message : JSON.stringify(message.message),
    attributes: message.attributes,
    status: 'pending',
    createdAt: now.toISOString(),
    dueWorkPk: OUTBOX_DUE_PK,
    dueWorkSk: `${now.toISOString()}#${message.id}`,
    ...(message.listing ? { record: message.listing.record, byKindPk: message.listing.partition, byKindSk: `${now.toISOString()}#${message.id}` } : {}),
  };
}

/** How long a publisher holds an item before another may take it over (the sweeper). */
export const PUBLISH_LEASE_MS = 60_000;

/**
 * Publishes one outbox item exactly once in normal operation.
 * 1. Claims it: `pending` (or `sending` with an expired lease) becomes `sending` under this
 *    publisher's lease, by a conditional write. Another publisher (the stream and the
 *    sweeper may meet) finds the claim and returns false.
 * 2. Publishes it to SNS; on failure gives the item back (`pending`) and throws, so the
 *    stream retries it, or after its retries the sweeper.
 * 3. Marks it published with the SNS message id, conditioned on the lease.
 * Only a crash between 2 and 3 can publish twice, once the lease expires: every message
 * carries `messageKey` (the outbox id) for subscribers that must de-duplicate.
 */
export async function publishOutboxItem(tableName: string, topicArns: Partial<Record<TopicId, string>>, id: string): Promise<boolean> {
  const now = Date.now();
  const lease = `${now}-${randomUUID()}`;
  let item: Record<string, unknown>;
  try {
    const claimed = await dynamo().send(
      new UpdateCommand({
        TableName: tableName,
        Key: outboxKey(id),
        UpdateExpression: 'SET #status = :sending, leaseId = :lease, leaseUntil = :until',
        ConditionExpression: '#status = :pending OR (#status = :sending AND leaseUntil < :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':pending': 'pending', ':lease': lease, ':until': now + PUBLISH_LEASE_MS, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    item = claimed.Attributes!;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
  const topicArn = topicArns[item.topic as TopicId];
  const attributes = { ...(item.attributes as Record<string, string>), messageKey: id };
  let messageId: string | undefined;
  try {
    if (!topicArn) throw new Error(`No ARN configured for topic ${item.topic} (set ${TOPICS[item.topic as TopicId]?.envVar})`);
    const { PublishCommand } = await import('@aws-sdk/client-sns');
    const published = await (await snsClient()).send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: item.subject as string,
        Message: item.message as string,
        MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
      }),
    );
    messageId = published.MessageId;
  } catch (error) {
    await release(tableName, id, lease);
    throw error;
  }
  await markPublished(tableName, id, lease, messageId, !item.byKindPk);
  return true;
}

/**
 * Marks the item published under the lease. SNS already has the message, so the mark is
 * retried (it is idempotent under the lease): a failure here would let the sweeper publish
 * it again once the lease expires.
 */
async function markPublished(tableName: string, id: string, lease: string, messageId: string | undefined, expires: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await dynamo().send(
        new UpdateCommand({
          TableName: tableName,
          Key: outboxKey(id),
          // Off the sweeper's list. A message body (a customer reply holds a contact) expires,
          // unless it is a listed notice that stores and QA still read.
          UpdateExpression: `SET #status = :published, publishedAt = :at, snsMessageId = :mid${expires ? ', expiresAt = :expires' : ''} REMOVE dueWorkPk, dueWorkSk, leaseId, leaseUntil`,
          ConditionExpression: '#status = :sending AND leaseId = :lease',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':published': 'published',
            ':sending': 'sending',
            ':lease': lease,
            ':at': new Date().toISOString(),
            ':mid': messageId,
            ...(expires ? { ':expires': Math.floor(Date.now() / 1000) + PUBLISHED_RETENTION_SECONDS } : {}),
          },
        }),
      );
      return;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      if (attempt >= 4) throw error;
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

/** Gives a claimed item back after a failed publish, if the lease is still ours. */
async function release(tableName: string, id: string, lease: string): Promise<void> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName,
        Key: outboxKey(id),
        UpdateExpression: 'SET #status = :pending REMOVE leaseId, leaseUntil',
        ConditionExpression: '#status = :sending AND leaseId = :lease',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending', ':sending': 'sending', ':lease': lease },
      }),
    );
  } catch {
    // The lease expires on its own; the sweeper takes the item then.
  }
}
