import { createReadStream } from 'node:fs';
import readline from 'node:readline';
import * as z from 'zod';
import { readCsvBatches, type CsvOptions } from '../platform/csv.js';
import { activeCategories, CATEGORY_CODE, type Categories } from '../reports/taxonomy.js';
import type { DetectionConfig } from './config.js';
import { evaluate, familyAlarm, type Signal } from './engine.js';
import { dayOf, ruleKeys, type Observation } from './keys.js';
import { CandidateGate, TrackLedger, type Admission } from './learning.js';
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
  /**
   * Optional renaming of source category values, e.g. { "plastic piece": "foreign_matter" }.
   * A value not listed is kept as its own category (`ENGINE` stays apart from `AIR BAGS`).
   */
  categories: z.record(z.string(), z.string().regex(CATEGORY_CODE, 'a category code')).default({}),
  /** The columns of a `--truth` file of past recalls (one row per recall, product and category). */
  truth: z
    .strictObject({ product: z.string().min(1), category: z.string().min(1), date: z.string().min(1) })
    .default({ product: 'product', category: 'category', date: 'date' }),
  /** Values read as "yes" in the injury and illness columns. */
  truthy: z.array(z.string()).default(['1', 'true', 'yes', 'y', 't']),
});
export type BacktestMapping = z.infer<typeof BacktestMapping>;

export interface BacktestOptions {
  readonly config: DetectionConfig;
  readonly mapping: BacktestMapping;
  readonly from?: Date;
  readonly to?: Date;
  /**
   * Every signal, and whether it raised a candidate: with `outcomes`, a category's track
   * record may hold it back (`learning.ts`); without, every candidate-opening signal is raised.
   */
  readonly onSignal: (signal: Signal, admission: Admission) => void;
  /**
   * Past recalls (product as its key code, category, day): the categories' track records
   * learn from them as the replay reaches each one's date, never sooner. Off when the
   * configuration's `trackRecord` is null.
   */
  readonly outcomes?: readonly { sku: string; category: string; day: number }[];
  /** Every replayed complaint, after it was counted (a scorer counts key-weeks from these). */
  readonly onObservation?: (o: Observation, day: number) => void;
  /** Which categories are themselves harm (default: the deployment's taxonomy). */
  readonly taxonomy?: Categories;
  readonly onProgress?: (progress: { rows: number; signals: number; rowsPerSecond: number }) => void;
}

export interface BacktestSummary {
  rows: number;
  replayed: number;
  skipped: Record<string, number>;
  /** Rows earlier than a row before them: replayed at their own time, but flagged. */
  outOfOrder: number;
  /** Complaints per category as replayed (after any renaming). */
  categories: Record<string, number>;
  signals: Record<string, number>;
  /** Cluster keys on which a candidate incident would have been opened (notifications excluded). */
  candidates: number;
  /** Candidate-opening signals not raised: their category held back, or its product's one candidate raised already. */
  notRaised: Record<string, number>;
  /** The categories' track records at the end of the replay, worst first (learning from `outcomes` only). */
  trackRecords?: ReturnType<TrackLedger['all']>;
  firstTime?: string;
  lastTime?: string;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * Streams the rows of a file: a CSV yields its header row first and then each row, as
 * arrays of cells (the streaming parser of `platform/csv.ts`: quoted fields with line
 * breaks, BOM, UTF-8 or Shift_JIS, any delimiter); a JSONL file yields one object per line.
 */
export type Row = readonly string[] | Record<string, unknown>;
export async function* readRows(path: string, format: 'csv' | 'jsonl', csv: CsvOptions = {}): AsyncGenerator<Row> {
  if (format === 'csv') {
    for await (const batch of readCsvBatches(path, csv)) yield* batch;
    return;
  }
  const lines = readline.createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      yield value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { __invalid: 'not a JSON object' };
    } catch {
      yield { __invalid: 'not JSON' };
    }
  }
}

/**
 * A source's time as epoch ms. A time without a zone is UTC, whatever the machine's zone, so a
 * backtest gives the same days everywhere: `2024-03-15`, `2024/03/15` (Excel in Japan),
 * `20240315` (NHTSA's flat files), `2024/3/5 9:07`, `2024-03-15 09:07:00`; anything with a
 * zone or offset is read as written. A date that is not a day of the calendar (`2024-02-30`)
 * is refused, with or without a zone, rather than rolled over into March.
 */
