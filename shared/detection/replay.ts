import { createReadStream } from 'node:fs';
import readline from 'node:readline';
import * as z from 'zod';
import { readCsvBatches, type CsvOptions } from '../platform/csv.js';
import { keyCode } from '../platform/fields.js';
import { activeCategories, CATEGORY_CODE, type Categories } from '../reports/taxonomy.js';
import { detached } from '../platform/strings.js';
import { IdSet } from './id-set.js';
import { clusterCode } from './keys.js';

/**
 * A backtest's first stage: reading a historical file into the complaints to replay, in
 * order, each once, as columns the engine stage (`backtest.ts`) replays. Rows are read
 * (`readRows`), mapped (`BacktestMapping`), checked (time, codes, order) and counted once
 * (their id and category); the codes repeated from row to row are sent once and then by
 * number (a product and defect, a lot, a plant). The stage has no engine in it, so it can
 * run in a thread of its own (`replay-worker.ts`) beside the engine.
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

/** The file cannot be replayed as it is (a mapped column missing, rows newest first): what to do is in the message. */
export class BacktestInputError extends Error {
  override readonly name = 'BacktestInputError';
}

/**
 * Streams the rows of a file in batches (as they are read: a promise a batch, not a row): a
 * CSV yields its header row first and then each row, as arrays of cells (the streaming
 * parser of `platform/csv.ts`: quoted fields with line breaks, BOM, UTF-8 or Shift_JIS, any
 * delimiter); a JSONL file yields one object per line.
 */
