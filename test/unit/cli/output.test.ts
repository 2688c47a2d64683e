import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../infra/cli/api.js';
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

  it('explains the HTTP API’s own 401, 429 and 503 answers', () => {
    expect(new ApiError(401, { title: 'Unauthorized' }).describe(true)).toMatch(/expired/);
    expect(new ApiError(401, { title: 'Unauthorized' }).describe(false)).toMatch(/RECALL_TOKEN/);
    expect(new ApiError(429, { title: 'Too Many Requests' }).describe()).toMatch(/throttling/);
    expect(new ApiError(503, { title: 'Service Unavailable' }).describe()).toMatch(/Retry/);
  });
});
