import { DynamoDBClient, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as listIncidents } from '../../../functions/list-incidents.js';
import { handler as onTableChange } from '../../../functions/on-table-change.js';
import { handler as submit } from '../../../functions/submit-report.js';
import { dynamo } from '../../../shared/platform/aws.js';
import { mulberry32 } from '../../../shared/platform/random.js';
import { reportKey } from '../../../shared/reports/repository.js';
import { call, httpEvent, lambdaContext } from '../../support/events.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

/**
 * DynamoDB cancels one of two transactions that touch the same item at once
 * (`TransactionConflict`), and a plain write racing a transaction fails with
 * `TransactionConflictException`. DynamoDB Local serialises everything and never does, so
 * this test puts aws-sdk-client-mock in front of the real DynamoDB Local: each write either
 * fails with a conflict (seeded, one in five, writing nothing, as DynamoDB does) or
 * goes through to the real table.
 */
const real = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint') }), { marshallOptions: { removeUndefinedValues: true } });
const COMMANDS = [GetCommand, PutCommand, UpdateCommand, DeleteCommand, QueryCommand, BatchGetCommand, TransactWriteCommand] as const;
const injected = { transactions: 0, writes: 0 };
let mock: ReturnType<typeof mockClient>;

function withConflicts(rate: number, seed: number) {
  const random = mulberry32(seed);
  mock = mockClient(dynamo());
  for (const Command of COMMANDS) {
    mock.on(Command as never).callsFake(async (input: any) => {
      if (Command === TransactWriteCommand && random() < rate) {
        injected.transactions++;
        const conflicting = Math.floor(random() * input.TransactItems.length);
        throw new TransactionCanceledException({
          message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
          $metadata: { httpStatusCode: 400 },
          CancellationReasons: input.TransactItems.map((_: unknown, i: number) => ({ Code: i === conflicting ? 'TransactionConflict' : 'None' })),
        });
      }
      if ((Command === UpdateCommand || Command === PutCommand) && random() < rate) {
        injected.writes++;
        throw new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: { httpStatusCode: 400 } });
      }
      return real.send(new (Command as any)(input));
    });
  }
}

async function streamRecordsOf(ids: string[]): Promise<DynamoDBRecord[]> {
  const records: DynamoDBRecord[] = [];
  for (const [i, id] of ids.entries()) {
    const { Item } = await real.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: reportKey(id) }));
    records.push({
      eventID: `e-${i}`,
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      dynamodb: { Keys: marshall(reportKey(id)) as never, NewImage: marshall(Item!, { removeUndefinedValues: true }) as never, SequenceNumber: String(1000 + i), StreamViewType: 'NEW_IMAGE' },
    });
  }
  return records;
}

// A whole batch of a hot lot is handled in order: give it the time a long invocation has.
const longContext = { ...lambdaContext, getRemainingTimeInMillis: () => 170_000 };

