import * as z from 'zod';

/**
 * A category's track record: how often its signals were followed by a recall (a declared
 * incident), learnt as the history unfolds, so that a defect class whose signals have never
 * become anything stops filling QA's candidate list, and one that keeps turning into recalls
 * keeps every signal. On real data a few defect classes (a catch-all "other", components that
 * draw wear-and-tear complaints) raised most of the false alarms and not one recall.
 *
 * - An **episode** is a product and defect signalling: its first signal starts it, the signals
 *   of the next `episodeDays` belong to it (the scoring protocol's 90-day re-alert window).
 * - It is a **hit** when a recall or declared incident on the same product and defect is
 *   dated between `hitBeforeDays` before it started and `judgedAfterDays` after; a **miss**
 *   when `judgedAfterDays` pass without one; **late** (neither) when the product and defect
 *   had been recalled before. Until judged it counts for nothing.
 * - Every episode is judged, raised to QA or not: a category held back keeps learning from
 *   the recalls that come anyway, so it is not held for ever on an early run of bad luck.
 * - The rate is (hits + ½) / (judged + 1): holding a category back gives it the benefit of
 *   the doubt, half a hit it has not had.
 *
 * Standing, against the rate over every category (the deployment's own: a category is judged
 * against its neighbours, not against a fixed share that would hold everything back where
 * recalls are rare):
 * - `held` (no candidates; signals are still recorded and shown) after `holdOutcomes` judged
 *   episodes at a rate below `holdBelow` × the overall rate: with the half hit, a category as
 *   poor as the rest where recalls are rare everywhere (0 of 15 when 1 in 80 is the rule) is
 *   not held for it;
 * - `once` after `minOutcomes` judged episodes with fewer hits than `onceBelow` × what the
 *   overall rate predicts of them (its own hits / judged below that fraction of the overall
 *   rate, without the half hit): a product and defect raised once is not raised again (in a
 *   replay, its first candidate is its only one; live, a key QA dismissed does not reopen
 *   however its evidence grows). The half hit is not given here: `once` takes nothing from a
 *   key never raised, and with it a category with no hit in 5, 6 or 7 episodes stood above
 *   an overall rate under 1 in 13, as every category's does while recalls are still few (on
 *   the real data, in the first two years of the scoring period: 12 false alarms fewer, for
 *   one recall detected fewer over the whole period);
 * - else `normal`. Harm categories are never
 * judged: every report of harm is looked at. Plant-wide keys are not judged either (a track
 * record is per product and defect). Nothing is judged before every category together has
 * `minOverallHits` hits: a deployment that has seen no recall has nothing to compare against.
 */
export const TrackRecordConfig = z.strictObject({
  episodeDays: z.number().int().min(1).max(365),
  judgedAfterDays: z.number().int().min(30).max(730),
  hitBeforeDays: z.number().int().min(0).max(365),
  minOutcomes: z.number().int().min(1),
  /** A fraction of the overall rate (every category's episodes together). */
  onceBelow: z.number().min(0).max(10),
  holdOutcomes: z.number().int().min(1),
  /** A fraction of the overall rate. */
  holdBelow: z.number().min(0).max(10),
  /** No category is judged before every category together has this many hits: with fewer there is nothing to compare against. */
  minOverallHits: z.number().int().min(0),
  /** Categories whose signals are always raised, whatever their record (QA's call: `runbooks/held-category.md`). */
  neverHold: z.array(z.string().min(1)),
});
export type TrackRecordConfig = z.infer<typeof TrackRecordConfig>;

export const DEFAULT_TRACK_RECORD: TrackRecordConfig = {
  episodeDays: 90,
  judgedAfterDays: 365,
  hitBeforeDays: 30,
  minOutcomes: 5,
  onceBelow: 1,
  holdOutcomes: 15,
  holdBelow: 0.4,
  minOverallHits: 5,
  neverHold: [],
};

export type Standing = 'normal' | 'once' | 'held';

export interface CategoryRecord {
  readonly hits: number;
  /** Judged misses, QA's dismissals not yet judged included (see `dismissed`). */
  readonly misses: number;
  /** Of the misses, episodes QA dismissed that a year has not judged yet: misses unless a recall follows. */
  readonly dismissed?: number;
}

export interface StandingOf extends CategoryRecord {
  readonly standing: Standing;
  readonly rate: number;
  /** The rate over every category, which the thresholds are fractions of. */
  readonly overallRate: number;
  /** In words QA can judge. */
  readonly explanation: string;
}

/** (hits + ½) / (judged + 1). */
export const rateOf = (r: CategoryRecord) => (r.hits + 0.5) / (r.hits + r.misses + 1);

const fmt = (x: number) => String(Number(x.toFixed(3)));

/** The standing a category's record earns under the configuration, against the record of every category together (`overall`, this one included). */
export function standingOf(record: CategoryRecord, category: string, config: TrackRecordConfig, overall: CategoryRecord): StandingOf {
  const judged = record.hits + record.misses;
  const rate = rateOf(record);
  const overallRate = rateOf(overall);
  // The hits the overall rate predicts of this many judged episodes.
  const expectedHits = judged * overallRate;
  const exempt = config.neverHold.includes(category);
  const standing: Standing =
    exempt || overall.hits < config.minOverallHits
      ? 'normal'
      : judged >= config.holdOutcomes && rate < config.holdBelow * overallRate
        ? 'held'
        : judged >= config.minOutcomes && record.hits < config.onceBelow * expectedHits
          ? 'once'
          : 'normal';
  const dismissedNote = record.dismissed ? ` (${record.dismissed} of them dismissed by QA, misses unless a recall follows)` : '';
  const seen =
    `${record.hits} of the ${judged} judged signal episodes${dismissedNote} of ${category} were followed by a recall within ${config.judgedAfterDays} days ` +
    `(rate ${fmt(rate)}; every category: ${overall.hits} of ${overall.hits + overall.misses}, rate ${fmt(overallRate)})`;
  const explanation =
    standing === 'held'
      ? `${seen}: signals of ${category} are held back (recorded, not raised as candidates) while its rate stays below ${config.holdBelow} × the overall rate`
      : standing === 'once'
        ? `${seen}: ${record.hits} hit(s) where the overall rate predicts ${fmt(expectedHits)}, so a product and defect raised once is not raised again (live: a key QA dismissed does not reopen, however its evidence grows) while its hits stay below ${config.onceBelow} × what the overall rate predicts`
        : exempt
          ? `${seen}: every signal of ${category} is raised (trackRecord.neverHold)`
          : seen;
  return { hits: record.hits, misses: record.misses, ...(record.dismissed ? { dismissed: record.dismissed } : {}), standing, rate, overallRate, explanation };
}

