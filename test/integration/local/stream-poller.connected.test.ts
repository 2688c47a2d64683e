import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { FunctionSpec, StreamTrigger } from '../../../functions/catalog.js';
import { localClientConfig, provisionQueue } from '../../../infra/local/provision.js';
import { StreamPoller, type StreamFunction } from '../../../infra/local/stream-poller.js';
import { drainQueue } from '../../support/queues.js';

const dynamoEndpoint = inject('dynamoEndpoint');
const snsSqsEndpoint = inject('snsSqsEndpoint');
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(dynamoEndpoint)));
const tableName = process.env.TABLE_NAME!;
const streamArn = process.env.TEST_STREAM_ARN!;

function streamFunction(
  handle: (event: DynamoDBStreamEvent) => Promise<unknown>,
  trigger: Partial<StreamTrigger> = {},
): StreamFunction {
  const spec: FunctionSpec & { trigger: StreamTrigger } = {
    id: 'probe',
    entry: 'none',
    description: 'test probe',
    trigger: { kind: 'stream', filter: { eventName: ['INSERT'] }, batchSize: 10, retryAttempts: 2, ...trigger },
    table: 'none',
    publishes: [],
  };
  return { spec, handler: handle as StreamFunction['handler'] };
}

const keyOf = (r: DynamoDBRecord) => r.dynamodb?.NewImage?.pk?.S;
let poller: StreamPoller | undefined;
afterEach(async () => poller?.stop());

async function until(check: () => boolean, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(check()).toBe(true);
}

describe('local stream delivery', () => {
  it('delivers inserted items in order, filtered like an event source mapping', async () => {
    const seen: string[] = [];
    const prefix = `order-${Date.now()}`;
    poller = new StreamPoller({
      dynamoEndpoint,
      streamArn,
      functions: [
        streamFunction(async (event) => {
          seen.push(...event.Records.map((r) => `${r.eventName}:${keyOf(r) ?? r.dynamodb?.Keys?.pk?.S}`));
          return { batchItemFailures: [] };
        }, { filter: { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['wanted'] } } } } }),
      ],
      log: () => undefined,
    });
    poller.start();
    for (let i = 0; i < 5; i++) {
      await ddb.send(new PutCommand({ TableName: tableName, Item: { pk: `${prefix}-${i}`, sk: 'A', kind: i === 2 ? 'other' : 'wanted' } }));
    }
    await ddb.send(new PutCommand({ TableName: tableName, Item: { pk: `${prefix}-0`, sk: 'A', kind: 'wanted', v: 2 } })); // MODIFY
    await until(() => seen.filter((s) => s.includes(prefix)).length >= 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((s) => s.includes(prefix))).toEqual([0, 1, 3, 4].map((i) => `INSERT:${prefix}-${i}`));
  });

  it('retries from the first item reported in batchItemFailures, then reports the rest to the failure queue', async () => {
    const failures = await provisionQueue(snsSqsEndpoint, `failures-${Date.now()}`);
    const prefix = `retry-${Date.now()}`;
    const deliveries: string[][] = [];
    poller = new StreamPoller({
      dynamoEndpoint,
      streamArn,
      failureQueue: { endpoint: snsSqsEndpoint, url: failures.url },
      functions: [
        streamFunction(async (event) => {
          const mine = event.Records.filter((r) => keyOf(r)?.startsWith(prefix));
          if (mine.length === 0) return { batchItemFailures: [] };
          deliveries.push(mine.map((r) => keyOf(r)!));
          const poison = mine.find((r) => keyOf(r) === `${prefix}-2`);
          return { batchItemFailures: poison ? [{ itemIdentifier: poison.dynamodb!.SequenceNumber! }] : [] };
        }),
      ],
      log: () => undefined,
    });
    poller.start();
    for (let i = 0; i < 4; i++) {
      await ddb.send(new PutCommand({ TableName: tableName, Item: { pk: `${prefix}-${i}`, sk: 'A' } }));
    }
    const reported = await drainQueue(snsSqsEndpoint, failures.url, { expected: 1, timeoutMs: 10_000 });
    const flat = deliveries.flat();
    // Items before the poison one were delivered once; from it on, retried 1 + retryAttempts times.
    expect(flat.filter((k) => k === `${prefix}-0`)).toHaveLength(1);
    expect(flat.filter((k) => k === `${prefix}-2`)).toHaveLength(3);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.body).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted' },
      DDBStreamBatchInfo: { streamArn },
    });
  });
});
