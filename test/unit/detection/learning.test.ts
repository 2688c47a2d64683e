import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG, detectionConfigFrom } from '../../../shared/detection/config.js';
import type { Signal } from '../../../shared/detection/engine.js';
import { productKey, lotKey, plantKey } from '../../../shared/detection/keys.js';
import { CandidateGate, TrackLedger } from '../../../shared/detection/learning.js';
import { DEFAULT_TRACK_RECORD, emptyTrack, recordOf, settleTrack, standingOf, trackDismissal, trackRecall, trackSignal } from '../../../shared/detection/track-record.js';

const config = DEFAULT_TRACK_RECORD; // episodes 90 d, judged after 365 d, hit up to 30 d before
const signalOn = (ledger: TrackLedger, sku: string, category: string, day: number) => {
  ledger.advance(day);
  ledger.signal(sku, category, day);
};
const record = (ledger: TrackLedger, category: string, day: number) => {
  ledger.advance(day);
  const { hits, misses, standing } = ledger.standing(category);
  return { hits, misses, standing };
};

describe("a category's track record", () => {
  it('judges each signal episode by the recalls known at the time, never a later one', () => {
    // Recalls: A-1 on day 200, A-3 on day 1,000 (before its episode at 1,020), A-4 on day 50 (long before its episode).
    const ledger = new TrackLedger(config, [
      { sku: 'A-1', category: 'brakes', day: 200 },
      { sku: 'A-3', category: 'brakes', day: 1000 },
      { sku: 'A-4', category: 'brakes', day: 50 },
    ]);
    signalOn(ledger, 'A-1', 'brakes', 10); // recalled 190 days later: a hit, known on day 200
    signalOn(ledger, 'A-1', 'brakes', 60); // within 90 days of the episode at 10: the same episode
    signalOn(ledger, 'A-2', 'brakes', 20); // never recalled: a miss once day 20 + 365 has passed
    expect(record(ledger, 'brakes', 199)).toEqual({ hits: 0, misses: 0, standing: 'normal' });
    expect(record(ledger, 'brakes', 200)).toEqual({ hits: 1, misses: 0, standing: 'normal' });
    expect(record(ledger, 'brakes', 385)).toEqual({ hits: 1, misses: 0, standing: 'normal' });
    expect(record(ledger, 'brakes', 386)).toEqual({ hits: 1, misses: 1, standing: 'normal' });
    // A recall up to 30 days before the episode is its hit at once.
    signalOn(ledger, 'A-3', 'brakes', 1020);
    expect(record(ledger, 'brakes', 1020)).toEqual({ hits: 2, misses: 1, standing: 'normal' });
    // An episode on a product recalled long before is late: after a year it is no miss.
    signalOn(ledger, 'A-4', 'brakes', 1100);
    // So is A-1's new episode (its recall was on day 200); A-5's, with nothing after it, is a miss.
    signalOn(ledger, 'A-1', 'brakes', 1200);
    signalOn(ledger, 'A-5', 'brakes', 1200);
    expect(record(ledger, 'brakes', 1466)).toEqual({ hits: 2, misses: 1, standing: 'normal' });
    expect(record(ledger, 'brakes', 1566)).toEqual({ hits: 2, misses: 2, standing: 'normal' });
    // A recall is remembered for three years: after that a product's signals are judged again.
    signalOn(ledger, 'A-1', 'brakes', 200 + 3 * 365 + 400);
    expect(record(ledger, 'brakes', 200 + 3 * 365 + 766)).toEqual({ hits: 2, misses: 3, standing: 'normal' });
    // Categories are kept apart.
    expect(record(ledger, 'other', 1566)).toEqual({ hits: 0, misses: 0, standing: 'normal' });
  });

  it('judges a category against every category together: once with fewer hits than the overall rate predicts after 5 judged episodes, held below 0.4 × it after 15', () => {
    // Overall: 30 hits of 120 judged, rate (30 + ½) / (120 + 1) = 0.252.
    const overall = { hits: 30, misses: 90 };
    const at = (hits: number, misses: number) => standingOf({ hits, misses }, 'x', config, overall).standing;
    expect(at(0, 4)).toBe('normal'); // 4 judged: too few
    expect(at(0, 5)).toBe('once'); // 0 hits where 5 × 0.252 = 1.26 are predicted
    expect(at(1, 5)).toBe('once'); // 1 < 6 × 0.252 = 1.51
    expect(at(2, 4)).toBe('normal'); // 2 ≥ 1.51
    expect(at(2, 6)).toBe('once'); // 2 < 8 × 0.252 = 2.02
    expect(at(0, 14)).toBe('once'); // 14 judged: not held yet
    // Held: rate = (hits + ½) / (judged + 1), the half hit the benefit of the doubt.
    expect(at(0, 15)).toBe('held'); // 0.5 / 16 = 0.031 < 0.4 × 0.252 = 0.101
    expect(at(1, 14)).toBe('held'); // 1.5 / 16 = 0.094
    expect(at(2, 14)).toBe('once'); // 2.5 / 17 = 0.147: not held; 2 < 16 × 0.252 = 4.03
    const held = standingOf({ hits: 0, misses: 15 }, 'UNKNOWN', config, overall);
    expect(held).toMatchObject({ rate: 0.5 / 16, overallRate: 30.5 / 121 });
    expect(held.explanation).toBe(
      '0 of the 15 judged signal episodes of UNKNOWN were followed by a recall within 365 days (rate 0.031; every category: 30 of 120, rate 0.252): signals of UNKNOWN are held back (recorded, not raised as candidates) while its rate stays below 0.4 × the overall rate',
    );
    // Where recalls are rare everywhere, a category as poor as the rest is not held back
    // (0.5 / 16 = 0.031 against 0.4 × 5.5 / 406 = 0.005), though with no hit where 0.2 are
    // predicted it raises each key once; and before every category together has 5 hits, none is judged.
    expect(standingOf({ hits: 0, misses: 15 }, 'x', config, { hits: 5, misses: 400 }).standing).toBe('once');
    // While recalls are few, a category with no hit is below the rest long before its half hit says so: 0 of 6 against 6 of 100.
    const early = standingOf({ hits: 0, misses: 6 }, 'LIGHTS', config, { hits: 6, misses: 94 });
    expect(early).toMatchObject({ standing: 'once', rate: 0.5 / 7, overallRate: 6.5 / 101 });
    expect(early.rate).toBeGreaterThan(early.overallRate);
    expect(early.explanation).toContain('0 hit(s) where the overall rate predicts 0.386, so a product and defect raised once is not raised again');
    expect(standingOf({ hits: 0, misses: 15 }, 'x', config, { hits: 1, misses: 15 }).standing).toBe('normal');
    expect(standingOf({ hits: 0, misses: 15 }, 'x', config, { hits: 5, misses: 15 }).standing).toBe('held');
  });

  it("counts an episode QA dismissed as a miss at once, until a recall judges it, and once when its year is up", () => {
    const t = emptyTrack();
    trackSignal(t, 'A', 10, config);
    trackSignal(t, 'B', 10, config);
    expect(trackDismissal(t, 'A', 20)).toBe(true);
    expect(trackDismissal(t, 'A', 21)).toBe(false); // already dismissed
    expect(trackDismissal(t, 'C', 21)).toBe(false); // no episode to judge
    expect(trackDismissal(t, 'B', 5)).toBe(false); // its episode began after that day
    expect(recordOf(t)).toEqual({ hits: 0, misses: 1, dismissed: 1 });
    expect(standingOf(recordOf(t), 'seal', config, recordOf(t)).explanation).toMatch(/^0 of the 1 judged signal episodes \(1 of them dismissed by QA, misses unless a recall follows\) of seal/);
    settleTrack(t, 10 + 366, config);
    expect(recordOf(t)).toEqual({ hits: 0, misses: 2 });
    // A recall within the judging period overrides the dismissal.
    const u = emptyTrack();
    trackSignal(u, 'A', 10, config);
    trackDismissal(u, 'A', 12);
    trackRecall(u, 'A', 200, config);
    expect(recordOf(u)).toEqual({ hits: 1, misses: 0 });
  });

  it('is configured with the detection rules, and can be switched off', () => {
    expect(DEFAULT_DETECTION_CONFIG.trackRecord).toEqual(DEFAULT_TRACK_RECORD);
    expect(detectionConfigFrom({ trackRecord: { holdOutcomes: 30 } }).trackRecord).toEqual({ ...DEFAULT_TRACK_RECORD, holdOutcomes: 30 });
    expect(detectionConfigFrom({ trackRecord: null }).trackRecord).toBeNull();
    expect(() => detectionConfigFrom({ trackRecord: { onceBelow: -1 } })).toThrow();
    expect(() => detectionConfigFrom({ trackRecord: { holdOutcomes: 0 } })).toThrow();
    // QA can exempt a category: its signals are raised whatever its record.
    const exempt = detectionConfigFrom({ trackRecord: { neverHold: ['UNKNOWN'] } }).trackRecord!;
    const overall = { hits: 30, misses: 90 };
    expect(standingOf({ hits: 0, misses: 40 }, 'UNKNOWN', exempt, overall)).toMatchObject({ standing: 'normal', explanation: expect.stringContaining('every signal of UNKNOWN is raised (trackRecord.neverHold)') });
    expect(standingOf({ hits: 0, misses: 40 }, 'OTHER', exempt, overall).standing).toBe('held');
  });
});

