import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeWithdrawal } from '../../../shared/incidents/messages.js';
import type { Incident } from '../../../shared/incidents/model.js';
import { outboxItem, publishOutboxItem } from '../../../shared/platform/outbox.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:store-notices';
const incident = {
  id: '01JINCIDENT000000000000000',
  status: 'declared',
  version: 3,
  origin: 'manual',
  openedAt: '2026-11-20T09:00:00.000Z',
  keys: {},
  reportCount: 0,
  title: 'Metal in almond chocolate',
  hazardClass: 'I',
  hazard: 'may contain fragments of metal',
  scope: { products: [{ sku: 'CHOC-100', name: 'アーモンドチョコレート' }], lots: [{ sku: 'CHOC-100', lotCode: 'L1103' }], regions: ['関東'] },
} as Incident;

describe('notices', () => {
  describe('SNS publisher (outbox)', () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    const sns = mockClient(SNSClient);
    beforeEach(() => {
      ddb.reset();
      sns.reset();
      process.env.AWS_REGION = 'us-east-1';
    });
    afterEach(() => {
      ddb.reset();
      sns.reset();
    });

    it('publishes a store withdrawal with its exact subject, message and String attributes, then marks it published', async () => {
      const message = storeWithdrawal(incident, { region: '関東' }, 'Remove from sale.', new Date('2026-11-20T10:00:00.000Z'));
      const item = outboxItem(message, new Date('2026-11-20T10:00:00.000Z'));
      ddb.on(UpdateCommand).resolves({ Attributes: { ...item, status: 'sending' } });
      sns.on(PublishCommand).resolves({ MessageId: 'mid-1' });

      expect(await publishOutboxItem('table', { storeNotices: TOPIC }, message.id)).toBe(true);

      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(sns).toHaveReceivedCommandWith(PublishCommand, {
        TopicArn: TOPIC,
        Subject: `Recall withdrawal: incident ${incident.id} class I`,
        Message: JSON.stringify(message.message),
        MessageAttributes: {
          noticeType: { DataType: 'String', StringValue: 'store-withdrawal' },
          incidentId: { DataType: 'String', StringValue: incident.id },
          hazardClass: { DataType: 'String', StringValue: 'I' },
          region: { DataType: 'String', StringValue: '関東' },
          storeId: { DataType: 'String', StringValue: 'all' },
          noticeId: { DataType: 'String', StringValue: message.id },
          messageKey: { DataType: 'String', StringValue: message.id },
        },
      });
      // The subject stays within SNS's rules even with a Japanese region and product.
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toMatch(/^[\x20-\x7e]{1,100}$/);
      // Claimed under a lease first, then marked published under the same lease.
      const [claim, mark] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      expect(claim).toMatchObject({ Key: { pk: `OUTBOX#${message.id}`, sk: 'OUTBOX' }, ConditionExpression: '#status = :pending OR (#status = :sending AND leaseUntil < :now)' });
      expect(mark).toMatchObject({ ConditionExpression: '#status = :sending AND leaseId = :lease', ExpressionAttributeValues: expect.objectContaining({ ':published': 'published', ':mid': 'mid-1', ':lease': claim!.ExpressionAttributeValues![':lease'] }) });
    });

    it('publishes nothing for an item already published or being published (a redelivery, the sweeper)', async () => {
      const message = storeWithdrawal(incident, { region: '関東' }, 'x', new Date());
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'claimed', $metadata: {} }));
      expect(await publishOutboxItem('table', { storeNotices: TOPIC }, message.id)).toBe(false);
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    });

    it('gives the item back (pending) when SNS fails, so the stream or the sweeper retries it', async () => {
      const message = storeWithdrawal(incident, { region: '関東' }, 'x', new Date());
      ddb.on(UpdateCommand).resolves({ Attributes: { ...outboxItem(message, new Date()), status: 'sending' } });
      sns.on(PublishCommand).rejects(new Error('throttled'));
      await expect(publishOutboxItem('table', { storeNotices: TOPIC }, message.id)).rejects.toThrow('throttled');
      const updates = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      expect(updates).toHaveLength(2);
      expect(updates[1]).toMatchObject({ UpdateExpression: 'SET #status = :pending REMOVE leaseId, leaseUntil', ConditionExpression: '#status = :sending AND leaseId = :lease' });
    });
  });
});
