import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CsvError, type CsvOptions } from '../platform/csv.js';
import { activeCategories, type Categories } from '../reports/taxonomy.js';
import type { DetectionConfig } from './config.js';
import { evaluate, familyAlarm, type Signal } from './engine.js';
import { dayOf, lotKeyOfCodes, sharedRuleKeys, type ClusterKey, type Observation, type ProductHandle } from './keys.js';
import { CandidateGate, TrackLedger, type Admission } from './learning.js';
import { MemoryCounterStore, RETAIN_DAYS, type LotCounter } from './memory-store.js';
import {
  BacktestInputError,
  CATEGORY_IS_HARM,
  ILLNESS,
  INJURY,
  NEW_LOT,
  NEW_PLANT,
  NEW_PRODUCT,
  OUT_OF_ORDER_DAYS,
  readReplay,
  readRows,
  type BacktestMapping,
  type ReadSettings,
  type ReadSummary,
  type ReplayBatch,
  type Row,
} from './replay.js';

export {
  BacktestInputError,
  BacktestMapping,
  categoryRenaming,
  OUT_OF_ORDER_DAYS,
  parseSourceTime,
  readRows,
  sourceCode,
  unclearFlags,
  type DateOrder,
  type ReadSummary,
  type Row,
} from './replay.js';

/**
 * Backtests: replay a historical file of complaints, in time order, through the same engine
 * with the in-memory counter store, and report every signal. Two stages: reading the file
 * into the complaints to replay (`replay.ts`: parsing, mapping, order, each report once) and
 * replaying them through the engine (here). The file is streamed (constant memory: counters
 * are bounded by the keys, not the rows); `runBacktestFile` reads it in a thread of its own.
 */
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
  /** @internal Products and plants the reading numbers before it restarts its lists (default 100,000; tests make it small). */
  readonly numbered?: number;
}

export interface BacktestSummary extends ReadSummary {
  signals: Record<string, number>;
  /** Cluster keys on which a candidate incident would have been opened (notifications excluded). */
  candidates: number;
  /** Candidate-opening signals not raised: their category held back, or its product's one candidate raised already. */
  notRaised: Record<string, number>;
  /** The categories' track records at the end of the replay, worst first (learning from `outcomes` only). */
  trackRecords?: ReturnType<TrackLedger['all']>;
  seconds: number;
  rowsPerSecond: number;
}

/** How long a backtest keeps a lot key: the longest the burst rule looks back on a lot, whatever the category, and the out-of-order margin. */
export function lotHorizonDays(config: DetectionConfig): number {
  const bursts = [config.lotBurst, ...Object.values(config.categories).map((c) => ({ ...config.lotBurst, ...c.lotBurst }))];
  return Math.max(...bursts.map((b) => Math.max(...b.windowsDays) + b.baselineDays)) + 1 + OUT_OF_ORDER_DAYS;
}

/** A backtest with both stages in this thread (rows in batches from anywhere: a file's `readRows`, a test's arrays). */
export async function runBacktest(rows: AsyncIterable<readonly Row[]>, options: BacktestOptions): Promise<BacktestSummary> {
  const engine = new ReplayEngine(options);
  const read = await readReplay(rows, engine.settings, engine.taxonomy, (batch) => engine.replay(batch));
  return engine.finish(read);
}

/**
 * A backtest of a file, read in a thread of its own while this one replays it through the
 * engine (the reading is about half of the work); in this thread when the machine has one core,
 * with `threads: false`, or by default when the file is smaller than `THREADED_FROM_BYTES`.
 * The same summary and signals either way.
 */
export async function runBacktestFile(
  path: string,
  format: 'csv' | 'jsonl',
  csv: CsvOptions,
  options: BacktestOptions & { readonly threads?: boolean },
): Promise<BacktestSummary> {
  const threads = availableParallelism() >= 2 && (options.threads ?? sizeOf(path) >= THREADED_FROM_BYTES);
  if (!threads) return runBacktest(readRows(path, format, csv), options);
  const engine = new ReplayEngine(options);
  const data: ReaderData = { path, format, csv, settings: engine.settings, taxonomy: engine.taxonomy.taxonomy };
  const read = await new Promise<ReadSummary>((resolve, reject) => {
    // A young generation larger than a thread's default: most of what the reading allocates (cells, rows) dies young, and is collected less often.
    const worker = new Worker(READER_URL, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    let settled = false;
    const settle = (error: unknown, summary?: ReadSummary) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if (summary) resolve(summary);
      else reject(error);
    };
    worker.on('message', (m: ReaderMessage) => {
      if (settled) return;
      try {
        if (m.type === 'batch') {
          engine.replay(m.batch);
          worker.postMessage('next');
        } else if (m.type === 'done') settle(undefined, m.summary);
        else settle(errorOf(m));
      } catch (error) {
        settle(error);
      }
    });
    worker.on('error', (error) => settle(error));
    worker.on('exit', (code) => settle(new Error(`the backtest's reading thread stopped before the end of the file (exit code ${code})`)));
  });
  return engine.finish(read);
}

