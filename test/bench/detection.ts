import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { earsC2, fixedWeekly, perInjury, poissonCusum, prrNewlyFlagged, type ClassicAlert, type ClassicComplaint } from '../../shared/detection/classic.js';
import { DEFAULT_DETECTION_CONFIG, detectionConfigFrom } from '../../shared/detection/config.js';
import { CANDIDATE_RULES, observe } from '../../shared/detection/engine.js';
import { dayOf, dayToIso, type Observation } from '../../shared/detection/keys.js';
import { CandidateGate, TrackLedger } from '../../shared/detection/learning.js';
import { MemoryCounterStore } from '../../shared/detection/memory-store.js';
import { Scorer, type ScoredRecall, type ScoreResult, type ScoringPeriod } from '../../shared/detection/scoring.js';
import { readCsv } from '../../shared/platform/csv.js';
import { activeCategories } from '../../shared/reports/taxonomy.js';
import { synthesize, type InjectedCluster, type SyntheticRow } from './synthetic.js';

/**
 * `npm run bench:detection -- [--seed 42] [--config RULES.json]`
 *
 * 1. Real data (test/fixtures/nhtsa-ford-toyota-tesla: 45k NHTSA complaints and the recalls
 *    that followed): the engine, replayed online in time order through the in-memory counter
 *    store, and the four classic detectors, all scored by the same `Scorer` under the data
 *    set's protocol, for the whole scoring period and for each half (tuned on the first).
 * 2. Synthetic: a seeded history (two years, hundreds of products, injected lot bursts, slow
 *    burns and single injuries) for sensitivity per cluster kind, median delay from onset to
 *    first signal, and false alarms per 1,000 product-weeks; with a fixed weekly threshold
 *    and EARS C2 as baselines.
 */
const { values } = parseArgs({ options: { seed: { type: 'string', default: '42' }, config: { type: 'string' } } });
const config = values.config ? detectionConfigFrom(JSON.parse(readFileSync(values.config, 'utf8'))) : DEFAULT_DETECTION_CONFIG;
const benchStarted = performance.now();

// ---------------------------------------------------------------------------------------------
// 1. Real data
// ---------------------------------------------------------------------------------------------

/** A CSV file as records keyed by its header (the fixture is small: read whole). */
async function readTable(path: string): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  let names: string[] | undefined;
  for await (const cells of readCsv(path)) {
    if (!names) names = cells;
    else out.push(Object.fromEntries(names.map((n, i) => [n, cells[i] ?? ''])));
  }
  return out;
}

const FIXTURE = new URL('../fixtures/nhtsa-ford-toyota-tesla/', import.meta.url);
const complaints = await readTable(new URL('complaints.csv', FIXTURE).pathname);
const recalls: ScoredRecall[] = (await readTable(new URL('recalls.csv', FIXTURE).pathname)).map((r) => ({ sku: r.sku!, category: r.category!, day: dayOf(r.recallDate!) }));
const PERIODS: [string, ScoringPeriod][] = [
  ['2018-01-01 .. 2025-06-30 (scoring period)', { from: dayOf('2018-01-01'), to: dayOf('2025-06-30') }],
  ['2018-01-01 .. 2021-12-31 (first half: tuned on)', { from: dayOf('2018-01-01'), to: dayOf('2021-12-31') }],
  ['2022-01-01 .. 2025-06-30 (second half: held out)', { from: dayOf('2022-01-01'), to: dayOf('2025-06-30') }],
];

const observations: Observation[] = complaints.map((c) => ({
  reportId: c.id!,
  // The source has incident dates, not times: midday UTC keeps each on its own day.
  at: `${c.receivedAt}T12:00:00.000Z`,
  sku: c.sku!,
  lot: c.lot!,
  plant: c.plant!,
  // The source's own components are the categories; none of them is harm in itself.
  category: c.category!,
  injury: c.injury === 'True',
  illness: false,
  categoryIsHarm: false,
}));
const classicInput: ClassicComplaint[] = observations.map((o) => ({ sku: o.sku, category: o.category, day: dayOf(o.at), injury: o.injury }));

function scorerWithComplaints(): Scorer {
  const scorer = new Scorer();
  for (const c of classicInput) scorer.complaint(c.sku, c.category, c.day);
  return scorer;
}

