import type { Signal } from './engine.js';
import { opensCandidate } from './signals.js';
import { standingOf, type StandingOf, type TrackRecordConfig } from './track-record.js';

/**
 * Learning from outcomes in a replay (backtests and the bench): the ledger of every
 * category's track record (`track-record.ts`), fed the past recalls as they become known,
 * and the gate that decides which signals raise a candidate.
 */

interface Episode {
  readonly key: string;
  readonly start: number;
  /** The product and defect had been recalled before the episode (a late signal): never a miss. */
  readonly late: boolean;
  state: 'pending' | 'hit' | 'miss' | 'late';
}

const pairKey = (sku: string, category: string) => `${sku}\u0000${category}`;

/**
 * The track records of every category, in memory (backtests and the bench): fed, in time
 * order, the signals as they are raised and the recalls as they become known (on their date:
 * never a recall from the future). Memory: one entry per episode of the last
 * `judgedAfterDays`, and one number per product and defect that signalled.
 */
export class TrackLedger {
  private readonly records = new Map<string, { hits: number; misses: number; queue: Episode[]; head: number }>();
  private readonly episodesOf = new Map<string, Episode[]>();
  private readonly lastRecall = new Map<string, number>();
  private readonly recalls: readonly { key: string; category: string; day: number }[];
  private nextRecall = 0;

  constructor(
    readonly config: TrackRecordConfig,
    recalls: readonly { sku: string; category: string; day: number }[] = [],
  ) {
    this.recalls = recalls.map((r) => ({ key: pairKey(r.sku, r.category), category: r.category, day: r.day })).sort((a, b) => a.day - b.day);
  }

  private recordOf(category: string) {
    let r = this.records.get(category);
    if (!r) this.records.set(category, (r = { hits: 0, misses: 0, queue: [], head: 0 }));
    return r;
  }

  /** Moves the ledger to `day`: recalls dated up to it become known, episodes older than the judging period are misses. */
  advance(day: number): void {
    while (this.nextRecall < this.recalls.length && this.recalls[this.nextRecall]!.day <= day) {
      const r = this.recalls[this.nextRecall++]!;
      this.recall(r.key, r.category, r.day);
    }
    for (const record of this.records.values()) {
      const q = record.queue;
      while (record.head < q.length && q[record.head]!.start < day - this.config.judgedAfterDays) {
        const e = q[record.head++]!;
        if (e.state === 'pending' && e.late) e.state = 'late';
        else if (e.state === 'pending') {
          e.state = 'miss';
          record.misses++;
        }
        const own = this.episodesOf.get(e.key);
        if (own?.[0] === e) own.shift();
      }
      if (record.head > 1024 && record.head * 2 > q.length) {
        q.splice(0, record.head);
        record.head = 0;
      }
    }
  }

  private recall(key: string, category: string, day: number): void {
    this.lastRecall.set(key, Math.max(day, this.lastRecall.get(key) ?? -Infinity));
    const record = this.recordOf(category);
    for (const e of this.episodesOf.get(key) ?? []) {
      if (e.state === 'pending' && e.start >= day - this.config.judgedAfterDays && e.start <= day + this.config.hitBeforeDays) {
        e.state = 'hit';
        record.hits++;
      }
    }
  }

  /** A signal on a product and defect at `day` (call `advance(day)` first): starts an episode unless one started within `episodeDays`. */
  signal(sku: string, category: string, day: number): void {
    const key = pairKey(sku, category);
    let own = this.episodesOf.get(key);
    const last = own?.[own.length - 1];
    if (last && day - last.start < this.config.episodeDays) return;
    const record = this.recordOf(category);
    const recalled = this.lastRecall.get(key);
    // Signals after a recall on the product and defect are late, not false: they judge nothing.
    const e: Episode = { key, start: day, late: recalled !== undefined, state: 'pending' };
    // A recall made shortly before (within `hitBeforeDays`) is this episode's hit already.
    if (recalled !== undefined && recalled >= day - this.config.hitBeforeDays) {
      e.state = 'hit';
      record.hits++;
    }
    record.queue.push(e);
    if (!own) this.episodesOf.set(key, (own = []));
    own.push(e);
  }

  /** The category's record as known now. */
  standing(category: string): StandingOf {
    const r = this.records.get(category);
    return standingOf({ hits: r?.hits ?? 0, misses: r?.misses ?? 0 }, category, this.config);
  }

  /** Every category's record as known now, worst first (what the backtest prints). */
  all(): (StandingOf & { category: string })[] {
    return [...this.records.keys()].map((category) => ({ category, ...this.standing(category) })).sort((a, b) => a.rate - b.rate);
  }
}

/** What became of a signal: raised as a candidate, or not and why. */
export interface Admission {
  readonly raised: boolean;
  /** Why not: the category is held back, or the product raised its one candidate already. */
  readonly reason?: 'held' | 'raised-once';
  readonly standing?: StandingOf;
}

/**
 * Which signals raise a candidate when a backtest replays history (the stream's rule is the
 * same, on the incidents it holds): every candidate-opening signal feeds the ledger first;
 * a `held` category raises none, a `once` category one per product and defect. Without a
 * ledger (no past recalls to learn from) every signal is raised, as before.
 */
export class CandidateGate {
  private readonly raisedKeys = new Set<string>();

  constructor(private readonly ledger?: TrackLedger) {}

  admit(signal: Signal, day: number): Admission {
    if (!opensCandidate(signal)) return { raised: false };
    const key = signal.key.sku !== undefined ? pairKey(signal.key.sku, signal.key.category) : signal.key.id;
    if (!this.ledger || signal.rule === 'harm' || signal.key.sku === undefined) {
      this.raisedKeys.add(key);
      return { raised: true };
    }
    this.ledger.advance(day);
    this.ledger.signal(signal.key.sku, signal.key.category, day);
    const standing = this.ledger.standing(signal.key.category);
    if (standing.standing === 'held') return { raised: false, reason: 'held', standing };
    if (standing.standing === 'once' && this.raisedKeys.has(key)) return { raised: false, reason: 'raised-once', standing };
    this.raisedKeys.add(key);
    return { raised: true, standing };
  }
}