/**
 * From this size a file is read in a thread of its own by default: the thread takes about 0.4 s
 * to start (its modules loaded again), which a small file does not repay (the 5.6 MB NHTSA
 * file: 1.0-1.6 s with the thread, 0.7-0.9 s without; a million rows, 98 MB: 1.5-1.9x faster with it).
 */
export const THREADED_FROM_BYTES = 16 * 1024 * 1024;

/** A file's size in bytes; 0 when it cannot be read (the reading reports why). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The reading thread's error as the one thread would have thrown it (the same class for the errors a caller tells apart). */
function errorOf(m: Extract<ReaderMessage, { type: 'error' }>): Error {
  if (m.name === 'BacktestInputError') return new BacktestInputError(m.message);
  if (m.name === 'CsvError' && m.line !== undefined) return new CsvError(m.message.replace(/^line \d+: /, ''), m.line);
  return Object.assign(new Error(m.message), { name: m.name });
}

/** The reading thread: its TypeScript through tsx's loader (as `bin.mjs` runs the CLI), or a bundle's own file. */
const READER_URL = new URL(import.meta.url.endsWith('.ts') ? './replay-worker.boot.mjs' : './replay-worker.mjs', import.meta.url);

/** What the reading thread is given (plain data). */
export interface ReaderData {
  readonly path: string;
  readonly format: 'csv' | 'jsonl';
  readonly csv: CsvOptions;
  readonly settings: ReadSettings;
  readonly taxonomy: Categories['taxonomy'];
}

/** What it sends: batches in order (each answered with 'next'), then its summary or the error that stopped it. */
export type ReaderMessage =
  | { readonly type: 'batch'; readonly batch: ReplayBatch }
  | { readonly type: 'done'; readonly summary: ReadSummary }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly line?: number };

function readSettings(options: BacktestOptions): ReadSettings {
  return {
    mapping: options.mapping,
    ...(options.from ? { from: options.from.getTime() } : {}),
    ...(options.to ? { to: options.to.getTime() } : {}),
    ...(options.sort ? { sort: true } : {}),
    ...(options.numbered ? { maxNumbered: options.numbered } : {}),
    lotRetainDays: lotHorizonDays(options.config),
    idRetainDays: RETAIN_DAYS,
  };
}

/** A replayed complaint as the engine reads it. Its ISO time is built only when read (a signal's `at`): most rows raise none. */
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
    readonly productHandle: ProductHandle,
    readonly lotKey: ClusterKey | undefined,
  ) {}
  get at(): string {
    return (this.iso ??= new Date(this.time).toISOString());
  }
}

/** A product and defect as the engine stage numbers it: its code, its defect; it is the engine's handle on its keys too (one object to reach a complaint, not two). */
interface ProductSlot extends ProductHandle {
  readonly sku: string;
  readonly category: string;
}

/** A lot as the engine stage numbers it: its cluster key and its counter (the store counts it in place). */
interface LotSlot extends LotCounter {
  readonly cluster: ClusterKey;
}

/** The engine stage: counts each batch's complaints, evaluates the rules, raises signals. */
class ReplayEngine {
  readonly taxonomy: Categories;
  /** How the reading stage reads for this engine (its retention is the store's). */
  readonly settings: ReadSettings;
  private readonly store: MemoryCounterStore;
  private readonly ledger: TrackLedger | undefined;
  private readonly gate: CandidateGate;
  private readonly opened = new Set<string>();
  private readonly signals: Record<string, number> = {};
  private readonly notRaised: Record<string, number> = {};
  private signalCount = 0;
  private candidates = 0;
  private products: ProductSlot[] = [];
  private plants: string[] = [];
  private readonly lots: LotSlot[] = [];
  private readonly started = performance.now();
  private lastProgress = this.started;

