import '../../infra/local/node-env.js';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import http from 'node:http';
import { parseArgs } from 'node:util';

/**
 * `npm run bench:fanout -- [--stores 2000] [--regions 50] [--outside 200] [--runs 3]`
 *
 * One store withdrawal to 2,000 stores across 50 regions on the embedded local stack, each
 * store a queue subscribed to `store-notices` with its filter policy (its region; its id or
 * `all`), plus stores outside the scope that must receive nothing. Each run opens an
 * incident, records the hold and times `issue-withdrawal` through the HTTP API (transaction,
 * stream, outbox publisher, SNS fan-out) until every in-scope queue holds its notice (the
 * emulator's enqueue time, so how fast the bench reads queues is not measured). Printed: the SNS
 * publishes (target: one per region), p50 / p95 arrival (target p95 ≤ 2 s), stores reached
 * (must equal the stores in scope, none outside). Baseline in the same run, SNS alone: one
 * message per region against one targeted message per store.
 */
const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: '2000' },
    regions: { type: 'string', default: '50' },
    outside: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
  },
});
const STORES = Number(values.stores);
const REGIONS = Number(values.regions);
const OUTSIDE = Number(values.outside);
const RUNS = Number(values.runs);

process.env.LOG_LEVEL = 'WARN';
const { startLocalStack } = await import('../../infra/local/stack.js');
const { subscribeQueue, storeFilterPolicy, localClientConfig } = await import('../../infra/local/provision.js');
const { putStore } = await import('../../shared/stores/repository.js');

process.stdout.write('starting the local stack... ');
const stack = await startLocalStack({ port: 0, log: () => undefined });
console.log('ready');
const token = (name: string) => stack.users.find((u) => u.username === name)!.token;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const sqs = new SQSClient({ ...localClientConfig(stack.endpoints.snsSqs), requestHandler: new NodeHttpHandler({ httpAgent: agent }) });
const sns = new SNSClient({ ...localClientConfig(stack.endpoints.snsSqs), requestHandler: new NodeHttpHandler({ httpAgent: agent }) });

const region = (i: number) => `fan-r${String(i).padStart(2, '0')}`;
const inScope = Array.from({ length: STORES }, (_, i) => ({ storeId: `fan-s${String(i).padStart(5, '0')}`, region: region(i % REGIONS) }));
const outside = Array.from({ length: OUTSIDE }, (_, i) => ({ storeId: `fan-x${String(i).padStart(5, '0')}`, region: `fan-out${i % 5}` }));
const all = [...inScope, ...outside];

