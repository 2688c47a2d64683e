import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiError, request } from '../../../infra/cli/api.js';
import { displayWidth, printable, table } from '../../../infra/cli/table.js';

describe('CLI output', () => {
  it('aligns Japanese full-width text by terminal columns', () => {
    const out = table([{ product: 'アーモンドチョコレート', lot: 'L1' }, { product: 'wafer', lot: 'L22' }], ['product', 'lot']).split('\n');
    const column = (line: string) => displayWidth(line.slice(0, line.indexOf(line.includes('L22') ? 'L22' : line.includes('L1') ? 'L1' : 'lot')));
    expect(column(out[2]!)).toBe(column(out[3]!));
    expect(column(out[0]!)).toBe(column(out[2]!));
  });

  it('cuts long cells by columns, with an ellipsis', () => {
    expect(displayWidth(table([{ a: '品'.repeat(30) }], ['a'], 10).split('\n')[2]!)).toBeLessThanOrEqual(10);
  });

  it('makes control characters in server text harmless', () => {
    expect(printable('ok\u001b[2Jforged\u202eevil')).toBe('ok\ufffd[2Jforged\ufffdevil');
    expect(printable('two\nlines')).toBe('two\nlines');
    expect(table([{ a: 'x\u001b[31my' }], ['a'])).not.toContain('\u001b');
  });

  it('explains the HTTP API’s own 401, 429 and 503 answers, as API Gateway sends them', async () => {
    // API Gateway's own answers: `{"message": …}` as application/json, no problem+json.
    const answers: Record<string, [number, string]> = {
      '/401': [401, '{"message":"Unauthorized"}'],
      '/429': [429, '{"message":"Too Many Requests"}'],
      '/503': [503, '{"message":"Service Unavailable"}'],
    };
    const server = http.createServer((req, res) => {
      const [status, body] = answers[req.url ?? ''] ?? [404, '{}'];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const failure = async (path: string, token?: string) => {
      const error = await request({ apiUrl, ...(token ? { token } : {}) }, 'GET', path).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    };
    try {
      expect((await failure('/401', 'a-token')).describe(true)).toMatch(/expired/);
      expect((await failure('/401')).describe(false)).toMatch(/RECALL_TOKEN/);
      expect((await failure('/429')).describe()).toMatch(/throttling/);
      expect((await failure('/503')).describe()).toMatch(/Retry/);
    } finally {
      server.close();
    }
  });
});
