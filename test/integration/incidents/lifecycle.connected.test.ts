import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as onTableChange } from '../../../functions/on-table-change.js';
import { handler as acknowledge } from '../../../functions/acknowledge-notice.js';
import { handler as putStore } from '../../../functions/put-store.js';
import { handler as submit } from '../../../functions/submit-report.js';
import { storeFilterPolicy, subscribeQueue } from '../../../infra/local/provision.js';
import type { StreamPoller } from '../../../infra/local/stream-poller.js';
import { DEFAULT_DETECTION_CONFIG } from '../../../shared/detection/config.js';
import { DynamoCounterStore } from '../../../shared/detection/dynamo-store.js';
import { textHash } from '../../../shared/incidents/disclosure.js';
import { DEFAULT_INCIDENT_POLICY } from '../../../shared/incidents/policy.js';
import { detectAndEscalate } from '../../../shared/incidents/candidates.js';
import { runAction, runIncidentWatchdog } from '../../../shared/incidents/use-cases.js';
import { incidentDeps } from '../../../shared/incidents/wiring.js';
import { fixedClock, systemClock } from '../../../shared/platform/clock.js';
import { newId } from '../../../shared/platform/ids.js';
import { call, httpEvent } from '../../support/events.js';
import { eventually } from '../../support/eventually.js';
import { incidentsApi as api, NOTICE, REPLY, step } from '../../support/incidents.js';
import { drainQueue } from '../../support/queues.js';
import { validReport } from '../../support/reports.js';
import { startStreamFunction } from '../../support/stream.js';
import { users } from '../../support/users.js';

const endpoint = inject('snsSqsEndpoint');
const sns = { sns: endpoint, sqs: endpoint };
let poller: StreamPoller;
let alertsQueue: string;
let kantoQueue: string;
let kansaiQueue: string;
let publicQueue: string;
let repliesQueue: string;

beforeAll(async () => {
  const tag = Date.now();
  alertsQueue = (await subscribeQueue(sns, process.env.INCIDENT_ALERTS_TOPIC_ARN!, `inc-alerts-${tag}`)).url;
  kantoQueue = (await subscribeQueue(sns, process.env.STORE_NOTICES_TOPIC_ARN!, `inc-kanto-${tag}`, storeFilterPolicy({ storeId: 'store-0101', region: 'kanto' }))).url;
  kansaiQueue = (await subscribeQueue(sns, process.env.STORE_NOTICES_TOPIC_ARN!, `inc-kansai-${tag}`, storeFilterPolicy({ storeId: 'store-0201', region: 'kansai' }))).url;
  publicQueue = (await subscribeQueue(sns, process.env.PUBLIC_NOTICES_TOPIC_ARN!, `inc-public-${tag}`)).url;
  repliesQueue = (await subscribeQueue(sns, process.env.CUSTOMER_REPLIES_TOPIC_ARN!, `inc-replies-${tag}`)).url;
  for (const [id, region] of [['store-0101', 'kanto'], ['store-0201', 'kansai']]) {
    expect((await call(putStore, httpEvent({ method: 'PUT', path: `/stores/${id}`, pathParameters: { id: id! }, body: { region, name: `Store ${id}` }, user: users.admin }))).status).toBe(200);
  }
  ({ poller } = startStreamFunction(onTableChange));
});
afterAll(() => poller.stop());

const unique = () => Math.random().toString(36).slice(2, 8).toUpperCase();
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
const qaLead = { sub: 'u-qa-lead', roles: ['qa', 'executive'] as ('qa' | 'executive')[] };
const messagesOf = async (queue: string, incidentId: string, expected = 1) =>
  (await drainQueue(endpoint, queue, { expected, quietMs: 1000 })).filter((m) => m.body.MessageAttributes?.incidentId?.Value === incidentId || m.raw.includes(incidentId));
const scopeOf = (sku: string, lot: string) => ({ products: [{ sku, name: 'Almond chocolate 100 g' }], lots: [{ sku, lotCode: lot }], regions: ['kanto', 'kansai'] });
const noticeFor = (sku: string, lot: string) => NOTICE.replaceAll('CHOC-ALM-100', sku).replaceAll('L2026-1103-A', lot);

