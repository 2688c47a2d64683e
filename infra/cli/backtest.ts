import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { detectionConfigFrom } from '../../shared/detection/config.js';
import { BacktestMapping, categoryRenaming, parseSourceTime, runBacktestFile, sourceCode, unclearFlags } from '../../shared/detection/backtest.js';
import type { Signal } from '../../shared/detection/engine.js';
import { dayOf, dayToIso } from '../../shared/detection/keys.js';
import { Scorer, type ScoreResult } from '../../shared/detection/scoring.js';
import { CSV_ENCODINGS, CsvError, readCsv, type CsvEncoding, type CsvOptions } from '../../shared/platform/csv.js';
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

/**
 * A date flag, read as the data's times are (UTC unless a zone is written). A day alone given
 * as the end of a range (`--to`) means the end of that day: its rows are in.
 */
function parseDate(value: string | undefined, flag: string, end = false): Date | undefined {
  if (!value) return undefined;
  const t = parseSourceTime(value);
  if (Number.isNaN(t)) throw new UsageError(`--${flag} must be a date or time, year first (2024-03-15 or 2024-03-15T09:00:00Z), not ${value}`);
  const dayOnly = /^\d{4}[-/]?\d{1,2}[-/]?\d{1,2}$/.test(value.trim());
  return new Date(end && dayOnly ? t + 86_400_000 - 1 : t);
}

/** What the time column may hold (the skip line and the truth file's errors say it). */
const TIME_FORMATS = 'year first (2024-03-15, 2024-03-15 09:07, 2024/3/15 9:07, 20240315, optional zone Z or +09:00); set "dateOrder": "mdy" or "dmy" in the mapping for 03/15/2024 or 15.03.2024';

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
 * mapping's `truth`); delimiter from its header line; encoding detected (UTF-8, or Shift_JIS
 * read as Japanese), else the complaints file's `--encoding` (a truth file from the same
 * Western Windows system), so a UTF-8 truth file beside a windows-1252 export is read right.
 */
async function readTruth(file: string, mapping: BacktestMapping, encoding: CsvEncoding): Promise<Recall[]> {
  if (!existsSync(file)) throw new UsageError(`truth file not found: ${file}`);
  const delimiter = sniffDelimiter(file);
  const tries: CsvEncoding[] = encoding === 'auto' ? ['auto'] : ['auto', encoding];
  for (const [i, tried] of tries.entries()) {
    try {
      return await readTruthRows(file, mapping, { delimiter, encoding: tried });
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      if (i === tries.length - 1) throw new Error(`truth file ${file}: ${error.message}`);
    }
  }
  throw new Error('unreachable');
}

async function readTruthRows(file: string, mapping: BacktestMapping, csv: CsvOptions): Promise<Recall[]> {
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
    const time = parseSourceTime(date!, mapping.dateOrder);
    if (!sku!.trim() || !source!.trim() || Number.isNaN(time)) throw new Error(`truth file ${file}, data row ${row - 1}: needs a product, a category and a date, ${TIME_FORMATS} (got ${JSON.stringify(cells)})`);
    recalls.push({ sku: keyCode(sourceCode(sku)), category: categoryOf(source), day: dayOf(time) });
  }
  return recalls;
}

