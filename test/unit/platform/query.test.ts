import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { batchGetAll } from '../../../shared/platform/query.js';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  process.env.AWS_REGION = 'us-east-1';
  ddb.reset();
});
afterAll(() => ddb.restore());

const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: `K#${i}`, sk: 'X' }));

describe('batchGetAll', () => {
  it('reads 100 keys a batch and reads the keys DynamoDB left unprocessed again, with the read options', async () => {
    let first = true;
    ddb.on(BatchGetCommand).callsFake(async (input) => {
      const { Keys } = input.RequestItems.t;
      // The first batch leaves its last key unprocessed once (throttling).
      if (first && Keys.length === 100) {
        first = false;
        return { Responses: { t: Keys.slice(0, -1) }, UnprocessedKeys: { t: { ...input.RequestItems.t, Keys: Keys.slice(-1) } } };
      }
      return { Responses: { t: Keys } };
    });
    const items = await batchGetAll('t', keys(150), { ConsistentRead: true });
    expect(items.map((i) => i.pk).sort()).toEqual(keys(150).map((k) => k.pk).sort());
    const calls = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.t!);
    expect(calls.map((c) => c.Keys!.length)).toEqual([100, 1, 50]);
    expect(calls.every((c) => c.ConsistentRead === true)).toBe(true);
  });

  it('throws after maxRounds rounds of unprocessed keys instead of taking them for absent', async () => {
    ddb.on(BatchGetCommand).callsFake(async (input) => ({ Responses: { t: [] }, UnprocessedKeys: input.RequestItems }));
    await expect(batchGetAll('t', keys(3), { maxRounds: 3 })).rejects.toThrow(/left items of t unread after 3 rounds/);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(3);
  });
});