describe('the candidate gate of a replay', () => {
  let report = 0;
  const sig = (key: Signal['key'], rule: Signal['rule'] = 'slow-burn', reportId = `r${++report}`): Signal => ({ rule, key, at: '2026-01-01T00:00:00.000Z', reportId, evidence: {} });

  it('raises every candidate-opening signal when there is nothing to learn from', () => {
    const gate = new CandidateGate();
    expect(gate.admit(sig(productKey('P-1', 'other')), 0)).toEqual({ raised: true });
    expect(gate.admit(sig(productKey('P-1', 'other')), 1)).toEqual({ raised: true });
    expect(gate.admit(sig(lotKey('P-1', 'L-1', 'other'), 'harm-report'), 1)).toEqual({ raised: false });
  });

  it('holds back a category with a poor record, allows one candidate per product in a doubtful one, never holds harm', () => {
    // Ten products signal on "lids" in the first days and all are recalled on day 100: a good record.
    const ledger = new TrackLedger(config, Array.from({ length: 10 }, (_, i) => ({ sku: `L-${i}`, category: 'lids', day: 100 })));
    const gate = new CandidateGate(ledger);
    for (let i = 0; i < 10; i++) gate.admit(sig(productKey(`L-${i}`, 'lids')), i);
    // 15 products signal on "other" in the first year, none is ever recalled.
    for (let i = 0; i < 15; i++) expect(gate.admit(sig(productKey(`P-${i}`, 'other')), i).raised).toBe(true);
    // Six on "seals": judged by day 400 as 6 misses, a doubtful category (once).
    for (let i = 0; i < 6; i++) gate.admit(sig(productKey(`S-${i}`, 'seals')), i);
    const heldBack = gate.admit(sig(productKey('P-99', 'other')), 400);
    // Against every category (10 hits of 31 judged: rate 0.33), "other" (0.03) is held, "seals" (0.07) once.
    expect(heldBack).toMatchObject({ raised: false, reason: 'held', standing: { standing: 'held', hits: 0, misses: 15 } });
    expect(heldBack.standing!.overallRate).toBe(10.5 / 32);
    expect(gate.admit(sig(productKey('L-0', 'lids')), 400)).toMatchObject({ raised: true, standing: { standing: 'normal', hits: 10 } });
    // S-0 raised its one candidate already; S-7 has not.
    expect(gate.admit(sig(productKey('S-0', 'seals')), 400)).toMatchObject({ raised: false, reason: 'raised-once' });
    expect(gate.admit(sig(productKey('S-7', 'seals')), 400)).toMatchObject({ raised: true, standing: { standing: 'once' } });
    expect(gate.admit(sig(productKey('S-7', 'seals')), 500)).toMatchObject({ raised: false, reason: 'raised-once' });
    // The signals of one report are one decision: S-8's lot and product keys open together.
    expect(gate.admit(sig(lotKey('S-8', 'L-1', 'seals'), 'lot-burst', 'r-s8'), 450)).toMatchObject({ raised: true });
    expect(gate.admit(sig(productKey('S-8', 'seals'), 'slow-burn', 'r-s8'), 450)).toMatchObject({ raised: true });
    expect(gate.admit(sig(productKey('S-8', 'seals')), 451)).toMatchObject({ raised: false, reason: 'raised-once' });
    // A lot counts as its product and defect: S-7's lot raised nothing new either.
    expect(gate.admit(sig(lotKey('S-7', 'L-9', 'seals'), 'lot-burst'), 501)).toMatchObject({ raised: false, reason: 'raised-once' });
    // A harm category and plant-wide keys are not judged by the record.
    expect(gate.admit(sig(lotKey('P-99', 'L-1', 'other'), 'harm'), 402)).toEqual({ raised: true });
    expect(gate.admit(sig(plantKey('PLANT-1', 'other'), 'lot-burst'), 403)).toEqual({ raised: true });
  });
});
