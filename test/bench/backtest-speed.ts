import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DETECTION_CONFIG } from '../../shared/detection/config.js';
import { BacktestMapping, readRows, runBacktest } from '../../shared/detection/backtest.js';
import { synthesize, CSV_HEADER, toCsvLine } from './synthetic.js';

/**
 * `npm run bench:backtest -- [--rows 1000000]`
 *
 * Writes a synthetic complaint history of `--rows` rows to a temporary CSV (streamed; years
 * of a large maker's complaints), then replays it through the backtest exactly as
 * `recall backtest` does, and prints rows per second and memory. Target: ≥ 50,000 rows/s.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const target = Number(values.rows);
const dir = path.join(tmpdir(), 'recall-bench');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `complaints-${target}.csv`);

if (!existsSync(file)) {
  process.stdout.write(`writing ${target.toLocaleString()} rows to ${file}... `);
  // Many products over three years; rows come sorted by time, as an export would be.
  const days = 1095;
  const products = 3000;
  const world = synthesize({ seed: 1, products, days, meanRate: target / (products * days), lotBursts: 200, slowBurns: 100, injuries: 300 });
  const out = createWriteStream(file);
  out.write(`${CSV_HEADER}\n`);
  for (const row of world.rows.slice(0, target)) {
    if (!out.write(`${toCsvLine(row)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  console.log('done');
}
const mapping = BacktestMapping.parse({
  time: 'received_at', id: 'case_no', product: 'item_code', lot: 'lot_no', plant: 'factory', category: 'complaint_type', injury: 'injured', illness: 'ill',
});
let signals = 0;
const heapBefore = process.memoryUsage().heapUsed;
let peakHeap = heapBefore;
const summary = await runBacktest(readRows(file, 'csv'), {
  config: DEFAULT_DETECTION_CONFIG,
  mapping,
  onSignal: () => signals++,
  onProgress: (p) => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    process.stdout.write(`\r  ${p.rows.toLocaleString()} rows, ${Math.round(p.rowsPerSecond).toLocaleString()} rows/s   `);
  },
});
console.log(`
| measure            | value |
|--------------------|-------|
| file               | ${summary.rows.toLocaleString()} rows, ${(statSync(file).size / 1e6).toFixed(0)} MB |
| replayed           | ${summary.replayed.toLocaleString()} in ${summary.seconds.toFixed(1)} s |
| speed              | ${Math.round(summary.rowsPerSecond).toLocaleString()} rows/s (target ≥ 50,000: ${summary.rowsPerSecond >= 50_000 ? 'met' : 'NOT met'}) |
| signals            | ${signals.toLocaleString()} (${JSON.stringify(summary.signals)}) |
| peak heap          | ${(peakHeap / 1e6).toFixed(0)} MB |`);