const realStarted = performance.now();
const engineScorer = scorerWithComplaints();
// The same signals without learning: every candidate-opening signal raised (the engine before track records).
const unlearnedScorer = scorerWithComplaints();
const ledger = config.trackRecord ? new TrackLedger(config.trackRecord, recalls) : undefined;
// Harm categories are never judged (none of this source's components is harm in itself).
const gate = new CandidateGate(ledger, (category) => activeCategories().harmOf(category) !== undefined);
const notRaised: Record<string, number> = {};
const ruleScorers = new Map<string, Scorer>();
const signalsByRule: Record<string, number> = {};
let harmReports = 0;
const examples = new Map<string, string>();
{
  const store = new MemoryCounterStore();
  for (const o of observations) {
    const day = dayOf(o.at);
    const { signals } = await observe(o, store, config);
    for (const s of signals) {
      signalsByRule[s.rule] = (signalsByRule[s.rule] ?? 0) + 1;
      if (s.rule === 'harm-report') {
        harmReports++;
        continue; // a notification to QA: it opens no candidate, so it is not scored
      }
      // Lot keys count as their (sku, category); plant-wide keys are QA's workload, not scored.
      const scored = s.key.kind !== 'plant';
      const [sku, category] = scored ? [s.key.sku!, s.key.category] : [s.key.id, s.key.category];
      unlearnedScorer.alert(sku, category, day, { scored });
      // Learning from the recalls known by this day (never a later one): the category's track record.
      const admission = gate.admit(s, day);
      if (!admission.raised) {
        notRaised[admission.reason ?? 'other'] = (notRaised[admission.reason ?? 'other'] ?? 0) + 1;
        continue;
      }
      engineScorer.alert(sku, category, day, { scored });
      if (!examples.has(s.rule) && day >= PERIODS[0]![1].from) examples.set(s.rule, `${s.key.id} on ${dayToIso(day)}: ${s.evidence.explanation}`);
      const rule = s.rule === 'slow-burn' ? `slow-burn (${s.evidence.statistic === 'ic025-emerging' ? 'emerging' : 'trend'})` : s.rule;
      if (!ruleScorers.has(rule)) ruleScorers.set(rule, scorerWithComplaints());
      ruleScorers.get(rule)!.alert(sku, category, day, { scored });
    }
  }
}
const realEngineSeconds = (performance.now() - realStarted) / 1000;

const classicScores: [string, ClassicAlert[]][] = [
  ['fixed >= 3 per key per week', fixedWeekly(classicInput, 3)],
  ['EARS C2 (daily)', earsC2(classicInput)],
  ['Poisson CUSUM (weekly)', poissonCusum(classicInput)],
  ['PRR newly flagged (weekly)', prrNewlyFlagged(classicInput)],
  ['one alert per injury (ref.)', perInjury(classicInput)],
];
const classicScorers = classicScores.map(([name, alerts]) => {
  const scorer = scorerWithComplaints();
  for (const a of alerts) scorer.alert(a.sku, a.category, a.day);
  return [name, scorer] as const;
});

const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const realRow = (name: string, r: ScoreResult) =>
  `| ${name.padEnd(34)} | ${num(r.sensitivity, 3)} (${String(r.detected).padStart(3)}/${String(r.detectable).padStart(3)}) | ${num(r.falseAlarmsPer1000KeyWeeks, 2).padStart(8)} | ${num(r.precision, 3).padStart(9)} | ${num(r.medianLeadDays, 1).padStart(9)} d | ${num(r.workload.meanPerWeek, 2).padStart(26)} / ${String(r.workload.worstWeek).padStart(4)} |`;
const dominates = (a: ScoreResult, b: ScoreResult) =>
  a.sensitivity >= b.sensitivity && a.falseAlarmsPer1000KeyWeeks <= b.falseAlarmsPer1000KeyWeeks && a.precision >= b.precision && a.medianLeadDays >= b.medianLeadDays;

