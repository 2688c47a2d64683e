import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { handler as addLandingPoint } from '../../../functions/add-landing-point.js';
import { handler as getReport } from '../../../functions/get-report.js';
import { handler as listReports } from '../../../functions/list-reports.js';
import { handler as recordMilestone } from '../../../functions/record-milestone.js';
import { handler as recordSurvey } from '../../../functions/record-survey.js';
import { handler as submit } from '../../../functions/submit-report.js';
import { dynamo } from '../../../shared/platform/aws.js';
import { TABLE } from '../../../shared/platform/table.js';
import { call, httpEvent } from '../../support/events.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

type User = (typeof users)[keyof typeof users];

const post = (body: unknown, user: User = users.agent, key?: string) =>
  call(submit, httpEvent({ method: 'POST', path: '/reports', body, user, ...(key ? { headers: { 'idempotency-key': key } } : {}) }));
const get = (id: string, user: User = users.agent) =>
  call(getReport, httpEvent({ path: `/reports/${id}`, routeKey: 'GET /reports/{id}', pathParameters: { id }, user }));
const list = (query: Record<string, string>, user: User = users.qa) =>
  call(listReports, httpEvent({ path: '/reports', query, user }));
const postTo = (handler: typeof recordMilestone, id: string, suffix: string, body: unknown, user: User = users.agent) =>
  call(handler, httpEvent({ method: 'POST', path: `/reports/${id}/${suffix}`, routeKey: `POST /reports/{id}/${suffix}`, pathParameters: { id }, body, user }));
const unique = () => Math.random().toString(36).slice(2, 10).toUpperCase();