/** Why a backtest replayed nothing, as an error (the summary above it says which rows were skipped). */
function nothingReplayed(summary: { rows: number }): string {
  return summary.rows === 0 ? 'Nothing to replay: the file has no data rows (a CSV needs a header row naming its columns, then one row per complaint).' : `Nothing was replayed: all ${summary.rows} rows were skipped (see "skipped" above). Fix the mapping or the file.`;
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
    'recall backtest --input FILE --map MAPPING.json [--truth PAST_RECALLS.csv] [--score-from DATE] [--score-to DATE] [--from DATE] [--to DATE] [--config RULES.json] [--no-learning] [--format csv|jsonl] [--delimiter C] [--encoding auto|utf-8|shift_jis|windows-1252] [--sort] [--json]',
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
    sort: { type: 'boolean' },
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
    const to = parseDate(values.to, 'to', true);
    const scoreFrom = parseDate(values['score-from'], 'score-from');
    const scoreTo = parseDate(values['score-to'], 'score-to', true);
    const delimiter = values.delimiter === '\\t' || values.delimiter === 'tab' ? '\t' : values.delimiter;
    if (delimiter !== undefined && delimiter.length !== 1) throw new UsageError(`--delimiter must be one character (or tab), not ${JSON.stringify(values.delimiter)}`);
    const encoding = values.encoding ?? 'auto';
    if (!(CSV_ENCODINGS as readonly string[]).includes(encoding)) throw new UsageError(`--encoding must be auto, utf-8, shift_jis (CP932) or windows-1252, not ${encoding}`);
    // Without --delimiter, the header line says it (`,` `;` or tab), as for the truth file.
    const csv: CsvOptions = { delimiter: delimiter ?? (format === 'csv' ? sniffDelimiter(values.input) : ','), encoding: encoding as CsvEncoding };
    const recalls = values.truth ? await readTruth(values.truth, parsedMapping.data, encoding as CsvEncoding) : undefined;
    const scorer = recalls ? new Scorer() : undefined;
    let firstDay = Number.POSITIVE_INFINITY;
    let lastDay = Number.NEGATIVE_INFINITY;
    // The (product, category) keys complaints were replayed on: a recall on none of them is named.
    const keys = recalls ? new Set<string>() : undefined;

    if (!json) console.log(`${'time'.padEnd(24)}  ${'rule'.padEnd(10)}  ${'key'.padEnd(48)}  evidence`);
    const out = process.stdout;
    const summary = await runBacktestFile(values.input, format, csv, {
      config,
      mapping: parsedMapping.data,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      onObservation: (o, day) => {
        firstDay = Math.min(firstDay, day);
        lastDay = Math.max(lastDay, day);
        const sku = keyCode(o.sku);
        scorer?.complaint(sku, o.category, day);
        keys?.add(`${sku}\u0000${o.category}`);
      },
      ...(values.sort ? { sort: true } : {}),
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
      scorer && summary.replayed > 0
        ? { from: scoreFrom ? dayOf(scoreFrom) : Math.min(firstDay + 365, lastDay), to: scoreTo ? dayOf(scoreTo) : lastDay }
        : undefined;
    const score = scorer && period ? scorer.result(recalls!, period) : undefined;
    const unmatched = recalls && keys ? recalls.filter((r) => !keys.has(`${r.sku}\u0000${r.category}`)) : [];
    if (json) {
      out.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
      if (score && period) out.write(`${JSON.stringify({ type: 'score', from: dayToIso(period.from), to: dayToIso(period.to), ...score, recallsWithoutComplaints: unmatched.length })}\n`);
      if (summary.replayed === 0) throw new Error(nothingReplayed(summary));
      return;
    }
    const skippedLine = Object.entries(summary.skipped)
      .map(([reason, n]) => `${n} ${reason}${summary.skippedExamples[reason] ? ` (e.g. ${JSON.stringify(summary.skippedExamples[reason])})` : ''}`)
      .join(', ');
    const flagLines = Object.entries(summary.flags).map(([field, f]) => {
      const unclear = unclearFlags(f);
      return (
        `${field.padEnd(17)}${f.yes} rows read as yes; values seen: ${Object.entries(f.values).map(([v, x]) => `${JSON.stringify(v)} ${x.rows}${x.yes ? ' yes' : ''}`).join(', ')}` +
        (unclear.length ? `\n${''.padEnd(17)}read as no but not a plain no: ${unclear.join(', ')}: list them in the mapping's "truthy" if they mean yes` : '')
      );
    });
    const lines = [
      '',
      `rows read        ${summary.rows}`,
      `replayed         ${summary.replayed}  (${summary.firstTime ?? '-'} .. ${summary.lastTime ?? '-'})`,
      `skipped          ${skippedLine || 'none'}`,
      ...(summary.skipped[`no valid ${parsedMapping.data.time}`] ? [`${''.padEnd(17)}times are read ${TIME_FORMATS}`] : []),
      `out of order     ${summary.outOfOrder}${summary.outOfOrder ? '  (sort the file by time for a faithful replay)' : ''}`,
      ...flagLines,
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
    if (unmatched.length > 0) {
      const shown = unmatched.slice(0, 5).map((r) => `${r.sku} ${r.category}`).join(', ');
      lines.push(`recalls unmatched ${unmatched.length} of ${recalls!.length} past recalls are on a product and category no complaint has (${shown}${unmatched.length > 5 ? ', …' : ''}): check their spelling`);
    }
    console.log(lines.join('\n'));
    if (summary.replayed === 0) throw new Error(nothingReplayed(summary));
  },
};