describe('incidents', () => {
  it('takes a recall from reports to a closed incident with its status report, through the HTTP handlers', async () => {
    const sku = `LIFE-${unique()}`;
    const lot = `L${unique()}`;
    const report = (i: number, injury: boolean) =>
      validReport({
        product: { sku, name: 'Almond chocolate 100 g' },
        lotCode: lot,
        productionDate: daysAgo(90).toISOString().slice(0, 10),
        purchase: { storeId: 'store-0101', region: 'kanto', date: daysAgo(62).toISOString().slice(0, 10) },
        receivedAt: new Date(daysAgo(60).getTime() + i * 60_000).toISOString(),
        harm: { injury, illness: false, medicalAttention: injury },
      });
    // Prepare: an injury told in a foreign-matter complaint notifies QA but opens nothing on
    // its own; two more reports on the lot the same hour make a lot burst, whose candidate
    // links all three; a second injury joins it with its own high-severity alert.
    const reportIds: string[] = [];
    for (const [i, injury] of [true, false, false].entries()) {
      const filed = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: report(i, injury), user: users.agent }));
      expect(filed.status).toBe(201);
      reportIds.push(filed.body!.id);
    }
    const listed = await eventually(
      async () => (await api.list({ status: 'candidate', limit: '100' })).body!.items as any[],
      (items) => items.some((i) => i.key.sku === sku && i.reportCount === 3),
    );
    const candidate = listed.find((i) => i.key.sku === sku)!;
    expect(candidate).toMatchObject({ reportCount: 3, openedBy: { rule: 'lot-burst' } });
    const second = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: report(3, true), user: users.agent }));
    reportIds.push(second.body!.id);
    const alerts = await messagesOf(alertsQueue, candidate.id, 2);
    const bodies = alerts.map((m) => ({ type: JSON.parse(m.body.Message).type, severity: m.body.MessageAttributes.severity.Value }));
    expect(bodies.sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { type: 'candidate-incident', severity: 'normal' },
      { type: 'harm-report', severity: 'high' },
    ]);
    const id = candidate.id as string;

    // Declared by a QA lead who is also an executive.
    const declared = await step(id, { action: 'declare', title: 'Plastic film in almond chocolate', hazardClass: 'I', hazard: 'may contain pieces of plastic film', scope: scopeOf(sku, lot) }, qaLead);
    expect(declared.status).toBe(201);
    expect(declared.body).toMatchObject({ status: 'declared', hazardClass: 'I', declared: { by: 'u-qa-lead' } });

    // Customer first: the gate names what is missing.
    const early = await step(id, { action: 'contain' });
    expect(early.status).toBe(422);
    expect(early.headers['content-type']).toBe('application/problem+json');
    expect(early.body!.unmet.map((u: any) => u.id)).toEqual(['shipment-hold', 'store-withdrawal']);
    expect(early.body!.runbook).toBe('runbooks/contain-incident.md');
    expect((await step(id, { action: 'record-hold', locations: ['PLANT-SAITAMA', 'DC-TOKYO'] })).status).toBe(201);
    expect((await step(id, { action: 'issue-withdrawal' })).status).toBe(201);
    const [kanto] = await messagesOf(kantoQueue, id);
    expect(JSON.parse(kanto!.body.Message)).toMatchObject({ type: 'store-withdrawal', incidentId: id, region: 'kanto', hazardClass: 'I', lots: [{ sku, lotCode: lot }] });
    expect(kanto!.body.MessageAttributes).toMatchObject({ noticeType: { Value: 'store-withdrawal' }, region: { Value: 'kanto' } });
    const [kansai] = await messagesOf(kansaiQueue, id);
    expect((await step(id, { action: 'contain' })).body!.status).toBe('contained');

    // The stores acknowledge what they pulled; a store cannot answer for another.
    const kantoNotice = JSON.parse(kanto!.body.Message).noticeId;
    const kansaiNotice = JSON.parse(kansai!.body.Message).noticeId;
    const ack = (notice: string, user: typeof users.storeKanto, removed: number) =>
      call(acknowledge, httpEvent({ method: 'POST', path: `/notices/${notice}/acks`, pathParameters: { id: notice }, body: { quantityOnHand: removed, quantityRemoved: removed }, user }));
    expect((await ack(kansaiNotice, users.storeKanto, 3)).status).toBe(403);
    expect((await ack(kantoNotice, users.storeKanto, 12)).status).toBe(201);
    expect((await ack(kantoNotice, users.storeKanto, 12)).status).toBe(200);
    expect((await ack(kantoNotice, users.storeKanto, 11)).status).toBe(409);
    const half = await api.effectiveness(id);
    expect(half.body).toMatchObject({ storesInScope: 2, acknowledged: 1, notResponded: ['store-0201'], level: 'A', targetPercent: 100, met: false, unitsRemoved: 12 });
    expect((await ack(kansaiNotice, users.storeKansai, 7)).status).toBe(201);
    expect((await api.effectiveness(id)).body).toMatchObject({ acknowledged: 2, achievedPercent: 100, met: true, unitsRemoved: 19 });

    // Disclosure and leadership.
    const noSponsor = await step(id, { action: 'disclose' }, users.executive);
    expect(noSponsor.status).toBe(422);
    expect(noSponsor.body!.unmet.map((u: any) => u.id)).toEqual(['sponsor-accepted', 'disclosure-text', 'disclosure-approved']);
    expect((await step(id, { action: 'accept-sponsorship' }, users.executive)).status).toBe(201);
    const text = noticeFor(sku, lot);
    expect((await step(id, { action: 'draft-disclosure', text })).status).toBe(201);
    const byDeclarer = await step(id, { action: 'approve-disclosure', textHash: textHash(text) }, qaLead);
    expect(byDeclarer.status).toBe(422);
    expect(byDeclarer.body!.rule).toBe('separation-of-duties');
    expect((await step(id, { action: 'approve-disclosure', textHash: textHash(text) }, users.qa)).status).toBe(403);
    expect((await step(id, { action: 'approve-disclosure', textHash: textHash(text) }, users.executive)).status).toBe(201);
    expect((await step(id, { action: 'disclose' }, users.executive)).body!.status).toBe('disclosed');
    const published = (await messagesOf(publicQueue, id)).at(0);
    expect(published).toBeDefined();
    expect(published!.body.Message).toBe(text);

    // Prevention.
    expect((await step(id, { action: 'remediate' })).status).toBe(201);
    expect((await step(id, { action: 'record-root-cause', text: 'torn film liner at the wrapping station' })).status).toBe(201);
    expect((await step(id, { action: 'add-action', kind: 'corrective', description: 'replace the liner', owner: 'plant QA', dueDate: daysAgo(41).toISOString().slice(0, 10) })).status).toBe(201);
    expect((await step(id, { action: 'add-action', kind: 'preventive', description: 'inspect liners at every shift change', owner: 'maintenance', dueDate: '2027-01-31' })).status).toBe(201);
    // Claimed done 40 days ago, recorded now: the window starts now, a backdated fix hides nothing.
    expect((await step(id, { action: 'complete-action', actionId: 'capa-1', completedAt: daysAgo(40).toISOString() })).status).toBe(201);
    const tooEarly = await step(id, { action: 'verify' });
    expect(tooEarly.status).toBe(422);
    expect(tooEarly.body!.rule).toBe('verification-window');
    // One more complaint on the lot after the fix: the counters see it 31 days on.
    const after = await call(submit, httpEvent({ method: 'POST', path: '/reports', body: { ...report(9, false), receivedAt: new Date().toISOString() }, user: users.agent }));
    reportIds.push(after.body!.id);
    await eventually(async () => (await api.get(id)).body!.linkedReports, (n) => n === 5);
    const inAMonth = { ...incidentDeps(), clock: fixedClock(new Date(Date.now() + 31 * DAY)) };
    const current = (await api.get(id)).body!;
    const verified = await runAction(inAMonth, id, { action: 'verify', expectedVersion: current.version }, { userId: users.qa.sub, username: 'qa', roles: ['qa'] });
    expect(verified.verification).toMatchObject({ result: 'failed', windowDays: 30 });
    expect((verified.verification as { counts: Record<string, number> }).counts[`lot|${sku}|${lot}|foreign_matter`]).toBe(1);
    expect((await step(id, { action: 'close' })).body!.unmet.map((u: any) => u.id)).toContain('verification');
    expect((await step(id, { action: 'override-verification', reason: 'the report is a product bought before the recall' }, users.executive)).status).toBe(201);

    const owed = await step(id, { action: 'close' });
    expect(owed.status).toBe(422);
    expect(owed.body!.unmet).toEqual([expect.objectContaining({ id: 'customer-replies', status: 'pending' })]);
    const replies = await api.replies(id, REPLY);
    expect(replies.status).toBe(201);
    expect(replies.body!.sent.sort()).toEqual([...reportIds].sort());
    const letters = (await drainQueue(endpoint, repliesQueue, { expected: 5, quietMs: 1000 })).map((m) => JSON.parse(m.body.Message)).filter((m) => m.incidentId === id);
    expect(letters).toHaveLength(5);
    expect(letters[0]).toMatchObject({ type: 'customer-reply', channel: 'phone', to: { name: 'Hanako Yamada', phone: '+81 90 1234 5678' } });
    expect(letters[0].body).toContain(REPLY.cause);
    expect((await api.replies(id, REPLY)).body).toMatchObject({ sent: [], alreadyReplied: expect.arrayContaining(reportIds) });
    const closed = await step(id, { action: 'close' });
    expect(closed.status).toBe(201);
    expect(closed.body!.status).toBe('closed');
    expect(closed.body!.checklist.every((i: any) => i.status === 'done')).toBe(true);

    // Assess: the timeline has one event per version, and reads every past state back.
    const read = await api.get(id);
    expect(read.body!.timeline.map((e: any) => e.version)).toEqual(Array.from({ length: read.body!.version }, (_, i) => i + 1));
    expect(read.body!.timeline[0]).toMatchObject({ action: 'detected', by: 'detection' });
    const past = await api.get(id, users.qa, { asOfVersion: '2' });
    expect(past.body!.state).toMatchObject({ status: 'declared', hazardClass: 'I' });
    expect(past.body!.state.hold).toBeUndefined();
    const status = await api.report(id);
    expect(status.body).toMatchObject({ incident: { id, status: 'closed' }, customerReplies: { linkedReports: 5, sent: 5, owed: [] } });
    expect(status.body!.notices.storeWithdrawals.map((w: any) => w.region)).toEqual(['kanto', 'kansai']);
    expect(status.body!.storeAcknowledgements).toMatchObject({ acknowledged: 2, unitsRemoved: 19, met: true });
    const markdown = await api.reportText(id);
    expect(markdown.headers['content-type']).toMatch(/^text\/markdown/);
    expect(markdown.text).toContain('# Recall status report: Plastic film in almond chocolate');
    expect(markdown.text).toContain('| customer-replies | prevention | close | done |');
    expect(markdown.text).not.toContain('Hanako');
    expect(JSON.stringify(read.body)).not.toContain('Hanako');

    // Nothing more happens to a closed incident.
    expect((await step(id, { action: 'contain' })).status).toBe(409);
  });

  it('lets exactly one of 20 concurrent actions on one version win, with exactly one timeline event', async () => {
    const sku = `CONC-${unique()}`;
    const opened = await api.open({ title: 'Concurrent', hazardClass: 'II', hazard: 'may contain plastic', category: 'foreign_matter', scope: scopeOf(sku, 'L1') });
    expect(opened.status).toBe(201);
    const id = opened.body!.id;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api.act(id, { action: 'record-hold', expectedVersion: 1, locations: [`DC-${i}`] })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    const read = await api.get(id);
    expect(read.body!.version).toBe(2);
    expect(read.body!.timeline.filter((e: any) => e.version === 2)).toHaveLength(1);
    expect(read.body!.timeline).toHaveLength(2);
    const winner = results.find((r) => r.status === 201)!.body!.hold.locations;
    expect(read.body!.hold.locations).toEqual(winner);
  });

  it('opens an incident by hand, claiming its keys; a key held by another is 409', async () => {
    const sku = `MAN-${unique()}`;
    const opened = await api.open({ title: 'Mislabelled allergen', hazardClass: 'I', hazard: 'contains undeclared peanut', category: 'mislabelling_allergen', scope: scopeOf(sku, 'L7') });
    expect(opened.status).toBe(201);
    expect(opened.headers.location).toBe(`/incidents/${opened.body!.id}`);
    expect(Object.keys(opened.body!.keys).sort()).toEqual([`lot|${sku}|L7|mislabelling_allergen`, `product|${sku}|mislabelling_allergen`]);
    expect(opened.body!.deadlines.map((d: any) => d.id)).toEqual(['stores-notified', 'disclosed']);
    const again = await api.open({ title: 'Same', hazardClass: 'I', hazard: 'x', category: 'mislabelling_allergen', scope: scopeOf(sku, 'L8') });
    expect(again.status).toBe(409);
    expect(again.body!.detail).toContain(`product|${sku}|mislabelling_allergen`);
    expect((await api.open({ title: 'x', hazardClass: 'I', hazard: 'x', category: 'mislabelling_allergen', scope: scopeOf(`${sku}-2`, 'L1') }, users.executive)).status).toBe(403);
  });

  it('merges candidates into the declared incident: their keys and reports move with them', async () => {
    const deps = { store: new DynamoCounterStore(process.env.TABLE_NAME!), config: DEFAULT_DETECTION_CONFIG, clock: systemClock };
    const [a, b] = [`MRGA-${unique()}`, `MRGB-${unique()}`];
    const injury = (sku: string) => ({ reportId: newId(), at: new Date().toISOString(), sku, lot: 'L1', plant: `P-${sku}`, category: 'injury' as const, injury: true, illness: false });
    const [ra, rb] = [await detectAndEscalate(injury(a), deps), await detectAndEscalate(injury(b), deps)];
    const [ida, idb] = [ra.opened[0]!, rb.opened[0]!];
    expect(ida && idb).toBeTruthy();
    const declared = await step(ida, { action: 'declare', title: 'Sharp edges', hazardClass: 'II', hazard: 'sharp plastic edges', merge: [idb] });
    expect(declared.status).toBe(201);
    expect(Object.keys(declared.body!.keys)).toEqual(expect.arrayContaining([`lot|${a}|L1|injury`, `lot|${b}|L1|injury`]));
    expect((await api.get(idb)).body).toMatchObject({ status: 'merged', mergedInto: ida });
    const later = await detectAndEscalate(injury(b), deps);
    expect(later.opened).toEqual([]);
    expect(later.attached).toEqual([ida]);
    expect((await api.get(ida)).body).toMatchObject({ linkedReports: 3, reportCount: 3 });
    expect((await step(idb, { action: 'dismiss', reason: 'x' })).status).toBe(409);
  });

  it('escalates a missed deadline once and lets only the sponsor acknowledge it', async () => {
    const sku = `LATE-${unique()}`;
    const opened = await api.open({ title: 'Late', hazardClass: 'I', hazard: 'may contain glass', category: 'foreign_matter', scope: scopeOf(sku, 'L1') });
    const id = opened.body!.id;
    const later = fixedClock(new Date(Date.now() + 3 * 3600_000));
    const first = await runIncidentWatchdog({ clock: later, policy: DEFAULT_INCIDENT_POLICY });
    expect(first.breaches).toBeGreaterThanOrEqual(1);
    const again = await runIncidentWatchdog({ clock: later, policy: DEFAULT_INCIDENT_POLICY });
    expect(again.breaches).toBe(0);
    const alerts = (await messagesOf(alertsQueue, id)).map((m) => JSON.parse(m.body.Message));
    expect(alerts).toEqual([expect.objectContaining({ type: 'deadline-breached', incidentId: id, deadline: 'stores-notified', runbook: 'runbooks/deadline-breach.md' })]);
    const read = await api.get(id);
    expect(read.body!.deadlines.find((d: any) => d.id === 'stores-notified')).toMatchObject({ state: 'breached', escalatedAt: later.now().toISOString() });
    expect(read.body!.timeline.at(-1)).toMatchObject({ action: 'deadline-breached', by: 'watchdog' });
    expect((await step(id, { action: 'acknowledge-breach', deadline: 'stores-notified', reason: 'late' }, users.executive)).status).toBe(403);
    expect((await step(id, { action: 'accept-sponsorship' }, users.executive)).status).toBe(201);
    const acked = await step(id, { action: 'acknowledge-breach', deadline: 'stores-notified', reason: 'the warehouse list was incomplete' }, users.executive);
    expect(acked.status).toBe(201);
    expect(acked.body!.checklist.find((i: any) => i.id === 'breaches-acknowledged').status).toBe('done');
  });
});
