import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, httpEvent } from '../../support/events.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

/** The submit handler reads CLOCK_POLICY when it loads: a small limit for this file. */
let submit: typeof import('../../../functions/submit-report.js').handler;
let listReports: typeof import('../../../functions/list-reports.js').handler;
beforeAll(async () => {
  vi.stubEnv('CLOCK_POLICY', JSON.stringify({ storeReportsPerHour: 3 }));
  vi.resetModules();
  ({ handler: submit } = await import('../../../functions/submit-report.js'));
  ({ handler: listReports } = await import('../../../functions/list-reports.js'));
});
afterAll(() => vi.unstubAllEnvs());

const store = { ...users.storeKanto, storeId: `store-${Math.random().toString(36).slice(2, 8)}` };
const body = (n: number) => validReport({ purchase: { storeId: store.storeId, region: 'kanto', date: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10) }, defect: { category: 'foreign_matter', description: `film ${n}` } });
const post = (b: unknown, user: typeof store | typeof users.agent, key?: string) =>
  call(submit, httpEvent({ method: 'POST', path: '/reports', body: b, user, ...(key ? { headers: { 'idempotency-key': key } } : {}) }));

describe('per-store intake limit', () => {
  it('answers 429 with Retry-After once a store has filed its hourly limit, writes nothing, and still replays a report already filed', async () => {
    const first = body(1);
    const key = `intake-${store.storeId}`;
    expect((await post(first, store, key)).status).toBe(201);
    expect((await post(body(2), store)).status).toBe(201);
    expect((await post(body(3), store)).status).toBe(201);
    const over = await post(body(4), store);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ type: 'urn:recall:problem:too-many-requests', runbook: 'runbooks/api-errors.md#too-many-requests' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(3600);
    // A retry of the first report (same key, same body) is its replay, not a fourth report.
    const replay = await post(first, store, key);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const listed = await call(listReports, httpEvent({ path: '/reports', query: { storeId: store.storeId }, user: users.qa }));
    expect(listed.body!.items).toHaveLength(3);
    // The desk is not limited, for the same store.
    expect((await post(body(5), users.agent)).status).toBe(201);
  });
});
