import * as z from 'zod';
import type { RouteSpec } from './http.js';

/**
 * The OpenAPI 3.1 description of the HTTP API, built from the function catalog (paths,
 * methods, roles) and from each handler's own route spec (the zod schemas it parses with),
 * so what is documented is what is accepted. zod 4 emits JSON Schema 2020-12, which is the
 * schema dialect of OpenAPI 3.1.
 */
export interface DocumentedRoute {
  /** The catalog entry (id, description, trigger). */
  readonly spec: { readonly id: string; readonly description: string; readonly trigger: { readonly method: string; readonly path: string; readonly roles: readonly string[] | 'public' } };
  readonly route: RouteSpec<z.ZodType, z.ZodType, z.ZodType>;
}

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

function parameters(schema: z.ZodType | undefined, where: 'query' | 'path') {
  if (!schema) return [];
  const s = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: p,
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

export function openApiDocument(routes: readonly DocumentedRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { spec, route } of [...routes].sort((a, b) => a.spec.trigger.path.localeCompare(b.spec.trigger.path))) {
    const { method, path, roles } = spec.trigger;
    const isPublic = roles === 'public';
    const success = method === 'POST' ? '201' : '200';
    (paths[path] ??= {})[method.toLowerCase()] = {
      operationId: spec.id,
      summary: spec.description,
      tags: [path.split('/')[1] ?? 'api'],
      ...(isPublic ? { security: [] } : { security: [{ bearer: [] }], 'x-roles': roles }),
      parameters: [...parameters(route.path, 'path'), ...parameters(route.query, 'query')],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      responses: {
        [success]: { description: 'OK', content: { 'application/json': {} } },
        '400': problem('Invalid request: `errors` names every invalid field'),
        ...(isPublic ? {} : { '401': problem('No valid bearer token'), '403': problem('Not allowed for this role') }),
        '404': problem('Not found'),
        ...(method === 'GET' ? {} : { '409': problem('Changed meanwhile, or not in a state where this applies'), '413': problem('Body too large'), '422': problem('A rule of the process (a gate: `unmet` lists every open checklist item)') }),
        '500': problem('Our fault: quote the correlation id'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Recall and incident management API',
      version,
      description: 'Case records and their clocks, detection, recall incidents through the five gates, store notices, public notices and customer replies. Errors are RFC 9457 problem+json.',
    },
    servers: [{ url: 'http://localhost:3000', description: 'npm start' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Cognito ID token (locally: a token from the npm start banner); roles come from cognito:groups' } },
      schemas: {
        Problem: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            correlationId: { type: 'string' },
            runbook: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
          },
          required: ['type', 'title', 'status'],
        },
      },
    },
    paths,
  };
}
