import { describe, expect, it } from 'vitest';
import { dayOf } from '../../../shared/detection/keys.js';
import { median, mondayOf, Scorer } from '../../../shared/detection/scoring.js';

/**
 * A small history scored by hand under the protocol of the real data set's README.
 * Days are plain numbers (days since the epoch); the scoring period is days 1000..1999.
 *
 * Keys, their complaints and recalls:
 *   K1 = (A, X): complaints 900, 1010, 1050, 1100, 1105, 1200; recalls R1 at 1150, R5 at 2100
 *   K2 = (B, X): complaints 1000, 1300, 1700; no recall
 *   K3 = (C, Y): complaints 1400, 1500; recall R3 at 1450
 *   K4 = (D, Z): complaints 500, 600, 700 (all before the period); recall R4 at 800
 *   K5 = (E, X): complaints 1500, 1510, 1520; recall R6 at 1600
 *   K6 = (F, Y): complaints 1200, 1210, 1220, 1230; recall R7 at 1240
 *
 * Alerts, and what each is:
 *   K1  950: outside the period: dropped
 *   K1 1020: counted; R1 (1150) is in [990, 1385]: true positive
 *   K1 1080: 60 days after the counted 1020: a re-alert, not counted
 *   K1 1115: 95 days after 1020: counted; R1 in [1085, 1480]: true positive
 *   K1 1900: counted; R5 (2100, after the period, still a real recall) in [1870, 2265]: true positive
 *   K2 1010: counted; no recall: false alarm
 *   K2 1050: 40 days after 1010: re-alert
 *   K2 1101: 91 days after 1010: counted: false alarm
 *   K2 1700: counted: false alarm
 *   K3 1470: counted; R3 (1450) in [1440, 1835]: true positive (R3 itself is not detectable)
 *   K4 1100: counted; no recall in [1070, 1465] but R4 (800) before 1070: late
 *   K5 1640: counted; R6 (1600) is before 1610: late
 *   K6 1260: counted; R7 (1240) in [1230, 1625]: true positive
 *   plant P|X (unscored) 1020 counted, 1030 re-alert, 1200 counted: workload only
 * → TP 5, FA 3, late 2; precision 5 / 8.
 *
 * Detectable recalls (dated in the period, ≥ 3 complaints on the key in the 365 days before):
 *   R1 1150: K1 complaints in [785, 1149]: 900, 1010, 1050, 1100, 1105 = 5: detectable;
 *            counted alerts in [785, 1180]: 1020 (first), 1115 → detected, lead 130
 *   R3 1450: K3 complaints in [1085, 1449]: 1400 = 1: not detectable
 *   R4  800, R5 2100: outside the period: not detectable
 *   R6 1600: K5 complaints in [1235, 1599]: 3: detectable; counted alerts in [1235, 1630]: none
 *            (1640 is too late) → missed
 *   R7 1240: K6 complaints in [875, 1239]: 4: detectable; alert 1260 in [875, 1270] → detected, lead −20
 * → detectable 3, detected 2, sensitivity 2/3, median lead (130 + (−20)) / 2 = 55.
 *
 * Key-weeks (keys with a complaint in the period; first..last complaint inside it):
 *   K1 1010..1200: ceil(191 / 7) = 28; K2 1000..1700: ceil(701 / 7) = 101; K3 1400..1500:
 *   ceil(101 / 7) = 15; K4: none in the period; K5 1500..1520: ceil(21 / 7) = 3; K6
 *   1200..1230: ceil(31 / 7) = 5 → 152 key-weeks; 3 false alarms → 3 / 152 × 1000 ≈ 19.74.
 *
 * Workload: 10 counted scored alerts + 2 counted plant alerts = 12 new candidates. Weeks run
 * Monday..Sunday; day 998 is a Monday (1970-01-01, day 0, was a Thursday), so the period
 * spans the weeks starting 998 .. 1999: 144 weeks, 12 / 144 per week. Busiest: the week
 * starting 1019 holds K1 1020 and P|X 1020 (2); the week starting 1096 holds K2 1101 and
 * K4 1100 (also 2), but the first week with the most is reported: 1019.
 */
