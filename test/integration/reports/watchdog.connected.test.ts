import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { subscribeQueue } from '../../../infra/local/provision.js';
import { scheduledEvent } from '../../../infra/local/scheduler.js';
import type { StreamPoller } from '../../../infra/local/stream-poller.js';
import { call, httpEvent, lambdaContext } from '../../support/events.js';
import { drainQueue } from '../../support/queues.js';
import { startStreamFunction } from '../../support/stream.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

const endpoint = inject('snsSqsEndpoint');
let delivered: DynamoDBRecord[];
// The functions are imported after LOG_LEVEL is set: the logger reads it once, at cold start.
process.env.LOG_LEVEL = 'INFO';
const { handler: getReport } = await import('../../../functions/get-report.js');
const { handler: onTableChange } = await import('../../../functions/on-table-change.js');
const { handler: submit } = await import('../../../functions/submit-report.js');
const { handler: watchdog } = await import('../../../functions/watchdog.js');
let poller: StreamPoller;
let alertsQueue: string;

// Everything the functions write to stdout during this file, to check for personal data.
let captured = '';
const realWrite = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any, ...rest: any[]) => {
    captured += String(chunk);
    return realWrite(chunk, ...rest);
  });
  alertsQueue = (await subscribeQueue({ sns: endpoint, sqs: endpoint }, process.env.INCIDENT_ALERTS_TOPIC_ARN!, `alerts-${Date.now()}`)).url;
  ({ poller, delivered } = startStreamFunction(onTableChange));
});

afterAll(async () => {
  await poller.stop();
  vi.restoreAllMocks();
});

const runWatchdog = async () => ((await watchdog(scheduledEvent('watchdog'), lambdaContext)) as { reports: { examined: number; breaches: number } }).reports;

describe('watchdog', () => {
  it('marks a breach once and publishes exactly one escalation, however often it runs', async () => {
    // Received 20 minutes ago: the 15-minute handoff is breached, the 2-hour clock is not.
    const receivedAt = new Date(Date.now() - 20 * 60_000).toISOString();
    const created = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: validReport({ receivedAt }), user: users.agent }));
    const id = created.body!.id;

    const first = await runWatchdog();
    const second = await runWatchdog();
    expect(first.breaches).toBe(1);
    expect(second).toMatchObject({ examined: 0, breaches: 0 });

    const alerts = await drainQueue(endpoint, alertsQueue, { expected: 1, quietMs: 1500 });
    expect(alerts).toHaveLength(1);
    const alert = JSON.parse(alerts[0]!.body.Message);
    expect(alert).toMatchObject({ type: 'clock-breached', reportId: id, clock: 'handoff', owner: 'customer desk', runbook: 'runbooks/clock-breach.md' });
    expect(alerts[0]!.body.MessageAttributes.alertType.Value).toBe('clock-breach');
    const contact = validReport().contact;
    for (const secret of [contact.name, contact.phone, contact.email]) expect(alerts[0]!.raw).not.toContain(secret);

    const read = await call(getReport, httpEvent({ path: `/reports/${id}`, routeKey: 'GET /reports/{id}', pathParameters: { id }, user: users.qa }));
    expect(read.body!.timeline.filter((e: any) => e.type === 'clock-breached')).toHaveLength(1);
    expect(read.body!.clocks.find((c: any) => c.id === 'handoff').escalatedAt).toBeDefined();
    expect(read.body!.clockState).toBe('overdue');
  });

  it('publishes nothing more when the stream redelivers the outbox record', async () => {
    const outboxRecords = delivered.filter((r) => r.dynamodb?.NewImage?.kind?.S === 'outbox');
    expect(outboxRecords.length).toBeGreaterThan(0);
    await onTableChange({ Records: outboxRecords }, lambdaContext);
    await onTableChange({ Records: outboxRecords }, lambdaContext);
    expect(await drainQueue(endpoint, alertsQueue, { expected: 0, quietMs: 1000, timeoutMs: 2000 })).toEqual([]);
  });

  it('leaves a clock alone when its milestone was recorded in time', async () => {
    const created = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: validReport(), user: users.agent }));
    expect(created.status).toBe(201);
    expect((await runWatchdog()).breaches).toBe(0);
  });

  it('keeps personal data out of logs and alerts', async () => {
    // The run above published at least one alert and logged every request.
    const contact = validReport().contact;
    expect(captured).toContain('stream item received');
    for (const secret of [contact.name, contact.phone, contact.email]) {
      expect(captured).not.toContain(secret);
    }
  });
});