export function parseSourceTime(value: string): number {
  const v = value.trim();
  const last = v.charCodeAt(v.length - 1);
  // Most exports write UTC with a `Z`: straight to the zoned reading, no local pattern to try.
  if (last !== 90 && last !== 122) {
    const local = LOCAL_TIME.exec(v);
    if (local) {
      const [, y, mo, d, h = '0', mi = '0', sec = '0', ms = '0'] = local;
      const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number(ms.padEnd(3, '0')));
      return isCalendarDay(Number(y), Number(mo), Number(d)) ? t : Number.NaN;
    }
    const compact = COMPACT_DATE.exec(v);
    if (compact) {
      const [, y, mo, d] = compact;
      return isCalendarDay(Number(y), Number(mo), Number(d)) ? Date.UTC(Number(y), Number(mo) - 1, Number(d)) : Number.NaN;
    }
  }
  if (!ZONED.test(v)) return Number.NaN;
  // The day as written (before the offset applies) must exist: Date.parse would roll 02-30 over.
  const written = ISO_DAY.exec(v);
  if (written && !isCalendarDay(Number(written[1]), Number(written[2]), Number(written[3]))) return Number.NaN;
  return Date.parse(v);
}

const LOCAL_TIME = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/i;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})/;

function isCalendarDay(y: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return new Date(Date.UTC(y, month - 1, day)).getUTCDate() === day;
}

/**
 * A source's category cell as the backtest keeps it (complaints and `--truth` alike): renamed
 * when the mapping lists it, else as written. Looked up in a map, not the mapping's object: a
 * source's category may be any text, `constructor` and `__proto__` included.
 */
export function categoryRenaming(mapping: BacktestMapping): (cell: unknown) => string {
  const renamed = new Map(Object.entries(mapping.categories));
  return (cell) => {
    const source = String(cell ?? '').trim();
    return sourceCode(renamed.get(source) ?? source);
  };
}

// Cluster keys are joined with `|`; a source code containing one must not split a key.
export function sourceCode(value: unknown): string {
  const code = (typeof value === 'string' ? value : String(value ?? '')).trim();
  return code.includes('|') ? code.replaceAll('|', '/') : code;
}

/** A replayed row as the engine reads it. Its ISO time is built only when read (a signal's `at`): most rows raise none. */
class ReplayedObservation implements Observation {
  private iso: string | undefined;
  constructor(
    readonly reportId: string,
    readonly time: number,
    readonly sku: string,
    readonly lot: string,
    readonly plant: string,
    readonly category: string,
    readonly injury: boolean,
    readonly illness: boolean,
    readonly categoryIsHarm: boolean,
  ) {}
  get at(): string {
    return (this.iso ??= new Date(this.time).toISOString());
  }
}

/** The summary lists at most this many categories (a mis-mapped column could hold a million values). */
const MAX_LISTED_CATEGORIES = 200;

const FIELDS = ['time', 'product', 'lot', 'plant', 'category', 'id', 'injury', 'illness'] as const;
type Field = (typeof FIELDS)[number];

/**
 * Rows may arrive this many days out of order and still be judged on whole windows: the
 * store keeps every key this much longer than its rules read it (800 days for 730-day windows).
 */
export const OUT_OF_ORDER_DAYS = 70;

/** How long a backtest keeps a lot key: the longest the burst rule looks back on a lot, whatever the category, and the out-of-order margin. */
export function lotHorizonDays(config: DetectionConfig): number {
  const bursts = [config.lotBurst, ...Object.values(config.categories).map((c) => ({ ...config.lotBurst, ...c.lotBurst }))];
  return Math.max(...bursts.map((b) => Math.max(...b.windowsDays) + b.baselineDays)) + 1 + OUT_OF_ORDER_DAYS;
}

