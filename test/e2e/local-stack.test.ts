import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/emulators.js';
import { localClientConfig } from '../../infra/local/provision.js';
import { isRunning, startLocalProcess, type LocalProcess } from '../support/local-process.js';
import { fixtureReportNow } from '../support/reports.js';

let local: LocalProcess;

beforeAll(async () => {
  local = await startLocalProcess();
});

afterAll(async () => {
  await local?.interrupt();
});

describe('local stack (npm start)', () => {
  it('serves the API and the SNS/SQS emulator on the loopback interface only (DynamoDB Local has no bind option)', async () => {
    const snsSqs = /SNS\/SQS\s+(http:\/\/[^\s]+)/.exec(local.output())?.[1];
    expect(snsSqs, 'the banner names the SNS/SQS endpoint').toBeDefined();
    const outside = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4').map((i) => i!.address);
    for (const endpoint of [local.url, snsSqs!]) {
      const { port } = new URL(endpoint);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBeLessThan(600);
      // From any other address of this machine nothing answers on that port.
      for (const address of outside) await expect(fetch(`http://${address}:${port}/`, { signal: AbortSignal.timeout(2000) }), `${endpoint} on ${address}`).rejects.toThrow();
    }
  });

  it('keeps web pages in the developer\'s browser away from DynamoDB Local (CORS for no real origin)', async () => {
    const dynamo = /DynamoDB Local\s+(http:\/\/[^\s]+)/.exec(local.output())?.[1];
    expect(dynamo, 'the banner names the DynamoDB Local endpoint').toBeDefined();
    // A page on the web, and a page served on this machine (any local dev server).
    for (const origin of ['https://evil.example', 'http://127.0.0.1', 'http://localhost:3000']) {
      const preflight = await fetch(`${dynamo}/`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target' },
      });
      expect(preflight.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('answers GET /health with 200 within 30 s of starting', async () => {
    const response = await fetch(`${local.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', service: 'recall' });
    expect(local.startupMs).toBeLessThan(30_000);
  });

  it('answers an unknown route with problem+json 404', async () => {
    const response = await fetch(`${local.url}/does-not-exist`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 404, instance: '/does-not-exist' });
  });

  it('refuses /reports without a token (401) and with a bad one (401), as problem+json', async () => {
    const none = await fetch(`${local.url}/reports`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    const forged = await fetch(`${local.url}/reports`, { headers: { authorization: `Bearer ${local.tokens['agent.sato']!.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);
  });

  it('answers 403 when the role may not call the route', async () => {
    const response = await fetch(`${local.url}/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${local.tokens['exec.suzuki']}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
  });

  it('files, lists and shows a report with the recall CLI', async () => {
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [path.join(import.meta.dirname, '../../infra/cli/bin.mjs'), ...args], {
        env: { ...process.env, RECALL_API_URL: local.url, RECALL_TOKEN: local.tokens['agent.sato'] },
      });
    // The README's sample, refiled as received a day ago (--received-at replaces the file's time).
    const receivedAt = new Date(Date.now() - 86_400_000).toISOString();
    const filed = JSON.parse((await cli('report', 'submit', '--file', path.join(import.meta.dirname, '../fixtures/report.json'), '--received-at', receivedAt, '--json')).stdout);
    expect(filed.receivedAt).toBe(receivedAt);
    expect(filed.id).toMatch(/^[0-9A-Z]{26}$/);
    const listed = JSON.parse((await cli('report', 'list', '--sku', 'CHOC-ALM-100', '--json')).stdout);
    expect(listed.items.map((r: { id: string }) => r.id)).toContain(filed.id);
    const shown = (await cli('report', 'show', filed.id)).stdout;
    expect(shown).toContain(`Report ${filed.id}`);
    expect(shown).toContain('Hanako Yamada');
    await expect(cli('report', 'list', '--category', 'nope')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('query.category') });
    // Every page as CSV; a usage mistake is exit 2 before any request; help names the values.
    const csv = (await cli('report', 'list', '--sku', 'CHOC-ALM-100', '--all', '--csv', '--limit', '1')).stdout.trim().split('\n');
    expect(csv[0]).toBe('id,received,sku,lot,category,store,clocks');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toContain(filed.id);
    await expect(cli('report', 'submit', '--file', 'no-such-file.json')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('File not found') });
    await expect(cli('report', 'list', '--bogus')).rejects.toMatchObject({ code: 2 });
    const help = (await cli('report', 'list', '--help')).stdout;
    expect(help).toContain('recall taxonomy');
    const taxonomy = (await cli('taxonomy')).stdout;
    expect(taxonomy).toMatch(/foreign_matter\s+Foreign matter/);
    expect(taxonomy).toMatch(/injury\s+Injury\s+injury/);
    expect(help).toContain('Example:');
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs an incident through the recall CLI: gates name what is missing, with the command to fix it', async () => {
    const cli = (token: string, ...args: string[]) =>
      promisify(execFile)(process.execPath, [path.join(import.meta.dirname, '../../infra/cli/bin.mjs'), ...args], {
        env: { ...process.env, RECALL_API_URL: local.url, RECALL_TOKEN: local.tokens[token] },
      });
    const opened = JSON.parse(
      (await cli('qa.tanaka', 'incidents', 'open', '--title', 'Metal in wafers', '--class', 'I', '--hazard', 'may contain metal', '--category', 'foreign_matter', '--product', 'WAFER-1=Cocoa wafer', '--lot', 'WAFER-1=L9', '--region', 'kanto', '--json')).stdout,
    );
    expect(opened).toMatchObject({ status: 'declared', hazardClass: 'I' });
    // What detection learnt per category is on the local stack too (the gateway routes GET /track-records).
    const records = (await cli('qa.tanaka', 'track-records')).stdout;
    expect(records).toMatch(/category\s+standing\s+hits\s+misses\s+of them dismissed\s+pending\s+rate/);
    expect(records).toMatch(/foreign_matter\s+normal\s+\d+\s+\d+\s+\d+\s+\d+\s+\d\.\d\d/);
    expect(records).toMatch(/every category: \d+ hits of \d+ judged, rate \d\.\d\d; once below 1 × that \(after 5 judged\), held below 0\.4 × \(after 15\)/);
    const early = await cli('qa.tanaka', 'incidents', 'contain', opened.id).catch((e) => e);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('shipment-hold');
    expect(early.stderr).toContain(`npx recall incidents withdraw ${opened.id}`);
    const asJson = await cli('qa.tanaka', 'incidents', 'contain', opened.id, '--json').catch((e) => e);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ status: 422, gate: 'contain' });
    await cli('qa.tanaka', 'incidents', 'hold', opened.id, '--location', 'PLANT-SAITAMA');
    await cli('qa.tanaka', 'incidents', 'withdraw', opened.id);
    expect((await cli('qa.tanaka', 'incidents', 'contain', opened.id)).stdout).toContain('contained (version 4)');
    // The store's own queue received the notice (its filter policy); the inbox also lists it.
    const queueUrl = /store-0101\/kanto {2}queue (\S+)/.exec(local.output())![1]!;
    const queued = JSON.parse((await cli('store.shibuya', 'store', 'inbox', '--queue-url', queueUrl, '--json')).stdout);
    expect(queued.some((m: { type: string; incidentId: string }) => m.type === 'store-withdrawal' && m.incidentId === opened.id)).toBe(true);
    const inbox = JSON.parse((await cli('store.shibuya', 'store', 'inbox', '--store', 'store-0101', '--json')).stdout);
    const notice = inbox.items.find((n: { incidentId: string }) => n.incidentId === opened.id);
    expect(notice).toBeDefined();
    expect((await cli('store.shibuya', 'store', 'ack', notice.noticeId, '--on-hand', '4', '--removed', '4')).stdout).toContain('4 removed');
    await expect(cli('store.umeda', 'store', 'ack', notice.noticeId, '--on-hand', '1', '--removed', '1')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('403') });
    // QA corrects the store's figures (the route has two path parameters, through the local router too).
    expect((await cli('qa.tanaka', 'store', 'correct-ack', notice.noticeId, '--store', 'store-0101', '--on-hand', '6', '--removed', '6', '--reason', 'recounted')).stdout).toContain(
      'Corrected',
    );
    expect((await cli('qa.tanaka', 'incidents', 'effectiveness', opened.id)).stdout).toContain('1 of 1 stores acknowledged (100 %), target met');
    await expect(cli('exec.suzuki', 'incidents', 'hold', '--location', 'X')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Give the incident id') });
    const report = (await cli('exec.suzuki', 'incidents', 'report', opened.id)).stdout;
    expect(report).toContain('# Recall status report: Metal in wafers');
    // The store's corrected figures, with QA's reason and the figures before.
    expect(report).toMatch(/store-0101 .*\| 6 +\| 6 +\| .*recounted \(was 4 on hand, 4 removed\)/);
  });

  it('prints a token for each demo user', () => {
    expect(Object.keys(local.tokens).sort()).toEqual(
      ['admin', 'agent.sato', 'exec.ito', 'exec.suzuki', 'qa.tanaka', 'store.shibuya', 'store.umeda'].sort(),
    );
  });

  it('delivers an item written through the API to the stream function', async () => {
    const response = await fetch(`${local.url}/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${local.tokens['agent.sato']}`, 'content-type': 'application/json' },
      body: JSON.stringify(fixtureReportNow()),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const line = await local.waitForOutput(new RegExp(`"report observed"[^\\n]*"reportId":"${id}"[^\\n]*`), 10_000);
    expect(line).toContain('"counted":true');
  });

  it('ignores items the stream function does not act on (the catalog event filter)', async () => {
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(local.dynamoEndpoint)));
    const pk = `E2E#${Date.now()}`;
    await ddb.send(new PutCommand({ TableName: 'recall-local', Item: { pk, sk: 'PROBE', kind: 'probe' } }));
    await new Promise((r) => setTimeout(r, 500));
    expect(local.output()).not.toContain(pk);
  });

  it('stops everything it started on Ctrl-C, leaving no JVM', async () => {
    expect(isRunning(local.dynamoPid)).toBe(true);
    const code = await local.interrupt();
    expect(code).toBe(0);
    expect(local.output()).toContain('Stopped.');
    expect(isRunning(local.dynamoPid)).toBe(false);
  });
});

describe('local stack start-up failures', () => {
  const start = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', ...args], {
      cwd: path.join(import.meta.dirname, '../..'),
      env,
      timeout: 30_000,
    });

  it('refuses a port that is taken, saying which, and starts nothing', async () => {
    const blocker = net.createServer().listen(0);
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(start(['--port', String(port)])).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`Port ${port} (HTTP API) is already in use`),
      });
    } finally {
      blocker.close();
    }
  });

  it('explains how to install Java when there is none', async () => {
    // A PATH holding only node: no java on it.
    const bin = mkdtempSync(path.join(tmpdir(), 'no-java-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    await expect(start(['--port', String(await freePort())], { ...process.env, PATH: bin })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Java 17+ is needed'),
    });
  });
});
