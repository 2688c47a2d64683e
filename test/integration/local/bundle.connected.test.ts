import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog } from '../../../functions/catalog.js';
import { esbuildOptions } from '../../../infra/bundling.js';
import { call, httpEvent } from '../../support/events.js';
import { validReport } from '../../support/reports.js';
import { users } from '../../support/users.js';

/**
 * The deployed artefact, not the source: two functions bundled exactly as the stack bundles them
 * (CommonJS, minified, the AWS SDK external), loaded with require as the Lambda runtime loads a
 * CommonJS handler, file a report and read it back through DynamoDB Local. Catches what only the
 * bundle can break: ESM-only syntax, import.meta, a dependency that does not bundle.
 */
const ROOT = path.resolve(import.meta.dirname, '../../..');
// Inside the repository so the external SDK resolves from node_modules, as it does from the runtime's.
const dir = mkdtempSync(path.join(ROOT, 'node_modules', '.bundle-test-'));
type Handler = Parameters<typeof call>[0];
const bundled: Record<string, Handler> = {};

beforeAll(async () => {
  // The repository is "type": "module"; a CDK asset directory has no package.json, so index.js is CommonJS.
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const require = createRequire(path.join(dir, 'index.js'));
  for (const id of ['submit-report', 'get-report', 'on-table-change', 'outbox-sweeper']) {
    const spec = catalog.find((s) => s.id === id)!;
    const outfile = path.join(dir, id, 'index.js');
    await build(esbuildOptions(path.join(ROOT, spec.entry), outfile));
    bundled[id] = (require(outfile) as { handler: Handler }).handler;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a function as deployed (the CommonJS bundle)', () => {
  it('files a report and reads it back', async () => {
    const sku = `BUNDLE-${Date.now()}`;
    const filed = await call(
      bundled['submit-report']!,
      httpEvent({ method: 'POST', path: '/reports', body: validReport({ product: { sku, name: 'Bundled crackers' } }), user: users.agent }),
    );
    expect(filed.status).toBe(201);
    const id = filed.body!.id as string;
    const read = await call(
      bundled['get-report']!,
      httpEvent({ path: `/reports/${id}`, routeKey: 'GET /reports/{id}', pathParameters: { id }, user: users.agent }),
    );
    expect(read.status).toBe(200);
    expect(read.body!.product.sku).toBe(sku);
  });

  it('loads the SNS client on first publish through require, not through the ES module loader', () => {
    for (const id of ['on-table-change', 'outbox-sweeper']) {
      expect(typeof bundled[id], id).toBe('function');
      const code = readFileSync(path.join(dir, id, 'index.js'), 'utf8');
      expect(code, id).toContain('require("@aws-sdk/client-sns")');
      expect(code, id).not.toMatch(/\bimport\(/);
    }
  });

  it('answers bad input with problem+json naming the field, as the source does', async () => {
    const bad = await call(
      bundled['submit-report']!,
      httpEvent({ method: 'POST', path: '/reports', body: { ...validReport(), lotCode: 42 }, user: users.agent }),
    );
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
    expect(bad.body!.errors.map((e: { field: string }) => e.field)).toContain('lotCode');
  });
});
