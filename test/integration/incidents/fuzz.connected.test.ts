import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { incidentsApi as api, SAMPLE_ACTIONS, SCOPE } from '../../support/incidents.js';
import { users } from '../../support/users.js';

/** Hostile input on every incident endpoint: never a 5xx, every rejection problem+json, nothing half-written. */
let incidentId: string;
let version: number;

beforeAll(async () => {
  const opened = await api.open({ title: 'Fuzz target', hazardClass: 'II', hazard: 'may contain plastic', category: 'foreign_matter', scope: { ...SCOPE, products: [{ sku: 'FUZZ-1', name: 'Fuzz' }], lots: [{ sku: 'FUZZ-1', lotCode: 'L1' }] } });
  incidentId = opened.body!.id;
  version = opened.body!.version;
});

const hostileValue = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 3000 }), fc.constant(null), fc.constant(''), fc.integer(), fc.constant('\u0000'), fc.constant('<script>'));

/** A valid body with one to three hostile edits: wrong types, deletions, extra keys. */
function mutated(base: Record<string, unknown>) {
  const keys = Object.keys(base);
  return fc
    .array(fc.record({ key: fc.constantFrom(...keys, 'extra', 'scope.products', 'scope.regions'), edit: fc.constantFrom('delete', 'set', 'extra'), value: hostileValue }), { minLength: 1, maxLength: 3 })
    .map((edits) => {
      const body: any = structuredClone(base);
      for (const { key, edit, value } of edits) {
        const [head, tail] = key.split('.') as [string, string | undefined];
        const parent = tail ? body[head] : body;
        const name = tail ?? head;
        if (!parent || typeof parent !== 'object') continue;
        if (edit === 'delete') delete parent[name];
        else if (edit === 'set') parent[name] = value;
        else parent[`x-${name}`] = value;
      }
      return body;
    });
}

const actionBodies = fc.oneof(
  fc.constantFrom(...Object.values(SAMPLE_ACTIONS)).chain((sample) => mutated({ ...sample, expectedVersion: 1 })),
  fc.jsonValue(),
  fc.string({ maxLength: 200 }),
);
const openBodies = fc.oneof(
  mutated({ title: 'x', hazardClass: 'I', hazard: 'y', category: 'foreign_matter', scope: { ...SCOPE, products: [{ sku: 'FUZZ-OPEN', name: 'n' }], lots: [{ sku: 'FUZZ-OPEN', lotCode: 'L' }] } }),
  fc.jsonValue(),
);
const queries = fc.dictionary(fc.constantFrom('status', 'hazardClass', 'limit', 'cursor', 'format', 'asOfVersion', 'x'), fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('candidate', 'I', '0', '-1', '1e9', 'markdown')), { maxKeys: 3 });
const ids = fc.oneof(fc.string({ maxLength: 40 }), fc.constant('01ZZZZZZZZZZZZZZZZZZZZZZZZ'), fc.constant('../../etc'));

function expectProblem(response: { status: number; headers: Record<string, string>; body?: any }) {
  expect(response.status).toBeLessThan(500);
  if (response.status >= 400) {
    expect(response.headers['content-type']).toBe('application/problem+json');
    if (response.status === 400) {
      expect(response.body!.errors.length).toBeGreaterThan(0);
      for (const e of response.body!.errors) expect(e.field.length).toBeGreaterThan(0);
    }
  }
}

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);

describe('incidents', () => {
  describe('under hostile input', () => {
    it('POST /incidents/{id}/actions never answers 5xx and a rejected action changes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(actionBodies, async (body) => {
          const response = await api.act(incidentId, typeof body === 'string' ? body : body, users.admin);
          expectProblem(response);
          const now = (await api.get(incidentId)).body!;
          if (response.status === 201) version = now.version;
          expect(now.version).toBe(version);
        }),
        { numRuns: 150, seed },
      );
    });

    it('POST /incidents never answers 5xx', async () => {
      await fc.assert(fc.asyncProperty(openBodies, async (body) => expectProblem(await api.open(body, users.qa))), { numRuns: 80, seed });
    });

    it('GET /incidents, /incidents/{id} and /report never answer 5xx on any query or id', async () => {
      await fc.assert(
        fc.asyncProperty(queries, ids, async (query, id) => {
          expectProblem(await api.list(query));
          expectProblem(await api.get(id, users.executive, query));
          expectProblem(await api.get(incidentId, users.executive, query));
          const report = await api.report(id, users.qa, query);
          expect(report.status).toBeLessThan(500);
        }),
        { numRuns: 80, seed },
      );
    });
  });
});
