import '../../infra/local/node-env.js';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';

/**
 * `npm run bench:detection-latency -- [--reports 1000] [--concurrency 16] [--samples 40]`
 *
 * On the embedded local stack (stream poller, the real stream function, DynamoDB Local):
 * 1. p50 / p95 time from `POST /reports` (an injury) to its candidate incident being readable
 *    through `GET /incidents`;
 * 2. throughput of intake (POST, stream held) and of detection (every report counted and
 *    judged), each measured alone, with 1,000 and with 100,000 prior reports already in the
 *    table (reports and their counters, loaded in bulk). Each history runs in a fresh process
 *    with fresh emulators.
 * Targets: p95 ≤ 1 s; throughput at 100k ≥ 0.9 × at 1k.
 */
const { values } = parseArgs({
  options: {
    reports: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    samples: { type: 'string', default: '40' },
    prior: { type: 'string' },
  },
});
const N = Number(values.reports);
const C = Number(values.concurrency);
const SAMPLES = Number(values.samples);

interface PhaseResult {
  prior: number;
  preloadSeconds: number;
  p50: number;
  p95: number;
  postRate: number;
  detectionRate: number;
}

if (values.prior) console.log(JSON.stringify(await phase(Number(values.prior))));
else await main();

async function main() {
  const results: PhaseResult[] = [];
  for (const prior of [1000, 100_000]) {
    process.stdout.write(`history of ${prior.toLocaleString()} prior reports: preloading and measuring (fresh emulators)... `);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, '--prior', String(prior), '--reports', String(N), '--concurrency', String(C), '--samples', String(SAMPLES)],
      { maxBuffer: 1 << 22, env: { ...process.env, LOG_LEVEL: 'WARN' } },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as PhaseResult;
    console.log(`done (preload ${result.preloadSeconds.toFixed(0)} s)`);
    results.push(result);
  }
  const [small, large] = results as [PhaseResult, PhaseResult];
  const ratio = (a: number, b: number) => (b / a).toFixed(2);
  console.log(`
| measure                                   | 1,000 prior | 100,000 prior | ratio |
|-------------------------------------------|-------------|---------------|-------|
| POST → candidate readable, p50            | ${small.p50.toFixed(0).padStart(8)} ms | ${large.p50.toFixed(0).padStart(10)} ms |       |
| POST → candidate readable, p95            | ${small.p95.toFixed(0).padStart(8)} ms | ${large.p95.toFixed(0).padStart(10)} ms |       |
| intake: POST /reports (stream held)       | ${small.postRate.toFixed(0).padStart(9)}/s | ${large.postRate.toFixed(0).padStart(11)}/s | ${ratio(small.postRate, large.postRate)}  |
| detection: reports counted and judged     | ${small.detectionRate.toFixed(0).padStart(9)}/s | ${large.detectionRate.toFixed(0).padStart(11)}/s | ${ratio(small.detectionRate, large.detectionRate)}  |

targets: p95 ≤ 1000 ms: ${Math.max(small.p95, large.p95) <= 1000 ? 'met' : 'NOT met'}; throughput at 100k ≥ 0.9 × at 1k: ${large.detectionRate >= 0.9 * small.detectionRate && large.postRate >= 0.9 * small.postRate ? 'met' : 'NOT met'}`);
}

