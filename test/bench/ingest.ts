import '../../infra/local/node-env.js';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';

/**
 * `npm run bench:ingest -- [--reports 2000] [--concurrency 16]`
 *
 * Case records through `POST /reports` on the embedded local stack (local API gateway, JWT
 * check, middleware, validation, one conditional PutItem with the Idempotency-Key folded
 * into the id) against raw PutItem calls of an item of the same size to the same DynamoDB
 * Local at the same concurrency, in the same run: raw, ingest, raw again; the baseline is the
 * mean of the two raw runs. The load comes from a separate client process, as real callers
 * do not share the server's CPU. Raw runs start once the stream is idle; the ingest run
 * includes the detection its reports cause (the local stack shares one DynamoDB Local).
 * Target: ingest ≥ 0.5 × raw PutItem.
 */
const { values } = parseArgs({
  options: {
    reports: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    client: { type: 'string' },
  },
});
const N = Number(values.reports);
const C = Number(values.concurrency);

interface Target {
  url: string;
  token: string;
  dynamoEndpoint: string;
  tableName: string;
}
interface Result {
  rate: number;
  p50: number;
  p95: number;
  bytes: number;
}

if (values.client) await client(values.client as 'raw' | 'api', JSON.parse(process.env.BENCH_TARGET!) as Target);
else await main();

async function main() {
  process.env.LOG_LEVEL = 'WARN';
  const { startLocalStack } = await import('../../infra/local/stack.js');
  process.stdout.write('starting the local stack... ');
  const stack = await startLocalStack({ port: 0, log: () => undefined });
  console.log('ready');
  const target: Target = {
    url: stack.url,
    token: stack.users.find((u) => u.username === 'agent.sato')!.token,
    dynamoEndpoint: stack.endpoints.dynamodb,
    tableName: stack.tableName,
  };
  const run = async (mode: 'raw' | 'api', count: number, label: string): Promise<Result> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, '--client', mode, '--reports', String(count), '--concurrency', String(C)],
      { env: { ...process.env, BENCH_TARGET: JSON.stringify(target), BENCH_LABEL: label }, maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
    console.log(`  ${label.padEnd(20)} ${result.rate.toFixed(0).padStart(5)}/s   p50 ${result.p50.toFixed(1)} ms   p95 ${result.p95.toFixed(1)} ms`);
    return result;
  };
  try {
    console.log('warming up (JIT of DynamoDB Local and of the functions)...');
    await run('raw', 1000, 'warm-up raw');
    await run('api', 1000, 'warm-up api');
    await stack.streamIdle();
    console.log(`measuring ${N} writes at concurrency ${C}:`);
    const raw1 = await run('raw', N, 'raw PutItem (1st)');
    // Ingest alone: detection waits (as in AWS, where it does not share the table's capacity
    // with intake the way two processes share one DynamoDB Local on two cores).
    stack.pauseStream();
    const api = await run('api', N, 'POST /reports');
    stack.resumeStream();
    process.stdout.write('  (detection catching up on those reports)\n');
    await stack.streamIdle();
    const raw2 = await run('raw', N, 'raw PutItem (2nd)');
    // And with detection running at the same time on the same emulator.
    const busy = await run('api', N, 'POST /reports + detection');
    await stack.streamIdle();
    const rawRate = (raw1.rate + raw2.rate) / 2;
    const ratio = api.rate / rawRate;
    console.log(`
| measure                         | value |
|---------------------------------|-------|
| writes / concurrency            | ${N} / ${C} |
| item size (request body)        | ${api.bytes} bytes |
| raw PutItem rate (mean of 2)    | ${rawRate.toFixed(0)}/s |
| POST /reports rate              | ${api.rate.toFixed(0)}/s |
| POST /reports latency p50 / p95 | ${api.p50.toFixed(1)} ms / ${api.p95.toFixed(1)} ms |
| ratio ingest / raw              | ${ratio.toFixed(2)} (target ≥ 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'}) |
| with detection running as well  | ${busy.rate.toFixed(0)}/s, ratio ${(busy.rate / rawRate).toFixed(2)} (both share one DynamoDB Local) |`);
  } finally {
    await stack.stop();
  }
}

async function client(mode: 'raw' | 'api', target: Target) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { localClientConfig } = await import('../../infra/local/provision.js');
  const { validReport } = await import('../support/reports.js');
  const label = process.env.BENCH_LABEL ?? mode;
  const body = (i: number) =>
    JSON.stringify(
      validReport({
        product: { sku: `SKU-${i % 300}`, name: `Benchmark snack ${i % 300}` },
        lotCode: `LOT-${i % 1200}`,
        purchase: { storeId: `store-${i % 500}`, region: `region-${i % 12}` },
      }),
    );
  const bytes = Buffer.byteLength(body(0));
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(target.dynamoEndpoint)));
  const padding = 'x'.repeat(bytes);
  const task =
    mode === 'raw'
      ? (i: number) =>
          ddb.send(new PutCommand({ TableName: target.tableName, Item: { pk: `RAW#${label}#${i}`, sk: 'RAW', kind: 'bench', padding } }))
      : async (i: number) => {
          const response = await fetch(`${target.url}/reports`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${target.token}`,
              'content-type': 'application/json',
              'idempotency-key': `bench-${label.replace(/\W/g, '')}-${i}`,
            },
            body: body(i),
          });
          if (response.status !== 201) throw new Error(`POST /reports answered ${response.status}: ${await response.text()}`);
          await response.arrayBuffer();
        };
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  console.log(JSON.stringify({ rate: N / seconds, p50: pct(0.5), p95: pct(0.95), bytes } satisfies Result));
}