export async function runBacktest(rows: AsyncIterable<Row>, options: BacktestOptions): Promise<BacktestSummary> {
  const { mapping, config } = options;
  // Lot keys are read only by the burst rule, over its windows and baseline: kept that long.
  const store = new MemoryCounterStore(undefined, { lotRetainDays: lotHorizonDays(config) });
  const truthy = new Set(mapping.truthy.map((v) => v.toLowerCase()));
  const categoryOf = categoryRenaming(mapping);
  // A map, not an object: a source's category may be any text, `constructor` and `__proto__` included.
  const categoryCounts = new Map<string, number>();
  /** The source's yes/no cells repeat a few values: each read once. */
  const flags = new Map<string, boolean>();
  const flag = (cell: unknown): boolean => {
    const raw = String(cell ?? '');
    let yes = flags.get(raw);
    if (yes === undefined) {
      yes = truthy.has(raw.trim().toLowerCase());
      if (flags.size < 1_000) flags.set(raw, yes);
    }
    return yes;
  };
  const taxonomy = options.taxonomy ?? activeCategories();
  const summary: BacktestSummary = {
    rows: 0,
    replayed: 0,
    skipped: {},
    outOfOrder: 0,
    categories: {},
    signals: {},
    candidates: 0,
    notRaised: {},
    seconds: 0,
    rowsPerSecond: 0,
  };
  const skip = (reason: string) => (summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1);
  const opened = new Set<string>();
  const ledger = options.outcomes && config.trackRecord ? new TrackLedger(config.trackRecord, options.outcomes) : undefined;
  const gate = new CandidateGate(ledger, (category) => taxonomy.harmOf(category) !== undefined);
  const started = performance.now();
  let lastProgress = started;
  let latest = -Infinity;
  let firstTime: number | undefined;
  let lastTime: number | undefined;

  // For CSV, the column index of each mapped field, from the header line.
  let columns: Partial<Record<Field, number>> | undefined;
  const missingColumns: string[] = [];
  let row: Row = {};
  const get = (field: Field): unknown => {
    if (!Array.isArray(row)) {
      const name = mapping[field];
      return typeof name === 'string' ? (row as Record<string, unknown>)[name] : undefined;
    }
    const index = columns![field];
    return index === undefined ? undefined : (row as string[])[index];
  };

  for await (const next of rows) {
    row = next;
    if (Array.isArray(row) && !columns) {
      const header = row.map((c) => c.trim());
      columns = {};
      for (const field of FIELDS) {
        const name = mapping[field];
        if (typeof name !== 'string') continue;
        const index = header.indexOf(name);
        if (index >= 0) columns[field] = index;
        else missingColumns.push(name);
      }
      if (missingColumns.length > 0) {
        throw new Error(`The file has no column ${missingColumns.map((c) => JSON.stringify(c)).join(', ')} (its columns: ${header.join(', ')}). Fix the mapping.`);
      }
      continue;
    }
    summary.rows++;
    if (!Array.isArray(row) && '__invalid' in row) {
      skip(String(row.__invalid));
      continue;
    }
    const time = parseSourceTime(String(get('time') ?? ''));
    if (Number.isNaN(time)) {
      skip(`no valid ${mapping.time}`);
      continue;
    }
    if ((options.from && time < options.from.getTime()) || (options.to && time > options.to.getTime())) {
      skip('outside --from/--to');
      continue;
    }
    const sku = sourceCode(get('product'));
    const lot = sourceCode(get('lot'));
    const plant = sourceCode(get('plant'));
    if (!sku || !lot || !plant) {
      skip('missing product, lot or plant');
      continue;
    }
    const category = categoryOf(get('category'));
    if (!category) {
      skip(`no ${mapping.category}`);
      continue;
    }
    const seen = categoryCounts.get(category);
    if (seen !== undefined) categoryCounts.set(category, seen + 1);
    else if (categoryCounts.size < MAX_LISTED_CATEGORIES) categoryCounts.set(category, 1);
    if (time < latest) summary.outOfOrder++;
    latest = Math.max(latest, time);
    const o = new ReplayedObservation(
      mapping.id ? String(get('id') ?? `row-${summary.rows}`) : `row-${summary.rows}`,
      time,
      sku,
      lot,
      plant,
      category,
      mapping.injury ? flag(get('injury')) : false,
      mapping.illness ? flag(get('illness')) : false,
      taxonomy.harmOf(category) !== undefined,
    );
    firstTime ??= time;
    lastTime = time;
    summary.replayed++;
    // The same rules as the live stream, counting only the keys they read; the in-memory store is read synchronously.
    const day = dayOf(time);
    store.countSync(o.reportId, ruleKeys(o, config), day);
    options.onObservation?.(o, day);
    const { signals } = evaluate(o, store.readerAt(day), config);
    const alarm = familyAlarm(o, signals, config);
    if (alarm) store.countSync(alarm.id, alarm.keys, day);
    for (const s of signals) {
      summary.signals[s.rule] = (summary.signals[s.rule] ?? 0) + 1;
      const admission = gate.admit(s, day);
      if (admission.reason) summary.notRaised[admission.reason] = (summary.notRaised[admission.reason] ?? 0) + 1;
      if (admission.raised && !opened.has(s.key.id)) {
        opened.add(s.key.id);
        summary.candidates++;
      }
      options.onSignal(s, admission);
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
  if (ledger && lastTime !== undefined) {
    ledger.advance(dayOf(lastTime));
    summary.trackRecords = ledger.all();
  }
  summary.categories = Object.fromEntries(categoryCounts);
  if (firstTime !== undefined) summary.firstTime = new Date(firstTime).toISOString();
  if (lastTime !== undefined) summary.lastTime = new Date(lastTime).toISOString();
  summary.seconds = (performance.now() - started) / 1000;
  summary.rowsPerSecond = summary.rows / Math.max(summary.seconds, 1e-9);
  return summary;
}