describe('Scorer (the real data set protocol)', () => {
  function history(): Scorer {
    const s = new Scorer();
    const complaints: [string, string, number[]][] = [
      ['A', 'X', [900, 1010, 1050, 1100, 1105, 1200]],
      ['B', 'X', [1000, 1300, 1700]],
      ['C', 'Y', [1400, 1500]],
      ['D', 'Z', [500, 600, 700]],
      ['E', 'X', [1500, 1510, 1520]],
      ['F', 'Y', [1200, 1210, 1220, 1230]],
    ];
    // Streamed in any order: complaints and alerts interleaved, not sorted.
    for (const [sku, category, days] of complaints) for (const d of [...days].reverse()) s.complaint(sku, category, d);
    const alerts: [string, string, number][] = [
      ['A', 'X', 1900], ['A', 'X', 950], ['A', 'X', 1020], ['A', 'X', 1080], ['A', 'X', 1115],
      ['B', 'X', 1010], ['B', 'X', 1050], ['B', 'X', 1101], ['B', 'X', 1700],
      ['C', 'Y', 1470], ['D', 'Z', 1100], ['E', 'X', 1640], ['F', 'Y', 1260],
    ];
    for (const [sku, category, day] of alerts) s.alert(sku, category, day);
    for (const day of [1020, 1030, 1200]) s.alert('plant|P|X', 'X', day, { scored: false });
    return s;
  }
  const recalls = [
    { sku: 'A', category: 'X', day: 1150 },
    { sku: 'A', category: 'X', day: 2100 },
    { sku: 'C', category: 'Y', day: 1450 },
    { sku: 'D', category: 'Z', day: 800 },
    { sku: 'E', category: 'X', day: 1600 },
    { sku: 'F', category: 'Y', day: 1240 },
  ];

  it('scores hits, late alerts, false alarms, re-alerts, detectable recalls, lead, key-weeks and workload as worked out above', () => {
    const r = history().result(recalls, { from: 1000, to: 1999 });
    expect(r).toMatchObject({
      truePositives: 5,
      falseAlarms: 3,
      late: 2,
      countedAlerts: 10,
      detectable: 3,
      detected: 2,
      medianLeadDays: 55,
      keyWeeks: 152,
      workload: { weeks: 144, worstWeek: 2, worstWeekStart: 1019 },
    });
    expect(r.sensitivity).toBeCloseTo(2 / 3, 12);
    expect(r.precision).toBeCloseTo(5 / 8, 12);
    expect(r.falseAlarmsPer1000KeyWeeks).toBeCloseTo((3 / 152) * 1000, 10);
    expect(r.workload.meanPerWeek).toBeCloseTo(12 / 144, 12);
  });

  it('restarts the 90-day rule inside a narrower period: the first alert in it counts', () => {
    // Period 1050..1999: K1 1080 is now the first counted alert on K1 (1020 is outside), and
    // 1115 is a re-alert (35 days later); K2 1050 counts and 1101 is a re-alert (51 days).
    const r = history().result(recalls, { from: 1050, to: 1999 });
    // K1 1080 TP, 1900 TP; K2 1050 FA, 1700 FA; K3 1470 TP; K4 1100 late; K5 1640 late; K6 1260 TP.
    expect(r).toMatchObject({ truePositives: 4, falseAlarms: 2, late: 2 });
    // R1 is detected by 1080: lead 70; R7 lead −20; R6 missed → median 25.
    expect(r).toMatchObject({ detectable: 3, detected: 2, medianLeadDays: 25 });
  });

  it('has nothing to score without alerts', () => {
    const s = new Scorer();
    s.complaint('A', 'X', 1000);
    const r = s.result([], { from: 1000, to: 1006 });
    expect(r).toMatchObject({ detectable: 0, detected: 0, truePositives: 0, falseAlarms: 0, keyWeeks: 1, falseAlarmsPer1000KeyWeeks: 0 });
    expect(r.sensitivity).toBeNaN();
    expect(r.medianLeadDays).toBeNaN();
  });

  it('weeks start on Monday and the median averages the middle pair', () => {
    expect(mondayOf(dayOf('2018-01-01'))).toBe(dayOf('2018-01-01')); // a Monday
    expect(mondayOf(dayOf('2018-01-07'))).toBe(dayOf('2018-01-01')); // its Sunday
    expect(mondayOf(dayOf('2018-01-08'))).toBe(dayOf('2018-01-08'));
    expect(mondayOf(0)).toBe(-3); // 1970-01-01 was a Thursday
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
