/**
 * Scores detection alerts against known past recalls, under the protocol of the real data
 * set's README (`test/fixtures/nhtsa-ford-toyota-tesla/README.md`), so that a backtest, the
 * bench and the classic detectors are all judged by the same code:
 *
 * - key = (sku, category); alerts outside the scoring period are dropped; per key an alert
 *   counts only if it is ≥ 90 days after the previous counted alert on that key;
 * - a counted alert at t is a true positive when a recall on its key is dated in
 *   [t − 30, t + 365]; late when there is none but one dated before t − 30; else a false alarm;
 * - a recall is detectable when dated in the period with ≥ 3 complaints on its key in the 365
 *   days before it; detected when a counted alert falls in [r − 365, r + 30]; its lead is
 *   r − the first such alert;
 * - key-weeks = Σ over keys with a complaint in the period of ceil((last − first + 1) / 7);
 * - precision = TP / (TP + false alarms);
 * - QA's workload: counted alerts per calendar week (Monday to Sunday), scored keys and
 *   unscored ones (plant-wide keys) alike: each is a new candidate incident to look at.
 *
 * Streaming: complaints and alerts are fed one at a time in any order; memory is one number
 * per complaint day per key (a million complaints is a few megabytes).
 * Days are days since the epoch, UTC (`dayOf` in keys.ts).
 */

import { upperBound } from './statistics.js';

export interface ScoredRecall {
  readonly sku: string;
  readonly category: string;
  /** Days since the epoch (UTC) of the recall (the date the defect was reported to the regulator). */
  readonly day: number;
}

export interface ScoringPeriod {
  /** First day scored (inclusive). */
  readonly from: number;
  /** Last day scored (inclusive). */
  readonly to: number;
}

export interface ScoreResult {
  /** Recalls in the period with ≥ 3 complaints on their key in the 365 days before. */
  detectable: number;
  detected: number;
  sensitivity: number;
  /** Median of recall day − first counted alert in [r − 365, r + 30], over detected recalls. */
  medianLeadDays: number;
  truePositives: number;
  late: number;
  falseAlarms: number;
  keyWeeks: number;
  falseAlarmsPer1000KeyWeeks: number;
  precision: number;
  /** New candidate incidents per week (counted alerts, scored and unscored keys). */
  workload: { weeks: number; meanPerWeek: number; worstWeek: number; worstWeekStart: number };
  /** Counted alerts on scored keys (truePositives + late + falseAlarms). */
  countedAlerts: number;
}

export const SCORING = {
  /** An alert within this many days of the previous counted alert on its key is a re-alert. */
  realertDays: 90,
  /** A recall dated up to this many days before an alert is still its hit (already in the works). */
  hitBeforeDays: 30,
  /** ... and up to this many days after it. */
  hitAfterDays: 365,
  /** Complaints a recall's key needs in the year before it to be detectable. */
  detectableMinComplaints: 3,
  detectableLookbackDays: 365,
} as const;

const keyOf = (sku: string, category: string) => `${sku}\u0000${category}`;

