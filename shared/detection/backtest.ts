import { createReadStream } from 'node:fs';
import readline from 'node:readline';
import * as z from 'zod';
import { readCsvBatches, type CsvOptions } from '../platform/csv.js';
import { keyCode } from '../platform/fields.js';
import { activeCategories, CATEGORY_CODE, type Categories } from '../reports/taxonomy.js';
import type { DetectionConfig } from './config.js';
import { evaluate, familyAlarm, type Signal } from './engine.js';
import { dayOf, ruleLotKey, sharedRuleKeys, type Observation } from './keys.js';
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
  /** Values read as "yes" in the injury and illness columns (any case); a whole number above 0 (a count of injured) is yes too. */
  truthy: z.array(z.string()).default(['1', 'true', 'yes', 'y', 't']),
  /**
   * How a date written with the year last is read: `mdy` (03/05/2024 is 5 March, as US
   * exports write it) or `dmy` (05.03.2024, 05/03/2024: most of Europe). Default `ymd`: only
   * dates with the year first are read, and a year-last date is skipped, never guessed.
   */
  dateOrder: z.enum(['ymd', 'mdy', 'dmy']).default('ymd'),
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
  /**
   * Reads the whole file first and replays it sorted by time (memory grows with the file).
   * Without it the file is streamed in its order, which must be oldest first: a row more than
   * `OUT_OF_ORDER_DAYS` earlier than one before it is skipped, and a file mostly in the wrong
   * order (newest first) is refused.
   */
  readonly sort?: boolean;
}

/** The file cannot be replayed as it is (a mapped column missing, rows newest first): what to do is in the message. */
export class BacktestInputError extends Error {
  override readonly name = 'BacktestInputError';
}

export interface BacktestSummary {
  rows: number;
  replayed: number;
  skipped: Record<string, number>;
  /** The first value that made a row be skipped, per reason (what the user looks at). */
  skippedExamples: Record<string, string>;
  /** Rows earlier than a row before them (by up to `OUT_OF_ORDER_DAYS`): replayed at their own time, but flagged. */
  outOfOrder: number;
  /** Per yes/no column (`injury`, `illness`): the rows read as yes, and the values seen (up to 20) with their counts and reading. */
  flags: Record<string, { yes: number; values: Record<string, { rows: number; yes: boolean }> }>;
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
  let first = true;
  for await (const read of lines) {
    // A byte-order mark (what Windows editors write) is not part of the first object.
    const line = first && read.charCodeAt(0) === 0xfeff ? read.slice(1) : read;
    first = false;
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      yield value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { __invalid: 'not a JSON object' };
    } catch {
      yield { __invalid: 'not JSON' };
    }
  }
}

/** How a date with the year last is read (the mapping's `dateOrder`). */
export type DateOrder = BacktestMapping['dateOrder'];

/**
 * A source's time as epoch ms, or NaN when it is not one. Read exactly, never guessed:
 * - year first: ISO 8601 `2024-03-15`, `2024-03-15 09:07`, `2024-03-15T09:07:00.123456`,
 *   with slashes as Excel in Japan writes them (`2024/3/5 9:07`); `20240315` (NHTSA's flat files);
 * - year last (`03/05/2024`, `05.03.2024 09:07`) only when `order` says which is the month;
 * - a zone or offset when written (`Z`, `UTC`, `+09:00`, `-0500`), else UTC whatever the
 *   machine's zone, so a backtest gives the same days everywhere;
 * - refused: a day the calendar does not have (`2024-02-30`, rather than rolled into March),
 *   an hour past 23, a year before 1900 (a placeholder such as `0001-01-01`), any other form.
 */
export function parseSourceTime(value: string, order: DateOrder = 'ymd'): number {
  const iso = isoTime(value);
  if (iso !== undefined) return iso;
  const v = value.trim();
  const ymd = YEAR_FIRST.exec(v);
  if (ymd) return utcTime(ymd[1]!, ymd[3]!, ymd[4]!, ymd[5], ymd[6], ymd[7], ymd[8], ymd[9]);
  const compact = COMPACT_DATE.exec(v);
  if (compact) return utcTime(compact[1]!, compact[2]!, compact[3]!);
  if (order === 'ymd') return Number.NaN;
  const yearLast = YEAR_LAST.exec(v);
  if (!yearLast) return Number.NaN;
  const [month, day] = order === 'mdy' ? [yearLast[1]!, yearLast[3]!] : [yearLast[3]!, yearLast[1]!];
  return utcTime(yearLast[4]!, month, day, yearLast[5], yearLast[6], yearLast[7], yearLast[8], yearLast[9]);
}

