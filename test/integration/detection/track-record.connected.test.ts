import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as listClusters } from '../../../functions/list-clusters.js';
import { handler as listTrackRecords } from '../../../functions/list-track-records.js';
import { handler as onTableChange } from '../../../functions/on-table-change.js';
import { handler as submit } from '../../../functions/submit-report.js';
import { handler as watchdog } from '../../../functions/watchdog.js';
import { scheduledEvent } from '../../../infra/local/scheduler.js';
import { subscribeQueue } from '../../../infra/local/provision.js';
import type { StreamPoller } from '../../../infra/local/stream-poller.js';
import { dayOf, dayToIso } from '../../../shared/detection/keys.js';
import { DEFAULT_TRACK_RECORD } from '../../../shared/detection/track-record.js';
import { forgetCachedRecords, noteDeclared, noteDismissed, noteSignals, standingsNow } from '../../../shared/incidents/track-records.js';
import { forgetReviewedWeek, reviewHeldCategories, weekOf } from '../../../shared/incidents/use-cases.js';
import { activeCategories } from '../../../shared/reports/taxonomy.js';
import { dynamo } from '../../../shared/platform/aws.js';
import { call, httpEvent, lambdaContext } from '../../support/events.js';
import { eventually } from '../../support/eventually.js';
import { drainQueue } from '../../support/queues.js';
import { incidentsApi } from '../../support/incidents.js';
import { validReport } from '../../support/reports.js';
import { startStreamFunction } from '../../support/stream.js';
import { users } from '../../support/users.js';

// No other test files reports of these categories: their track records are this test's alone.
const category = 'packaging_failure';
const good = 'container_damage';
const codes = () => activeCategories().taxonomy.categories.map((c) => c.code);
const standingNow = async (c: string, day: number, config: typeof DEFAULT_TRACK_RECORD) => (await standingsNow(codes(), day, config)).items.find((r) => r.category === c)!;
let poller: StreamPoller;
let alertsQueue: string;
const endpoint = inject('snsSqsEndpoint');

const forget = async () => {
  for (const c of [category, good]) await dynamo().send(new DeleteCommand({ TableName: process.env.TABLE_NAME, Key: { pk: `TRACK#${c}`, sk: 'RECORD' } }));
  forgetCachedRecords();
};
beforeAll(async () => {
  await forget(); // a run that crashed may have left its record
  alertsQueue = (await subscribeQueue({ sns: endpoint, sqs: endpoint }, process.env.INCIDENT_ALERTS_TOPIC_ARN!, `track-alerts-${Date.now()}`)).url;
  ({ poller } = startStreamFunction(onTableChange));
});
afterAll(async () => {
  poller.stop();
  await forget();
});

const unique = () => Math.random().toString(36).slice(2, 8).toUpperCase();

