import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_DETECTION_CONFIG } from '../../shared/detection/config.js';
import { BacktestMapping, runBacktestFile } from '../../shared/detection/backtest.js';
import { readCsvBatches } from '../../shared/platform/csv.js';
import { mulberry32 } from '../../shared/platform/random.js';
import { synthesize, CSV_HEADER, toCsvLine } from './synthetic.js';

/**
 * `npm run bench:backtest -- [--rows 1000000]`
 *
 * Writes a synthetic complaint history of `--rows` rows to a temporary CSV (streamed; years
 * of a large maker's complaints), with a free-text column as desks export it: quoted, with
 * commas, doubled quotes and line breaks in one row of five. Then, in the same run:
 * 1. the CSV parser alone (rows/s), against the line splitter it replaced (baseline; it
 *    cannot read the line breaks, so its row count is wrong and is printed too);
 * 2. the whole backtest exactly as `recall backtest` runs a file this size, read in a thread of
 *    its own beside the engine (rows/s, peak heap);
 * 3. the whole backtest with both stages in one thread (the baseline: how it ran before).
 * 2 and 3 alternate `--runs` times (default 3), so that both meet the same swings of a shared
 * machine's speed; the medians, their ratio and the range are printed, and every run must raise
 * the same signals. Target: ≥ 100,000 rows/s (the median) through the new parser, constant memory.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } } });
const target = Number(values.rows);
const runs = Math.max(1, Number(values.runs));
const dir = path.join(tmpdir(), 'recall-bench');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `complaints-quoted-${target}.csv`);

const NOTES = ['plastic film, about 2 cm', 'seal "looked fine" when bought', 'customer called twice,\nthen wrote', 'no sample', 'lid cracked; "sharp"\nedge, returned'];
if (!existsSync(file)) {
  process.stdout.write(`writing ${target.toLocaleString()} rows to ${file}... `);
  // Many products over three years; rows come sorted by time, as an export would be.
  const days = 1095;
  const products = 3000;
  const world = synthesize({ seed: 1, products, days, meanRate: target / (products * days), lotBursts: 200, slowBurns: 100, injuries: 300 });
  const random = mulberry32(5);
  const out = createWriteStream(file);
  out.write(`${CSV_HEADER},note\n`);
  for (const row of world.rows.slice(0, target)) {
    const note = NOTES[Math.floor(random() * NOTES.length)]!;
    const cell = random() < 0.2 ? `"${note.replaceAll('"', '""')}"` : 'none';
    if (!out.write(`${toCsvLine(row)},${cell}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  console.log('done');
}
const sizeMb = statSync(file).size / 1e6;

/** The line splitter the parser replaced (one line = one row; quotes within a line only). */
function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

async function timed(label: string, run: () => Promise<number>) {
  const started = performance.now();
  const rows = await run();
  const seconds = (performance.now() - started) / 1000;
  return { label, rows, seconds, rowsPerSecond: rows / seconds };
}

const baseline = await timed('line splitter (before; cannot read line breaks)', async () => {
  let rows = 0;
  const lines = readline.createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) if (splitCsvLine(line).length > 0) rows++;
  return rows - 1;
});
const parser = await timed('CSV parser (now)', async () => {
  let rows = 0;
  for await (const batch of readCsvBatches(file)) rows += batch.length;
  return rows - 1;
});

const mapping = BacktestMapping.parse({
  time: 'received_at', id: 'case_no', product: 'item_code', lot: 'lot_no', plant: 'factory', category: 'complaint_type', injury: 'injured', illness: 'ill',
});
/** The whole backtest exactly as `recall backtest` runs it: the reading in a thread of its own, or (threads: false) in this one. */
async function backtest(threads: boolean, label: string) {
  let signals = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  let peakHeap = heapBefore;
  let peakRss = process.memoryUsage().rss;
  const summary = await runBacktestFile(file, 'csv', {}, {
    config: DEFAULT_DETECTION_CONFIG,
    mapping,
    threads,
    onSignal: () => signals++,
    onProgress: (p) => {
      const memory = process.memoryUsage();
      peakHeap = Math.max(peakHeap, memory.heapUsed);
      peakRss = Math.max(peakRss, memory.rss);
      process.stdout.write(`\r  ${label}: ${p.rows.toLocaleString()} rows, ${Math.round(p.rowsPerSecond).toLocaleString()} rows/s   `);
    },
  });
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  process.stdout.write('\n');
  return { summary, signals, heapBefore, peakHeap, peakRss };
}
// The product's way first, so that its memory figures are not the baseline's leftovers.
const threaded: Awaited<ReturnType<typeof backtest>>[] = [];
const oneThread: Awaited<ReturnType<typeof backtest>>[] = [];
for (let run = 1; run <= runs; run++) {
  threaded.push(await backtest(true, `run ${run}/${runs}, reading thread`));
  oneThread.push(await backtest(false, `run ${run}/${runs}, one thread`));
}
const { summary, signals, heapBefore, peakHeap, peakRss } = threaded[0]!;
for (const other of [...threaded, ...oneThread]) {
  if (other.signals !== signals) throw new Error(`two runs raised different signals: ${signals} and ${other.signals}`);
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const rates = (xs: typeof threaded) => xs.map((x) => x.summary.rowsPerSecond);
const threadedRate = median(rates(threaded));
const oneThreadRate = median(rates(oneThread));
const range = (xs: typeof threaded) => (runs > 1 ? `; runs ${rates(xs).map((r) => fmt(r)).join(', ')}` : '');
const fmt = (x: number) => Math.round(x).toLocaleString('en');
console.log(`
| measure                         | value |
|---------------------------------|-------|
| file                            | ${fmt(target)} rows, ${sizeMb.toFixed(0)} MB, one in five with a quoted note (commas, quotes, line breaks) |
| ${baseline.label.padEnd(31).slice(0, 31)} | ${fmt(baseline.rowsPerSecond)} rows/s, read ${fmt(baseline.rows)} rows (wrong: split quoted line breaks) |
| CSV parser alone                | ${fmt(parser.rowsPerSecond)} rows/s, read ${fmt(parser.rows)} rows (${(parser.rowsPerSecond / baseline.rowsPerSecond).toFixed(2)}× the splitter) |
| backtest in one thread          | ${fmt(oneThreadRate)} rows/s (median of ${runs}${range(oneThread)}): ${fmt(oneThread[0]!.summary.replayed)} replayed |
| backtest (reading thread + engine) | ${fmt(threadedRate)} rows/s (median of ${runs}${range(threaded)}): ${fmt(summary.replayed)} replayed, ${(threadedRate / oneThreadRate).toFixed(2)}× one thread (target ≥ 100,000: ${threadedRate >= 100_000 ? 'met' : 'NOT met'}) |
| signals                         | ${fmt(signals)} (${JSON.stringify(summary.signals)}) |
| peak heap                       | ${(peakHeap / 1e6).toFixed(0)} MB in this thread (before: ${(heapBefore / 1e6).toFixed(0)} MB) |
| peak resident memory            | ${(peakRss / 1e6).toFixed(0)} MB, both threads (one thread: ${(oneThread[0]!.peakRss / 1e6).toFixed(0)} MB) |`);
