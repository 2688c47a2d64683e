import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as listClusters } from '../../../functions/list-clusters.js';
import { handler as incidentAction } from '../../../functions/incident-action.js';
import { handler as listIncidents } from '../../../functions/list-incidents.js';
import { handler as onTableChange } from '../../../functions/on-table-change.js';
import { handler as submit } from '../../../functions/submit-report.js';
import { subscribeQueue } from '../../../infra/local/provision.js';
import type { StreamPoller } from '../../../infra/local/stream-poller.js';
import { DEFAULT_DETECTION_CONFIG, detectionConfigFrom } from '../../../shared/detection/config.js';
import { DynamoCounterStore } from '../../../shared/detection/dynamo-store.js';
import { clustersSince, saveClusterSummary } from '../../../shared/incidents/repository.js';
import { detectAndEscalate } from '../../../shared/incidents/candidates.js';
import { dynamo } from '../../../shared/platform/aws.js';
import { systemClock } from '../../../shared/platform/clock.js';
import { newId } from '../../../shared/platform/ids.js';
import { call, httpEvent, lambdaContext } from '../../support/events.js';
import { drainQueue } from '../../support/queues.js';
import { eventually } from '../../support/eventually.js';
import { startStreamFunction } from '../../support/stream.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

const endpoint = inject('snsSqsEndpoint');
let poller: StreamPoller;
let delivered: DynamoDBRecord[];
let alertsQueue: string;

beforeAll(async () => {
  alertsQueue = (await subscribeQueue({ sns: endpoint, sqs: endpoint }, process.env.INCIDENT_ALERTS_TOPIC_ARN!, `cand-alerts-${Date.now()}`)).url;
  ({ poller, delivered } = startStreamFunction(onTableChange));
});
afterAll(() => poller.stop());

const unique = () => Math.random().toString(36).slice(2, 8).toUpperCase();
const candidates = async () => (await call(listIncidents, httpEvent({ path: '/incidents', query: { status: 'candidate', limit: '100' }, user: users.qa }))).body!.items as any[];
const alertsFor = (messages: { body: any }[], sku: string) =>
  messages.map((m) => JSON.parse(m.body.Message)).filter((a) => a.type === 'candidate-incident' && a.clusterKey.sku === sku);

async function counters(sku: string) {
  const page = await dynamo().send(
    new QueryCommand({ TableName: process.env.TABLE_NAME, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `COUNT#product|${sku}|injury` } }),
  );
  return (page.Items ?? []).map((i) => [i.sk, i.n]);
}