describe('track records in the live system', () => {
  it('holds back a category whose signals never became an incident, says why on the cluster, and learns from a declared incident', async () => {
    const config = DEFAULT_TRACK_RECORD;
    const today = dayOf(new Date());
    // History: 15 products signalled on this category 400 days ago, and none was declared; in
    // another, 10 signalled and all were declared 100 days later.
    await noteSignals(category, Array.from({ length: 15 }, (_, i) => `OLD-${i}`), today - 400, config, codes());
    await noteSignals(good, Array.from({ length: 10 }, (_, i) => `GOOD-${i}`), today - 400, config, codes());
    await noteDeclared(Array.from({ length: 10 }, (_, i) => ({ sku: `GOOD-${i}`, category: good })), today - 300, config);
    forgetCachedRecords();
    // Against every category (10 of 25, rate 0.40), this one (0 of 15, rate 0.031) is held back.
    expect(await standingNow(category, today, config)).toMatchObject({ standing: 'held', hits: 0, misses: 15 });
    expect(await standingNow(good, today, config)).toMatchObject({ standing: 'normal', hits: 10, misses: 0 });

    // Three reports on one lot in a day: the burst rule fires, and no candidate opens.
    const sku = `PKG-${unique()}`;
    const report = (n: number) => validReport({ product: { sku, name: 'Rice crackers' }, lotCode: 'B1', defect: { category, description: `bag split open ${n}` } });
    for (let n = 0; n < 3; n++) expect((await call(submit, httpEvent({ method: 'POST', path: '/reports', body: report(n), user: users.agent }))).status).toBe(201);
    const clusters = await eventually(
      async () => (await call(listClusters, httpEvent({ path: '/clusters', query: { window: '7', kind: 'lot', limit: '100' }, user: users.qa }))).body!,
      (body) => body.items.some((c: any) => c.key.sku === sku && c.latestSignal),
    );
    const cluster = clusters.items.find((c: any) => c.key.sku === sku);
    expect(cluster.latestSignal).toMatchObject({ rule: 'lot-burst', evidence: { count: 3 } });
    expect(cluster.notRaised).toMatch(
      new RegExp(`^0 of the 15 judged signal episodes of ${category} were followed by a recall within 365 days \\(rate 0\\.031; every category: 10 of 25, rate 0\\.404\\): signals of ${category} are held back \\(recorded, not raised as candidates\\) while its rate stays below 0\\.4 × the overall rate$`),
    );
    const candidates = (await incidentsApi.list({ status: 'candidate', limit: '100' })).body!.items as any[];
    expect(candidates.filter((i) => i.key?.sku === sku)).toEqual([]);
    // QA was told, once, that the category is now held back.
    const told = (await drainQueue(endpoint, alertsQueue, { expected: 1, quietMs: 1500 })).map((m) => JSON.parse(m.body.Message)).filter((a) => a.type === 'track-record');
    expect(told).toEqual([
      expect.objectContaining({ type: 'track-record', category, from: 'normal', to: 'held', hits: 0, misses: 15, overallRate: Number((10.5 / 26).toFixed(4)), runbook: 'runbooks/held-category.md' }),
    ]);

    // A sibling size signalled this week too (noted as the stream does).
    await noteSignals(category, [`${sku}-XL`], today, config, codes());
    // QA declares an incident by hand on the lot, its scope naming the sibling as well: both
    // episodes are hits (rate (2 + ½) / 18 = 0.14, still below 0.4 × the overall 0.45).
    const opened = await incidentsApi.open({
      title: 'Split bags',
      hazardClass: 'III',
      hazard: 'bags split open in transit',
      category,
      scope: { products: [{ sku, name: 'Rice crackers' }, { sku: `${sku}-XL`, name: 'Rice crackers XL' }], lots: [{ sku, lotCode: 'B1' }], regions: ['kanto'] },
    });
    expect(opened.status).toBe(201);
    expect(await standingNow(category, today, config)).toMatchObject({ standing: 'held', hits: 2, misses: 15 });

    // QA reads what was learnt, category by category of the taxonomy.
    const read = await call(listTrackRecords, httpEvent({ path: '/track-records', user: users.qa }));
    expect(read.status).toBe(200);
    expect(read.body!.learning).toBe(true);
    expect(read.body!.overall.hits).toBeGreaterThanOrEqual(12);
    const items = read.body!.items as any[];
    expect(items.find((r) => r.category === category)).toMatchObject({ label: 'Packaging failure (seal, closure)', standing: 'held', hits: 2, misses: 15, pending: 0, rate: Number((2.5 / 18).toFixed(4)) });
    // A harm category is never held back, and is listed as such.
    expect(items.find((r) => r.category === 'injury')).toMatchObject({ standing: 'normal', explanation: 'injury is a harm category: its signals are never held back' });
  });

  it('never lets a track record stop detection: when it cannot be read, the signals are judged without it', async () => {
    // Held again: 20 more old episodes without an incident; then the record cannot be read.
    await noteSignals(category, Array.from({ length: 20 }, (_, i) => `OLDER-${i}`), dayOf(new Date()) - 380, DEFAULT_TRACK_RECORD, codes());
    forgetCachedRecords();
    expect(await standingNow(category, dayOf(new Date()), DEFAULT_TRACK_RECORD)).toMatchObject({ standing: 'held' });
    const real = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint') }), { marshallOptions: { removeUndefinedValues: true } });
    const mock = mockClient(dynamo());
    for (const Command of [GetCommand, PutCommand, UpdateCommand, DeleteCommand, QueryCommand, BatchGetCommand, TransactWriteCommand] as const) {
      mock.on(Command as never).callsFake(async (input: any) => {
        if (Command === GetCommand && String(input.Key?.pk).startsWith('TRACK#')) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        return real.send(new (Command as any)(input));
      });
    }
    try {
      const sku = `PKG-${unique()}`;
      for (let n = 0; n < 3; n++) {
        const body = validReport({ product: { sku, name: 'Rice crackers' }, lotCode: 'B2', defect: { category, description: `torn seal ${n}` } });
        expect((await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }))).status).toBe(201);
      }
      const opened = await eventually(
        async () => ((await incidentsApi.list({ status: 'candidate', limit: '100' })).body!.items as any[]).filter((i) => i.key?.sku === sku),
        (items) => items.length > 0,
      );
      expect(opened[0]).toMatchObject({ status: 'candidate', openedBy: { rule: 'lot-burst' } });
    } finally {
      mock.restore();
    }
  });

  it('reminds QA once a week of the categories it holds back, with the products they signalled lately', async () => {
    const config = DEFAULT_TRACK_RECORD;
    const today = dayOf(new Date());
    forgetCachedRecords();
    expect(await standingNow(category, today, config)).toMatchObject({ standing: 'held' });
    // Lately in the held category: one product 3 days ago; one that began 40 days ago and still
    // signals (one episode, signalling again 5 days ago); one that signalled 40 days ago only.
    const lately = `PKG-${unique()}`;
    await noteSignals(category, [lately], today - 3, config, codes());
    await noteSignals(category, [`${lately}-STILL`, `${lately}-EARLIER`], today - 40, config, codes());
    await noteSignals(category, [`${lately}-STILL`], today - 5, config, codes());
    const queue = (await subscribeQueue({ sns: endpoint, sqs: endpoint }, process.env.INCIDENT_ALERTS_TOPIC_ARN!, `track-review-${Date.now()}`)).url;
    const reviews: any[] = [];
    const collect = async (quietMs: number) => {
      const messages = await drainQueue(endpoint, queue, { expected: 0, quietMs, timeoutMs: quietMs + 2000 });
      reviews.push(...messages.map((m) => JSON.parse(m.body.Message)).filter((a) => a.type === 'track-record-review'));
      return reviews;
    };

    // The watchdog's first run of the week reviews; its later runs in the week do not read again.
    forgetReviewedWeek();
    const first = (await watchdog(scheduledEvent('watchdog'), lambdaContext)) as { review?: unknown };
    expect(first.review).toEqual({ week: weekOf(new Date()), reviewed: true, held: 1 });
    const again = (await watchdog(scheduledEvent('watchdog'), lambdaContext)) as { review?: unknown };
    expect(again.review).toMatchObject({ reviewed: false });
    // Another instance reviewing the same week sends the same alert: QA gets one.
    forgetReviewedWeek();
    expect(await reviewHeldCategories({ clock: { now: () => new Date() }, trackRecord: config }, codes())).toMatchObject({ reviewed: true, held: 1 });
    await eventually(() => collect(500), (r) => r.length > 0);
    expect(await collect(1500)).toHaveLength(1);
    const [review] = reviews;
    expect(review).toMatchObject({ weekOf: weekOf(new Date()), recentDays: 30, runbook: 'runbooks/held-category.md' });
    expect(review.categories).toEqual([
      expect.objectContaining({
        category,
        hits: 2,
        recentProducts: 2,
        products: [
          { sku: lately, since: dayToIso(today - 3), lastSignal: dayToIso(today - 3) },
          { sku: `${lately}-STILL`, since: dayToIso(today - 40), lastSignal: dayToIso(today - 5) },
        ],
      }),
    ]);
    expect(review.explanation).toContain(`held back by their track record (${category})`);

    // Learning off: there is nothing to review.
    forgetReviewedWeek();
    expect(await reviewHeldCategories({ clock: { now: () => new Date() }, trackRecord: null }, codes())).toMatchObject({ reviewed: false, held: 0 });
  });

  it('counts a candidate QA dismissed as a miss at once, not a year on; a later recall still makes it a hit', async () => {
    await forget();
    const config = DEFAULT_TRACK_RECORD;
    const today = dayOf(new Date());
    // A lot burst on a fresh product opens a candidate; the stream notes its signal episode.
    const sku = `LID-${unique()}`;
    for (let n = 0; n < 3; n++) {
      const body = validReport({ product: { sku, name: 'Jar lid' }, lotCode: 'J1', defect: { category: good, description: `cracked lid ${n}` } });
      expect((await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }))).status).toBe(201);
    }
    const [candidate] = await eventually(
      async () => ((await incidentsApi.list({ status: 'candidate', limit: '100' })).body!.items as any[]).filter((i) => i.key?.sku === sku),
      (items) => items.length > 0,
    );
    forgetCachedRecords();
    expect(await standingNow(good, today, config)).toMatchObject({ hits: 0, misses: 0, pending: 1 });
    expect((await incidentsApi.act(candidate.id, { action: 'dismiss', expectedVersion: candidate.version, reason: 'one jar dropped in the shop' })).status).toBe(201);
    const dismissed = await standingNow(good, today, config);
    expect(dismissed).toMatchObject({ hits: 0, misses: 1, dismissed: 1, pending: 0 });
    expect(dismissed.explanation).toMatch(/^0 of the 1 judged signal episodes \(1 of them dismissed by QA, misses unless a recall follows\) of container_damage/);
    // Dismissing again (another candidate of the same episode) changes nothing.
    await noteDismissed([{ sku, category: good }], today, config);
    expect(await standingNow(good, today, config)).toMatchObject({ misses: 1, dismissed: 1 });
    // QA was wrong: a recall declared within the judging period turns it into a hit.
    await noteDeclared([{ sku, category: good }], today, config);
    expect(await standingNow(good, today, config)).toMatchObject({ hits: 1, misses: 0, pending: 0 });
    expect((await standingNow(good, today, config)).dismissed).toBeUndefined();
    await forget();
  });

  it('shows the track records to QA, executives and admins only', async () => {
    for (const [user, status] of [[users.qa, 200], [users.executive, 200], [users.admin, 200], [users.agent, 403], [users.storeKanto, 403], [undefined, 401]] as const) {
      expect((await call(listTrackRecords, httpEvent({ path: '/track-records', ...(user ? { user } : {}) }))).status).toBe(status);
    }
  });
});