const sku = `BURST-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
let ids: string[] = [];

beforeAll(async () => {
  // 200 reports of one lot filed the same morning: the burst the system exists to see.
  for (let n = 0; n < 200; n++) {
    // One of them also tells of an injury: its alert must reach QA though the candidate's
    // evidence links the report before the stream reaches it.
    const harm = n === 57 ? { harm: { injury: true, illness: false, medicalAttention: true } } : {};
    const body = validReport({ product: { sku, name: 'Almond bar' }, lotCode: 'L-HOT', defect: { category: 'foreign_matter', description: `plastic film ${n}` }, ...harm });
    const response = await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }));
    expect(response.status).toBe(201);
    ids.push(response.body!.id);
  }
}, 120_000);
afterAll(() => mock?.restore());

describe('counting under transaction conflicts', () => {
  it('counts 200 reports on one lot in one batch exactly once, opens one candidate, and fails no record', async () => {
    const records = await streamRecordsOf(ids);
    // Too little time left in the invocation: nothing is started, everything goes back in order.
    const late = await onTableChange({ Records: records }, { ...lambdaContext, getRemainingTimeInMillis: () => 4_000 });
    expect(late).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]!.dynamodb!.SequenceNumber }] });
    withConflicts(0.2, 7);
    const result = await onTableChange({ Records: records }, longContext);
    mock.restore();

    expect(result).toEqual({ batchItemFailures: [] });
    // The injection really happened, on both kinds of write.
    expect(injected.transactions).toBeGreaterThan(40);
    expect(injected.writes).toBeGreaterThan(40);

    const day = (await real.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: reportKey(ids[0]!) }))).Item!.record.receivedAt.slice(0, 10);
    const counter = async (key: string) => {
      const page = await real.send(new QueryCommand({ TableName: process.env.TABLE_NAME, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `COUNT#${key}` } }));
      return (page.Items ?? []).reduce((sum, item) => sum + Number(item.n), 0);
    };
    expect(await counter(`lot|${sku}|L-HOT|foreign_matter`)).toBe(200);
    expect(await counter(`product|${sku}|foreign_matter`)).toBe(200);
    expect(await counter(`total|product|${sku}`)).toBe(200);
    expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const listed = await call(listIncidents, httpEvent({ path: '/incidents', query: { status: 'candidate', limit: '100' }, user: users.qa }));
    const mine = (listed.body!.items as any[]).filter((i) => i.key.sku === sku);
    expect(mine).toHaveLength(1);
    expect(mine[0].reportCount).toBe(200);
    const harmAlert = await real.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: `OUTBOX#harm-${mine[0].id}-${ids[57]}`, sk: 'OUTBOX' } }));
    expect(harmAlert.Item, 'the injury’s alert is in the outbox').toBeDefined();

    // A redelivery (the first 40 records again, conflicts and all) changes nothing.
    withConflicts(0.2, 11);
    expect(await onTableChange({ Records: records.slice(0, 40) }, longContext)).toEqual({ batchItemFailures: [] });
    mock.restore();
    expect(await counter(`lot|${sku}|L-HOT|foreign_matter`)).toBe(200);
    const again = await call(listIncidents, httpEvent({ path: '/incidents', query: { status: 'candidate', limit: '100' }, user: users.qa }));
    expect((again.body!.items as any[]).filter((i) => i.key.sku === sku).map((i) => i.reportCount)).toEqual([200]);
  }, 180_000);

  it('links the evidence again when the report that opened the candidate is retried after its links failed', async () => {
    const listed = await call(listIncidents, httpEvent({ path: '/incidents', query: { status: 'candidate', limit: '100' }, user: users.qa }));
    const incident = (listed.body!.items as any[]).find((i) => i.key.sku === sku)!;
    const opener = incident.openedBy.reportId as string;
    const earlier = ids.find((id) => id !== opener)!;
    // As if the opener's evidence link to an earlier report had never been written.
    const TableName = process.env.TABLE_NAME;
    await real.send(new DeleteCommand({ TableName, Key: { pk: `INCIDENT#${incident.id}`, sk: `REPORT#${earlier}` } }));
    await real.send(new UpdateCommand({ TableName, Key: { pk: `INCIDENT#${incident.id}`, sk: 'INCIDENT' }, UpdateExpression: 'ADD #r.reportCount :minus', ExpressionAttributeNames: { '#r': 'record' }, ExpressionAttributeValues: { ':minus': -1 } }));
    const [record] = await streamRecordsOf([opener]);
    expect(await onTableChange({ Records: [record!] }, longContext)).toEqual({ batchItemFailures: [] });
    const link = await real.send(new GetCommand({ TableName, Key: { pk: `INCIDENT#${incident.id}`, sk: `REPORT#${earlier}` } }));
    expect(link.Item).toBeDefined();
    const again = await call(listIncidents, httpEvent({ path: '/incidents', query: { status: 'candidate', limit: '100' }, user: users.qa }));
    expect((again.body!.items as any[]).find((i) => i.id === incident.id).reportCount).toBe(200);
  }, 60_000);
});