/**
 * One category's track record as data (in memory for a replay, one table item in production):
 * the judged counts; each product's episodes of the judging period (start day; `hit` once a
 * recall judged it; `late` when the product had been recalled before); the day each product
 * was last recalled. The functions below change it in place: the same code keeps the
 * backtest's record and the live one.
 */
export interface CategoryTrack {
  hits: number;
  misses: number;
  /** Per product, its episodes: the day each began, the day it last signalled (when later), and whether it was a hit or late. */
  episodes: Record<string, { start: number; last?: number; hit?: true; late?: true; dismissed?: true }[]>;
  recalled: Record<string, number>;
}

export const emptyTrack = (): CategoryTrack => ({ hits: 0, misses: 0, episodes: {}, recalled: {} });

/**
 * Bounds of one record (it is one table item in production): products with episodes in the
 * judging period (a signal on a product beyond them is not judged until room frees up), and
 * how long a product's recall is remembered to call its later signals late.
 */
export const MAX_TRACKED_PRODUCTS = 3_000;
export const RECALLS_REMEMBERED_DAYS = 3 * 365;

/** Episodes older than the judging period are settled: a miss unless a recall judged them or they were late. Returns whether anything changed. */
export function settleTrack(track: CategoryTrack, day: number, config: TrackRecordConfig): boolean {
  let changed = false;
  const oldest = day - config.judgedAfterDays;
  for (const sku of Object.keys(track.episodes)) {
    const episodes = track.episodes[sku]!;
    if (episodes[0]!.start >= oldest) continue;
    changed = true;
    const open = episodes.filter((e) => {
      if (e.start >= oldest) return true;
      if (!e.hit && !e.late) track.misses++;
      return false;
    });
    if (open.length > 0) track.episodes[sku] = open;
    else delete track.episodes[sku];
  }
  for (const [sku, recalled] of Object.entries(track.recalled)) {
    if (recalled >= day - RECALLS_REMEMBERED_DAYS) continue;
    delete track.recalled[sku];
    changed = true;
  }
  return changed;
}

/** A signal on the product at `day`: starts an episode unless one started within `episodeDays`. Returns whether one started. */
export function trackSignal(track: CategoryTrack, sku: string, day: number, config: TrackRecordConfig): boolean {
  if (track.episodes[sku] === undefined && Object.keys(track.episodes).length >= MAX_TRACKED_PRODUCTS) return false;
  const episodes = (track.episodes[sku] ??= []);
  const last = episodes[episodes.length - 1];
  if (last && day - last.start < config.episodeDays) {
    // The same episode: only the day it last signalled moves (at most once a day: one write a day while a product keeps signalling).
    if (day <= (last.last ?? last.start)) return false;
    last.last = day;
    return true;
  }
  const recalled = track.recalled[sku];
  if (recalled !== undefined && recalled >= day - config.hitBeforeDays) {
    // A recall made shortly before is this episode's hit at once.
    track.hits++;
    episodes.push({ start: day, hit: true });
  } else episodes.push(recalled === undefined ? { start: day } : { start: day, late: true });
  return true;
}

/**
 * QA dismissed a candidate on the product at `day`: its episode then (the latest begun by that
 * day, not judged yet) counts as a miss at once (`recordOf`), without waiting the year; a
 * recall in its judging period still makes it a hit. Returns whether anything changed.
 */
export function trackDismissal(track: CategoryTrack, sku: string, day: number): boolean {
  const episodes = track.episodes[sku] ?? [];
  for (let i = episodes.length - 1; i >= 0; i--) {
    const e = episodes[i]!;
    if (e.start > day) continue;
    if (e.hit || e.late || e.dismissed) return false;
    e.dismissed = true;
    return true;
  }
  return false;
}

/** The record a track stands on: its judged hits and misses, and QA's dismissals not judged yet as misses. */
export function recordOf(track: CategoryTrack): CategoryRecord {
  let dismissed = 0;
  for (const episodes of Object.values(track.episodes)) for (const e of episodes) if (e.dismissed && !e.hit && !e.late) dismissed++;
  return dismissed ? { hits: track.hits, misses: track.misses + dismissed, dismissed } : { hits: track.hits, misses: track.misses };
}

/** A recall (or declared incident) on the product at `day`: its episodes from the judging period before it up to `hitBeforeDays` after, not judged yet, are hits. */
export function trackRecall(track: CategoryTrack, sku: string, day: number, config: TrackRecordConfig): void {
  track.recalled[sku] = Math.max(day, track.recalled[sku] ?? Number.NEGATIVE_INFINITY);
  for (const e of track.episodes[sku] ?? []) {
    if (!e.hit && e.start >= day - config.judgedAfterDays && e.start <= day + config.hitBeforeDays) {
      e.hit = true;
      track.hits++;
    }
  }
}