/** Days since the epoch of the Monday starting the week that holds `day` (1970-01-01 was a Thursday). */
export const mondayOf = (day: number) => day - ((((day + 3) % 7) + 7) % 7);

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export class Scorer {
  /** Per scored key, its complaint days (unsorted until scored). */
  private readonly complaints = new Map<string, number[]>();
  /** Per key, its alert days; `scored` false for plant-wide (non-(sku, category)) keys. */
  private readonly alerts = new Map<string, { scored: boolean; days: number[] }>();

  complaint(sku: string, category: string, day: number): void {
    const key = keyOf(sku, category);
    const days = this.complaints.get(key);
    if (days) days.push(day);
    else this.complaints.set(key, [day]);
  }

  /**
   * An alert (a signal that would open a candidate incident) on (sku, category) at `day`.
   * Plant-wide and other keys that are not a (sku, category) pass `scored: false` (with any
   * stable key in `sku`): they are not scored, but they are QA's workload.
   */
  alert(sku: string, category: string, day: number, opts: { scored: boolean } = { scored: true }): void {
    const key = (opts.scored ? '' : 'unscored\u0000') + keyOf(sku, category);
    const entry = this.alerts.get(key);
    if (entry) entry.days.push(day);
    else this.alerts.set(key, { scored: opts.scored, days: [day] });
  }

  result(recalls: readonly ScoredRecall[], period: ScoringPeriod): ScoreResult {
    const recallDays = new Map<string, number[]>();
    for (const r of recalls) {
      const key = keyOf(r.sku, r.category);
      (recallDays.get(key) ?? recallDays.set(key, []).get(key)!).push(r.day);
    }
    for (const days of recallDays.values()) days.sort((a, b) => a - b);
    for (const days of this.complaints.values()) days.sort((a, b) => a - b);

    // Counted alerts: in the period, ≥ 90 days after the previous counted alert on the key.
    const counted = new Map<string, number[]>();
    const perWeek = new Map<number, number>();
    for (const [key, entry] of this.alerts) {
      const days = entry.days.filter((d) => d >= period.from && d <= period.to).sort((a, b) => a - b);
      const kept: number[] = [];
      for (const d of days) if (kept.length === 0 || d - kept[kept.length - 1]! >= SCORING.realertDays) kept.push(d);
      for (const d of kept) perWeek.set(mondayOf(d), (perWeek.get(mondayOf(d)) ?? 0) + 1);
      if (entry.scored && kept.length > 0) counted.set(key, kept);
    }

    let truePositives = 0;
    let late = 0;
    let falseAlarms = 0;
    for (const [key, days] of counted) {
      const rs = recallDays.get(key) ?? [];
      for (const t of days) {
        if (rs.some((r) => r >= t - SCORING.hitBeforeDays && r <= t + SCORING.hitAfterDays)) truePositives++;
        else if (rs.some((r) => r < t - SCORING.hitBeforeDays)) late++;
        else falseAlarms++;
      }
    }

    let detectable = 0;
    const leads: number[] = [];
    for (const r of recalls) {
      if (r.day < period.from || r.day > period.to) continue;
      const key = keyOf(r.sku, r.category);
      const cs = this.complaints.get(key) ?? [];
      const before = countIn(cs, r.day - SCORING.detectableLookbackDays, r.day - 1);
      if (before < SCORING.detectableMinComplaints) continue;
      detectable++;
      const first = (counted.get(key) ?? []).find((t) => t >= r.day - SCORING.hitAfterDays && t <= r.day + SCORING.hitBeforeDays);
      if (first !== undefined) leads.push(r.day - first);
    }

    let keyWeeks = 0;
    for (const days of this.complaints.values()) {
      const inside = days.filter((d) => d >= period.from && d <= period.to);
      if (inside.length === 0) continue;
      keyWeeks += Math.ceil((inside[inside.length - 1]! - inside[0]! + 1) / 7);
    }

    const firstWeek = mondayOf(period.from);
    const weeks = Math.floor((mondayOf(period.to) - firstWeek) / 7) + 1;
    let worstWeek = 0;
    let worstWeekStart = firstWeek;
    let totalAlerts = 0;
    for (let w = firstWeek; w <= period.to; w += 7) {
      const n = perWeek.get(w) ?? 0;
      totalAlerts += n;
      if (n > worstWeek) [worstWeek, worstWeekStart] = [n, w];
    }

    return {
      detectable,
      detected: leads.length,
      sensitivity: detectable ? leads.length / detectable : Number.NaN,
      medianLeadDays: median(leads),
      truePositives,
      late,
      falseAlarms,
      keyWeeks,
      falseAlarmsPer1000KeyWeeks: keyWeeks ? (falseAlarms / keyWeeks) * 1000 : Number.NaN,
      precision: truePositives + falseAlarms ? truePositives / (truePositives + falseAlarms) : Number.NaN,
      workload: { weeks, meanPerWeek: weeks ? totalAlerts / weeks : 0, worstWeek, worstWeekStart },
      countedAlerts: truePositives + late + falseAlarms,
    };
  }
}

/** Values of an ascending array within [from, to]. */
function countIn(sorted: readonly number[], from: number, to: number): number {
  return upperBound(sorted, to) - upperBound(sorted, from - 1);
}