const TIME_OF_DAY = String.raw`(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?$`;
const YEAR_FIRST = new RegExp(String.raw`^(\d{4})([-/])(\d{1,2})\2(\d{1,2})` + TIME_OF_DAY, 'i');
const YEAR_LAST = new RegExp(String.raw`^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})` + TIME_OF_DAY, 'i');
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;

/**
 * The two forms most exports write, read without a regular expression (a backtest reads a
 * time per row): `2024-03-15` and `2024-03-15T09:07:00.123Z` (ISO 8601 in UTC, as
 * `toISOString` writes it). Undefined for anything else, which the general reader takes.
 */
function isoTime(v: string): number | undefined {
  const n = v.length;
  if ((n !== 10 && n !== 24) || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return undefined;
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  if (n === 10) return year < 0 || month < 0 || day < 0 ? undefined : checkedUtc(year, month, day, 0, 0, 0, 0);
  if (v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) return undefined;
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  const second = digits(v, 17, 2);
  const ms = digits(v, 20, 3);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || ms < 0) return undefined;
  return checkedUtc(year, month, day, hour, minute, second, ms);
}

/** The decimal number of `length` digits at `at`, or −1 when one of them is not a digit. */
function digits(v: string, at: number, length: number): number {
  let x = 0;
  for (let i = at; i < at + length; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    x = x * 10 + c;
  }
  return x;
}

/** Epoch ms of a UTC time, NaN when the calendar or the clock does not have it (or before 1900: a placeholder). */
function checkedUtc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

