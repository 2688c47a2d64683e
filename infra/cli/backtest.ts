import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { detectionConfigFrom } from '../../shared/detection/config.js';
import { BacktestMapping, categoryRenaming, parseSourceTime, readRows, runBacktest, sourceCode } from '../../shared/detection/backtest.js';
import type { Signal } from '../../shared/detection/engine.js';
import { dayOf, dayToIso } from '../../shared/detection/keys.js';
import { Scorer, type ScoreResult } from '../../shared/detection/scoring.js';
import { readCsv, type CsvEncoding, type CsvOptions } from '../../shared/platform/csv.js';
import { keyCode } from '../../shared/platform/fields.js';
import { UsageError, type Command } from './common.js';

/**
 * `recall backtest --input FILE --map MAPPING.json [--truth PAST_RECALLS.csv] [--from DATE]
 *  [--to DATE] [--config RULES.json] [--format csv|jsonl] [--delimiter C] [--encoding E] [--json]`:
 * replays historical complaints through the detection engine (in memory, no server needed),
 * prints every signal, then a summary; with `--truth`, scores the signals against known past
 * recalls (the protocol of `shared/detection/scoring.ts`): would we have caught them, how
 * early, at what cost in false alarms, and how many new candidates a week QA would have had.
 * With `--truth`, the categories also learn from those recalls as the replay reaches each
 * one's date, as the live system learns from declared incidents (`learning.ts`); signals a
 * category's record holds back are printed, marked, and not scored. `--no-learning` raises
 * every signal.
 */
