import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as acknowledge } from '../../../functions/acknowledge-notice.js';
import { handler as correctAck } from '../../../functions/correct-acknowledgement.js';
import { handler as getReport } from '../../../functions/get-report.js';
import { handler as onTableChange } from '../../../functions/on-table-change.js';
import { handler as publicNotices } from '../../../functions/public-notices.js';
import { handler as putStore } from '../../../functions/put-store.js';
import { handler as sendReply } from '../../../functions/send-reply.js';
import { handler as storeNotices } from '../../../functions/store-notices.js';
import { handler as submit } from '../../../functions/submit-report.js';
import { storeFilterPolicy, subscribeQueue } from '../../../infra/local/provision.js';
import type { StreamPoller } from '../../../infra/local/stream-poller.js';
import { textHash } from '../../../shared/incidents/disclosure.js';
import { DEFAULT_INCIDENT_POLICY } from '../../../shared/incidents/policy.js';
import { runIncidentWatchdog } from '../../../shared/incidents/use-cases.js';
import { sweepOutbox } from '../../../shared/notices/use-cases.js';
import { dynamo } from '../../../shared/platform/aws.js';
import { fixedClock } from '../../../shared/platform/clock.js';
import { outboxKey } from '../../../shared/platform/outbox.js';
import { TOPICS, type TopicId } from '../../../shared/platform/topics.js';
import { call, callText, httpEvent } from '../../support/events.js';
import { incidentsApi as api, NOTICE, REPLY, step } from '../../support/incidents.js';
import { drainQueue } from '../../support/queues.js';
import { validReport } from '../../support/reports.js';
import { startStreamFunction } from '../../support/stream.js';
import { users } from '../../support/users.js';

const endpoint = inject('snsSqsEndpoint');
const sns = { sns: endpoint, sqs: endpoint };
const tag = Math.random().toString(36).slice(2, 7);
const unique = () => Math.random().toString(36).slice(2, 8).toUpperCase();
/** Six stores in three regions of this file's own, each with its queue and filter policy. */
const STORES = [1, 2, 3, 4, 5, 6].map((n) => ({ storeId: `nt-${tag}-s${n}`, region: `nt-${tag}-r${Math.ceil(n / 2)}` }));
const queues: Record<string, string> = {};
let alertsQueue: string;
let repliesQueue: string;
let poller: StreamPoller;
let delivered: DynamoDBRecord[];
const topicArns = Object.fromEntries((Object.keys(TOPICS) as TopicId[]).map((t) => [t, process.env[TOPICS[t].envVar]!])) as Record<TopicId, string>;

beforeAll(async () => {
  for (const store of STORES) {
    await call(putStore, httpEvent({ method: 'PUT', path: `/stores/${store.storeId}`, pathParameters: { id: store.storeId }, body: { region: store.region, name: store.storeId }, user: users.admin }));
    queues[store.storeId] = (await subscribeQueue(sns, topicArns.storeNotices, `nt-${store.storeId}`, storeFilterPolicy(store))).url;
  }
  alertsQueue = (await subscribeQueue(sns, topicArns.incidentAlerts, `nt-alerts-${tag}`)).url;
  repliesQueue = (await subscribeQueue(sns, topicArns.customerReplies, `nt-replies-${tag}`)).url;
  ({ poller, delivered } = startStreamFunction(onTableChange));
});
afterAll(() => poller.stop());

const storeUser = (storeId: string) => ({ sub: `u-${storeId}`, roles: ['store' as const], storeId, region: STORES.find((s) => s.storeId === storeId)!.region });
const regionsScope = (sku: string, regions: string[], stores?: string[]) => ({ products: [{ sku, name: 'Cocoa wafer' }], lots: [{ sku, lotCode: 'L1' }], regions, ...(stores ? { stores } : {}) });

async function declaredIncident(scope: object, hazardClass: 'I' | 'II' | 'III' = 'II') {
  const opened = await api.open({ title: 'Wafer recall', hazardClass, hazard: 'may contain pieces of plastic film', category: 'foreign_matter', scope });
  expect(opened.status).toBe(201);
  const id = opened.body!.id as string;
  expect((await step(id, { action: 'record-hold', locations: ['PLANT-1'] })).status).toBe(201);
  return id;
}

/**
 * Each store's queue, drained once: store id → the notices of this incident it holds. The
 * stores expected to receive are drained first (waiting for their message); the others
 * after, when every publish of the batch is done, so a stray delivery would be seen.
 */