async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const t0 = Date.now();
const queueOf = new Map<string, string>();
await pool(all, 32, async (s) => {
  await putStore({ ...s, name: s.storeId, updatedAt: new Date().toISOString(), updatedBy: 'bench' });
  queueOf.set(s.storeId, (await subscribeQueue({ sns: stack.endpoints.snsSqs, sqs: stack.endpoints.snsSqs }, stack.topicArns.storeNotices, `bench-${s.storeId}`, storeFilterPolicy(s))).url);
});
console.log(`${all.length} stores registered, each with its queue and filter policy, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token('qa.tanaka')}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json()) as any;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * When each queue received its message for `tag`: the emulator's own enqueue time
 * (`SentTimestamp`) minus `start`, so how fast we look does not change what is measured.
 * Queues are read with short polls, 32 at a time, from 1.5 s on, until every in-scope store
 * has its message; then the stores outside the scope are read once more for strays.
 */
async function arrivals(tag: (body: any) => boolean, start: number, deadlineMs: number) {
  const arrived = new Map<string, number>();
  const stray: string[] = [];
  const read = async (s: { storeId: string }) => {
    const url = queueOf.get(s.storeId)!;
    const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['SentTimestamp'] }));
    const messages = page.Messages ?? [];
    if (messages.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    const mine = messages.find((m) => tag(JSON.parse(m.Body!)));
    if (mine) {
      arrived.set(s.storeId, Number(mine.Attributes?.SentTimestamp) - start);
      if (s.storeId.startsWith('fan-x')) stray.push(s.storeId);
    }
  };
  // Let the fan-out run undisturbed first: reading 2,000 queues competes for the same CPU.
  await new Promise((r) => setTimeout(r, 1500));
  while (Date.now() < start + deadlineMs && arrivedInScope(arrived) < inScope.length) {
    await pool(inScope.filter((s) => !arrived.has(s.storeId)), 32, read);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  await pool(outside, 32, read);
  return { arrived, stray };
}
const arrivedInScope = (arrived: Map<string, number>) => [...arrived.keys()].filter((k) => k.startsWith('fan-s')).length;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

const product = { sku: 'FAN-1', name: 'Cocoa wafer' };
const rows: { label: string; publishes: number; p50: number; p95: number; reached: number; stray: number }[] = [];
for (let run = 1; run <= RUNS; run++) {
  const incident = await api('POST', '/incidents', {
    title: `Fan-out run ${run}`,
    hazardClass: 'I',
    hazard: 'may contain fragments of metal',
    category: 'foreign_matter',
    scope: { products: [{ ...product, sku: `FAN-${run}-${Date.now()}` }], lots: [{ sku: `FAN-${run}-${Date.now()}`, lotCode: 'L1' }], regions: Array.from({ length: REGIONS }, (_, i) => region(i)) },
  }).catch(async () => null);
  if (!incident) throw new Error('could not open the incident');
  const held = await api('POST', `/incidents/${incident.id}/actions`, { action: 'record-hold', expectedVersion: incident.version, locations: ['PLANT-1'] });
  const start = Date.now();
  const watching = arrivals((b) => JSON.parse(b.Message).incidentId === incident.id, start, 30_000);
  const issued = await api('POST', `/incidents/${incident.id}/actions`, { action: 'issue-withdrawal', expectedVersion: held.version });
  const { arrived, stray } = await watching;
  const times = [...arrived.entries()].filter(([k]) => k.startsWith('fan-s')).map(([, t]) => t);
  rows.push({ label: `withdrawal, run ${run}`, publishes: issued.withdrawals.length, p50: pct(times, 50), p95: pct(times, 95), reached: times.length, stray: stray.length });
  console.log(`  run ${run}: ${issued.withdrawals.length} publishes, ${times.length}/${inScope.length} stores, p50 ${pct(times, 50)} ms, p95 ${pct(times, 95)} ms, ${stray.length} outside`);
}

/** Publishes straight to SNS (no API, no stream): one message per region, or one per store. */
async function direct(kind: 'region' | 'store', run: number) {
  const id = `direct-${kind}-${run}-${Date.now()}`;
  const targets = kind === 'region' ? Array.from({ length: REGIONS }, (_, i) => ({ region: region(i), storeId: 'all' })) : inScope;
  const start = Date.now();
  const watching = arrivals((b) => JSON.parse(b.Message).baseline === id, start, 60_000);
  await pool(targets, 16, async (t) => {
    await sns.send(
      new PublishCommand({
        TopicArn: stack.topicArns.storeNotices,
        Subject: 'Recall withdrawal (bench)',
        Message: JSON.stringify({ baseline: id }),
        MessageAttributes: { region: { DataType: 'String', StringValue: t.region }, storeId: { DataType: 'String', StringValue: t.storeId }, noticeType: { DataType: 'String', StringValue: 'store-withdrawal' } },
      }),
    );
  });
  const { arrived, stray } = await watching;
  const times = [...arrived.entries()].filter(([k]) => k.startsWith('fan-s')).map(([, t]) => t);
  const label = kind === 'region' ? `SNS only, per region, run ${run}` : `SNS only, per store, run ${run}`;
  rows.push({ label, publishes: targets.length, p50: pct(times, 50), p95: pct(times, 95), reached: times.length, stray: stray.length });
  console.log(`  ${label}: ${targets.length} publishes, ${times.length}/${inScope.length} stores, p50 ${pct(times, 50)} ms, p95 ${pct(times, 95)} ms`);
}
for (let run = 1; run <= RUNS; run++) {
  await direct('region', run);
  await direct('store', run);
}

const mean = (label: string, key: 'p50' | 'p95') => {
  const xs = rows.filter((r) => r.label.startsWith(label)).map((r) => r[key]);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
console.log(`\nOne withdrawal to ${inScope.length} stores in ${REGIONS} regions (+${OUTSIDE} stores outside the scope), ${RUNS} runs each:\n`);
console.log('| delivery | SNS publishes | p50 ms | p95 ms | stores reached | outside reached |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.label} | ${r.publishes} | ${r.p50} | ${r.p95} | ${r.reached} / ${inScope.length} | ${r.stray} |`);
console.log(`\nmean p95, transition to every store (API, transaction, stream, outbox, SNS): ${mean('withdrawal', 'p95').toFixed(0)} ms; target ≤ 2000 ms`);
const ratio = mean('SNS only, per store', 'p95') / mean('SNS only, per region', 'p95');
console.log(`mean p95, SNS alone: ${REGIONS} publishes per region ${mean('SNS only, per region', 'p95').toFixed(0)} ms vs ${inScope.length} per store ${mean('SNS only, per store', 'p95').toFixed(0)} ms (one per store takes ${ratio.toFixed(1)}× as long)`);
agent.destroy();
await stack.stop();
process.exit(0);
