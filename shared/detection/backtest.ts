import { createReadStream } from 'node:fs';
import readline from 'node:readline';
import { z } from 'zod';
import { DEFECT_CATEGORIES, type DefectCategory } from '../reports/schema.js';
import type { DetectionConfig } from './config.js';
import { observe, type Signal } from './engine.js';
import type { Observation } from './keys.js';
import { MemoryCounterStore } from './memory-store.js';

/**
 * Backtests: replay a historical file of complaints, in time order, through the same engine
 * with the in-memory counter store, and report every signal. The file is streamed line by
 * line (constant memory: counters are bounded by the keys, not the rows).
 */
export const BacktestMapping = z.strictObject({
  /** Column (CSV header) or field (JSONL) holding each value. */
  time: z.string().min(1),
  product: z.string().min(1),
  lot: z.string().min(1),
  plant: z.string().min(1),
  category: z.string().min(1),
  id: z.string().min(1).optional(),
  injury: z.string().min(1).optional(),
  illness: z.string().min(1).optional(),
  /** Source values to defect categories, e.g. { "plastic piece": "foreign_matter" }. */
  categories: z.record(z.string(), z.enum(DEFECT_CATEGORIES)).default({}),
  /** Values read as "yes" in the injury and illness columns. */
  truthy: z.array(z.string()).default(['1', 'true', 'yes', 'y', 't']),
});
export type BacktestMapping = z.infer<typeof BacktestMapping>;

export interface BacktestOptions {
  readonly config: DetectionConfig;
  readonly mapping: BacktestMapping;
  readonly from?: Date;
  readonly to?: Date;
  readonly onSignal: (signal: Signal) => void;
  readonly onProgress?: (progress: { rows: number; signals: number; rowsPerSecond: number }) => void;
}

export interface BacktestSummary {
  rows: number;
  replayed: number;
  skipped: Record<string, number>;
  /** Rows earlier than a row before them: replayed at their own time, but flagged. */
  outOfOrder: number;
  /** Source category values that mapped to nothing and were counted as `other`. */
  unmappedCategories: Record<string, number>;
  signals: Record<string, number>;
  /** Cluster keys on which a candidate incident would have been opened. */
  candidates: number;
  firstTime?: string;
  lastTime?: string;
  seconds: number;
  rowsPerSecond: number;
}

/** Streams rows of a CSV (with a header line) or JSONL file as objects of strings. */
export async function* readRows(path: string, format: 'csv' | 'jsonl'): AsyncGenerator<Record<string, unknown>> {
  const lines = readline.createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let header: string[] | undefined;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (format === 'jsonl') {
      try {
        yield JSON.parse(line) as Record<string, unknown>;
      } catch {
        yield { __invalid: 'not JSON' };
      }
      continue;
    }
    const cells = splitCsvLine(line);
    if (!header) {
      header = cells.map((c) => c.trim());
      continue;
    }
    const row: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) row[header[i]!] = cells[i] ?? '';
    yield row;
  }
}

/** RFC 4180 fields on one line: quoted fields may hold commas and doubled quotes. */
export function splitCsvLine(line: string): string[] {
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

const CATEGORY_SET = new Set<string>(DEFECT_CATEGORIES);
// Cluster keys are joined with `|`; a source code containing one must not split a key.
const code = (value: unknown) => String(value ?? '').trim().replaceAll('|', '/');

export async function runBacktest(rows: AsyncIterable<Record<string, unknown>>, options: BacktestOptions): Promise<BacktestSummary> {
  const { mapping, config } = options;
  const store = new MemoryCounterStore();
  const truthy = new Set(mapping.truthy.map((v) => v.toLowerCase()));
  const summary: BacktestSummary = {
    rows: 0,
    replayed: 0,
    skipped: {},
    outOfOrder: 0,
    unmappedCategories: {},
    signals: {},
    candidates: 0,
    seconds: 0,
    rowsPerSecond: 0,
  };
  const skip = (reason: string) => (summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1);
  const opened = new Set<string>();
  const started = performance.now();
  let lastProgress = started;
  let latest = -Infinity;

  for await (const row of rows) {
    summary.rows++;
    if ('__invalid' in row) {
      skip('not JSON');
      continue;
    }
    const time = Date.parse(String(row[mapping.time] ?? ''));
    if (Number.isNaN(time)) {
      skip(`no valid ${mapping.time}`);
      continue;
    }
    if ((options.from && time < options.from.getTime()) || (options.to && time > options.to.getTime())) {
      skip('outside --from/--to');
      continue;
    }
    const sku = code(row[mapping.product]);
    const lot = code(row[mapping.lot]);
    const plant = code(row[mapping.plant]);
    if (!sku || !lot || !plant) {
      skip('missing product, lot or plant');
      continue;
    }
    const source = String(row[mapping.category] ?? '').trim();
    let category = (mapping.categories[source] ?? (CATEGORY_SET.has(source) ? source : undefined)) as DefectCategory | undefined;
    if (!category) {
      summary.unmappedCategories[source] = (summary.unmappedCategories[source] ?? 0) + 1;
      category = 'other';
    }
    if (time < latest) summary.outOfOrder++;
    latest = Math.max(latest, time);
    const at = new Date(time).toISOString();
    const o: Observation = {
      reportId: mapping.id ? String(row[mapping.id] ?? `row-${summary.rows}`) : `row-${summary.rows}`,
      at,
      sku,
      lot,
      plant,
      category,
      injury: mapping.injury ? truthy.has(String(row[mapping.injury] ?? '').trim().toLowerCase()) : false,
      illness: mapping.illness ? truthy.has(String(row[mapping.illness] ?? '').trim().toLowerCase()) : false,
    };
    summary.firstTime ??= at;
    summary.lastTime = at;
    summary.replayed++;
    const { signals } = await observe(o, store, config);
    for (const s of signals) {
      summary.signals[s.rule] = (summary.signals[s.rule] ?? 0) + 1;
      if (!opened.has(s.key.id)) {
        opened.add(s.key.id);
        summary.candidates++;
      }
      options.onSignal(s);
    }
    if (options.onProgress && (summary.rows & 0x3ff) === 0) {
      const now = performance.now();
      if (now - lastProgress > 1000) {
        lastProgress = now;
        const total = Object.values(summary.signals).reduce((a, b) => a + b, 0);
        options.onProgress({ rows: summary.rows, signals: total, rowsPerSecond: summary.rows / ((now - started) / 1000) });
      }
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.rowsPerSecond = summary.rows / Math.max(summary.seconds, 1e-9);
  return summary;
}