describe('reports', () => {
  describe('submit', () => {
    it('files a case record and answers 201 with its id and three running clocks', async () => {
      const response = await post(validReport());
      expect(response.status).toBe(201);
      expect(response.body!.id).toMatch(/^[0-9A-Z]{26}$/);
      expect(response.headers.location).toBe(`/reports/${response.body!.id}`);
      expect(response.body!.clocks.map((c: any) => [c.id, c.state])).toEqual([
        ['handoff', 'running'],
        ['qa', 'running'],
        ['reply', 'running'],
      ]);
      expect(response.body!.contact).toBeUndefined();
    });

    it('returns the same report for a retry with the same Idempotency-Key, and writes it once', async () => {
      const sku = `IDEM-${unique()}`;
      const body = validReport({ product: { sku, name: 'Idempotent crackers' } });
      const first = await post(body, users.agent, `key-${sku}`);
      const retry = await post(body, users.agent, `key-${sku}`);
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body!.id).toBe(first.body!.id);
      expect((await list({ sku })).body!.items).toHaveLength(1);
    });

    it('creates one report when the same key arrives five times at once', async () => {
      const sku = `RACE-${unique()}`;
      const body = validReport({ product: { sku, name: 'Raced rice crackers' } });
      const responses = await Promise.all(Array.from({ length: 5 }, () => post(body, users.agent, `race-${sku}`)));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(responses.map((r) => r.body!.id)).size).toBe(1);
      expect((await list({ sku })).body!.items).toHaveLength(1);
    });

    it('answers 409 when a key is reused with a different body, and writes nothing', async () => {
      const sku = `REUSE-${unique()}`;
      await post(validReport({ product: { sku, name: 'First' } }), users.agent, `reuse-${sku}`);
      const reused = await post(validReport({ product: { sku, name: 'Second' } }), users.agent, `reuse-${sku}`);
      expect(reused.status).toBe(409);
      expect((await list({ sku })).body!.items.map((r: any) => r.product.name)).toEqual(['First']);
    });

    it('rejects a malformed Idempotency-Key naming the header', async () => {
      const response = await post(validReport(), users.agent, 'no spaces!');
      expect(response.status).toBe(400);
      expect(response.body!.errors[0].field).toBe('headers.idempotency-key');
    });

    it('answers 413 for a body over 64 KB', async () => {
      const body = validReport();
      body.resolutionProposed = 'x'.repeat(70 * 1024);
      const response = await post(body);
      expect(response.status).toBe(413);
      expect(response.headers['content-type']).toBe('application/problem+json');
    });

    it('lets a store file for its own store only', async () => {
      const own = await post(validReport(), users.storeKanto);
      expect(own.status).toBe(201);
      const other = await post(validReport({ purchase: { storeId: 'store-0999', region: 'kanto' } }), users.storeKanto);
      expect(other.status).toBe(403);
    });

    it('refuses roles that do not file reports', async () => {
      expect((await post(validReport(), users.executive)).status).toBe(403);
    });
  });

  describe('read', () => {
    it('shows the contact to the desk and QA, and never to executives or stores', async () => {
      const { body } = await post(validReport());
      const id = body!.id;
      expect((await get(id, users.agent)).body!.contact.name).toBe('Hanako Yamada');
      expect((await get(id, users.qa)).body!.contact.name).toBe('Hanako Yamada');
      expect((await get(id, users.executive)).body!.contact).toBeUndefined();
      expect((await get(id, users.storeKanto)).body!.contact).toBeUndefined();
    });

    it('hides another store’s report from a store as 404', async () => {
      const { body } = await post(validReport());
      expect((await get(body!.id, users.storeKansai)).status).toBe(404);
    });

    it('does not confuse two ids that share the random part', async () => {
      const { body } = await post(validReport(), users.agent, `twin-${unique()}`);
      const twin = `0000000000${body!.id.slice(10)}`;
      expect((await get(twin)).status).toBe(404);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      expect((await get('01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
      const bad = await get('not-a-ulid');
      expect(bad.status).toBe(400);
      expect(bad.body!.errors[0].field).toBe('path.id');
    });
  });

  describe('list', () => {
    it('filters by product, lot, category, store and region, newest first, page by page', async () => {
      const sku = `LIST-${unique()}`;
      const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
      const make = (lot: string, category: string, storeId: string, region: string, minutesAgo: number) =>
        post(
          validReport({
            product: { sku, name: 'Listed snack' },
            lotCode: lot,
            defect: { category, description: 'x' },
            purchase: { storeId, region },
            receivedAt: at(minutesAgo),
          }),
        );
      const created = [];
      created.push(await make('L1', 'foreign_matter', 'store-0101', 'kanto', 50));
      created.push(await make('L1', 'off_taste_odour', 'store-0101', 'kanto', 40));
      created.push(await make('L2', 'foreign_matter', 'store-0201', 'kansai', 30));
      created.push(await make('L2', 'foreign_matter', 'store-0202', 'kansai', 20));
      created.push(await make('L3', 'injury', 'store-0201', 'kansai', 10));
      const ids = created.map((c) => c.body!.id);

      const idsOf = async (query: Record<string, string>) => (await list({ sku, ...query })).body!.items.map((r: any) => r.id);
      expect(await idsOf({})).toEqual([...ids].reverse());
      expect(await idsOf({ lot: 'L2' })).toEqual([ids[3], ids[2]]);
      expect(await idsOf({ category: 'foreign_matter' })).toEqual([ids[3], ids[2], ids[0]]);
      expect(await idsOf({ storeId: 'store-0201' })).toEqual([ids[4], ids[2]]);
      expect(await idsOf({ region: 'kanto', category: 'off_taste_odour' })).toEqual([ids[1]]);
      expect(await idsOf({ receivedFrom: at(35), receivedTo: at(15) })).toEqual([ids[3], ids[2]]);

      const first = (await list({ sku, limit: '2' })).body!;
      const second = (await list({ sku, limit: '2', cursor: first.cursor })).body!;
      const third = (await list({ sku, limit: '2', cursor: second.cursor })).body!;
      expect([...first.items, ...second.items, ...third.items].map((r: any) => r.id)).toEqual([...ids].reverse());
      expect(third.cursor).toBeUndefined();
    });

    it('compares a received-between range in time, whatever the offsets', async () => {
      const reversed = await list({ receivedFrom: '2024-01-01T05:00:00Z', receivedTo: '2024-01-01T10:00:00+09:00' });
      expect(reversed.status).toBe(400);
      expect(reversed.body!.errors[0].field).toBe('query.receivedTo');
      const forward = await list({ receivedFrom: '2024-01-01T10:00:00+09:00', receivedTo: '2024-01-01T05:00:00Z' });
      expect(forward.status).toBe(200);
    });

    it('keeps lots of different products apart even when codes contain #', async () => {
      const tag = unique();
      const a = await post(validReport({ product: { sku: `A#${tag}`, name: 'a' }, lotCode: 'B' }));
      const b = await post(validReport({ product: { sku: 'A', name: 'b' }, lotCode: `${tag}#B` }));
      expect((await list({ sku: `A#${tag}`, lot: 'B' })).body!.items.map((r: any) => r.id)).toEqual([a.body!.id]);
      expect((await list({ sku: 'A', lot: `${tag}#B` })).body!.items.map((r: any) => r.id)).toEqual([b.body!.id]);
    });

    it('answers a hand-made cursor with 400, not 500', async () => {
      for (const forged of [Buffer.from('{"i":"byKind","f":"x","k":{}}').toString('base64url'), 'bm90IGpzb24', Buffer.from('123').toString('base64url')]) {
        const response = await list({ cursor: forged });
        expect(response.status).toBe(400);
      }
    });

    it('rejects a cursor used with other filters', async () => {
      const sku = `CUR-${unique()}`;
      for (let i = 0; i < 3; i++) await post(validReport({ product: { sku, name: 'c' } }));
      const page = (await list({ sku, limit: '1' })).body!;
      const misuse = await list({ sku, category: 'injury', limit: '1', cursor: page.cursor });
      expect(misuse.status).toBe(400);
      expect(misuse.body!.errors[0].field).toBe('query.cursor');
    });

    it('finds overdue reports by clock state', async () => {
      const sku = `LATE-${unique()}`;
      const late = await post(validReport({ product: { sku, name: 'late' }, receivedAt: new Date(Date.now() - 3 * 3600_000).toISOString() }));
      await post(validReport({ product: { sku, name: 'fresh' } }));
      expect((await list({ sku, clockState: 'overdue' })).body!.items.map((r: any) => r.id)).toEqual([late.body!.id]);
    });

    it('limits a store to its own reports', async () => {
      const sku = `STORE-${unique()}`;
      await post(validReport({ product: { sku, name: 'a' } }));
      await post(validReport({ product: { sku, name: 'b' }, purchase: { storeId: 'store-0201', region: 'kansai' } }));
      const seen = (await list({ sku }, users.storeKansai)).body!.items;
      expect(seen.map((r: any) => r.purchase.storeId)).toEqual(['store-0201']);
      expect((await list({ sku, storeId: 'store-0101' }, users.storeKansai)).status).toBe(403);
    });

    it('lists every invalid query parameter', async () => {
      const response = await list({ limit: '1000', category: 'nope', lot: 'L1', extra: '1' });
      expect(response.status).toBe(400);
      expect(response.body!.errors.map((e: any) => e.field).sort()).toEqual(['query.category', 'query.extra', 'query.limit']);
    });
  });

  describe('milestones, landing points and survey', () => {
    it('completes clocks with who and when, keeps an audit trail, and refuses a second completion', async () => {
      const { body } = await post(validReport());
      const id = body!.id;
      const done = await postTo(recordMilestone, id, 'milestones', { clock: 'handoff', note: 'passed to regional desk' });
      expect(done.status).toBe(201);
      expect(done.body!.clocks.find((c: any) => c.id === 'handoff')).toMatchObject({ state: 'met', completedBy: users.agent.sub });
      const again = await postTo(recordMilestone, id, 'milestones', { clock: 'handoff' });
      expect(again.status).toBe(409);
      const read = await get(id);
      expect(read.body!.timeline.map((e: any) => e.type)).toEqual(['received', 'milestone']);
    });

    it('keeps a breach that happened breached when the milestone is backdated, and shows the backdating', async () => {
      // Received 20 minutes ago: the 15-minute handoff passed unrecorded.
      const { body } = await post(validReport({ receivedAt: new Date(Date.now() - 20 * 60_000).toISOString() }));
      const claimed = new Date(Date.now() - 12 * 60_000).toISOString();
      const done = await postTo(recordMilestone, body!.id, 'milestones', { clock: 'handoff', at: claimed });
      expect(done.status).toBe(201);
      const handoff = done.body!.clocks.find((c: any) => c.id === 'handoff');
      expect(handoff).toMatchObject({ state: 'breached', completedAt: new Date(claimed).toISOString() });
      expect(Date.parse(handoff.recordedAt)).toBeGreaterThan(Date.parse(claimed));
      const read = await get(body!.id);
      expect(read.body!.timeline.find((e: any) => e.type === 'milestone').details).toMatchObject({ clock: 'handoff', state: 'breached', backdated: true, claimedAt: new Date(claimed).toISOString() });
      // Recorded in time, a slightly earlier claim is just the desk's clock: met.
      const fresh = await post(validReport());
      const ontime = await postTo(recordMilestone, fresh.body!.id, 'milestones', { clock: 'handoff', at: new Date(Date.now() - 30_000).toISOString() });
      expect(ontime.body!.clocks.find((c: any) => c.id === 'handoff').state).toBe('met');
    });

    it('refuses a landing point already due and a complaint older than the horizon', async () => {
      const { body } = await post(validReport());
      const past = await postTo(addLandingPoint, body!.id, 'landing-points', { promise: 'QA calls back', owner: 'QA', dueAt: new Date(Date.now() - 3600_000).toISOString() }, users.qa);
      expect(past.status).toBe(400);
      expect(past.body!.errors.map((e: any) => e.field)).toEqual(['dueAt']);
      const old = await post(validReport({ receivedAt: new Date(Date.now() - 400 * 86_400_000).toISOString(), productionDate: '2025-01-01', purchase: { storeId: 'store-0101', region: 'kanto', date: '2025-02-01' } }));
      expect(old.status).toBe(400);
      expect(old.body!.errors.map((e: any) => e.field)).toEqual(['receivedAt']);
    });

    it('watches a landing point as a clock and completes it by its id', async () => {
      const { body } = await post(validReport());
      const due = new Date(Date.now() + 2 * 86_400_000).toISOString();
      const added = await postTo(addLandingPoint, body!.id, 'landing-points', { promise: 'QA calls back', owner: 'QA Saitama', dueAt: due }, users.qa);
      expect(added.status).toBe(201);
      const lp = added.body!.clocks.find((c: any) => c.id.startsWith('lp-'));
      expect(lp).toMatchObject({ name: 'QA calls back', owner: 'QA Saitama', state: 'running' });
      const kept = await postTo(recordMilestone, body!.id, 'milestones', { clock: lp.id }, users.qa);
      expect(kept.body!.clocks.find((c: any) => c.id === lp.id).state).toBe('met');
    });

    it('takes the survey only after the written reply, and only once', async () => {
      const { body } = await post(validReport());
      const early = await postTo(recordSurvey, body!.id, 'survey', { satisfaction: 4 });
      expect(early.status).toBe(422);
      await postTo(recordMilestone, body!.id, 'milestones', { clock: 'reply', note: 'letter with cause and prevention' });
      const survey = await postTo(recordSurvey, body!.id, 'survey', { satisfaction: 4, comment: 'Thank you for the clear answer' });
      expect(survey.status).toBe(201);
      expect(survey.body!.survey).toMatchObject({ satisfaction: 4 });
      expect((await postTo(recordSurvey, body!.id, 'survey', { satisfaction: 5 })).status).toBe(422);
    });

    it('rejects a milestone in the future and an unknown clock', async () => {
      const { body } = await post(validReport());
      const future = await postTo(recordMilestone, body!.id, 'milestones', { clock: 'qa', at: new Date(Date.now() + 3600_000).toISOString() });
      expect(future.status).toBe(400);
      expect(future.body!.errors[0].field).toBe('at');
      expect((await postTo(recordMilestone, body!.id, 'milestones', { clock: 'lunch' })).status).toBe(400);
    });
  });
});

describe('reports', () => {
  describe('need-to-know: who sees the customer’s own words', () => {
    const narrative = {
      defect: { category: 'foreign_matter', description: 'My son cut his lip on a sharp piece of plastic.' },
      harm: { injury: true, illness: false, medicalAttention: true, description: 'Two stitches at the clinic' },
      fiveW1H: { who: 'the customer’s son, 7', how: 'while eating' },
      howFound: 'bit into it',
    };
    // The matrix, written out: role → sees the narrative, sees the contact.
    const MATRIX = [
      ['agent', users.agent, true, true],
      ['qa', users.qa, true, true],
      ['admin', users.admin, true, true],
      ['executive', users.executive, false, false],
      ['store that filed it', users.storeKanto, true, false],
      ['another account of the filing store', { ...users.storeKanto, sub: 'u-store-0101-b' }, true, false],
    ] as const;

    it.each(MATRIX)('%s', async (_role, user, seesNarrative, seesContact) => {
      const filed = await post(validReport({ ...narrative, purchase: { storeId: 'store-0101', region: 'kanto', date: '2026-11-15' } }), users.storeKanto);
      expect(filed.status).toBe(201);
      const read = await get(filed.body!.id, user as never);
      expect(read.status).toBe(200);
      const body = JSON.stringify(read.body);
      for (const text of ['cut his lip', 'Two stitches', 'son, 7', 'bit into it']) expect(body.includes(text), text).toBe(seesNarrative);
      expect(body.includes('Hanako'), 'contact').toBe(seesContact);
      // What a recall needs stays visible to every role: product, lot, category, whether anyone was hurt.
      expect(read.body).toMatchObject({ product: { sku: 'CHOC-ALM-100' }, defect: { category: 'foreign_matter' }, harm: { injury: true, illness: false } });
      if (!seesNarrative) expect(read.body!.redacted).toEqual(expect.arrayContaining(['defect.description', 'harm.description', 'fiveW1H']));
    });

    it('keeps a report filed by the desk from a store, and another store from the report', async () => {
      const byDesk = await post(validReport({ ...narrative, purchase: { storeId: 'store-0101', region: 'kanto', date: '2026-11-15' } }));
      expect(JSON.stringify((await get(byDesk.body!.id, users.storeKanto)).body)).not.toContain('cut his lip');
      const byStore = await post(validReport({ ...narrative, purchase: { storeId: 'store-0101', region: 'kanto', date: '2026-11-15' } }), users.storeKanto);
      expect((await get(byStore.body!.id, users.storeKansai)).status).toBe(404);
    });

    it('keeps what the desk wrote on the clocks from executives', async () => {
      const { body } = await post(validReport());
      await postTo(recordMilestone, body!.id, 'milestones', { clock: 'handoff', note: 'Mrs Yamada was upset' });
      await postTo(addLandingPoint, body!.id, 'landing-points', { promise: 'Call Mrs Yamada back', owner: 'QA', dueAt: new Date(Date.now() + 86_400_000).toISOString() }, users.qa);
      const exec = JSON.stringify((await get(body!.id, users.executive)).body);
      expect(exec).not.toContain('Yamada');
      const list = JSON.stringify((await call(listReports, httpEvent({ path: '/reports', query: { sku: 'CHOC-ALM-100', limit: '100' }, user: users.executive }))).body);
      expect(list).not.toContain('Call Mrs Yamada');
      expect(JSON.stringify((await get(body!.id, users.qa)).body)).toContain('Call Mrs Yamada back');
    });

    it('keeps what the desk wrote on the clocks out of every index, and whole on the report for the desk', async () => {
      const sku = `DESK-${Date.now()}`;
      const { body } = await post(validReport({ product: { sku, name: 'Wafer' } }));
      await postTo(recordMilestone, body!.id, 'milestones', { clock: 'handoff', note: 'Mrs Yamada was upset' });
      await postTo(addLandingPoint, body!.id, 'landing-points', { promise: 'Call Mrs Yamada back', owner: 'QA', dueAt: new Date(Date.now() + 86_400_000).toISOString() }, users.qa);
      // Every index that carries the report: none carries the note or the promise.
      for (const index of TABLE.indexes) {
        const pk = { byProduct: `SKU#${sku}`, byKind: 'REPORT' }[index.name as string];
        if (!pk) continue;
        const page = await dynamo().send(
          new QueryCommand({ TableName: process.env.TABLE_NAME, IndexName: index.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': index.partitionKey }, ExpressionAttributeValues: { ':pk': pk }, ScanIndexForward: false, Limit: 50 }),
        );
        const item = page.Items?.find((i) => i.record?.id === body!.id);
        expect(item, index.name).toBeDefined();
        expect(JSON.stringify(item), index.name).not.toContain('Yamada');
      }
      // A list is an index read: the desk sees that a landing point is due, not what was promised.
      const list = await call(listReports, httpEvent({ path: '/reports', query: { sku }, user: users.qa }));
      expect(JSON.stringify(list.body)).not.toContain('Yamada');
      expect(JSON.stringify(list.body)).toContain('landing point');
      // The report itself, for the desk: both, after two changes in a row.
      const whole = JSON.stringify((await get(body!.id, users.qa)).body);
      expect(whole).toContain('Mrs Yamada was upset');
      expect(whole).toContain('Call Mrs Yamada back');
    });

    it('keeps the narrative out of every list and index, for every role', async () => {
      const filed = await post(validReport({ ...narrative, product: { sku: 'NTK-1', name: 'Wafer' } }));
      for (const user of [users.agent, users.qa, users.executive]) {
        const list = await call(listReports, httpEvent({ path: '/reports', query: { sku: 'NTK-1' }, user }));
        expect(list.body!.items.map((r: any) => r.id)).toContain(filed.body!.id);
        expect(JSON.stringify(list.body)).not.toContain('cut his lip');
      }
      // A change written from an index read (the watchdog's) leaves the narrative where it was.
      await postTo(recordMilestone, filed.body!.id, 'milestones', { clock: 'handoff' });
      expect(JSON.stringify((await get(filed.body!.id, users.qa)).body)).toContain('cut his lip');
    });

    it('keeps the survey comment with the narrative', async () => {
      const { body } = await post(validReport());
      await postTo(recordMilestone, body!.id, 'milestones', { clock: 'reply' });
      await postTo(recordSurvey, body!.id, 'survey', { satisfaction: 5, comment: 'Thank you, Sato-san' });
      expect((await get(body!.id, users.agent)).body!.survey).toMatchObject({ satisfaction: 5, comment: 'Thank you, Sato-san' });
      const exec = (await get(body!.id, users.executive)).body!;
      expect(exec.survey).toMatchObject({ satisfaction: 5 });
      expect(exec.survey.comment).toBeUndefined();
    });
  });
});