async function phase(prior: number): Promise<PhaseResult> {
  const { BatchWriteCommand, BatchGetCommand } = await import('@aws-sdk/lib-dynamodb');
  const { startDynamoDbLocal, startSnsSqs } = await import('../../infra/local/emulators.js');
  const { provisionTable } = await import('../../infra/local/provision.js');
  const { startLocalStack } = await import('../../infra/local/stack.js');
  const { dynamo } = await import('../../shared/platform/aws.js');
  const { toItem } = await import('../../shared/reports/repository.js');
  const { counterKeys, dayOf, dayToIso } = await import('../../shared/detection/keys.js');
  const { synthesize } = await import('./synthetic.js');
  const { validReport } = await import('../support/reports.js');

  const [ddb, snsSqs] = await Promise.all([startDynamoDbLocal(), startSnsSqs()]);
  const tableName = 'bench-history';
  await provisionTable(ddb.endpoint, tableName);
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', TABLE_NAME: tableName });

  // History: the last year of a maker with 300 products, as reports plus detection counters.
  const started = performance.now();
  const days = 365;
  const world = synthesize({ seed: 3, products: 300, days, meanRate: prior / (300 * days), lotBursts: 0, slowBurns: 0, injuries: 0, start: new Date(Date.now() - (days + 1) * 86_400_000).toISOString() });
  const history = world.rows.slice(0, prior);
  const counters = new Map<string, number>();
  const items: Record<string, unknown>[] = [];
  for (const r of history) {
    const report = {
      ...validReport({ receivedAt: r.at }),
      product: { sku: r.sku, name: `Product ${r.sku}` },
      lotCode: r.lot,
      plant: r.plant,
      defect: { category: r.category, description: 'historical complaint' },
    } as Record<string, any>;
    const { contact, ...record } = report;
    items.push(toItem({ ...record, id: `H${r.reportId.replace(/\W/g, '').padStart(25, '0').slice(-25)}`, receivingAgent: 'history', clocks: [], createdBy: 'history', createdAt: r.at, version: 1 } as any, contact, 'closed', undefined));
    const day = dayOf(r.at);
    for (const key of counterKeys(r)) {
      const k = `${key}\u0000${day}`;
      counters.set(k, (counters.get(k) ?? 0) + 1);
    }
  }
  for (const [k, n] of counters) {
    const [key, day] = k.split('\u0000') as [string, string];
    items.push({ pk: `COUNT#${key}`, sk: `DAY#${dayToIso(Number(day))}#0`, kind: 'counter', n });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < items.length) {
        const batch = items.slice(next, (next += 25));
        let request: Record<string, any> | undefined = { [tableName]: batch.map((Item) => ({ PutRequest: { Item } })) };
        while (request && Object.keys(request).length > 0) {
          const result: { UnprocessedItems?: Record<string, any> } = await dynamo().send(new BatchWriteCommand({ RequestItems: request }));
          request = result.UnprocessedItems;
        }
      }
    }),
  );
  const preloadSeconds = (performance.now() - started) / 1000;

  // The stream starts after the history: detection of the past is already in the counters.
  const stack = await startLocalStack({ port: 0, tableName, endpoints: { dynamodb: ddb.endpoint, snsSqs: snsSqs.endpoint }, streamStartingPosition: 'LATEST', log: () => undefined });
  const auth = (name: string) => ({ authorization: `Bearer ${stack.users.find((u) => u.username === name)!.token}` });
  const post = async (body: unknown) => {
    const response = await fetch(`${stack.url}/reports`, { method: 'POST', headers: { ...auth('agent.sato'), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status !== 201) throw new Error(`POST /reports: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { id: string }).id;
  };

  try {
    // 1. Latency: one injury at a time, each opening a new candidate.
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      const id = await post(validReport({ product: { sku: `LAT-${i}`, name: 'Latency probe' }, defect: { category: 'injury', description: 'cut finger' }, harm: { injury: true, illness: false, medicalAttention: false } }));
      for (;;) {
        const response = await fetch(`${stack.url}/incidents?status=candidate&limit=5`, { headers: auth('qa.tanaka') });
        const body = (await response.json()) as { items: { recentReportIds: string[] }[] };
        if (body.items.some((c) => c.recentReportIds.includes(id))) break;
        if (performance.now() - t0 > 30_000) throw new Error(`report ${id} had no candidate after 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;

    // 2. Throughput, each side alone so that neither disturbs the other's figure: intake of N
    //    ordinary complaints with the stream held, then detection of all of them.
    const ids: string[] = [];
    let i = 0;
    await stack.streamIdle();
    stack.pauseStream();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (i < N) {
          const r = history[(i++ * 7919) % history.length]!;
          ids.push(await post(validReport({ product: { sku: r.sku, name: 'x' }, lotCode: r.lot, plant: r.plant, defect: { category: r.category, description: 'new complaint' } })));
        }
      }),
    );
    const postSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    stack.resumeStream();
    let pending = [...ids];
    while (pending.length > 0) {
      const found = new Set<string>();
      for (let k = 0; k < pending.length; k += 100) {
        const keys = pending.slice(k, k + 100).map((id) => ({ pk: `COUNTED#${id}`, sk: 'COUNTED' }));
        const result = await dynamo().send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
        for (const item of result.Responses?.[tableName] ?? []) found.add(String(item.pk).slice('COUNTED#'.length));
      }
      pending = pending.filter((id) => !found.has(id));
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 100));
      if (performance.now() - t1 > 600_000) throw new Error(`${pending.length} reports not counted after 10 minutes`);
    }
    const detectionSeconds = (performance.now() - t1) / 1000;
    return { prior, preloadSeconds, p50: pct(0.5), p95: pct(0.95), postRate: N / postSeconds, detectionRate: N / detectionSeconds };
  } finally {
    await stack.stop();
    await snsSqs.stop();
    await ddb.stop();
  }
}
