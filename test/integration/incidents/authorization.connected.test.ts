import { beforeAll, describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../functions/catalog.js';
import { DEFAULT_DETECTION_CONFIG } from '../../../shared/detection/config.js';
import { DynamoCounterStore } from '../../../shared/detection/dynamo-store.js';
import { detectAndEscalate } from '../../../shared/incidents/candidates.js';
import { systemClock } from '../../../shared/platform/clock.js';
import { newId } from '../../../shared/platform/ids.js';
import type { Role } from '../../../shared/platform/roles.js';
import { incidentsApi as api, SAMPLE_ACTIONS, SCOPE } from '../../support/incidents.js';
import { INCIDENT_ROUTE_ROLES, LIFECYCLE_SPEC } from '../../support/incident-spec.js';
import { users } from '../../support/users.js';

const CAST: Record<Role, (typeof users)[keyof typeof users]> = {
  agent: users.agent,
  qa: users.qa,
  executive: users.executive,
  store: users.storeKanto,
  admin: users.admin,
};
const ROLES = Object.keys(CAST) as Role[];
let candidateId: string;

beforeAll(async () => {
  const deps = { store: new DynamoCounterStore(process.env.TABLE_NAME!), config: DEFAULT_DETECTION_CONFIG, clock: systemClock };
  const observed = await detectAndEscalate({ reportId: newId(), at: new Date().toISOString(), sku: 'AUTHZ-1', lot: 'L1', plant: 'P-AUTHZ', category: 'injury', injury: true, illness: false }, deps);
  candidateId = observed.opened[0]!;
});

let openCount = 0;
const CALLS: Record<string, (user: (typeof users)[keyof typeof users] | null) => Promise<{ status: number }>> = {
  'GET /incidents': (u) => api.list({ status: 'candidate' }, u),
  'POST /incidents': (u) =>
    api.open({ title: 'Authz', hazardClass: 'III', hazard: 'cosmetic', category: 'other', scope: { ...SCOPE, products: [{ sku: `AUTHZ-OPEN-${++openCount}`, name: 'x' }], lots: [{ sku: `AUTHZ-OPEN-${openCount}`, lotCode: 'L1' }] } }, u),
  'GET /incidents/{id}': (u) => api.get(candidateId, u),
  // An empty body: callers the route admits get 400 (validation), others 403 before it.
  'POST /incidents/{id}/actions': (u) => api.act(candidateId, {}, u),
  'GET /incidents/{id}/report': (u) => api.report(candidateId, u),
  'GET /incidents/{id}/effectiveness': (u) => api.effectiveness(candidateId, u),
  // An empty body again: 400 for the roles the route admits.
  'POST /incidents/{id}/replies': (u) => api.replies(candidateId, {}, u),
};

describe('incidents', () => {
  describe('authorization matrix', () => {
    it('covers every incident route of the catalog, with the roles the catalog gives it', () => {
      const routes = httpRoutes().filter((r) => r.trigger.path.startsWith('/incidents'));
      expect(Object.fromEntries(routes.map((r) => [`${r.trigger.method} ${r.trigger.path}`, r.trigger.roles]))).toEqual(INCIDENT_ROUTE_ROLES);
      expect(Object.keys(CALLS).sort()).toEqual(Object.keys(INCIDENT_ROUTE_ROLES).sort());
    });

    const routeCases = Object.keys(INCIDENT_ROUTE_ROLES).flatMap((route) => ROLES.map((role) => [route, role] as const));
    it.each(routeCases)('%s as %s', async (route, role) => {
      const response = await CALLS[route]!(CAST[role]);
      if (INCIDENT_ROUTE_ROLES[route]!.includes(role)) expect(response.status, JSON.stringify(response)).not.toBe(403);
      else expect(response.status).toBe(403);
      expect(response.status).toBeLessThan(500);
    });

    it.each(Object.keys(INCIDENT_ROUTE_ROLES))('%s without a token is 401', async (route) => {
      expect((await CALLS[route]!(null)).status).toBe(401);
    });

    // Every action on a stale version: a role that may not run it is 403; one that may is 409
    // (wrong state or stale version) and nothing changes.
    const actionCases = Object.keys(LIFECYCLE_SPEC).flatMap((action) => (['qa', 'executive', 'admin'] as Role[]).map((role) => [action, role] as const));
    it.each(actionCases)('action %s as %s', async (action, role) => {
      const body = { ...SAMPLE_ACTIONS[action]!, expectedVersion: 999 };
      const response = await api.act(candidateId, body, CAST[role]);
      const allowed = LIFECYCLE_SPEC[action as keyof typeof LIFECYCLE_SPEC].roles.includes(role);
      expect(response.status, JSON.stringify(response.body)).toBe(allowed ? 409 : 403);
      expect((await api.get(candidateId)).body!.version).toBe(1);
    });
  });
});
