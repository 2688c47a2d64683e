import type { Signal } from './engine.js';
import { opensCandidate } from './signals.js';
import { emptyTrack, settleTrack, standingOf, trackRecall, trackSignal, type CategoryRecord, type CategoryTrack, type StandingOf, type TrackRecordConfig } from './track-record.js';

/**
 * Learning from outcomes in a replay (backtests and the bench): the ledger of every
 * category's track record (`track-record.ts`), fed the past recalls as they become known,
 * and the gate that decides which signals raise a candidate.
 */

/**
 * The track records of every category, in memory (backtests and the bench): fed, in time
 * order, the signals as they come and the recalls as they become known (on their date: never
 * a recall from the future). Memory: the episodes of the judging period, and one number per
 * product and defect ever recalled.
 */
export class TrackLedger {
  private readonly tracks = new Map<string, CategoryTrack>();
  private readonly recalls: readonly { sku: string; category: string; day: number }[];
  private nextRecall = 0;
  private settledOn = Number.NEGATIVE_INFINITY;

  constructor(
    readonly config: TrackRecordConfig,
    recalls: readonly { sku: string; category: string; day: number }[] = [],
  ) {
    this.recalls = [...recalls].sort((a, b) => a.day - b.day);
  }

  private trackOf(category: string): CategoryTrack {
    let t = this.tracks.get(category);
    if (!t) this.tracks.set(category, (t = emptyTrack()));
    return t;
  }

  /** Moves the ledger to `day`: recalls dated up to it become known, episodes older than the judging period are settled. */
  advance(day: number): void {
    while (this.nextRecall < this.recalls.length && this.recalls[this.nextRecall]!.day <= day) {
      const r = this.recalls[this.nextRecall++]!;
      trackRecall(this.trackOf(r.category), r.sku, r.day, this.config);
    }
    if (day === this.settledOn) return;
    this.settledOn = day;
    for (const t of this.tracks.values()) settleTrack(t, day, this.config);
  }

  /** A signal on a product and defect at `day` (call `advance(day)` first). */
  signal(sku: string, category: string, day: number): void {
    trackSignal(this.trackOf(category), sku, day, this.config);
  }

  /** Every category's episodes together (the rate the thresholds are fractions of). */
  overall(): CategoryRecord {
    let hits = 0;
    let misses = 0;
    // A replay has no QA dismissals: the judged counts are the record (no walk over every episode per signal).
    for (const t of this.tracks.values()) {
      hits += t.hits;
      misses += t.misses;
    }
    return { hits, misses };
  }

  /** The category's record as known now. */
  standing(category: string): StandingOf {
    const t = this.tracks.get(category);
    return standingOf({ hits: t?.hits ?? 0, misses: t?.misses ?? 0 }, category, this.config, this.overall());
  }

  /** Every category's record as known now, worst first (what the backtest prints). */
  all(): (StandingOf & { category: string })[] {
    return [...this.tracks.keys()].map((category) => ({ category, ...this.standing(category) })).sort((a, b) => a.rate - b.rate);
  }
}

const pairKey = (sku: string, category: string) => `${sku}\u0000${category}`;

/** What became of a signal: raised as a candidate, or not and why. */
export interface Admission {
  readonly raised: boolean;
  /** Why not: the category is held back, or (a `once` category) the product and defect raised their candidate already. */
  readonly reason?: 'held' | 'raised-once';
  readonly standing?: StandingOf;
}

/**
 * Which signals raise a candidate when a backtest replays history: every candidate-opening
 * signal feeds the ledger first; a `held` category raises none; in a `once` category a
 * product and defect raise their first candidate and no other (the signals of the report
 * that raised it are one decision, as the stream opens one candidate for all of them). The
 * stream's rule differs in one way: there a `once` category stops a key QA dismissed from
 * reopening, since live a candidate stays open until QA acts on it (`candidates.ts`). Without
 * a ledger (no past recalls to learn from) every signal is raised, as before. Plant-wide keys
 * and harm categories are never judged.
 */
export class CandidateGate {
  private readonly raisedKeys = new Set<string>();
  /** The product-and-defect pairs the current report raised (one decision per report). */
  private raisedBy: { reportId: string; keys: Set<string> } = { reportId: '', keys: new Set() };

  constructor(
    private readonly ledger?: TrackLedger,
    /** Harm categories are never judged (the taxonomy's `harm`). */
    private readonly isHarm: (category: string) => boolean = () => false,
  ) {}

  admit(signal: Signal, day: number): Admission {
    if (!opensCandidate(signal)) return { raised: false };
    const key = signal.key.sku !== undefined ? pairKey(signal.key.sku, signal.key.category) : signal.key.id;
    if (this.raisedBy.reportId !== signal.reportId) this.raisedBy = { reportId: signal.reportId, keys: new Set() };
    const raise = (standing?: StandingOf): Admission => {
      this.raisedKeys.add(key);
      this.raisedBy.keys.add(key);
      return standing ? { raised: true, standing } : { raised: true };
    };
    if (!this.ledger || signal.rule === 'harm' || signal.key.sku === undefined || this.isHarm(signal.key.category)) return raise();
    this.ledger.advance(day);
    this.ledger.signal(signal.key.sku, signal.key.category, day);
    const standing = this.ledger.standing(signal.key.category);
    if (standing.standing === 'held') return { raised: false, reason: 'held', standing };
    if (standing.standing === 'once' && this.raisedKeys.has(key) && !this.raisedBy.keys.has(key)) return { raised: false, reason: 'raised-once', standing };
    return raise(standing);
  }
}