console.log(
  `real data: ${observations.length} NHTSA complaints (${new Set(observations.map((o) => o.sku)).size} products, ` +
    `${new Set(observations.map((o) => `${o.sku}|${o.category}`)).size} product-category keys), ${recalls.length} recall rows; ` +
    `engine replayed online in ${realEngineSeconds.toFixed(1)} s`,
);
for (const [label, period] of PERIODS) {
  const ours = engineScorer.result(recalls, period);
  const unlearned = unlearnedScorer.result(recalls, period);
  const classic = classicScorers.map(([name, scorer]) => [name, scorer.result(recalls, period)] as const);
  console.log(`
${label}: ${ours.detectable} detectable recalls, ${ours.keyWeeks} key-weeks
| detector                           | sensitivity     | FA/1k kw | precision | median lead | new candidates/week: mean / worst |
|------------------------------------|-----------------|----------|-----------|-------------|-----------------------------------|
${realRow(values.config ? `engine, --config ${values.config.split('/').pop()}` : 'engine, default configuration', ours)}
${realRow('  … without learning from recalls', unlearned)}
${[...ruleScorers].sort().map(([rule, scorer]) => realRow(`  … ${rule} alone`, scorer.result(recalls, period))).join('\n')}
${classic.map(([name, r]) => realRow(name, r)).join('\n')}
engine dominates (>= sensitivity, <= FA, >= precision, >= lead): ${classic.filter(([, r]) => dominates(ours, r)).map(([n]) => n).join('; ') || 'none'}; ` +
    `busiest week for QA starts ${dayToIso(ours.workload.worstWeekStart)}`);
}
const full = engineScorer.result(recalls, PERIODS[0]![1]);
const check = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(`
engine signals by rule: ${JSON.stringify(signalsByRule)}; harm-report notifications (injury flagged, never a candidate on their own): ${harmReports}
signals not raised as candidates by the categories' track records (learnt from the recalls known at each signal's day): ${JSON.stringify(notRaised)}
track records at the end, hits / judged episodes (worst first): ${ledger ? ledger.all().map((r) => `${r.category} ${r.hits}/${r.hits + r.misses} ${r.standing}`).join('; ') : 'learning off'}
the evidence QA reads, first signal of each rule in the scoring period:
${[...examples].map(([rule, text]) => `  ${rule}: ${text}`).join('\n')}
real-data targets (scoring period, ${values.config ? `--config ${values.config}` : 'default configuration'}):
  sensitivity >= 0.50:                   ${check(full.sensitivity >= 0.5)} (${num(full.sensitivity, 3)})
  <= 1.0 false alarm per 1,000 key-weeks: ${check(full.falseAlarmsPer1000KeyWeeks <= 1)} (${num(full.falseAlarmsPer1000KeyWeeks, 2)})
  precision >= 0.26:                     ${check(full.precision >= 0.26)} (${num(full.precision, 3)})
  median lead >= 117 days:               ${check(full.medianLeadDays >= 117)} (${num(full.medianLeadDays, 1)} d)
`);

// ---------------------------------------------------------------------------------------------
// 2. Synthetic
// ---------------------------------------------------------------------------------------------

interface Alarm {
  day: number;
  /** What an alert is raised on; a repeat within the suppression period is no new alert. */
  key: string;
  /** For the engine: which rule on which key kind (diagnostics). */
  source?: string;
  category: string;
  sku?: string;
  lot?: string;
  plant?: string;
}

const world = synthesize({ seed: Number(values.seed) });
const day0 = dayOf(world.start);
const dayOfRow = (r: SyntheticRow) => dayOf(r.at) - day0;
console.log(
  `synthetic history: ${world.rows.length} complaints, ${world.products} products, ${world.days} days; ` +
    `injected ${world.clusters.filter((c) => c.kind === 'lot-burst').length} lot bursts, ` +
    `${world.clusters.filter((c) => c.kind === 'slow-burn').length} slow burns, ${world.clusters.filter((c) => c.kind === 'injury').length} injuries`,
);

async function engineAlarms(): Promise<Alarm[]> {
  const store = new MemoryCounterStore();
  const alarms: Alarm[] = [];
  for (const r of world.rows) {
    const { signals } = await observe(r, store, config);
    for (const s of signals) {
      if (!CANDIDATE_RULES.includes(s.rule)) continue; // harm-report notifies QA, it opens no candidate
      alarms.push({
        day: dayOfRow(r),
        source: `${s.rule}/${s.key.kind}/${s.key.category}`,
        key: s.key.id,
        category: s.key.category,
        ...(s.key.sku ? { sku: s.key.sku } : {}),
        ...(s.key.lot ? { lot: s.key.lot } : {}),
        ...(s.key.plant ? { plant: s.key.plant } : {}),
      });
    }
  }
  return alarms;
}