function utcTime(y: string, mo: string, d: string, h?: string, mi?: string, sec?: string, fraction?: string, zone?: string): number {
  const year = +y;
  const month = +mo;
  const day = +d;
  const hour = h === undefined ? 0 : +h;
  const minute = mi === undefined ? 0 : +mi;
  const second = sec === undefined ? 0 : +sec;
  const t = checkedUtc(year, month, day, hour, minute, second, fraction ? +fraction.slice(0, 3).padEnd(3, '0') : 0);
  if (Number.isNaN(t) || zone === undefined || /^(?:Z|UTC|GMT)$/i.test(zone)) return t;
  const offsetHours = +zone.slice(1, 3);
  const offsetMinutes = zone.length > 3 ? +zone.slice(zone.length - 2) : 0;
  if (offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  return t - (zone.charCodeAt(0) === 45 ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * A source's category cell as the backtest keeps it (complaints and `--truth` alike): one
 * spelling, one category, as product codes are (`keyCode`: NFKC, trimmed, single spaces, upper
 * case: `engine ` and `ENGINE` are one); renamed when the mapping lists it (in any of its
 * spellings, to the folded name or the taxonomy's code), the taxonomy's code when it is one (`Injury` is `injury`, a harm category), else
 * the folded value. Maps, not the mapping's object: a category may be any text, `constructor`
 * and `__proto__` included.
 */
export function categoryRenaming(mapping: BacktestMapping, taxonomy: Categories = activeCategories()): (cell: unknown) => string {
  const codes = new Map(taxonomy.codes.map((code) => [keyCode(code), code]));
  // The names renamed to are folded too (`brakes` is `BRAKES`, `Foreign_matter` the code `foreign_matter`).
  const renamed = new Map(Object.entries(mapping.categories).map(([from, to]) => [keyCode(from), codes.get(keyCode(to)) ?? keyCode(to)]));
  // A source repeats a few dozen values: each folded once.
  const seen = new Map<string, string>();
  return (cell) => {
    const raw = String(cell ?? '');
    let category = seen.get(raw);
    if (category === undefined) {
      const folded = keyCode(raw);
      category = sourceCode(renamed.get(folded) ?? codes.get(folded) ?? folded);
      if (seen.size < 10_000) seen.set(raw, category);
    }
    return category;
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
    /** The yes/no cells as read (counted into the summary when the row is replayed). */
    readonly injuryCell?: FlagCell,
    readonly illnessCell?: FlagCell,
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

/** Below this many rows the order of a file is not judged (a few late rows are not a newest-first file). */
const ORDER_JUDGED_AFTER = 200;

export async function runBacktest(rows: AsyncIterable<Row>, options: BacktestOptions): Promise<BacktestSummary> {
  const { mapping, config } = options;
  // Lot keys are read only by the burst rule, over its windows and baseline: kept that long.
  const store = new MemoryCounterStore(undefined, { lotRetainDays: lotHorizonDays(config) });
  const taxonomy = options.taxonomy ?? activeCategories();
  const categoryOf = categoryRenaming(mapping, taxonomy);
  const summary: BacktestSummary = {
    rows: 0,
    replayed: 0,
    skipped: {},
    skippedExamples: {},
    outOfOrder: 0,
    flags: {},
    categories: {},
    signals: {},
    candidates: 0,
    notRaised: {},
    seconds: 0,
    rowsPerSecond: 0,
  };
  const skip = (reason: string, example: unknown) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
    summary.skippedExamples[reason] ??= String(example ?? '').slice(0, 80);
  };
  // A map, not an object: a source's category may be any text.
  const categoryCounts = new Map<string, number>();
  // A short prefix per category for the ids counted (the category's own text would lengthen every id kept).
  const categoryIndexes = new Map<string, number>();
  const categoryIndex = (category: string) => {
    let index = categoryIndexes.get(category);
    if (index === undefined) categoryIndexes.set(category, (index = categoryIndexes.size));
    return index;
  };
  const flags = flagReader(mapping, summary);
  const opened = new Set<string>();
  const ledger = options.outcomes && config.trackRecord ? new TrackLedger(config.trackRecord, options.outcomes) : undefined;
  const gate = new CandidateGate(ledger, (category) => taxonomy.harmOf(category) !== undefined);
  const started = performance.now();
  let lastProgress = started;
  let latest = -Infinity;
  let firstTime = Infinity;
  let lastTime = -Infinity;
  let tooLate = 0;
  const tooLateReason = `more than ${OUT_OF_ORDER_DAYS} days earlier than a row before it (sort the file oldest first, or give --sort)`;

  // For CSV, the column index of each mapped field, from the header line.
  let columns: Partial<Record<Field, number>> | undefined;
  let row: Row = {};
  const get = (field: Field): unknown => {
    if (!Array.isArray(row)) {
      const name = mapping[field];
      return typeof name === 'string' ? (row as Record<string, unknown>)[name] : undefined;
    }
    const index = columns![field];
    return index === undefined ? undefined : (row as string[])[index];
  };

  /** The row as the engine reads it, or undefined (skipped, with its reason). */
  const observationOf = (): ReplayedObservation | undefined => {
    if (!Array.isArray(row) && '__invalid' in row) return void skip(String(row.__invalid), '');
    const cell = get('time');
    const time = parseSourceTime(String(cell ?? ''), mapping.dateOrder);
    if (Number.isNaN(time)) return void skip(`no valid ${mapping.time}`, cell);
    if ((options.from && time < options.from.getTime()) || (options.to && time > options.to.getTime())) return void skip('outside --from/--to', cell);
    const sku = sourceCode(get('product'));
    const lot = sourceCode(get('lot'));
    const plant = sourceCode(get('plant'));
    if (!sku || !lot || !plant) return void skip('missing product, lot or plant', !sku ? mapping.product : !lot ? mapping.lot : mapping.plant);
    const category = categoryOf(get('category'));
    if (!category) return void skip(`no ${mapping.category}`, '');
    const id = mapping.id ? sourceCode(get('id')) : '';
    const injury = mapping.injury ? flags.read('injury', get('injury')) : undefined;
    const illness = mapping.illness ? flags.read('illness', get('illness')) : undefined;
    return new ReplayedObservation(
      id || `row-${summary.rows}`,
      time,
      sku,
      lot,
      plant,
      category,
      injury?.yes ?? false,
      illness?.yes ?? false,
      taxonomy.harmOf(category) !== undefined,
      injury,
      illness,
    );
  };

  const replay = (o: ReplayedObservation): void => {
    const day = dayOf(o.time);
    // A report is counted once: its id with its category (one complaint about two components is two rows, one id).
    const countId = mapping.id ? `${categoryIndex(o.category)}\u0000${o.reportId}` : o.reportId;
    // The same rules as the live stream, counting only the keys they read; the in-memory store is read synchronously.
    if (!store.countGroupSync(countId, ruleLotKey(o), sharedRuleKeys(o, config), day)) return void skip(`repeated ${mapping.id} (the same report and category counted once)`, o.reportId);
    summary.replayed++;
    if (o.injuryCell) flags.count('injury', o.injuryCell);
    if (o.illnessCell) flags.count('illness', o.illnessCell);
    if (o.time < latest) summary.outOfOrder++;
    latest = Math.max(latest, o.time);
    firstTime = Math.min(firstTime, o.time);
    lastTime = Math.max(lastTime, o.time);
    const seen = categoryCounts.get(o.category);
    if (seen !== undefined) categoryCounts.set(o.category, seen + 1);
    else if (categoryCounts.size < MAX_LISTED_CATEGORIES) categoryCounts.set(o.category, 1);
    options.onObservation?.(o, day);
    const { signals } = evaluate(o, store.readerAt(day), config);
    const alarm = familyAlarm(o, signals, config);
    if (alarm) store.countSync(`${countId}#family-alarm`, alarm.keys, day);
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
  };

  const margin = OUT_OF_ORDER_DAYS * 86_400_000;
  /** Rows judged for their order so far (the ones not skipped for another reason). */
  let ordered = 0;
  /** A row dated far after every row before it: replayed when the next row confirms the file moved on (a gap in the data), else skipped as a stray. */
  let ahead: { o: ReplayedObservation; cell: unknown } | undefined;
  const inOrder = (o: ReplayedObservation, cell: unknown) => {
    ordered++;
    if (o.time < latest - margin) {
      // Judged on windows the store no longer holds whole: skipped, not replayed wrong.
      skip(tooLateReason, cell);
      tooLate++;
      if (ordered >= ORDER_JUDGED_AFTER && tooLate * 2 > ordered) {
        throw new BacktestInputError(
          `Most rows are dated more than ${OUT_OF_ORDER_DAYS} days before a row above them (${tooLate} of ${ordered} so far; latest so far ` +
            `${new Date(latest).toISOString().slice(0, 10)}, this row ${new Date(o.time).toISOString().slice(0, 10)}): the file is not oldest first (newest first, or not sorted). ` +
            'A backtest replays complaints oldest first: sort the file by time, or give --sort (reads the whole file into memory).',
        );
      }
    } else if (o.time > latest + margin && latest !== Number.NEGATIVE_INFINITY) ahead = { o, cell };
    else replay(o);
  };

  const sorted: ReplayedObservation[] | undefined = options.sort ? [] : undefined;
  for await (const next of rows) {
    row = next;
    if (Array.isArray(row) && !columns) {
      columns = columnsOf(row, mapping);
      continue;
    }
    summary.rows++;
    const o = observationOf();
    if (o === undefined) continue;
    if (sorted) sorted.push(o);
    else {
      if (ahead) {
        const held = ahead;
        ahead = undefined;
        if (o.time >= held.o.time - margin) replay(held.o);
        else skip(`dated more than ${OUT_OF_ORDER_DAYS} days after the rows around it (a mistyped date?)`, held.cell);
      }
      inOrder(o, get('time'));
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
  // The last row far ahead of the others has no row after it to say otherwise.
  if (ahead) replay(ahead.o);
  if (sorted) {
    // By time, then by content (a file's order within a day is arbitrary, and the rules count in order: the same replay however the file was sorted).
    const byId = mapping.id !== undefined;
    sorted.sort((a, b) => a.time - b.time || (byId ? compareText(a.reportId, b.reportId) : 0) || sameTime(a, b));
    for (const o of sorted) replay(o);
  }
  if (ledger && summary.replayed > 0) {
    ledger.advance(dayOf(lastTime));
    summary.trackRecords = ledger.all();
  }
  summary.categories = Object.fromEntries(categoryCounts);
  if (summary.replayed > 0) {
    summary.firstTime = new Date(firstTime).toISOString();
    summary.lastTime = new Date(lastTime).toISOString();
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.rowsPerSecond = summary.rows / Math.max(summary.seconds, 1e-9);
  return summary;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Two rows of the same time (and id) in an order of their content alone. */
const sameTime = (a: ReplayedObservation, b: ReplayedObservation) =>
  compareText(a.sku, b.sku) || compareText(a.lot, b.lot) || compareText(a.category, b.category) || compareText(a.plant, b.plant) || Number(a.injury) - Number(b.injury) || Number(a.illness) - Number(b.illness);

/** The column index of each mapped field, from a CSV's header row; a mapped column it lacks is an error naming it. */
function columnsOf(headerRow: readonly string[], mapping: BacktestMapping): Partial<Record<Field, number>> {
  const header = headerRow.map((c) => c.trim());
  // Control characters in a header: a binary file (a spreadsheet's .xlsx, an archive), not text.
  if (header.some((c) => /[\u0000-\u0008\u000e-\u001f]/.test(c))) {
    throw new BacktestInputError('The file is not text: its first line holds control characters. Export the sheet as CSV (or JSONL) and give that file.');
  }
  const columns: Partial<Record<Field, number>> = {};
  const missing: string[] = [];
  for (const field of FIELDS) {
    const name = mapping[field];
    if (typeof name !== 'string') continue;
    const index = header.indexOf(name);
    if (index >= 0) columns[field] = index;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const hint = header.length === 1 && /[;\t|]/.test(header[0]!) ? ' The header is one column: is the delimiter another one (--delimiter)?' : '';
    throw new BacktestInputError(`The file has no column ${missing.map((c) => JSON.stringify(c)).join(', ')} (its columns: ${header.join(', ')}). Fix the mapping.${hint}`);
  }
  return columns;
}

/** Not a "yes", and nothing to warn about. */
const PLAIN_NO = new Set(['', '0', 'false', 'no', 'n', 'f', 'none', '-', 'null', 'na', 'n/a']);

/**
 * Reads the yes/no columns (`injury`, `illness`): a value in the mapping's `truthy` (any case),
 * or a whole number above 0 (a count of injured), is yes. Each distinct value is read once;
 * the summary lists the values seen, so that a column read as all "no" shows why.
 */
function flagReader(mapping: BacktestMapping, summary: BacktestSummary) {
  const truthy = new Set(mapping.truthy.map((v) => v.trim().toLowerCase()));
  // Per column, each distinct cell read once: whether it is yes, and its line in the summary (up to 20 values listed).
  const known = { injury: new Map<string, FlagCell>(), illness: new Map<string, FlagCell>() };
  return {
    read(field: 'injury' | 'illness', cell: unknown): FlagCell {
      const raw = String(cell ?? '');
      const cells = known[field];
      let seen = cells.get(raw);
      if (seen === undefined) {
        const value = raw.trim().toLowerCase();
        seen = { yes: truthy.has(value) || (/^\d+$/.test(value) && Number(value) > 0), shown: raw.trim().slice(0, 40) };
        if (cells.size < 1_000) cells.set(raw, seen);
      }
      return seen;
    },
    /** A replayed row's cell counted into the summary (rows skipped are not). */
    count(field: 'injury' | 'illness', seen: FlagCell): void {
      const flags = (summary.flags[field] ??= { yes: 0, values: {} });
      if (seen.yes) flags.yes++;
      if (seen.listed === undefined) {
        const listed = Object.hasOwn(flags.values, seen.shown) ? flags.values[seen.shown] : undefined;
        if (listed) seen.listed = listed;
        else if (Object.keys(flags.values).length < 20) {
          seen.listed = { rows: 0, yes: seen.yes };
          // Defined, not assigned: a value may be any text, `__proto__` included.
          Object.defineProperty(flags.values, seen.shown, { value: seen.listed, enumerable: true, writable: true, configurable: true });
        } else seen.listed = null;
      }
      if (seen.listed) seen.listed.rows++;
    },
  };
}

/** One distinct yes/no cell: its reading and its line in the summary (null: not listed, 20 are). */
interface FlagCell {
  readonly yes: boolean;
  readonly shown: string;
  listed?: { rows: number; yes: boolean } | null;
}

/** Whether a yes/no column held values that were read as "no" but do not look like one (the mapping's `truthy` may be missing them). */
export function unclearFlags(flags: BacktestSummary['flags'][string]): string[] {
  return Object.entries(flags.values)
    .filter(([value, v]) => !v.yes && !PLAIN_NO.has(value.toLowerCase()))
    .map(([value, v]) => `${JSON.stringify(value)} (${v.rows})`);
}