describe('watchdog on a report of the older layout', () => {
  /** Rewrites a report item as the older layout stored it (text inside `record`). */
  async function toOlderLayout(id: string, update: string, values: Record<string, string>) {
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo } = await import('../../../shared/platform/aws.js');
    const { reportKey } = await import('../../../shared/reports/repository.js');
    await dynamo().send(
      new UpdateCommand({ TableName: process.env.TABLE_NAME, Key: reportKey(id), UpdateExpression: update, ExpressionAttributeNames: { '#record': 'record' }, ExpressionAttributeValues: values }),
    );
  }
  it('moves the customer’s words out of the record instead of dropping them when it saves the report', async () => {
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo } = await import('../../../shared/platform/aws.js');
    const { reportKey } = await import('../../../shared/reports/repository.js');
    const receivedAt = new Date(Date.now() - 30 * 60_000).toISOString();
    const body = validReport({ receivedAt, defect: { category: 'foreign_matter', description: 'old layout: film in the bar' } });
    const created = await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }));
    const id = created.body!.id;
    // Before the narrative had its own attribute, the text lived inside `record`.
    await toOlderLayout(id, 'SET #record.defect.description = :d REMOVE narrative', { ':d': 'old layout: film in the bar' });
    expect((await runWatchdog()).breaches).toBeGreaterThanOrEqual(1);
    const item = (await dynamo().send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: reportKey(id) }))).Item!;
    expect(item.narrative).toMatchObject({ defectDescription: 'old layout: film in the bar' });
    expect(item.record.defect.description).toBeUndefined();
    const read = await call(getReport, httpEvent({ path: `/reports/${id}`, pathParameters: { id }, user: users.qa }));
    expect(read.body!.defect.description).toBe('old layout: film in the bar');
  });

  it('moves what the desk wrote on the clocks out of the record, and no list shows it meanwhile', async () => {
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo } = await import('../../../shared/platform/aws.js');
    const { reportKey } = await import('../../../shared/reports/repository.js');
    const { handler: listReports } = await import('../../../functions/list-reports.js');
    const sku = `OLDNOTE-${Date.now()}`;
    const receivedAt = new Date(Date.now() - 30 * 60_000).toISOString();
    const created = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: validReport({ receivedAt, product: { sku, name: 'Wafer' } }), user: users.agent }));
    const id = created.body!.id;
    // Before desk notes had their own attribute, a milestone's note lived on the clock in `record`.
    await toOlderLayout(id, 'SET #record.clocks[2].note = :n REMOVE deskNotes', { ':n': 'old layout: Mr Kobayashi called twice' });
    const listed = await call(listReports, httpEvent({ path: '/reports', query: { sku }, user: users.qa }));
    expect(listed.body!.items.map((r: { id: string }) => r.id)).toContain(id);
    expect(JSON.stringify(listed.body)).not.toContain('Kobayashi');
    expect((await runWatchdog()).breaches).toBeGreaterThanOrEqual(1);
    const item = (await dynamo().send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: reportKey(id) }))).Item!;
    expect(JSON.stringify(item.record)).not.toContain('Kobayashi');
    expect(JSON.stringify(item.deskNotes)).toContain('Kobayashi');
    const read = await call(getReport, httpEvent({ path: `/reports/${id}`, pathParameters: { id }, user: users.qa }));
    expect(JSON.stringify(read.body!.clocks)).toContain('old layout: Mr Kobayashi called twice');
  });
});
