import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../functions/catalog.js';
import { handler as acknowledge } from '../../../functions/acknowledge-notice.js';
import { handler as correctAck } from '../../../functions/correct-acknowledgement.js';
import { handler as listStores } from '../../../functions/list-stores.js';
import { handler as publicNotices } from '../../../functions/public-notices.js';
import { handler as putStore } from '../../../functions/put-store.js';
import { handler as sendReply } from '../../../functions/send-reply.js';
import { handler as storeNotices } from '../../../functions/store-notices.js';
import { handler as getTaxonomy } from '../../../functions/get-taxonomy.js';
import { handler as listClusters } from '../../../functions/list-clusters.js';
import { handler as listTrackRecords } from '../../../functions/list-track-records.js';
import type { Role } from '../../../shared/platform/roles.js';
import { call, httpEvent } from '../../support/events.js';
import { users } from '../../support/users.js';

/** Who may call each notice and store endpoint (and the taxonomy every client reads, and what detection sees and learnt), as the issues give it. */
const ROUTE_ROLES: Record<string, Role[] | 'public'> = {
  'POST /notices/{id}/acks': ['store'],
  'PUT /notices/{id}/acks/{storeId}': ['qa', 'admin'],
  'GET /stores/{id}/notices': ['store', 'qa', 'admin'],
  'PUT /stores/{id}': ['admin'],
  'GET /stores': ['qa', 'executive', 'admin'],
  'POST /reports/{id}/reply': ['agent', 'qa', 'admin'],
  'GET /public/notices': 'public',
  'GET /taxonomy': ['agent', 'qa', 'executive', 'store', 'admin'],
  'GET /clusters': ['qa', 'executive', 'admin'],
  'GET /track-records': ['qa', 'executive', 'admin'],
};
const CAST: Record<Role, (typeof users)[keyof typeof users]> = { agent: users.agent, qa: users.qa, executive: users.executive, store: users.storeKanto, admin: users.admin };
type User = (typeof users)[keyof typeof users] | undefined;
const as = (user: User) => (user ? { user } : {});
const NOTICE = 'withdrawal-01ZZZZZZZZZZZZZZZZZZZZZZZZ-6b616e746f';
const REPORT = '01ZZZZZZZZZZZZZZZZZZZZZZZZ';

// Bodies that pass no validation: a caller the route admits gets 400 or 404, never 403.
const CALLS: Record<string, (user: User, body?: unknown, query?: Record<string, string>) => ReturnType<typeof call>> = {
  'POST /notices/{id}/acks': (u, body = {}) => call(acknowledge, httpEvent({ method: 'POST', path: `/notices/${NOTICE}/acks`, pathParameters: { id: NOTICE }, body, ...as(u) })),
  'PUT /notices/{id}/acks/{storeId}': (u, body = {}) =>
    call(correctAck, httpEvent({ method: 'PUT', path: `/notices/${NOTICE}/acks/store-0101`, pathParameters: { id: NOTICE, storeId: 'store-0101' }, body, ...as(u) })),
  'GET /stores/{id}/notices': (u, _b, query) => call(storeNotices, httpEvent({ path: '/stores/store-0101/notices', pathParameters: { id: 'store-0101' }, ...(query ? { query } : {}), ...as(u) })),
  'PUT /stores/{id}': (u, body = {}) => call(putStore, httpEvent({ method: 'PUT', path: '/stores/x', pathParameters: { id: 'x' }, body, ...as(u) })),
  'GET /stores': (u, _b, query = {}) => call(listStores, httpEvent({ path: '/stores', query, ...as(u) })),
  'POST /reports/{id}/reply': (u, body = {}) => call(sendReply, httpEvent({ method: 'POST', path: `/reports/${REPORT}/reply`, pathParameters: { id: REPORT }, body, ...as(u) })),
  'GET /public/notices': (u, _b, query) => call(publicNotices, httpEvent({ path: '/public/notices', ...(query ? { query } : {}), ...as(u) })),
  'GET /taxonomy': (u, _b, query) => call(getTaxonomy, httpEvent({ path: '/taxonomy', ...(query ? { query } : {}), ...as(u) })),
  'GET /clusters': (u, _b, query) => call(listClusters, httpEvent({ path: '/clusters', ...(query ? { query } : {}), ...as(u) })),
  'GET /track-records': (u, _b, query) => call(listTrackRecords, httpEvent({ path: '/track-records', ...(query ? { query } : {}), ...as(u) })),
};

describe('notices', () => {
  describe('authorization matrix', () => {
    it('covers every notice, store, taxonomy and detection-read route of the catalog, with its roles', () => {
      const routes = httpRoutes().filter((r) => Object.keys(ROUTE_ROLES).includes(`${r.trigger.method} ${r.trigger.path}`));
      expect(Object.fromEntries(routes.map((r) => [`${r.trigger.method} ${r.trigger.path}`, r.trigger.roles]))).toEqual(ROUTE_ROLES);
    });

    const cases = Object.keys(ROUTE_ROLES).flatMap((route) => (Object.keys(CAST) as Role[]).map((role) => [route, role] as const));
    it.each(cases)('%s as %s', async (route, role) => {
      const allowed = ROUTE_ROLES[route]!;
      const response = await CALLS[route]!(CAST[role]);
      expect(response.status).toBeLessThan(500);
      if (allowed === 'public' || allowed.includes(role)) expect(response.status, JSON.stringify(response.body)).not.toBe(403);
      else expect(response.status).toBe(403);
    });

    it.each(Object.keys(ROUTE_ROLES))('%s without a token', async (route) => {
      expect((await CALLS[route]!(undefined)).status).toBe(ROUTE_ROLES[route] === 'public' ? 200 : 401);
    });

    it('lets a store read only its own inbox', async () => {
      const other = await call(storeNotices, httpEvent({ path: '/stores/store-0201/notices', pathParameters: { id: 'store-0201' }, user: users.storeKanto }));
      expect(other.status).toBe(403);
    });
  });

  describe('under hostile input', () => {
    const hostile = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 500 }), fc.record({ quantityOnHand: fc.jsonValue(), quantityRemoved: fc.jsonValue(), note: fc.jsonValue() }, { requiredKeys: [] }));
    const query = fc.dictionary(fc.constantFrom('format', 'limit', 'all', 'region', 'window', 'kind', 'x'), fc.string({ maxLength: 100 }), { maxKeys: 3 });
    it.each(Object.keys(CALLS))('%s never answers 5xx, and every rejection names its fields', async (route) => {
      const roles = ROUTE_ROLES[route]!;
      const user = roles === 'public' ? undefined : CAST[roles[0]!];
      await fc.assert(
        fc.asyncProperty(hostile, query, async (body, q) => {
          const response = await CALLS[route]!(user, body, q);
          expect(response.status).toBeLessThan(500);
          if (response.status === 400) {
            expect(response.headers['content-type']).toBe('application/problem+json');
            expect(response.body!.errors.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 60, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100_000) },
      );
    });
  });
});
