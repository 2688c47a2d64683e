import type { Signal } from '../detection/engine.js';
import type { ClusterKey } from '../detection/keys.js';

/**
 * A recall incident. Detection opens it as a `candidate` for quality assurance; later
 * issues walk it through the five gates. One open candidate per cluster key.
 */
export interface Incident {
  readonly id: string;
  readonly status: 'candidate';
  readonly key: ClusterKey;
  readonly openedAt: string;
  readonly lastReportAt: string;
  readonly reportCount: number;
  /** The newest linked report ids, newest first (read from the link items). */
  readonly recentReportIds: string[];
  /** The signal that opened it. */
  readonly openedBy: Signal;
  /** The latest signal of each rule on this key, by rule: the evidence QA judges. */
  readonly evidence: Partial<Record<Signal['rule'], Signal>>;
}

/** A cluster key's running picture, for `GET /clusters`. */
export interface ClusterSummary {
  readonly key: ClusterKey;
  readonly lastReportAt: string;
  /** Totals over the last N days as of the latest report: { "7": 3, "30": 5, ... }. */
  readonly counts: Record<string, number>;
  /** The latest signal on this key, if any rule fired. */
  readonly latestSignal?: Signal;
}
