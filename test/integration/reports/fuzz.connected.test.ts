import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handler as submit } from '../../../functions/submit-report.js';
import { dynamo } from '../../../shared/platform/aws.js';
import { call, httpEvent } from '../../support/events.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

/** How many reports the table holds (through the byKind index: no Scan). */
async function reportCount(): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({
        TableName: process.env.TABLE_NAME,
        IndexName: 'byKind',
        KeyConditionExpression: 'byKindPk = :r',
        ExpressionAttributeValues: { ':r': 'REPORT' },
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

const PATHS = [
  [], ['product'], ['product', 'sku'], ['product', 'gtin'], ['product', 'name'], ['lotCode'], ['productionDate'],
  ['bestBeforeDate'], ['plant'], ['purchase'], ['purchase', 'storeId'], ['purchase', 'date'], ['defect'],
  ['defect', 'category'], ['defect', 'description'], ['harm'], ['harm', 'injury'], ['sampleCollected'], ['channel'],
  ['receivedAt'], ['fiveW1H'], ['landingPoints'], ['contact'], ['contact', 'name'], ['contact', 'email'],
] as const;

/** A valid report with one to three hostile edits: wrong types, deletions, extra keys, huge strings. */
const mutatedReport = fc
  .array(
    fc.record({
      path: fc.constantFrom(...PATHS),
      edit: fc.oneof(
        fc.constant({ kind: 'delete' as const }),
        fc.record({ kind: fc.constant('set' as const), value: fc.oneof(fc.jsonValue(), fc.string({ maxLength: 5000 }), fc.constant(null)) }),
        fc.record({ kind: fc.constant('extra' as const), key: fc.string({ minLength: 1, maxLength: 20 }), value: fc.jsonValue() }),
      ),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((edits) => {
    let body: any = validReport();
    for (const { path, edit } of edits) {
      if (path.length === 0) {
        if (edit.kind === 'set') body = edit.value;
        else if (edit.kind === 'extra' && body && typeof body === 'object' && !Array.isArray(body)) body[edit.key] = edit.value;
        continue;
      }
      let parent = body;
      for (const segment of path.slice(0, -1)) parent = parent && typeof parent === 'object' ? parent[segment] : undefined;
      if (!parent || typeof parent !== 'object') continue;
      const last = path[path.length - 1]!;
      if (edit.kind === 'delete') delete parent[last];
      else if (edit.kind === 'set') parent[last] = edit.value;
      else if (parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) parent[last][edit.key] = edit.value;
    }
    return body;
  });

const rawBody = fc.oneof(
  mutatedReport.map((b) => JSON.stringify(b) ?? 'null'),
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
);

describe('reports', () => {
  describe('submit under hostile input', () => {
    it('never answers 5xx; every rejection is problem+json naming fields, and writes nothing', async () => {
      let expected = await reportCount();
      await fc.assert(
        fc.asyncProperty(rawBody, async (body) => {
          const response = await call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent }));
          expect([201, 400, 413]).toContain(response.status);
          if (response.status === 201) {
            expected++;
          } else {
            expect(response.headers['content-type']).toBe('application/problem+json');
            if (response.status === 400) {
              expect(response.body!.errors.length).toBeGreaterThan(0);
              for (const e of response.body!.errors) {
                expect(typeof e.field).toBe('string');
                expect(e.field.length).toBeGreaterThan(0);
                expect(typeof e.message).toBe('string');
              }
            }
          }
          expect(await reportCount()).toBe(expected);
        }),
        { numRuns: 200, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100_000) },
      );
    });
  });
});