function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new UsageError(`${what} file not found: ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`--${flag} must be a date (YYYY-MM-DD or ISO 8601), not ${value}`);
  return d;
}

interface Recall {
  sku: string;
  category: string;
  day: number;
}

/** The delimiter of a small CSV from its header line: the most frequent of `,` `;` tab (ASCII in UTF-8 and Shift_JIS alike). */
function sniffDelimiter(file: string): string {
  const head = readFileSync(file).subarray(0, 64 * 1024);
  const end = head.indexOf(0x0a);
  const line = head.subarray(0, end < 0 ? head.length : end);
  const counts = [',', ';', '\t'].map((d) => [d, line.filter((b) => b === d.charCodeAt(0)).length] as const);
  return counts.reduce((best, next) => (next[1] > best[1] ? next : best))[0];
}

/**
 * Reads the past recalls: one row per recall on a product and category (columns from the
 * mapping's `truth`); encoding detected, delimiter from its header line (`--delimiter` and
 * `--encoding` describe the complaints file).
 */
async function readTruth(file: string, mapping: BacktestMapping): Promise<Recall[]> {
  if (!existsSync(file)) throw new UsageError(`truth file not found: ${file}`);
  const csv: CsvOptions = { delimiter: sniffDelimiter(file) };
  const recalls: Recall[] = [];
  let columns: number[] | undefined;
  let row = 1;
  const categoryOf = categoryRenaming(mapping);
  for await (const cells of readCsv(file, csv)) {
    if (!columns) {
      const header = cells.map((c) => c.trim());
      const wanted = [mapping.truth.product, mapping.truth.category, mapping.truth.date];
      columns = wanted.map((name) => header.indexOf(name));
      const missing = wanted.filter((_, i) => columns![i]! < 0);
      if (missing.length > 0) throw new Error(`The truth file has no column ${missing.map((c) => JSON.stringify(c)).join(', ')} (its columns: ${header.join(', ')}). Set "truth" in the mapping.`);
      continue;
    }
    row++;
    const [sku, source, date] = columns.map((i) => cells[i] ?? '');
    const time = parseSourceTime(date!);
    if (!sku!.trim() || !source!.trim() || Number.isNaN(time)) throw new Error(`truth file ${file}, data row ${row - 1}: needs a product, a category and a date as YYYY-MM-DD (got ${JSON.stringify(cells)})`);
    recalls.push({ sku: keyCode(sourceCode(sku)), category: categoryOf(source), day: dayOf(time) });
  }
  return recalls;
}

const pct = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
function scoreLines(score: ScoreResult, period: { from: number; to: number }): string[] {
  return [
    '',
    `scored           ${dayToIso(period.from)} .. ${dayToIso(period.to)} against ${score.detectable} detectable recalls (≥ 3 complaints on the key in the year before)`,
    `sensitivity      ${pct(score.sensitivity)}  (${score.detected} of ${score.detectable} caught between a year before and 30 days after the recall)`,
    `median lead      ${Number.isFinite(score.medianLeadDays) ? `${score.medianLeadDays} days before the recall` : '-'}`,
    `false alarms     ${score.falseAlarms} = ${score.falseAlarmsPer1000KeyWeeks.toFixed(2)} per 1,000 key-weeks (${score.keyWeeks.toLocaleString('en')} key-weeks watched)`,
    `precision        ${pct(score.precision)}  (${score.truePositives} alerts followed by a recall, ${score.late} late: after a recall already made)`,
    `QA workload      ${score.workload.meanPerWeek.toFixed(2)} new candidate incidents a week on average, ${score.workload.worstWeek} in the worst week${score.workload.worstWeekStart !== undefined ? ` (from ${dayToIso(score.workload.worstWeekStart)})` : ''}`,
  ];
}

const describeEvidence = (s: Signal) =>
  Object.entries(s.evidence)
    .filter(([k]) => !['statistic', 'alpha', 'minCount', 'minPrr', 'minChi2', 'minRatio'].includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export const backtestCommand: Command = {
  group: 'qa',
  summary: 'replay a historical CSV or JSONL of complaints through the detection rules',
  usage:
    'recall backtest --input FILE --map MAPPING.json [--truth PAST_RECALLS.csv] [--score-from DATE] [--score-to DATE] [--from DATE] [--to DATE] [--config RULES.json] [--no-learning] [--format csv|jsonl] [--delimiter C] [--encoding auto|utf-8|shift_jis] [--json]',
  example: 'recall backtest --input complaints.csv --map mapping.json --truth recalls.csv --score-from 2018-01-01 --score-to 2025-06-30',
  options: {
    input: { type: 'string' },
    map: { type: 'string' },
    truth: { type: 'string' },
    'score-from': { type: 'string' },
    'score-to': { type: 'string' },
    delimiter: { type: 'string' },
    encoding: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    config: { type: 'string' },
    format: { type: 'string' },
    'no-learning': { type: 'boolean' },
  },
  async run({ values, json }) {
    if (!values.input || !values.map) throw new UsageError('Give --input FILE and --map MAPPING.json');
    if (!existsSync(values.input)) throw new UsageError(`input file not found: ${values.input}`);
    const parsedMapping = BacktestMapping.safeParse(readJson(values.map, 'mapping'));
    if (!parsedMapping.success) {
      throw new Error(`mapping ${values.map} is invalid:\n${z.prettifyError(parsedMapping.error)}`);
    }
    let config;
    try {
      config = detectionConfigFrom(values.config ? readJson(values.config, 'rules') : {});
    } catch (error) {
      throw new Error(`rules ${values.config} are invalid:\n${error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message}`);
    }
    const format = (values.format ?? (values.input.endsWith('.jsonl') || values.input.endsWith('.ndjson') ? 'jsonl' : 'csv')) as string;
    if (format !== 'csv' && format !== 'jsonl') throw new Error(`--format must be csv or jsonl, not ${format}`);
    const from = parseDate(values.from, 'from');
    const to = parseDate(values.to, 'to');
    const scoreFrom = parseDate(values['score-from'], 'score-from');
    const scoreTo = parseDate(values['score-to'], 'score-to');
    const delimiter = values.delimiter === '\\t' || values.delimiter === 'tab' ? '\t' : values.delimiter;
    if (delimiter !== undefined && delimiter.length !== 1) throw new UsageError(`--delimiter must be one character (or tab), not ${JSON.stringify(values.delimiter)}`);
    const encoding = values.encoding ?? 'auto';
    if (!['auto', 'utf-8', 'shift_jis'].includes(encoding)) throw new UsageError(`--encoding must be auto, utf-8 or shift_jis (CP932), not ${encoding}`);
    const csv: CsvOptions = { ...(delimiter ? { delimiter } : {}), encoding: encoding as CsvEncoding };
    const recalls = values.truth ? await readTruth(values.truth, parsedMapping.data) : undefined;
    const scorer = recalls ? new Scorer() : undefined;
    let firstDay: number | undefined;
    let lastDay: number | undefined;

    if (!json) console.log(`${'time'.padEnd(24)}  ${'rule'.padEnd(10)}  ${'key'.padEnd(48)}  evidence`);
    const out = process.stdout;
    const summary = await runBacktest(readRows(values.input, format, csv), {
      config,
      mapping: parsedMapping.data,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      onObservation: (o, day) => {
        firstDay ??= day;
        lastDay = day;
        scorer?.complaint(keyCode(o.sku), o.category, day);
      },
      // With --truth the categories learn from the recalls known at each signal's day (never a later one).
      // (Commander reads `--no-learning` as learning = false.)
      ...(recalls && values.learning !== false ? { outcomes: recalls } : {}),
      onSignal: (s, admission) => {
        // Lot keys count as their product and category; plant-wide keys are workload, not scored.
        if (scorer && admission.raised && s.key.sku) scorer.alert(s.key.sku, s.key.category, dayOf(s.at), { scored: s.key.kind !== 'plant' });
        else if (scorer && admission.raised) scorer.alert(s.key.plant ?? '', s.key.category, dayOf(s.at), { scored: false });
        const held = admission.reason ? ` [not raised: ${admission.reason === 'held' ? 'category held back' : 'its one candidate was raised'}]` : '';
        out.write(
          json
            ? `${JSON.stringify({ type: 'signal', at: s.at, rule: s.rule, key: s.key.id, reportId: s.reportId, raised: admission.raised, ...(admission.reason ? { notRaised: admission.reason, trackRecord: admission.standing?.explanation } : {}), evidence: s.evidence })}\n`
            : `${s.at.padEnd(24)}  ${s.rule.padEnd(10)}  ${s.key.id.padEnd(48)}  ${describeEvidence(s)}${held}\n`,
        );
      },
      // Progress goes to stderr, and only on a terminal: piped output stays clean.
      ...(process.stderr.isTTY
        ? { onProgress: (p) => process.stderr.write(`\r  ${p.rows.toLocaleString()} rows, ${p.signals} signals, ${Math.round(p.rowsPerSecond).toLocaleString()} rows/s `) }
        : {}),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    // The scoring period: as given, else everything after a first year of warm-up (rules read a year back).
    const period =
      scorer && firstDay !== undefined && lastDay !== undefined
        ? { from: scoreFrom ? dayOf(scoreFrom) : Math.min(firstDay + 365, lastDay), to: scoreTo ? dayOf(scoreTo) : lastDay }
        : undefined;
    const score = scorer && period ? scorer.result(recalls!, period) : undefined;
    if (json) {
      out.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
      if (score && period) out.write(`${JSON.stringify({ type: 'score', from: dayToIso(period.from), to: dayToIso(period.to), ...score })}\n`);
      return;
    }
    const lines = [
      '',
      `rows read        ${summary.rows}`,
      `replayed         ${summary.replayed}  (${summary.firstTime ?? '-'} .. ${summary.lastTime ?? '-'})`,
      `skipped          ${Object.entries(summary.skipped).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
      `out of order     ${summary.outOfOrder}${summary.outOfOrder ? '  (sort the file by time for a faithful replay)' : ''}`,
      `categories       ${Object.keys(summary.categories).length}: ${Object.entries(summary.categories).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ')}${Object.keys(summary.categories).length > 12 ? ', …' : ''}`,
      `signals          ${Object.entries(summary.signals).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
      `candidates       ${summary.candidates} cluster keys would have opened a candidate incident`,
      ...(summary.trackRecords
        ? [
            `not raised       ${summary.notRaised.held ?? 0} signals held back by their category's track record, ${summary.notRaised['raised-once'] ?? 0} after their product's one candidate (--no-learning: raise every one)`,
            `track records    hits / judged signal episodes, worst first: ${summary.trackRecords.slice(0, 12).map((r) => `${r.category} ${r.hits}/${r.hits + r.misses}${r.standing === 'normal' ? '' : ` ${r.standing}`}`).join(', ')}${summary.trackRecords.length > 12 ? ', …' : ''}`,
          ]
        : []),
      `speed            ${Math.round(summary.rowsPerSecond).toLocaleString()} rows/s (${summary.seconds.toFixed(1)} s)`,
    ];
    if (score && period) lines.push(...scoreLines(score, period));
    else if (recalls) lines.push('', 'scored           nothing: no complaint was replayed');
    console.log(lines.join('\n'));
  },
};