/** Baseline 1: a product's count of a defect in a calendar week reaches a fixed threshold. */
function weeklyThresholdAlarms(threshold: number): Alarm[] {
  const counts = new Map<string, number>();
  const alarms: Alarm[] = [];
  for (const r of world.rows) {
    const day = dayOfRow(r);
    const key = `${r.sku}|${r.category}|${Math.floor(day / 7)}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n === threshold) alarms.push({ day, key: `${r.sku}|${r.category}`, sku: r.sku, category: r.category });
  }
  return alarms;
}

/**
 * Baseline 2: EARS C2 on each product-defect daily series: today's count against the mean
 * and standard deviation of days t-9..t-3 (a two-day guard band), alarm when > 3 sd, with
 * the standard deviation floored so that a lone report after a quiet week does not alarm.
 */
function earsC2Alarms(sdFloor: number): Alarm[] {
  const daily = new Map<string, Map<number, number>>();
  for (const r of world.rows) {
    const key = `${r.sku}|${r.category}`;
    const series = daily.get(key) ?? new Map<number, number>();
    series.set(dayOfRow(r), (series.get(dayOfRow(r)) ?? 0) + 1);
    daily.set(key, series);
  }
  const alarms: Alarm[] = [];
  for (const [key, series] of daily) {
    const [sku, category] = key.split('|') as [string, string];
    for (const [day, x] of series) {
      const base = Array.from({ length: 7 }, (_, i) => series.get(day - 9 + i) ?? 0);
      const mean = base.reduce((a, b) => a + b, 0) / 7;
      const sd = Math.sqrt(base.reduce((a, b) => a + (b - mean) ** 2, 0) / 6);
      if ((x - mean) / Math.max(sd, sdFloor) > 3) alarms.push({ day, key, sku, category });
    }
  }
  return alarms;
}

/**
 * What reaches a person: the engine raises one alert per new candidate and attaches later
 * signals on the same key to it. The same rule is applied to every method: an alarm on a key
 * that alarmed in the previous `days` days is not a new alert (QA is already on it).
 */
const SUPPRESS_DAYS = 28;
function alerts(alarms: Alarm[]): Alarm[] {
  const last = new Map<string, number>();
  return [...alarms]
    .sort((a, b) => a.day - b.day)
    .filter((a) => {
      const previous = last.get(a.key);
      last.set(a.key, a.day);
      return previous === undefined || a.day - previous > SUPPRESS_DAYS;
    });
}

const GRACE: Record<InjectedCluster['kind'], number> = { 'lot-burst': 14, 'slow-burn': 30, injury: 2 };
function matches(a: Alarm, c: InjectedCluster): boolean {
  if (a.category !== c.category || a.day < c.onsetDay || a.day > c.endDay + GRACE[c.kind]) return false;
  if (a.lot && c.kind !== 'slow-burn') return a.lot === c.lot;
  if (a.sku) return a.sku === c.sku;
  return a.plant === c.plant;
}

/**
 * Sensitivity and delay from every alarm (a cluster on a key that is already alarming is in
 * front of QA: its reports attach to the open candidate); false alarms from new alerts only.
 */
function score(raw: Alarm[], deduplicate = true) {
  const firstDay = new Map<string, number>();
  const falseUnits = new Set<string>();
  const falseBySource = new Map<string, Set<string>>();
  for (const a of raw) {
    for (const c of world.clusters.filter((c) => matches(a, c))) firstDay.set(c.id, Math.min(firstDay.get(c.id) ?? Infinity, a.day));
  }
  for (const a of deduplicate ? alerts(raw) : raw) {
    const hit = world.clusters.filter((c) => matches(a, c));
    if (hit.length === 0) {
      const unit = `${a.sku ?? a.plant}|${Math.floor(a.day / 7)}`;
      falseUnits.add(unit);
      if (a.source) falseBySource.set(a.source, (falseBySource.get(a.source) ?? new Set()).add(unit));
    }
  }
  const median = (xs: number[]) => {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const byKind = (kind: InjectedCluster['kind']) => {
    const clusters = world.clusters.filter((c) => c.kind === kind);
    const delays = clusters.filter((c) => firstDay.has(c.id)).map((c) => firstDay.get(c.id)! - c.onsetDay);
    return { sensitivity: delays.length / clusters.length, medianDelay: median(delays) };
  };
  const all = world.clusters.filter((c) => firstDay.has(c.id)).map((c) => firstDay.get(c.id)! - c.onsetDay);
  const productWeeks = world.products * Math.ceil(world.days / 7);
  return {
    lot: byKind('lot-burst'),
    slow: byKind('slow-burn'),
    injury: byKind('injury'),
    medianDelay: median(all),
    falseAlarmsPer1000: (falseUnits.size / productWeeks) * 1000,
    firstDay,
    falseBySource: Object.fromEntries([...falseBySource].map(([k, v]) => [k, v.size])),
  };
}

const started = performance.now();
const engineRaw = await engineAlarms();
const engineSeconds = (performance.now() - started) / 1000;
const weeklyRaw = weeklyThresholdAlarms(3);
const earsRaw = earsC2Alarms(0.5);
const ours = score(engineRaw);
const weekly = score(weeklyRaw);
const ears = score(earsRaw);
const rawFa = (a: Alarm[]) => score(a, false).falseAlarmsPer1000.toFixed(2);

const f = (x: number, d = 2) => (Number.isNaN(x) ? '–' : x.toFixed(d));
const line = (name: string, s: ReturnType<typeof score>) =>
  `| ${name.padEnd(24)} | ${f(s.lot.sensitivity)} / ${f(s.lot.medianDelay, 1).padStart(5)} d | ${f(s.slow.sensitivity)} / ${f(s.slow.medianDelay, 1).padStart(5)} d | ${f(s.injury.sensitivity)} / ${f(s.injury.medianDelay, 1).padStart(4)} d | ${f(s.medianDelay, 1).padStart(6)} d | ${f(s.falseAlarmsPer1000).padStart(8)} |`;
console.log(`
| method                   | lot burst: sens / delay | slow burn: sens / delay | injury: sens / delay | median delay | FA/1000 pw |
|--------------------------|-------------------------|-------------------------|----------------------|--------------|------------|
${line('engine (this product)', ours)}
${line('weekly threshold (>= 3)', weekly)}
${line('EARS C2 (sd floor 0.5)', ears)}`);

// The fair delay comparison: the clusters both the engine and EARS C2 found.
const both = world.clusters.filter((c) => ours.firstDay.has(c.id) && ears.firstDay.has(c.id));
const pairedMedian = (s: ReturnType<typeof score>) => {
  const xs = both.map((c) => s.firstDay.get(c.id)! - c.onsetDay).sort((a, b) => a - b);
  return xs.length ? xs[Math.floor((xs.length - 1) / 2)]! : NaN;
};
const minSensitivity = Math.min(ours.lot.sensitivity, ours.slow.sensitivity, ours.injury.sensitivity);
const fewerFalseAlarms = ours.falseAlarmsPer1000 < weekly.falseAlarmsPer1000 && ours.falseAlarmsPer1000 < ears.falseAlarmsPer1000;
const atLeastAsSensitive = (b: ReturnType<typeof score>) =>
  ours.lot.sensitivity >= b.lot.sensitivity && ours.slow.sensitivity >= b.slow.sensitivity && ours.injury.sensitivity >= b.injury.sensitivity;
console.log(`
FA/1000 pw counts alerts: an alarm on a key that alarmed in the previous ${SUPPRESS_DAYS} days is no new alert (same rule for every method);
sensitivity and delay count every alarm (a cluster on a key already alarming is in front of QA).
Counting every alarm instead: engine ${rawFa(engineRaw)}, weekly threshold ${rawFa(weeklyRaw)}, EARS C2 ${rawFa(earsRaw)}.
engine false alerts (product- or plant-weeks) by rule/key/category: ${JSON.stringify(ours.falseBySource)}`);
console.log(`
engine: ${world.rows.length} complaints in ${engineSeconds.toFixed(2)} s (${(world.rows.length / engineSeconds).toFixed(0)}/s); whole bench ${((performance.now() - benchStarted) / 1000).toFixed(1)} s
clusters found by both engine and EARS C2: ${both.length}; median delay on them: engine ${f(pairedMedian(ours), 1)} d, EARS C2 ${f(pairedMedian(ears), 1)} d

targets:
  sensitivity >= 0.95 on every kind:                       ${minSensitivity >= 0.95 ? 'met' : 'NOT met'} (lowest ${f(minSensitivity)})
  fewer false alarms than both baselines:                  ${fewerFalseAlarms ? 'met' : 'NOT met'}
  ... at equal or better sensitivity on every kind:        ${atLeastAsSensitive(weekly) && atLeastAsSensitive(ears) ? 'met' : 'NOT met'}
  median delay no longer than EARS C2 (overall):           ${ours.medianDelay <= ears.medianDelay ? 'met' : 'NOT met'} (${f(ours.medianDelay, 1)} d vs ${f(ears.medianDelay, 1)} d)
  median delay no longer than EARS C2 (same clusters):     ${pairedMedian(ours) <= pairedMedian(ears) ? 'met' : 'NOT met'}`);
