import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../functions/catalog.js';
import { generateOpenApi, OPENAPI_FILE, serialize } from '../../../infra/openapi.js';
import { call, httpEvent } from '../../support/events.js';

describe('OpenAPI description', () => {
  it('is up to date: functions/openapi.json is what `npm run openapi` generates from the handlers', async () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8'), 'run npm run openapi and commit functions/openapi.json').toBe(serialize(await generateOpenApi()));
  });

  it('documents every catalog route with its method, roles and the schemas its handler parses', async () => {
    const doc = await generateOpenApi();
    const routes = httpRoutes().filter((r) => r.trigger.path !== '$default');
    for (const route of routes) {
      const operation = (doc.paths[route.trigger.path] as Record<string, any> | undefined)?.[route.trigger.method.toLowerCase()];
      expect(operation, `${route.trigger.method} ${route.trigger.path}`).toBeDefined();
      expect(operation.operationId).toBe(route.id);
      if (route.trigger.roles === 'public') expect(operation.security).toEqual([]);
      else expect(operation['x-roles']).toEqual(route.trigger.roles);
      const handler = (await import(`../../../${route.entry}`)).handler as { route: { body?: unknown; query?: unknown; path?: unknown } };
      expect(!!operation.requestBody, `${route.id} body`).toBe(!!handler.route.body);
      const pathParams = (route.trigger.path.match(/\{(\w+)\}/g) ?? []).map((p) => p.slice(1, -1));
      expect(operation.parameters.filter((p: any) => p.in === 'path').map((p: any) => p.name)).toEqual(pathParams);
    }
    expect(Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0)).toBe(routes.length);
  });

  it('describes a body the way the handler validates it: strict, with the same required fields', async () => {
    const doc = await generateOpenApi();
    const submit = (doc.paths['/reports'] as any).post.requestBody.content['application/json'].schema;
    expect(submit.additionalProperties).toBe(false);
    expect(submit.required).toEqual(expect.arrayContaining(['product', 'lotCode', 'plant', 'purchase', 'defect', 'harm', 'channel', 'receivedAt', 'contact']));
    const actions = (doc.paths['/incidents/{id}/actions'] as any).post.requestBody.content['application/json'].schema;
    expect(actions.oneOf.map((o: any) => o.properties.action.const).sort()).toEqual(
      ['accept-sponsorship', 'acknowledge-breach', 'add-action', 'approve-disclosure', 'close', 'complete-action', 'contain', 'declare', 'disclose', 'dismiss', 'draft-disclosure', 'issue-withdrawal', 'override-verification', 'record-hold', 'record-root-cause', 'remediate', 'update-scope', 'verify'],
    );
  });

  it('is served at GET /openapi.json without sign-in', async () => {
    const { handler } = await import('../../../functions/openapi.js');
    const response = await call(handler, httpEvent({ path: '/openapi.json' }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String) } });
  });
});