describe('detection and escalation', () => {
  it('turns an injury report into a candidate incident with its evidence and exactly one alert; later reports attach', async () => {
    const sku = `INJ-${unique()}`;
    const report = (n: number) =>
      validReport({ product: { sku, name: 'Hard candy' }, lotCode: 'L1', defect: { category: 'injury', description: `chipped tooth ${n}` }, harm: { injury: true, illness: false, medicalAttention: true } });
    const first = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: report(1), user: users.agent }));
    expect(first.status).toBe(201);

    const open = await eventually(candidates, (items) => items.some((i) => i.key.sku === sku));
    const incident = open.find((i) => i.key.sku === sku)!;
    expect(incident).toMatchObject({ status: 'candidate', reportCount: 1, recentReportIds: [first.body!.id], key: { kind: 'lot', lot: 'L1', category: 'injury' } });
    expect(incident.openedBy).toMatchObject({ rule: 'harm', reportId: first.body!.id, evidence: { injury: true } });

    const second = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: report(2), user: users.agent }));
    const updated = await eventually(candidates, (items) => items.find((i) => i.id === incident.id)?.reportCount === 2);
    expect(updated.find((i) => i.id === incident.id)!.recentReportIds).toEqual([second.body!.id, first.body!.id]);
    expect(updated.filter((i) => i.key.id === incident.key.id)).toHaveLength(1);

    const alerts = alertsFor(await drainQueue(endpoint, alertsQueue, { expected: 1, quietMs: 1500 }), sku);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ incidentId: incident.id, rule: 'harm', runbook: 'runbooks/triage-candidate.md' });
    expect(JSON.stringify(alerts[0])).not.toContain('Hanako');
  });

  it('notifies QA of an injury told in a complaint whose category is not itself harm, without opening a candidate', async () => {
    const sku = `CUT-${unique()}`;
    const body = validReport({ product: { sku, name: 'Nut bar' }, defect: { category: 'foreign_matter', description: 'a shard cut my lip' }, harm: { injury: true, illness: false, medicalAttention: false } });
    const filed = await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }));
    expect(filed.status).toBe(201);
    const alerts = (await drainQueue(endpoint, alertsQueue, { expected: 1, quietMs: 1500 })).map((m) => JSON.parse(m.body.Message)).filter((a) => a.clusterKey?.sku === sku);
    expect(alerts).toEqual([expect.objectContaining({ type: 'harm-report', reportId: filed.body!.id, runbook: 'runbooks/triage-candidate.md#an-injury-or-illness-outside-any-incident' })]);
    expect(alerts[0].incidentId).toBeUndefined();
    expect(JSON.stringify(alerts[0])).not.toContain('lip');
    expect((await candidates()).filter((i) => i.key.sku === sku)).toEqual([]);
  });

  it('leaves every counter and candidate unchanged when a batch is delivered twice', async () => {
    const sku = `REDO-${unique()}`;
    const body = validReport({ product: { sku, name: 'Jelly' }, defect: { category: 'injury', description: 'cut' }, harm: { injury: true, illness: false, medicalAttention: false } });
    const created = await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }));
    await eventually(candidates, (items) => items.some((i) => i.key.sku === sku));
    const before = { counters: await counters(sku), incidents: (await candidates()).filter((i) => i.key.sku === sku) };
    expect(before.counters).toEqual([[expect.stringMatching(/^DAY#/), 1]]);

    const batch = delivered.filter((r) => r.dynamodb?.NewImage?.record?.M?.id?.S === created.body!.id);
    expect(batch).toHaveLength(1);
    await onTableChange({ Records: batch }, lambdaContext);
    await onTableChange({ Records: batch }, lambdaContext);

    expect(await counters(sku)).toEqual(before.counters);
    expect((await candidates()).filter((i) => i.key.sku === sku)).toEqual(before.incidents);
    const forged = await call(listIncidents, httpEvent({ path: '/incidents', query: { cursor: Buffer.from('{}').toString('base64url') }, user: users.qa }));
    expect(forged.status).toBe(400);
    expect(alertsFor(await drainQueue(endpoint, alertsQueue, { expected: 1, quietMs: 1500 }), sku)).toHaveLength(1);
  });

  it('opens one candidate when reports on one key arrive at the same time', async () => {
    const sku = `CONC-${unique()}`;
    const deps = { store: new DynamoCounterStore(process.env.TABLE_NAME!), config: DEFAULT_DETECTION_CONFIG, clock: systemClock };
    const observation = (i: number) => ({
      reportId: `01CONC${unique()}${i}`,
      at: new Date().toISOString(),
      sku,
      lot: 'L9',
      plant: 'P1',
      category: 'injury' as const,
      injury: true,
      illness: false,
      categoryIsHarm: true,
    });
    // As the stream would: a failed attempt (a transaction conflict) is retried.
    const withRetry = async (i: number) => {
      const o = observation(i);
      for (let attempt = 0; ; attempt++) {
        try {
          return await detectAndEscalate(o, deps);
        } catch (error) {
          if (attempt >= 10) throw error;
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => withRetry(i)));
    const all = await candidates();
    const lot = all.filter((i) => i.key.id === `lot|${sku}|L9|injury`);
    expect(lot).toHaveLength(1);
    expect(lot[0]!.reportCount).toBe(12);
    expect(lot[0]!.recentReportIds).toHaveLength(12);
    expect(lot[0]!.keys[`lot|${sku}|L9|injury`].evidence.harm).toMatchObject({ rule: 'harm' });
    // Whatever else fired (a burst on the product or plant key) joined the same problem.
    const ofSku = all.filter((i) => Object.keys(i.keys).some((k) => k.includes(`|${sku}|`)));
    expect(ofSku).toHaveLength(1);
  });

  it('lists the busiest cluster keys with counts and the latest statistic', async () => {
    const sku = `TOP-${unique()}`;
    for (let i = 0; i < 3; i++) {
      await call(submit, httpEvent({ method: 'POST', path: '/reports', body: validReport({ product: { sku, name: 'Wafer' }, lotCode: 'BURST', defect: { category: 'mislabelling_allergen', description: 'contains peanut, not on label' } }), user: users.agent }));
    }
    const top = await eventually(
      async () => (await call(listClusters, httpEvent({ path: '/clusters', query: { window: '7', kind: 'lot' }, user: users.qa }))).body!,
      (body) => body.items.some((c: any) => c.key.sku === sku && c.count === 3),
    );
    const cluster = top.items.find((c: any) => c.key.sku === sku);
    expect(cluster).toMatchObject({ count: 3, counts: { '7': 3 }, key: { kind: 'lot', lot: 'BURST', category: 'mislabelling_allergen' } });
    expect(cluster.latestSignal).toMatchObject({ rule: 'lot-burst', evidence: { count: 3, statistic: 'poisson-upper-tail' } });
    const bad = await call(listClusters, httpEvent({ path: '/clusters', query: { window: '8' }, user: users.qa }));
    expect(bad.status).toBe(400);
  });

  it('keeps a key’s latest signal when a later report raises none, and keeps the fullest picture of a day', async () => {
    const key = { kind: 'lot' as const, id: `lot|KEEP-${unique()}|L1|other`, sku: 'KEEP', lot: 'L1', category: 'other' as const };
    const signal = { rule: 'lot-burst' as const, key, at: '2026-11-01T00:00:00.000Z', reportId: 'r1', evidence: { count: 5 } };
    await saveClusterSummary({ key, lastReportAt: '2026-11-01T00:00:00.000Z', counts: { '7': 5, '365': 5 }, latestSignal: signal });
    await saveClusterSummary({ key, lastReportAt: '2026-11-02T08:00:00.000Z', counts: { '7': 6, '365': 6 } });
    // Judged at the same time as the one above, it saw one report less: it must not win.
    await saveClusterSummary({ key, lastReportAt: '2026-11-02T09:00:00.000Z', counts: { '7': 5, '365': 5 } });
    // A redelivery of an old report.
    await saveClusterSummary({ key, lastReportAt: '2026-10-01T00:00:00.000Z', counts: { '7': 1, '365': 1 } });
    const { items } = await clustersSince('2026-10-15T00:00:00.000Z', 5000);
    expect(items.find((c) => c.key.id === key.id)).toMatchObject({ lastReportAt: '2026-11-02T08:00:00.000Z', counts: { '7': 6 }, latestSignal: { rule: 'lot-burst' } });
  });
});

describe('one problem, one candidate', () => {
  const deps = () => ({ store: new DynamoCounterStore(process.env.TABLE_NAME!), config: DEFAULT_DETECTION_CONFIG, clock: systemClock });
  const allergen = (sku: string, lot: string, at: Date) => ({
    reportId: newId(at),
    at: at.toISOString(),
    sku,
    lot,
    plant: `P-${sku}`,
    category: 'mislabelling_allergen' as const,
    injury: false,
    illness: false,
  });
  const ofSku = async (sku: string) => {
    const items: any[] = [];
    for (const status of ['candidate', 'dismissed']) {
      items.push(...(await call(listIncidents, httpEvent({ path: '/incidents', query: { status, limit: '100' }, user: users.qa }))).body!.items);
    }
    return items.filter((i) => Object.keys(i.keys).some((k) => k.includes(`|${sku}|`) || k.endsWith(`|P-${sku}|mislabelling_allergen`)));
  };

  it('opens one candidate listing every key whose rule fired, each with its evidence', async () => {
    const sku = `ONE-${unique()}`;
    const day = new Date(Date.now() - 3 * 86_400_000);
    const results = [];
    // Bursts judged on lot, product and plant keys (the defaults judge lots only): the lot
    // fires first; the product and plant keys fire on the third report and join it.
    const everyKind = detectionConfigFrom({ lotBurst: { kinds: ['lot', 'product', 'plant'] } });
    for (let i = 0; i < 3; i++) results.push(await detectAndEscalate(allergen(sku, 'L1', new Date(day.getTime() + i * 60_000)), { ...deps(), config: everyKind }));
    expect(results.flatMap((r) => r.opened)).toHaveLength(1);
    const fired = new Set(results.flatMap((r) => r.signals.map((s) => s.key.id)));
    expect(fired.size).toBeGreaterThanOrEqual(2);
    const candidates = await ofSku(sku);
    expect(candidates).toHaveLength(1);
    expect(Object.keys(candidates[0].keys).sort()).toEqual([...fired].sort());
    for (const entry of Object.values(candidates[0].keys) as any[]) expect(Object.keys(entry.evidence).length).toBeGreaterThan(0);
  });

  it('frees a dismissed key: a later signal opens a new candidate only when its evidence has grown', async () => {
    const sku = `DIS-${unique()}`;
    const day = new Date(Date.now() - 30 * 86_400_000);
    for (let i = 0; i < 2; i++) await detectAndEscalate(allergen(sku, 'L1', new Date(day.getTime() + i * 60_000)), deps());
    const [candidate] = await ofSku(sku);
    const dismissed = await call(
      incidentAction,
      httpEvent({ method: 'POST', path: `/incidents/${candidate.id}/actions`, pathParameters: { id: candidate.id }, body: { action: 'dismiss', expectedVersion: 1, reason: 'one customer called twice' }, user: users.qa }),
    );
    expect(dismissed.status).toBe(201);
    // Ten days later the same two-report burst: no more evidence than was dismissed.
    const later = new Date(day.getTime() + 10 * 86_400_000);
    const same = [];
    for (let i = 0; i < 2; i++) same.push(await detectAndEscalate(allergen(sku, 'L1', new Date(later.getTime() + i * 60_000)), deps()));
    expect(same.flatMap((r) => r.signals).length).toBeGreaterThan(0);
    expect(same.flatMap((r) => r.opened)).toEqual([]);
    // A third report that day: the burst is bigger than the dismissed one.
    const grown = await detectAndEscalate(allergen(sku, 'L1', new Date(later.getTime() + 3 * 60_000)), deps());
    expect(grown.opened).toHaveLength(1);
    const open = (await ofSku(sku)).filter((i) => i.status === 'candidate');
    expect(open.map((i) => i.id)).toEqual(grown.opened);
  });

  it('heals a key left pointing at a dismissed candidate (claimed while it was dismissed)', async () => {
    const sku = `HEAL-${unique()}`;
    const injury = () => ({ ...allergen(sku, 'L1', new Date()), category: 'injury' as const, injury: true, categoryIsHarm: true });
    const first = await detectAndEscalate(injury(), deps());
    const id = first.opened[0]!;
    await call(incidentAction, httpEvent({ method: 'POST', path: `/incidents/${id}/actions`, pathParameters: { id }, body: { action: 'dismiss', expectedVersion: 1, reason: 'test' }, user: users.qa }));
    // The race, replayed: a report claimed the key just before the dismissal committed.
    await dynamo().send(new PutCommand({ TableName: process.env.TABLE_NAME, Item: { pk: `OPEN#lot|${sku}|L1|injury`, sk: 'OPEN', kind: 'open-incident', incidentId: id } }));
    const next = await detectAndEscalate(injury(), deps());
    expect(next.opened).toHaveLength(1);
    expect(next.opened[0]).not.toBe(id);
  });

  it('raises its own high-severity alert for every new injury on an open candidate', async () => {
    const sku = `HARM-${unique()}`;
    const injury = () => ({ ...allergen(sku, 'L1', new Date()), category: 'injury' as const, injury: true, categoryIsHarm: true });
    const first = await detectAndEscalate(injury(), deps());
    const second = await detectAndEscalate(injury(), deps());
    const third = await detectAndEscalate(injury(), deps());
    expect(first.opened).toHaveLength(1);
    expect([second.opened, third.opened]).toEqual([[], []]);
    // Drained by the stream function's publisher: one candidate alert and two harm alerts.
    const alerts = (await drainQueue(endpoint, alertsQueue, { expected: 3, quietMs: 1500 })).map((m) => ({ ...JSON.parse(m.body.Message), severity: m.body.MessageAttributes.severity.Value }));
    const mine = alerts.filter((a) => a.incidentId === first.opened[0]);
    expect(mine.map((a) => a.type).sort()).toEqual(['candidate-incident', 'harm-report', 'harm-report']);
    expect(mine.every((a) => a.severity === 'high')).toBe(true);
    // Replayed: no new alert.
    await detectAndEscalate({ ...injury(), reportId: mine.find((a) => a.type === 'harm-report')!.reportId }, deps());
    expect((await drainQueue(endpoint, alertsQueue, { expected: 0, quietMs: 1500 })).filter((m) => m.raw.includes(first.opened[0]!))).toEqual([]);
  });
});
