import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConflictError, MethodNotAllowedError, ValidationError } from '../../../shared/platform/errors.js';
import { fieldProblems, parseOrThrow, toProblemResponse } from '../../../shared/platform/problem.js';

const ctx = { instance: '/reports', correlationId: 'corr-1' };

describe('problem+json', () => {
  it('answers a validation error with 400 and every invalid field', () => {
    const response = toProblemResponse(
      new ValidationError([
        { field: 'product.sku', message: 'required' },
        { field: 'lotCode', message: 'too long' },
      ]),
      ctx,
    );
    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    const body = JSON.parse(response.body!);
    expect(body).toMatchObject({ status: 400, instance: '/reports', correlationId: 'corr-1', type: 'urn:recall:problem:validation' });
    expect(body.errors.map((e: { field: string }) => e.field)).toEqual(['product.sku', 'lotCode']);
    expect(body.runbook).toBe('runbooks/api-errors.md#validation');
  });

  it('hides the details of an unexpected error behind a generic 500 with the correlation id', () => {
    const response = toProblemResponse(new Error('connection to db-7 refused for user x@example.com'), ctx);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('db-7');
    expect(response.body).not.toContain('example.com');
    expect(JSON.parse(response.body!)).toMatchObject({ status: 500, correlationId: 'corr-1' });
  });

  it('carries the Allow header on 405 and the message on 409', () => {
    const notAllowed = toProblemResponse(new MethodNotAllowedError(['GET', 'POST'], 'no'), ctx);
    expect(notAllowed.headers?.allow).toBe('GET, POST');
    const conflict = toProblemResponse(new ConflictError('version 3 is stale'), ctx);
    expect(conflict.statusCode).toBe(409);
    expect(JSON.parse(conflict.body!).detail).toBe('version 3 is stale');
  });

  it('names each unknown key and each nested invalid field', () => {
    const schema = z.strictObject({ product: z.strictObject({ sku: z.string() }), count: z.number() });
    const result = schema.safeParse({ product: { sku: 1, colour: 'red' }, extra: true });
    expect(result.success).toBe(false);
    const fields = fieldProblems(result.error!).map((p) => p.field).sort();
    expect(fields).toEqual(['count', 'extra', 'product.colour', 'product.sku']);
  });

  it('quotes keys that are empty or not plain names, so no field is blank', () => {
    const result = z.strictObject({ a: z.strictObject({}) }).safeParse({ a: { '': 1, 'x.y': 2 }, 'we ird': 3 });
    const fields = fieldProblems(result.error!).map((p) => p.field).sort();
    expect(fields).toEqual(['a[""]', 'a["x.y"]', '["we ird"]'].sort());
  });

  it('prefixes query and path fields so the caller knows where to look', () => {
    expect(() => parseOrThrow(z.object({ limit: z.coerce.number().int().max(100) }), { limit: '500' }, 'query')).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ field: 'query.limit' })] }),
    );
  });
});