async function received(incidentId: string, expected: readonly string[]) {
  const out: Record<string, any[]> = {};
  const drain = async (storeId: string, count: number) => {
    const messages = await drainQueue(endpoint, queues[storeId]!, { expected: count, quietMs: 800, timeoutMs: 8000 });
    out[storeId] = messages.filter((m) => m.body.MessageAttributes?.incidentId?.Value === incidentId);
  };
  await Promise.all(expected.map((s) => drain(s, 1)));
  await Promise.all(STORES.filter((s) => !expected.includes(s.storeId)).map((s) => drain(s.storeId, 0)));
  // In the stores' order, not the order the parallel drains finished in.
  return Object.fromEntries(STORES.map((s) => [s.storeId, out[s.storeId] ?? []]));
}

const ack = (noticeId: string, storeId: string, removed = 5) =>
  call(acknowledge, httpEvent({ method: 'POST', path: `/notices/${noticeId}/acks`, pathParameters: { id: noticeId }, body: { quantityOnHand: removed + 1, quantityRemoved: removed }, user: storeUser(storeId) }));

describe('notices', () => {
  describe('store withdrawal', () => {
    it('reaches exactly the stores of the regions in scope, one publish per region', async () => {
      const sku = `FAN-${unique()}`;
      const id = await declaredIncident(regionsScope(sku, [STORES[0]!.region, STORES[2]!.region]));
      const issued = await step(id, { action: 'issue-withdrawal' });
      expect(issued.body!.withdrawals).toHaveLength(2);
      const got = await received(id, [STORES[0]!.storeId, STORES[1]!.storeId, STORES[2]!.storeId, STORES[3]!.storeId]);
      expect(Object.fromEntries(Object.entries(got).map(([s, m]) => [s, m.length]))).toEqual({
        [STORES[0]!.storeId]: 1, [STORES[1]!.storeId]: 1, [STORES[2]!.storeId]: 1, [STORES[3]!.storeId]: 1, [STORES[4]!.storeId]: 0, [STORES[5]!.storeId]: 0,
      });
      const message = got[STORES[0]!.storeId]![0]!;
      expect(message.body.MessageAttributes).toMatchObject({ noticeType: { Value: 'store-withdrawal' }, region: { Value: STORES[0]!.region }, storeId: { Value: 'all' }, hazardClass: { Value: 'II' } });
      expect(message.body.Subject).toMatch(/^[\x20-\x7e]{1,100}$/);
      const body = JSON.parse(message.body.Message);
      expect(body).toMatchObject({ type: 'store-withdrawal', incidentId: id, hazard: 'may contain pieces of plastic film', lots: [{ sku, lotCode: 'L1' }] });
      expect(body.instructions).toMatch(/Remove every unit/);
    });

    it('targets each listed store alone when the scope names stores', async () => {
      const sku = `TGT-${unique()}`;
      const id = await declaredIncident(regionsScope(sku, [STORES[0]!.region], [STORES[1]!.storeId, STORES[4]!.storeId]));
      expect((await step(id, { action: 'issue-withdrawal' })).status).toBe(201);
      const got = await received(id, [STORES[1]!.storeId, STORES[4]!.storeId]);
      expect(Object.entries(got).filter(([, m]) => m.length > 0).map(([s, m]) => [s, m.length, m[0].body.MessageAttributes.storeId.Value])).toEqual([
        [STORES[1]!.storeId, 1, STORES[1]!.storeId],
        [STORES[4]!.storeId, 1, STORES[4]!.storeId],
      ]);
    });

    it('publishes once when the stream delivers the same outbox batch twice', async () => {
      const id = await declaredIncident(regionsScope(`TWICE-${unique()}`, [STORES[4]!.region]));
      await step(id, { action: 'issue-withdrawal' });
      const first = await received(id, [STORES[4]!.storeId, STORES[5]!.storeId]);
      expect(first[STORES[4]!.storeId]).toHaveLength(1);
      const batch = delivered.filter((r) => r.dynamodb?.NewImage?.kind?.S === 'outbox' && r.dynamodb.NewImage.id?.S?.includes(id));
      expect(batch).toHaveLength(1);
      await onTableChange({ Records: batch }, {} as never);
      await onTableChange({ Records: batch }, {} as never);
      const again = await received(id, []);
      expect(again[STORES[4]!.storeId]).toHaveLength(0);
    });
  });

  describe('acknowledgements and the store inbox', () => {
    it('lets a store acknowledge only its own notices, once, and pull the ones it has not answered', async () => {
      const id = await declaredIncident(regionsScope(`ACK-${unique()}`, [STORES[2]!.region]));
      const issued = await step(id, { action: 'issue-withdrawal' });
      const noticeId = issued.body!.withdrawals[0].noticeId as string;
      expect((await ack(noticeId, STORES[0]!.storeId)).status).toBe(403);
      const inbox = (storeId: string, query: Record<string, string> = {}) =>
        call(storeNotices, httpEvent({ path: `/stores/${storeId}/notices`, pathParameters: { id: storeId }, query, user: storeUser(storeId) }));
      expect((await inbox(STORES[2]!.storeId)).body!.items.map((n: any) => n.noticeId)).toContain(noticeId);
      expect((await call(storeNotices, httpEvent({ path: `/stores/${STORES[3]!.storeId}/notices`, pathParameters: { id: STORES[3]!.storeId }, user: storeUser(STORES[2]!.storeId) }))).status).toBe(403);
      expect((await ack(noticeId, STORES[2]!.storeId)).status).toBe(201);
      expect((await inbox(STORES[2]!.storeId)).body!.items.map((n: any) => n.noticeId)).not.toContain(noticeId);
      expect((await inbox(STORES[2]!.storeId, { all: 'true' })).body!.items.find((n: any) => n.noticeId === noticeId).acknowledgement).toMatchObject({ quantityRemoved: 5 });
      expect((await ack('withdrawal-01ZZZZZZZZZZZZZZZZZZZZZZZZ-00', STORES[2]!.storeId)).status).toBe(404);
      const effectiveness = await api.effectiveness(id);
      expect(effectiveness.body).toMatchObject({ storesInScope: 2, acknowledged: 1, notResponded: [STORES[3]!.storeId], level: 'B', targetPercent: 90, met: false });
    });

    it('lets QA correct a store\'s figures, with the reason, keeping the figures before; the store itself cannot', async () => {
      const id = await declaredIncident(regionsScope(`FIX-${unique()}`, [STORES[2]!.region]));
      const noticeId = (await step(id, { action: 'issue-withdrawal' })).body!.withdrawals[0].noticeId as string;
      const storeId = STORES[2]!.storeId;
      const correct = (body: unknown, user: Parameters<typeof httpEvent>[0]['user'] = users.qa, store = storeId) =>
        call(correctAck, httpEvent({ method: 'PUT', path: `/notices/${noticeId}/acks/${store}`, pathParameters: { id: noticeId, storeId: store }, body, user }));
      // Nothing to correct before the store acknowledges.
      expect((await correct({ quantityOnHand: 9, quantityRemoved: 9, reason: 'recount' })).status).toBe(404);
      expect((await ack(noticeId, storeId, 5)).status).toBe(201);
      // The store's second, different answer is refused with what to do.
      const again = await call(acknowledge, httpEvent({ method: 'POST', path: `/notices/${noticeId}/acks`, pathParameters: { id: noticeId }, body: { quantityOnHand: 9, quantityRemoved: 9 }, user: storeUser(storeId) }));
      expect(again.status).toBe(409);
      expect(again.body!.detail).toContain(`npx recall store correct-ack ${noticeId} --store ${storeId}`);
      expect((await correct({ quantityOnHand: 9, quantityRemoved: 9, reason: 'recount' }, storeUser(storeId))).status).toBe(403);
      const fields = async (body: unknown) => {
        const refused = await correct(body);
        expect(refused.status).toBe(400);
        return refused.body!.errors.map((e: { field: string }) => e.field);
      };
      expect(await fields({ quantityOnHand: 3, quantityRemoved: 9, reason: 'typo' })).toEqual(['quantityRemoved']);
      expect(await fields({ quantityOnHand: 3, quantityRemoved: 2 })).toEqual(['reason']);
      const fixed = await correct({ quantityOnHand: 9, quantityRemoved: 9, reason: 'the store counted the back room later' });
      expect(fixed.status).toBe(200);
      expect(fixed.body).toMatchObject({ quantityOnHand: 9, quantityRemoved: 9, corrections: [{ by: 'u-qa', reason: 'the store counted the back room later', before: { quantityOnHand: 6, quantityRemoved: 5 } }] });
      // A retry changes nothing; effectiveness counts the corrected figures.
      const retried = await correct({ quantityOnHand: 9, quantityRemoved: 9, reason: 'the store counted the back room later' });
      expect(retried.headers['idempotent-replayed']).toBe('true');
      expect(retried.body!.corrections).toHaveLength(1);
      const effective = (await api.effectiveness(id)).body!;
      expect(effective).toMatchObject({ acknowledged: 1, unitsRemoved: 9 });
      // The incident's own record shows the correction, not just the new figures.
      expect(effective.byStore.find((b: { storeId: string }) => b.storeId === storeId).corrections).toMatchObject([{ reason: 'the store counted the back room later', before: { quantityRemoved: 5 } }]);
      expect((await correct({ quantityOnHand: 9, quantityRemoved: 8, reason: 'one unit was sold before the notice' })).body!.corrections).toHaveLength(2);
    });

    it('re-notifies silent stores by store id, then escalates them to QA once', async () => {
      const id = await declaredIncident(regionsScope(`SILENT-${unique()}`, [STORES[4]!.region]), 'I');
      const issued = await step(id, { action: 'issue-withdrawal' });
      const noticeId = issued.body!.withdrawals[0].noticeId as string;
      await received(id, [STORES[4]!.storeId, STORES[5]!.storeId]);
      await ack(noticeId, STORES[4]!.storeId);
      const at = (h: number) => fixedClock(new Date(Date.now() + h * 3600_000));
      // The watchdog follows up every incident of this file's table; this one had one silent store.
      expect((await runIncidentWatchdog({ clock: at(5), policy: DEFAULT_INCIDENT_POLICY })).reminders).toBeGreaterThanOrEqual(1);
      expect((await api.get(id)).body!.storeFollowUp).toMatchObject({ stage: 1, renotified: { stores: 1 } });
      const reminders = await received(id, [STORES[5]!.storeId]);
      expect(reminders[STORES[4]!.storeId]).toHaveLength(0);
      expect(reminders[STORES[5]!.storeId]).toHaveLength(1);
      expect(reminders[STORES[5]!.storeId]![0].body.MessageAttributes).toMatchObject({ storeId: { Value: STORES[5]!.storeId }, noticeType: { Value: 'store-withdrawal-reminder' }, noticeId: { Value: noticeId } });
      await runIncidentWatchdog({ clock: at(10), policy: DEFAULT_INCIDENT_POLICY });
      await runIncidentWatchdog({ clock: at(11), policy: DEFAULT_INCIDENT_POLICY });
      const alerts = (await drainQueue(endpoint, alertsQueue, { expected: 1, quietMs: 1000 })).map((m) => JSON.parse(m.body.Message)).filter((a) => a.incidentId === id && a.type === 'stores-not-responding');
      expect(alerts).toEqual([expect.objectContaining({ stores: [STORES[5]!.storeId], count: 1, runbook: 'runbooks/contain-incident.md#5-effectiveness' })]);
      expect((await api.get(id)).body!.storeFollowUp).toMatchObject({ stage: 2, renotified: { stores: 1 }, escalated: { stores: 1 } });
    });
  });

  describe('public disclosure', () => {
    it('shows only published notices on the public page, as HTML and JSON, with no personal data', async () => {
      const sku = `PUB-${unique()}`;
      const filed = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: validReport({ product: { sku, name: 'Cocoa wafer' }, lotCode: 'L1' }), user: users.agent }));
      expect(filed.status).toBe(201);
      const text = NOTICE.replaceAll('CHOC-ALM-100', sku).replaceAll('L2026-1103-A', 'L1').replace('Almond chocolate 100 g', 'Cocoa wafer');
      const publish = async (withDisclose: boolean) => {
        const id = await declaredIncident(regionsScope(`${sku}${withDisclose ? '' : 'X'}`, [STORES[0]!.region]));
        const own = text.replaceAll(sku, `${sku}${withDisclose ? '' : 'X'}`);
        await step(id, { action: 'issue-withdrawal' });
        await step(id, { action: 'contain' });
        await step(id, { action: 'accept-sponsorship' }, users.executive);
        await step(id, { action: 'draft-disclosure', text: own });
        await step(id, { action: 'approve-disclosure', textHash: textHash(own) }, users.executive);
        if (withDisclose) expect((await step(id, { action: 'disclose' })).status).toBe(201);
        return id;
      };
      const shown = await publish(true);
      const approvedOnly = await publish(false);
      const json = await call(publicNotices, httpEvent({ path: '/public/notices' }));
      expect(json.status).toBe(200);
      const ids = json.body!.items.map((n: any) => n.incidentId);
      expect(ids).toContain(shown);
      expect(ids).not.toContain(approvedOnly);
      expect(json.body!.items.find((n: any) => n.incidentId === shown)).toMatchObject({ text, textHash: textHash(text), hazard: 'may contain pieces of plastic film' });
      const html = await callText(publicNotices, httpEvent({ path: '/public/notices', headers: { accept: 'text/html' } }));
      expect(html.headers['content-type']).toMatch(/^text\/html/);
      expect(html.text).toContain('<meta name="viewport"');
      expect(html.text).toContain(`id="${shown}"`);
      expect(html.text).not.toContain(approvedOnly);
      for (const personal of ['Hanako', 'hanako@example.jp', '1234 5678']) {
        expect(html.text).not.toContain(personal);
        expect(JSON.stringify(json.body)).not.toContain(personal);
      }
    });
  });

  describe('customer reply', () => {
    it('stops that report’s 14-day clock and no other, and goes to customer-replies with the contact', async () => {
      const sku = `REPLY-${unique()}`;
      const [a, b] = await Promise.all([1, 2].map(() => call(submit, httpEvent({ method: 'POST', path: '/reports', body: validReport({ product: { sku, name: 'Cocoa wafer' } }), user: users.agent }))));
      const sent = await call(sendReply, httpEvent({ method: 'POST', path: `/reports/${a!.body!.id}/reply`, pathParameters: { id: a!.body!.id }, body: REPLY, user: users.agent }));
      expect(sent.status).toBe(201);
      expect(sent.body).toMatchObject({ channel: 'phone' });
      const clock = async (id: string) =>
        (await call(getReport, httpEvent({ path: `/reports/${id}`, pathParameters: { id }, user: users.qa }))).body!.clocks.find((c: any) => c.id === 'reply');
      expect(await clock(a!.body!.id)).toMatchObject({ state: 'met', completedBy: users.agent.sub, note: 'written reply sent' });
      expect(await clock(b!.body!.id)).toMatchObject({ state: 'running' });
      expect((await call(sendReply, httpEvent({ method: 'POST', path: `/reports/${a!.body!.id}/reply`, pathParameters: { id: a!.body!.id }, body: REPLY, user: users.agent }))).status).toBe(409);
      const letters = (await drainQueue(endpoint, repliesQueue, { expected: 1, quietMs: 1000 })).map((m) => JSON.parse(m.body.Message)).filter((m) => m.reportId === a!.body!.id);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ channel: 'phone', to: { name: 'Hanako Yamada', phone: '+81 90 1234 5678' } });
      expect(letters[0].body).toContain(REPLY.prevention);
      expect(letters[0].body).toMatch(/sorry/i);
      const bad = await call(sendReply, httpEvent({ method: 'POST', path: `/reports/${b!.body!.id}/reply`, pathParameters: { id: b!.body!.id }, body: { investigation: '' }, user: users.agent }));
      expect(bad.status).toBe(400);
      expect(bad.body!.errors.map((e: any) => e.field).sort()).toEqual(['cause', 'investigation', 'prevention']);
    });
  });

  describe('the outbox', () => {
    it('keeps a notice pending while SNS fails for longer than the stream retries, and the sweeper publishes it once', async () => {
      const id = await declaredIncident(regionsScope(`SWEEP-${unique()}`, [STORES[2]!.region]));
      const snsMock = mockClient(SNSClient);
      snsMock.on(PublishCommand).rejects(new Error('injected SNS outage'));
      let noticeId: string;
      try {
        noticeId = (await step(id, { action: 'issue-withdrawal' })).body!.withdrawals[0].noticeId;
        // The local event source retries 5 times with backoff (about 3 s), then gives up.
        await new Promise((r) => setTimeout(r, 4500));
        expect(snsMock.commandCalls(PublishCommand).length).toBeGreaterThanOrEqual(5);
      } finally {
        snsMock.restore();
      }
      const item = await dynamo().send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: outboxKey(noticeId!) }));
      expect(item.Item).toMatchObject({ status: 'pending' });
      expect((await received(id, []))[STORES[2]!.storeId]).toHaveLength(0);

      const later = fixedClock(new Date(Date.now() + 10 * 60_000));
      // Two sweepers meeting (as the stream and the sweeper can): the lease lets one publish.
      const [one, two] = await Promise.all([1, 2].map(() => sweepOutbox({ clock: later, topicArns, tableName: process.env.TABLE_NAME! })));
      expect(one!.published + two!.published).toBeGreaterThanOrEqual(1);
      expect((await sweepOutbox({ clock: later, topicArns, tableName: process.env.TABLE_NAME! })).published).toBe(0);
      const got = await received(id, [STORES[2]!.storeId, STORES[3]!.storeId]);
      expect(got[STORES[2]!.storeId]).toHaveLength(1);
      expect(got[STORES[3]!.storeId]).toHaveLength(1);
      expect((await dynamo().send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: outboxKey(noticeId!) }))).Item).toMatchObject({ status: 'published' });
    });
  });
});