export type Row = readonly string[] | Record<string, unknown>;
export async function* readRows(path: string, format: 'csv' | 'jsonl', csv: CsvOptions = {}): AsyncGenerator<readonly Row[]> {
  if (format === 'csv') {
    yield* readCsvBatches(path, csv);
    return;
  }
  const lines = readline.createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let first = true;
  let batch: Row[] = [];
  for await (const read of lines) {
    // A byte-order mark (what Windows editors write) is not part of the first object.
    const line = first && read.charCodeAt(0) === 0xfeff ? read.slice(1) : read;
    first = false;
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      batch.push(value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { __invalid: 'not a JSON object' });
    } catch {
      batch.push({ __invalid: 'not JSON' });
    }
    if (batch.length >= JSONL_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Objects a JSONL file yields at once. */
const JSONL_BATCH = 1024;

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

/** The summary lists at most this many categories (a mis-mapped column could hold a million values). */
const MAX_LISTED_CATEGORIES = 200;

const FIELDS = ['time', 'product', 'lot', 'plant', 'category', 'id', 'injury', 'illness'] as const;
type Field = (typeof FIELDS)[number];

/**
 * Rows may arrive this many days out of order and still be judged on whole windows: the
 * store keeps every key this much longer than its rules read it (800 days for 730-day windows).
 */
export const OUT_OF_ORDER_DAYS = 70;

/** Below this many rows the order of a file is not judged (a few late rows are not a newest-first file). */
const ORDER_JUDGED_AFTER = 200;

/** What the reading stage reports of the file (the rest of a backtest's summary is the engine's). */
export interface ReadSummary {
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
  firstTime?: string;
  lastTime?: string;
}

/** How the reading stage reads a file (plain data: it may be sent to a worker thread). */
export interface ReadSettings {
  readonly mapping: BacktestMapping;
  /** Epoch ms: rows outside are skipped. */
  readonly from?: number;
  readonly to?: number;
  /** Read the whole file, then replay it sorted by time (see `BacktestOptions.sort`). */
  readonly sort?: boolean;
  /** A lot quiet for longer than this is forgotten (its number reused): no rule reads that far back on a lot. */
  readonly lotRetainDays: number;
  /** A report id is remembered this long for counting it once (the counter store keeps keys as long). */
  readonly idRetainDays: number;
  /** Rows per batch (default 4,096). */
  readonly batchRows?: number;
  /** Products and plants numbered before the lists restart (default `MAX_NUMBERED`). */
  readonly maxNumbered?: number;
}

/** Bits of `ReplayBatch.bits`, per complaint. */
export const INJURY = 1;
export const ILLNESS = 2;
export const CATEGORY_IS_HARM = 4;
/** The complaint's product and defect, lot or plant is first seen (or its number reused): its text is the next in the batch's list. */
export const NEW_PRODUCT = 8;
export const NEW_LOT = 16;
export const NEW_PLANT = 32;

/**
 * Complaints to replay, in order, as columns (typed arrays that move to another thread without
 * a copy). Products (a product code with a defect), lots and plants are numbered: a number's
 * text comes once, in the lists below, on the complaint that first uses it (its `NEW_…` bit);
 * a lot's number is reused once the lot is forgotten, and comes again with its new text.
 */
export interface ReplayBatch {
  readonly n: number;
  /** Rows read from the file up to this batch (progress). */
  readonly rowsRead: number;
  /** Every product and plant number before this batch is void (the lists grew past their bound); lots keep theirs. */
  readonly restart: boolean;
  readonly time: Float64Array;
  readonly product: Int32Array;
  /** −1: the lot is its product (the source has no lots). */
  readonly lot: Int32Array;
  readonly plant: Int32Array;
  readonly bits: Uint8Array;
  readonly ids: string[];
  /** Per new product, in order: its code (`clusterCode`) and its defect. */
  readonly productCodes: string[];
  readonly productCategories: string[];
  /** Per new lot, in order: its code (`clusterCode`). */
  readonly lotCodes: string[];
  /** Per new plant, in order: the plant as the source writes it. */
  readonly plants: string[];
}

/** A row read and mapped, before it is counted. */
class ReadRow {
  constructor(
    readonly reportId: string,
    readonly time: number,
    readonly sku: string,
    readonly lot: string,
    readonly plant: string,
    readonly category: string,
    readonly injury: FlagCell | undefined,
    readonly illness: FlagCell | undefined,
  ) {}
}

/** Products and plants numbered before the lists restart (a mis-mapped column could hold a million values). */
const MAX_NUMBERED = 100_000;

/**
 * The reading stage: reads `rows`, hands each batch of complaints to replay to `sink` (in
 * order; awaited, so a slow sink holds the reading back), and returns what it read. Throws
 * `BacktestInputError` when the file cannot be replayed as it is (after handing over what it
 * read before).
 */
export async function readReplay(
  rows: AsyncIterable<readonly Row[]>,
  settings: ReadSettings,
  taxonomy: Categories,
  sink: (batch: ReplayBatch) => void | Promise<void>,
): Promise<ReadSummary> {
  const { mapping } = settings;
  const categoryOf = categoryRenaming(mapping, taxonomy);
  const summary: ReadSummary = { rows: 0, replayed: 0, skipped: {}, skippedExamples: {}, outOfOrder: 0, flags: {}, categories: {} };
  const skip = (reason: string, example: unknown) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
    summary.skippedExamples[reason] ??= String(example ?? '').slice(0, 80);
  };
  const flags = flagReader(mapping, summary);
  const batches = new BatchWriter(settings, taxonomy, sink);
  // A map, not an object: a source's category may be any text.
  const categoryCounts = new Map<string, number>();
  // A short prefix per category for the ids counted (the category's own text would lengthen every id kept).
  const categoryIndexes = new Map<string, number>();
  const categoryIndex = (category: string) => {
    let index = categoryIndexes.get(category);
    if (index === undefined) categoryIndexes.set(category, (index = categoryIndexes.size));
    return index;
  };
  // Each report counted once: its id with its category (one complaint about two components is two rows, one id).
  const counted = mapping.id ? new IdSet() : undefined;
  let newestDay = Number.NEGATIVE_INFINITY;
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

  /** The row as mapped, or undefined (skipped, with its reason). */
  const readRow = (): ReadRow | undefined => {
    if (!Array.isArray(row) && '__invalid' in row) return void skip(String(row.__invalid), '');
    const cell = get('time');
    const time = parseSourceTime(String(cell ?? ''), mapping.dateOrder);
    if (Number.isNaN(time)) return void skip(`no valid ${mapping.time}`, cell);
    if ((settings.from !== undefined && time < settings.from) || (settings.to !== undefined && time > settings.to)) return void skip('outside --from/--to', cell);
    const sku = sourceCode(get('product'));
    const lot = sourceCode(get('lot'));
    const plant = sourceCode(get('plant'));
    if (!sku || !lot || !plant) return void skip('missing product, lot or plant', !sku ? mapping.product : !lot ? mapping.lot : mapping.plant);
    const category = categoryOf(get('category'));
    if (!category) return void skip(`no ${mapping.category}`, '');
    const id = mapping.id ? sourceCode(get('id')) : '';
    return new ReadRow(
      id || `row-${summary.rows}`,
      time,
      sku,
      lot,
      plant,
      category,
      mapping.injury ? flags.read('injury', get('injury')) : undefined,
      mapping.illness ? flags.read('illness', get('illness')) : undefined,
    );
  };

  /** Whether the report is new (and now remembered): an id is forgotten `idRetainDays` after the newest day. */
  const countOnce = (r: ReadRow, day: number): boolean => {
    if (!counted) return true;
    const category = categoryIndex(r.category);
    if (day > newestDay) {
      // Checked before the day moves on: a repeat is refused while its id is remembered, and moves nothing.
      if (counted.has(r.reportId, category)) return false;
      newestDay = day;
      counted.forgetBefore(day - settings.idRetainDays);
    }
    return counted.add(r.reportId, day, category);
  };

  const replay = (r: ReadRow): void => {
    const day = Math.floor(r.time / 86_400_000);
    if (!countOnce(r, day)) return void skip(`repeated ${mapping.id} (the same report and category counted once)`, r.reportId);
    summary.replayed++;
    if (r.injury) flags.count('injury', r.injury);
    if (r.illness) flags.count('illness', r.illness);
    if (r.time < latest) summary.outOfOrder++;
    latest = Math.max(latest, r.time);
    firstTime = Math.min(firstTime, r.time);
    lastTime = Math.max(lastTime, r.time);
    const seen = categoryCounts.get(r.category);
    if (seen !== undefined) categoryCounts.set(r.category, seen + 1);
    else if (categoryCounts.size < MAX_LISTED_CATEGORIES) categoryCounts.set(r.category, 1);
    batches.add(r, day);
  };

  const margin = OUT_OF_ORDER_DAYS * 86_400_000;
  /** Rows judged for their order so far (the ones not skipped for another reason). */
  let ordered = 0;
  /** A row dated far after every row before it: replayed when the next row confirms the file moved on (a gap in the data), else skipped as a stray. */
  let ahead: { r: ReadRow; cell: unknown } | undefined;
  const inOrder = (r: ReadRow, cell: unknown) => {
    ordered++;
    if (r.time < latest - margin) {
      // Judged on windows the store no longer holds whole: skipped, not replayed wrong.
      skip(tooLateReason, cell);
      tooLate++;
      if (ordered >= ORDER_JUDGED_AFTER && tooLate * 2 > ordered) {
        throw new BacktestInputError(
          `Most rows are dated more than ${OUT_OF_ORDER_DAYS} days before a row above them (${tooLate} of ${ordered} so far; latest so far ` +
            `${new Date(latest).toISOString().slice(0, 10)}, this row ${new Date(r.time).toISOString().slice(0, 10)}): the file is not oldest first (newest first, or not sorted). ` +
            'A backtest replays complaints oldest first: sort the file by time, or give --sort (reads the whole file into memory).',
        );
      }
    } else if (r.time > latest + margin && latest !== Number.NEGATIVE_INFINITY) ahead = { r, cell };
    else replay(r);
  };

  const sorted: ReadRow[] | undefined = settings.sort ? [] : undefined;
  try {
    for await (const read of rows) {
      for (let i = 0; i < read.length; i++) {
        row = read[i]!;
        if (Array.isArray(row) && !columns) {
          columns = columnsOf(row, mapping);
          continue;
        }
        summary.rows++;
        const r = readRow();
        if (r === undefined) continue;
        if (sorted) sorted.push(r);
        else {
          if (ahead) {
            const held = ahead;
            ahead = undefined;
            if (r.time >= held.r.time - margin) replay(held.r);
            else skip(`dated more than ${OUT_OF_ORDER_DAYS} days after the rows around it (a mistyped date?)`, held.cell);
          }
          inOrder(r, get('time'));
        }
        if (batches.full) await batches.flush(summary.rows);
      }
    }
    // The last row far ahead of the others has no row after it to say otherwise.
    if (ahead) replay(ahead.r);
    if (sorted) {
      // By time, then by content (a file's order within a day is arbitrary, and the rules count in order: the same replay however the file was sorted).
      const byId = mapping.id !== undefined;
      sorted.sort((a, b) => a.time - b.time || (byId ? compareText(a.reportId, b.reportId) : 0) || sameTime(a, b));
      for (const r of sorted) {
        replay(r);
        if (batches.full) await batches.flush(summary.rows);
      }
    }
  } finally {
    // What was read before an error is replayed too, as it would have been row by row.
    await batches.flush(summary.rows);
  }
  summary.categories = Object.fromEntries(categoryCounts);
  if (summary.replayed > 0) {
    summary.firstTime = new Date(firstTime).toISOString();
    summary.lastTime = new Date(lastTime).toISOString();
  }
  return summary;
}

/** A defect as the reading numbers its products: whether it is harm, and its products by code. */
interface CategoryEntry {
  readonly name: string;
  readonly harm: boolean;
  readonly products: Map<string, ProductEntry>;
}

/** A product code with a defect: its number (valid in one `generation` of the numbering) and its lots by code. */
interface ProductEntry {
  readonly code: string;
  number: number;
  generation: number;
  readonly lots: Map<string, number>;
}

/**
 * Collects complaints into batches, numbering their products, lots and plants (each looked up
 * by its own code under its defect: no key string is built per complaint). Lot numbers are
 * freed when a lot has been quiet longer than any rule reads a lot; product and plant numbers
 * restart when their lists pass their bound, lots keeping theirs.
 */
class BatchWriter {
  private readonly size: number;
  private readonly taxonomy: Categories;
  private readonly categories = new Map<string, CategoryEntry>();
  /** The numbering of products: its generation, and how many products it has numbered. */
  private generation = 0;
  private numbered = 0;
  private readonly plants = new Map<string, number>();
  /** The day each lot number last had a report; the numbers free to reuse. */
  private lotDays = new Int32Array(1024);
  private readonly freeLots: number[] = [];
  private lotCount = 0;
  private newestDay = Number.NEGATIVE_INFINITY;
  private lastLotSweep = Number.NEGATIVE_INFINITY;
  private restart = false;
  private batch!: ReturnType<BatchWriter['empty']>;

  constructor(
    private readonly settings: ReadSettings,
    taxonomy: Categories,
    private readonly sink: (batch: ReplayBatch) => void | Promise<void>,
  ) {
    this.size = settings.batchRows ?? 4096;
    this.taxonomy = taxonomy;
    this.batch = this.empty();
  }

  private empty() {
    // Room for one more than a full batch: one row read may replay two (a row held ahead, then itself) before the batch is handed over.
    const n = this.size + 1;
    return {
      n: 0,
      time: new Float64Array(n),
      product: new Int32Array(n),
      lot: new Int32Array(n),
      plant: new Int32Array(n),
      bits: new Uint8Array(n),
      ids: [] as string[],
      productCodes: [] as string[],
      productCategories: [] as string[],
      lotCodes: [] as string[],
      plants: [] as string[],
    };
  }

  get full(): boolean {
    return this.batch.n >= this.size;
  }

  add(r: ReadRow, day: number): void {
    if (this.batch.n > this.size) throw new Error('a full batch must be handed over first');
    const b = this.batch;
    const i = b.n++;
    let category = this.categories.get(r.category);
    if (category === undefined) {
      category = { name: detached(r.category), harm: this.taxonomy.harmOf(r.category) !== undefined, products: new Map() };
      this.categories.set(category.name, category);
    }
    let bits = (r.injury?.yes ? INJURY : 0) | (r.illness?.yes ? ILLNESS : 0) | (category.harm ? CATEGORY_IS_HARM : 0);
    const skuCode = clusterCode(r.sku);
    let product = category.products.get(skuCode);
    // Codes kept are copies: a code cut out of the parser's text would keep all of that text alive.
    if (product === undefined) {
      product = { code: detached(skuCode), number: -1, generation: -1, lots: new Map() };
      category.products.set(product.code, product);
    }
    if (product.generation !== this.generation) {
      product.generation = this.generation;
      product.number = this.numbered++;
      b.productCodes.push(product.code);
      b.productCategories.push(category.name);
      bits |= NEW_PRODUCT;
    }
    let plant = this.plants.get(r.plant);
    if (plant === undefined) {
      const name = detached(r.plant);
      this.plants.set(name, (plant = this.plants.size));
      b.plants.push(name);
      bits |= NEW_PLANT;
    }
    const lotCode = clusterCode(r.lot);
    let lot = -1;
    if (lotCode !== skuCode) {
      if (day > this.newestDay) this.moveOn(day);
      const known = product.lots.get(lotCode);
      if (known === undefined) {
        lot = this.freeLots.pop() ?? this.lotCount++;
        if (lot >= this.lotDays.length) {
          const grown = new Int32Array(this.lotDays.length * 2);
          grown.set(this.lotDays);
          this.lotDays = grown;
        }
        const code = detached(lotCode);
        product.lots.set(code, lot);
        this.lotDays[lot] = day;
        b.lotCodes.push(code);
        bits |= NEW_LOT;
      } else {
        lot = known;
        if (day > this.lotDays[lot]!) this.lotDays[lot] = day;
      }
    }
    b.time[i] = r.time;
    b.product[i] = product.number;
    b.lot[i] = lot;
    b.plant[i] = plant;
    b.bits[i] = bits;
    b.ids.push(r.reportId);
  }

  /**
   * The newest day moved on: now and then, lots quiet for longer than any rule reads them are
   * forgotten and their numbers freed, and products of an earlier numbering left without lots
   * are dropped (memory stays bounded however many product codes a file has).
   */
  private moveOn(day: number): void {
    this.newestDay = day;
    const every = Math.max(1, Math.floor(this.settings.lotRetainDays / 2));
    if (day - this.lastLotSweep < every) return;
    this.lastLotSweep = day;
    const horizon = day - this.settings.lotRetainDays;
    this.categories.forEach((category, name) => {
      category.products.forEach((product, code) => {
        product.lots.forEach((lot, lotCode) => {
          if (this.lotDays[lot]! < horizon) {
            product.lots.delete(lotCode);
            this.freeLots.push(lot);
          }
        });
        if (product.lots.size === 0 && product.generation !== this.generation) category.products.delete(code);
      });
      if (category.products.size === 0) this.categories.delete(name);
    });
  }

  async flush(rowsRead: number): Promise<void> {
    const b = this.batch;
    if (b.n === 0) return;
    this.batch = this.empty();
    const restart = this.restart;
    this.restart = false;
    await this.sink({ ...b, rowsRead, restart });
    // Past their bound, the product and plant numberings restart (at a batch's edge: the engine stage drops its own with them).
    const bound = this.settings.maxNumbered ?? MAX_NUMBERED;
    if (this.numbered >= bound || this.plants.size >= bound) {
      this.generation++;
      this.numbered = 0;
      this.plants.clear();
      this.restart = true;
    }
  }
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Two rows of the same time (and id) in an order of their content alone. */
const sameTime = (a: ReadRow, b: ReadRow) =>
  compareText(a.sku, b.sku) || compareText(a.lot, b.lot) || compareText(a.category, b.category) || compareText(a.plant, b.plant) || Number(a.injury?.yes ?? false) - Number(b.injury?.yes ?? false) || Number(a.illness?.yes ?? false) - Number(b.illness?.yes ?? false);

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
function flagReader(mapping: BacktestMapping, summary: ReadSummary) {
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
export function unclearFlags(flags: ReadSummary['flags'][string]): string[] {
  return Object.entries(flags.values)
    .filter(([value, v]) => !v.yes && !PLAIN_NO.has(value.toLowerCase()))
    .map(([value, v]) => `${JSON.stringify(value)} (${v.rows})`);
}