import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { catalog, type FunctionSpec } from '../../functions/catalog.js';
import { esbuildOptions } from '../../infra/bundling.js';

/**
 * `npm run bench:bundles -- [--runs 7] [--only ID]`
 *
 * Builds every catalog function as the CDK stack does (infra/bundling.ts: CommonJS, minified, the AWS SDK external
 * because the Lambda runtime provides it), then prints each bundle's size and its module initialisation time: a fresh
 * Node process requires the built bundle as the Lambda runtime loads a CommonJS handler (parsing, zod schemas,
 * clients, the runtime's SDK), median of `--runs`. Baseline in the same run: a fresh process requiring an empty module, so the
 * figure is our code's share, not Node's own start-up. Targets: ≤ 250 KB, median ≤ 100 ms.
 */
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, only: { type: 'string' } } });
const runs = Math.max(1, Number(values.runs));
const ROOT = path.resolve(import.meta.dirname, '../..');
// Inside the repository, so the externals (@aws-sdk/*) resolve from node_modules as the runtime's would.
const OUT = path.join(ROOT, '.bench', 'bundles');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
// The repository is "type": "module"; a CDK asset directory has no package.json, so its index.js is CommonJS.
writeFileSync(path.join(OUT, 'package.json'), '{ "type": "commonjs" }\n');

const LIMIT_BYTES = 250 * 1024;
const LIMIT_MS = 100;
// What the stack sets, with placeholder values: module initialisation reads and validates them.
const arn = (name: string) => `arn:aws:sns:eu-west-1:123456789012:${name}`;
const env = {
  ...process.env,
  TABLE_NAME: 'bench',
  FUNCTION_ID: 'bench',
  AWS_REGION: 'eu-west-1',
  STORE_NOTICES_TOPIC_ARN: arn('store-notices'),
  PUBLIC_NOTICES_TOPIC_ARN: arn('public-notices'),
  INCIDENT_ALERTS_TOPIC_ARN: arn('incident-alerts'),
  CUSTOMER_REPLIES_TOPIC_ARN: arn('customer-replies'),
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Milliseconds a fresh process spends loading `file` (measured inside it, around the require). */
function initMs(file: string): number {
  const script = `const t=performance.now();require(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t));`;
  return Number(execFileSync(process.execPath, ['--input-type=commonjs', '-e', script], { env, cwd: ROOT, encoding: 'utf8' }));
}
/** The same, importing an ES module (the format the functions shipped in before: the baseline). */
function importMs(file: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, cwd: ROOT, encoding: 'utf8' }));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const empty = path.join(OUT, 'empty.js');
writeFileSync(empty, 'module.exports = {};\n');
const baseline = median(Array.from({ length: runs }, () => initMs(empty)));

const specs = (catalog as readonly FunctionSpec[]).filter((s) => !values.only || s.id === values.only);
const rows: { id: string; kb: number; ms: number; esmMs: number }[] = [];
for (const spec of specs) {
  const outfile = path.join(OUT, spec.id, 'index.js');
  await build(esbuildOptions(path.join(ROOT, spec.entry), outfile));
  // Baseline in the same run: the same code as an ES module, timed in alternation with it.
  const esmfile = path.join(OUT, 'esm', spec.id, 'index.mjs');
  await build({
    ...esbuildOptions(path.join(ROOT, spec.entry), esmfile),
    format: 'esm',
    banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
  });
  const bytes = statSync(outfile).size;
  const cjs: number[] = [];
  const esm: number[] = [];
  for (let i = 0; i < runs; i++) {
    cjs.push(initMs(outfile));
    esm.push(importMs(esmfile));
  }
  rows.push({ id: spec.id, kb: bytes / 1024, ms: median(cjs), esmMs: median(esm) });
  process.stdout.write(`\r  built and timed ${rows.length}/${specs.length}`);
}
process.stdout.write('\n');

const width = Math.max(...rows.map((r) => r.id.length), 8);
console.log(`\n| ${'function'.padEnd(width)} | bundle KB | init ms (median of ${runs}) | as ESM ms | ratio |`);
console.log(`|${'-'.repeat(width + 2)}|-----------|-------------|-----------|-------|`);
for (const r of rows) {
  const flag = (r.kb > LIMIT_BYTES / 1024 ? ' (size over)' : '') + (r.ms > LIMIT_MS ? ' (init over)' : '');
  console.log(`| ${r.id.padEnd(width)} | ${r.kb.toFixed(0).padStart(9)} | ${r.ms.toFixed(1).padStart(11)} | ${r.esmMs.toFixed(1).padStart(9)} | ${(r.ms / r.esmMs).toFixed(2).padStart(5)} |${flag}`);
}
const worst = { kb: Math.max(...rows.map((r) => r.kb)), ms: Math.max(...rows.map((r) => r.ms)) };
console.log(`
empty module in a fresh process: ${baseline.toFixed(1)} ms; "as ESM": the same bundle as an ES module (the format before), timed in alternation
largest bundle ${worst.kb.toFixed(0)} KB (target ≤ 250: ${worst.kb <= 250 ? 'met' : 'NOT met'}); slowest init ${worst.ms.toFixed(1)} ms (target ≤ ${LIMIT_MS}: ${worst.ms <= LIMIT_MS ? 'met' : 'NOT met'})`);