  constructor(private readonly options: BacktestOptions) {
    const { config } = options;
    this.taxonomy = options.taxonomy ?? activeCategories();
    this.settings = readSettings(options);
    // Lot keys are read only by the burst rule, over its windows and baseline: kept that long (as the reading numbers them).
    this.store = new MemoryCounterStore(this.settings.idRetainDays, { lotRetainDays: this.settings.lotRetainDays });
    this.ledger = options.outcomes && config.trackRecord ? new TrackLedger(config.trackRecord, options.outcomes) : undefined;
    this.gate = new CandidateGate(this.ledger, (category) => this.taxonomy.harmOf(category) !== undefined);
  }

  replay(b: ReplayBatch): void {
    if (b.restart) {
      this.products = [];
      this.plants = [];
    }
    let newProduct = 0;
    let newLot = 0;
    let newPlant = 0;
    for (let i = 0; i < b.n; i++) {
      const bits = b.bits[i]!;
      if (bits & NEW_PRODUCT) this.products[b.product[i]!] = { sku: b.productCodes[newProduct]!, category: b.productCategories[newProduct++]!, keys: undefined };
      if (bits & NEW_PLANT) this.plants[b.plant[i]!] = b.plants[newPlant++]!;
      const product = this.products[b.product[i]!]!;
      const number = b.lot[i]!;
      let lot: LotSlot | undefined;
      if (number >= 0 && bits & NEW_LOT) {
        const cluster = lotKeyOfCodes(product.sku, b.lotCodes[newLot++]!, product.category);
        this.lots[number] = lot = { cluster, key: cluster.id, held: undefined };
      } else if (number >= 0) lot = this.lots[number]!;
      const o = new ReplayedObservation(
        b.ids[i]!,
        b.time[i]!,
        product.sku,
        lot ? lot.cluster.lot! : product.sku,
        this.plants[b.plant[i]!]!,
        product.category,
        (bits & INJURY) !== 0,
        (bits & ILLNESS) !== 0,
        (bits & CATEGORY_IS_HARM) !== 0,
        product,
        lot?.cluster,
      );
      this.one(o, lot);
    }
    const now = performance.now();
    if (this.options.onProgress && now - this.lastProgress > 1000) {
      this.lastProgress = now;
      this.options.onProgress({ rows: b.rowsRead, signals: this.signalCount, rowsPerSecond: b.rowsRead / ((now - this.started) / 1000) });
    }
  }

  private one(o: ReplayedObservation, lot: LotSlot | undefined): void {
    const { config } = this.options;
    const day = Math.floor(o.time / 86_400_000);
    // The same rules as the live stream, counting only the keys they read; the in-memory store is read synchronously.
    this.store.countReplayedSync(lot, sharedRuleKeys(o, config), day);
    this.options.onObservation?.(o, day);
    const { signals } = evaluate(o, this.store.readerAt(day), config);
    const alarm = familyAlarm(o, signals, config);
    // Each complaint is replayed once: its firing needs no id to be counted once.
    if (alarm) this.store.addSync(alarm.keys, day);
    // By index: the list is often the one frozen empty list, whose iteration the compiler does not make free.
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i]!;
      this.signals[s.rule] = (this.signals[s.rule] ?? 0) + 1;
      this.signalCount++;
      const admission = this.gate.admit(s, day);
      if (admission.reason) this.notRaised[admission.reason] = (this.notRaised[admission.reason] ?? 0) + 1;
      if (admission.raised && !this.opened.has(s.key.id)) {
        this.opened.add(s.key.id);
        this.candidates++;
      }
      this.options.onSignal(s, admission);
    }
  }

  finish(read: ReadSummary): BacktestSummary {
    const seconds = (performance.now() - this.started) / 1000;
    const { firstTime, lastTime, ...counts } = read;
    const trackRecords = this.ledger && read.replayed > 0 && lastTime ? (this.ledger.advance(dayOf(lastTime)), this.ledger.all()) : undefined;
    return {
      ...counts,
      signals: this.signals,
      candidates: this.candidates,
      notRaised: this.notRaised,
      ...(trackRecords ? { trackRecords } : {}),
      ...(firstTime ? { firstTime, lastTime } : {}),
      seconds,
      rowsPerSecond: read.rows / Math.max(seconds, 1e-9),
    };
  }
}
