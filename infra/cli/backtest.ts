import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { detectionConfigFrom } from '../../shared/detection/config.js';
import { BacktestMapping, readRows, runBacktest } from '../../shared/detection/backtest.js';
import type { Signal } from '../../shared/detection/engine.js';
import { UsageError, type Command } from './common.js';

/**
 * `recall backtest --input FILE --map MAPPING.json [--from DATE] [--to DATE] [--config RULES.json]
 *  [--format csv|jsonl] [--json]`: replays historical complaints through the detection engine
 * (in memory, no server needed) and prints every signal, then a summary.
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

const describeEvidence = (s: Signal) =>
  Object.entries(s.evidence)
    .filter(([k]) => !['statistic', 'alpha', 'minCount', 'minPrr', 'minChi2', 'minRatio'].includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export const backtestCommand: Command = {
  group: 'qa',
  summary: 'replay a historical CSV or JSONL of complaints through the detection rules',
  usage: 'recall backtest --input FILE --map MAPPING.json [--from DATE] [--to DATE] [--config RULES.json] [--format csv|jsonl] [--json]',
  options: {
    input: { type: 'string' },
    map: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    config: { type: 'string' },
    format: { type: 'string' },
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

    if (!json) console.log(`${'time'.padEnd(24)}  ${'rule'.padEnd(10)}  ${'key'.padEnd(48)}  evidence`);
    const out = process.stdout;
    const summary = await runBacktest(readRows(values.input, format), {
      config,
      mapping: parsedMapping.data,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      onSignal: (s) =>
        out.write(
          json
            ? `${JSON.stringify({ type: 'signal', at: s.at, rule: s.rule, key: s.key.id, reportId: s.reportId, evidence: s.evidence })}\n`
            : `${s.at.padEnd(24)}  ${s.rule.padEnd(10)}  ${s.key.id.padEnd(48)}  ${describeEvidence(s)}\n`,
        ),
      // Progress goes to stderr, and only on a terminal: piped output stays clean.
      ...(process.stderr.isTTY
        ? { onProgress: (p) => process.stderr.write(`\r  ${p.rows.toLocaleString()} rows, ${p.signals} signals, ${Math.round(p.rowsPerSecond).toLocaleString()} rows/s `) }
        : {}),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (json) {
      out.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
      return;
    }
    const lines = [
      '',
      `rows read        ${summary.rows}`,
      `replayed         ${summary.replayed}  (${summary.firstTime ?? '-'} .. ${summary.lastTime ?? '-'})`,
      `skipped          ${Object.entries(summary.skipped).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
      `out of order     ${summary.outOfOrder}${summary.outOfOrder ? '  (sort the file by time for a faithful replay)' : ''}`,
      `unmapped values  ${Object.entries(summary.unmappedCategories).map(([k, v]) => `${JSON.stringify(k)}×${v}`).join(', ') || 'none'} (counted as other)`,
      `signals          ${Object.entries(summary.signals).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
      `candidates       ${summary.candidates} cluster keys would have opened a candidate incident`,
      `speed            ${Math.round(summary.rowsPerSecond).toLocaleString()} rows/s (${summary.seconds.toFixed(1)} s)`,
    ];
    console.log(lines.join('\n'));
  },
};
