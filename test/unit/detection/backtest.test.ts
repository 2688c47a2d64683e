import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_DETECTION_CONFIG } from '../../../shared/detection/config.js';
import { BacktestInputError, BacktestMapping, parseSourceTime, readRows, runBacktest, runBacktestFile, unclearFlags, type BacktestSummary } from '../../../shared/detection/backtest.js';
import { observe } from '../../../shared/detection/engine.js';
import { CsvError } from '../../../shared/platform/csv.js';
import { readReplay } from '../../../shared/detection/replay.js';
import { activeCategories } from '../../../shared/reports/taxonomy.js';
import { MemoryCounterStore } from '../../../shared/detection/memory-store.js';
import { CSV_HEADER, synthesize, toCsvLine } from '../../bench/synthetic.js';
import { dayOf } from '../../../shared/detection/keys.js';
import type { Signal } from '../../../shared/detection/engine.js';
import { main } from '../../../infra/cli/recall.js';

const fixtures = path.join(import.meta.dirname, '../../fixtures/backtest');
const mapping = BacktestMapping.parse(JSON.parse(readFileSync(path.join(fixtures, 'mapping.json'), 'utf8')));
const truth = JSON.parse(readFileSync(path.join(fixtures, 'clusters.json'), 'utf8')) as {
  id: string;
  kind: 'lot-burst' | 'slow-burn' | 'injury';
  sku: string;
  lot?: string;
  category: string;
  onsetDay: number;
  endDay: number;
}[];
const start = dayOf('2025-01-01T00:00:00Z');

describe('backtest', () => {
  it('finds every cluster hidden in the shipped fixture, with the rule that fits it', async () => {
    const signals: Signal[] = [];
    const summary = await runBacktest(readRows(path.join(fixtures, 'complaints.csv'), 'csv'), {
      config: DEFAULT_DETECTION_CONFIG,
      mapping,
      onSignal: (s) => signals.push(s),
    });
    expect(summary.rows).toBe(summary.replayed);
    // Every source value is renamed by the mapping: only taxonomy codes are replayed.
    expect(Object.keys(summary.categories).sort()).toEqual(Object.values(mapping.categories).sort());
    for (const cluster of truth) {
      const found = signals.find((s) => {
        const day = dayOf(s.at) - start;
        if (s.key.category !== cluster.category || day < cluster.onsetDay || day > cluster.endDay + 30) return false;
        if (cluster.kind === 'injury') return s.rule === 'harm' && s.key.lot === cluster.lot;
        if (cluster.kind === 'lot-burst') return s.rule === 'lot-burst' && s.key.sku === cluster.sku;
        return s.rule === 'slow-burn' && s.key.sku === cluster.sku;
      });
      expect(found, `${cluster.id} (${cluster.kind} on ${cluster.sku})`).toBeDefined();
    }
  });

  it('replays only the rows between --from and --to and says what it skipped', async () => {
    const summary = await runBacktest(readRows(path.join(fixtures, 'complaints.csv'), 'csv'), {
      config: DEFAULT_DETECTION_CONFIG,
      mapping,
      from: new Date('2025-06-01T00:00:00Z'),
      to: new Date('2025-06-30T23:59:59Z'),
      onSignal: () => undefined,
    });
    expect(summary.replayed).toBeGreaterThan(0);
    expect(summary.skipped['outside --from/--to']).toBe(summary.rows - summary.replayed);
    expect(summary.firstTime! >= '2025-06-01').toBe(true);
    expect(summary.lastTime! <= '2025-06-31').toBe(true);
  });

  it('reads JSONL, maps values, flags bad rows and out-of-order times', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const file = path.join(dir, 'rows.jsonl');
    const row = (t: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ t, sku: 'A|B', lot: 'L1', plant: 'P', cat: 'glass shard', hurt: 'Y', ...extra });
    writeFileSync(file, [row('2026-01-02T00:00:00Z'), row('2026-01-01T00:00:00Z'), 'not json', row('yesterday'), row('2026-01-03T00:00:00Z', { cat: 'mystery' })].join('\n'));
    const signals: Signal[] = [];
    const summary = await runBacktest(readRows(file, 'jsonl'), {
      config: DEFAULT_DETECTION_CONFIG,
      mapping: BacktestMapping.parse({ time: 't', product: 'sku', lot: 'lot', plant: 'plant', category: 'cat', injury: 'hurt', categories: { 'glass shard': 'foreign_matter' } }),
      onSignal: (s) => signals.push(s),
    });
    // A value the mapping does not rename stays its own category.
    expect(summary).toMatchObject({ rows: 5, replayed: 3, outOfOrder: 1, categories: { foreign_matter: 2, MYSTERY: 1 }, skipped: { 'not JSON': 1, 'no valid t': 1 } });
    // An injury told in a foreign-matter complaint notifies QA (harm-report); it does not open a candidate by itself.
    expect(signals.filter((s) => s.rule === 'harm-report').map((s) => s.key.id)).toContain('lot|A/B|L1|foreign_matter');
    expect(summary.candidates).toBe(0);
  });

  it('keeps any text as a category or a yes/no value, the names of object properties included; one spelling, one category', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const file = path.join(dir, 'rows.jsonl');
    const rows = [
      ['constructor', 'constructor'],
      ['__proto__', '__proto__'],
      ['toString', 'yes'],
      ['Constructor ', '2'],
      ['hasOwnProperty', 'no'],
      ['glass  SHARD', ''],
      ['Injury', 'X'],
      ['Brake', 'no'],
      ['BRAKES', 'no'],
    ];
    writeFileSync(file, rows.map(([cat, hurt], i) => JSON.stringify({ t: `2026-01-0${i + 1}T00:00:00Z`, sku: 'A', lot: 'L1', plant: 'P', cat, hurt })).join('\n'));
    const signals: Signal[] = [];
    const summary = await runBacktest(readRows(file, 'jsonl'), {
      config: DEFAULT_DETECTION_CONFIG,
      mapping: BacktestMapping.parse({ time: 't', product: 'sku', lot: 'lot', plant: 'plant', category: 'cat', injury: 'hurt', categories: { 'Glass shard': 'Foreign_Matter', Brake: 'brakes' } }),
      onSignal: (s) => signals.push(s),
    });
    expect(summary.replayed).toBe(9);
    // Folded as product codes are (NFKC, trimmed, single spaces, upper case); renamed in any spelling, to a name folded too; the taxonomy's own code kept.
    expect(Object.entries(summary.categories).sort()).toEqual([['BRAKES', 2], ['CONSTRUCTOR', 2], ['HASOWNPROPERTY', 1], ['TOSTRING', 1], ['__PROTO__', 1], ['foreign_matter', 1], ['injury', 1]]);
    // `Injury` is the taxonomy's harm category: every report of it is a signal.
    expect(signals.filter((s) => s.rule === 'harm').map((s) => s.key.category)).toEqual(['injury']);
    // Yes: a truthy value or a count above 0; the values seen are listed, own keys whatever they are.
    expect(summary.flags.injury!.yes).toBe(2);
    expect(Object.keys(summary.flags.injury!.values).sort()).toEqual(['', '2', 'X', '__proto__', 'constructor', 'no', 'yes']);
    expect(summary.flags.injury!.values.__proto__).toEqual({ rows: 1, yes: false });
    expect(unclearFlags(summary.flags.injury!).sort()).toEqual(['"X" (1)', '"__proto__" (1)', '"constructor" (1)']);
  });

  /** Runs the CLI with its output captured: exit code, stdout (signals, JSON lines), console output, errors. */
  async function cli(args: string[]) {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const code = await main(['backtest', ...args]);
      return { code, stdout: out.mock.calls.map((c) => String(c[0])).join(''), log: log.mock.calls.map((c) => String(c[0])).join('\n'), err: err.mock.calls.map((c) => String(c[0])).join('\n') };
    } finally {
      out.mockRestore();
      log.mockRestore();
      err.mockRestore();
    }
  }
  const fixtureLines = () => readFileSync(path.join(fixtures, 'complaints.csv'), 'utf8').trim().split('\n');
  const signalsOf = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'signal');

  it('refuses a file newest first, and replays it with --sort exactly as the file sorted oldest first', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const [header, ...rows] = fixtureLines();
    const newest = path.join(dir, 'newest.csv');
    writeFileSync(newest, [header, ...rows.reverse()].join('\n'));
    const refused = await cli(['--input', newest, '--map', path.join(fixtures, 'mapping.json'), '--json']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not oldest first.*give --sort/);
    const sorted = await cli(['--input', newest, '--map', path.join(fixtures, 'mapping.json'), '--json', '--sort']);
    const plain = await cli(['--input', path.join(fixtures, 'complaints.csv'), '--map', path.join(fixtures, 'mapping.json'), '--json']);
    expect(sorted.code).toBe(0);
    expect(signalsOf(sorted.stdout).length).toBeGreaterThan(5);
    expect(signalsOf(sorted.stdout)).toEqual(signalsOf(plain.stdout));
  });

  it('counts a repeated report once, but one id over two categories as two complaints; skips a stray date, keeps a gap in the data', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const file = path.join(dir, 'rows.jsonl');
    const row = (id: string, t: string, cat: string) => JSON.stringify({ id, t: `${t}T00:00:00Z`, sku: 'A', lot: 'L1', plant: 'P', cat, hurt: 'yes' });
    const rows = [
      row('1', '2026-01-01', 'seal'),
      row('1', '2026-01-01', 'seal'), // a redelivered row
      row('1', '2026-01-01', 'taste'), // the same complaint, another component
      row('2', '2026-06-01', 'seal'), // far ahead of the rows around it: a mistyped date
      row('3', '2026-01-15', 'seal'),
      row('4', '2026-09-01', 'seal'), // far ahead, and the next row follows it: a gap in the data
      row('5', '2026-09-02', 'seal'),
      row('6', '2026-01-20', 'seal'), // far behind the latest
    ];
    writeFileSync(file, rows.join('\n'));
    const summary = await runBacktest(readRows(file, 'jsonl'), {
      config: DEFAULT_DETECTION_CONFIG,
      mapping: BacktestMapping.parse({ time: 't', id: 'id', product: 'sku', lot: 'lot', plant: 'plant', category: 'cat', injury: 'hurt' }),
      onSignal: () => {},
    });
    expect(summary).toMatchObject({ rows: 8, replayed: 5, categories: { SEAL: 4, TASTE: 1 }, lastTime: '2026-09-02T00:00:00.000Z' });
    expect(Object.keys(summary.skipped)).toEqual([expect.stringMatching(/^repeated id/), expect.stringMatching(/^dated more than 70 days after the rows around it/), expect.stringMatching(/^more than 70 days earlier/)]);
    expect(Object.values(summary.skippedExamples)).toEqual(['1', '2026-06-01T00:00:00Z', '2026-01-20T00:00:00Z']);
    // Only the rows replayed are counted in the yes/no summary.
    expect(summary.flags.injury).toEqual({ yes: 5, values: { yes: { rows: 5, yes: true } } });
  });

  it('refuses a file mostly out of order however many rows --from/--to leave out, and sorts rows without ids by their content', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const [header, ...rows] = fixtureLines();
    const newest = path.join(dir, 'newest.csv');
    writeFileSync(newest, [header, ...rows.reverse()].join('\n'));
    const refused = await cli(['--input', newest, '--map', path.join(fixtures, 'mapping.json'), '--to', '2025-06-30', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not oldest first/);
    // Without ids, rows of the same time are ordered by what they hold, not by their place in the file.
    const map = path.join(dir, 'mapping.json');
    const { id: _id, ...withoutId } = JSON.parse(readFileSync(path.join(fixtures, 'mapping.json'), 'utf8'));
    writeFileSync(map, JSON.stringify(withoutId));
    const daysOnly = (lines: string[]) => lines.map((l) => l.replace(/T\d\d:\d\d:\d\d\.\d+Z/, ''));
    const forward = path.join(dir, 'forward.csv');
    writeFileSync(forward, [header, ...daysOnly(rows.slice().reverse())].join('\n'));
    writeFileSync(newest, [header, ...daysOnly(rows)].join('\n'));
    const keysOf = (out: string) => signalsOf(out).map((x) => [x.at, x.rule, x.key]);
    const a = await cli(['--input', forward, '--map', map, '--json', '--sort']);
    const b = await cli(['--input', newest, '--map', map, '--json', '--sort']);
    expect(keysOf(a.stdout).length).toBeGreaterThan(5);
    expect(keysOf(b.stdout)).toEqual(keysOf(a.stdout));
  });

  it('sniffs the delimiter, refuses a Western export it would misread as Shift_JIS, reads it as windows-1252, and fails when nothing is replayed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const semicolons = path.join(dir, 'semicolons.csv');
    writeFileSync(semicolons, fixtureLines().map((l) => l.replaceAll(',', ';')).join('\n'));
    const plain = await cli(['--input', path.join(fixtures, 'complaints.csv'), '--map', path.join(fixtures, 'mapping.json'), '--json']);
    const sniffed = await cli(['--input', semicolons, '--map', path.join(fixtures, 'mapping.json'), '--json']);
    expect(sniffed.code).toBe(0);
    expect(signalsOf(sniffed.stdout)).toEqual(signalsOf(plain.stdout));
    // German category names in windows-1252: not UTF-8, and read as Shift_JIS they would be katakana and stray kanji.
    const german = path.join(dir, 'german.csv');
    const map = path.join(dir, 'mapping.json');
    writeFileSync(german, Buffer.from(['case_no,received_at,item_code,lot_no,factory,complaint_type', ...['Räder', 'Airbäge', 'Lüftung', 'ÄÖÜ'].map((c, i) => `c${i},2026-01-0${i + 1},A,L,P,${c}`)].join('\n'), 'latin1'));
    writeFileSync(map, JSON.stringify({ time: 'received_at', id: 'case_no', product: 'item_code', lot: 'lot_no', plant: 'factory', category: 'complaint_type' }));
    const refused = await cli(['--input', german, '--map', map]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/neither UTF-8 nor Japanese Shift_JIS; give --encoding windows-1252/);
    const read = await cli(['--input', german, '--map', map, '--encoding', 'windows-1252', '--json']);
    expect(read.code).toBe(0);
    const summary = read.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'summary');
    // (Upper case for ASCII letters only, as for product codes: full case folding is not one-to-one.)
    expect(Object.keys(summary.categories).sort()).toEqual(['AIRBäGE', 'LüFTUNG', 'RäDER', 'ÄÖÜ'].sort());
    // A spreadsheet given as it is (an .xlsx is a zip archive), or other binary: named as not text.
    const xlsx = path.join(dir, 'complaints.xlsx');
    writeFileSync(xlsx, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0xe3, 0x9f, 0x21, 0x00, 0x0a, 0x61, 0x2c, 0x62]));
    const zipped = await cli(['--input', xlsx, '--map', map, '--format', 'csv']);
    expect(zipped.code).toBe(1);
    expect(zipped.err).toMatch(/zip archive \(an Excel \.xlsx workbook\?\), not text: export the sheet as CSV/);
    const binaryFile = path.join(dir, 'complaints.bin');
    writeFileSync(binaryFile, Buffer.from([0x00, 0x01, 0x02, 0x2c, 0x41, 0x0a, 0x42, 0x2c, 0x43, 0x0a]));
    const binary = await cli(['--input', binaryFile, '--map', map, '--format', 'csv']);
    expect(binary.code).toBe(1);
    expect(binary.err).toMatch(/not text.*Export the sheet as CSV/);
    // Dates this mapping cannot read: every row skipped, an example shown, and a non-zero exit.
    const us = path.join(dir, 'us.csv');
    writeFileSync(us, 'case_no,received_at,item_code,lot_no,factory,complaint_type\nc1,03/15/2026,A,L,P,seal\n');
    const none = await cli(['--input', us, '--map', map]);
    expect(none.code).toBe(1);
    expect(none.log).toMatch(/skipped\s+1 no valid received_at \(e\.g\. "03\/15\/2026"\)/);
    expect(none.log).toMatch(/"dateOrder": "mdy"/);
    expect(none.err).toMatch(/Nothing was replayed/);
    writeFileSync(map, JSON.stringify({ time: 'received_at', product: 'item_code', lot: 'lot_no', plant: 'factory', category: 'complaint_type', dateOrder: 'mdy' }));
    expect((await cli(['--input', us, '--map', map])).code).toBe(0);
  });

  it('names the mapped columns a CSV does not have', async () => {
    const run = runBacktest(readRows(path.join(fixtures, 'complaints.csv'), 'csv'), {
      config: DEFAULT_DETECTION_CONFIG,
      mapping: { ...mapping, lot: 'batch' },
      onSignal: () => undefined,
    });
    await expect(run).rejects.toThrow(/no column "batch"/);
  });

  it('runs from the CLI and explains a bad mapping', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const ok = await main(['backtest', '--input', path.join(fixtures, 'complaints.csv'), '--map', path.join(fixtures, 'mapping.json'), '--json']);
      expect(ok).toBe(0);
      const lines = out.mock.calls.map((c) => String(c[0])).join('').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.at(-1)).toMatchObject({ type: 'summary', rows: truth.length > 0 ? expect.any(Number) : 0 });
      expect(lines.some((l) => l.type === 'signal' && l.rule === 'harm')).toBe(true);

      const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
      writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ time: 'x' }));
      const bad = await main(['backtest', '--input', path.join(fixtures, 'complaints.csv'), '--map', path.join(dir, 'bad.json')]);
      expect(bad).toBe(1);
      expect(String(err.mock.calls[0]?.[0])).toMatch(/product/);
    } finally {
      out.mockRestore();
      log.mockRestore();
      err.mockRestore();
    }
  });

  it('scores the signals against past recalls with --truth (Shift_JIS, semicolons, Japanese headers) and prints QA’s workload', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const map = path.join(dir, 'mapping.json');
    writeFileSync(map, JSON.stringify({ ...JSON.parse(readFileSync(path.join(fixtures, 'mapping.json'), 'utf8')), truth: { product: '品番', category: '区分', date: '日付' } }));
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const args = ['backtest', '--input', path.join(fixtures, 'complaints.csv'), '--map', map, '--truth', path.join(fixtures, 'recalls-cp932.csv'), '--score-from', '2025-01-01'];
      expect(await main([...args, '--json'])).toBe(0);
      const lines = out.mock.calls.map((c) => String(c[0])).join('').trim().split('\n').map((l) => JSON.parse(l));
      const score = lines.find((l) => l.type === 'score');
      // Three recalls, one per injected burst or slow burn, 20 days after it ended: every one caught, ahead of the recall.
      expect(score).toMatchObject({ from: '2025-01-01', detectable: 3, detected: 3, sensitivity: 1 });
      expect(score.medianLeadDays).toBeGreaterThanOrEqual(20);
      expect(score.precision).toBeGreaterThan(0);
      expect(score.workload.meanPerWeek).toBeGreaterThan(0);
      expect(score.workload.worstWeek).toBeGreaterThanOrEqual(1);
      // With --truth the categories learn from the recalls (their records are in the summary); --no-learning raises every signal.
      const summaryOf = () => out.mock.calls.map((c) => String(c[0])).join('').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'summary');
      expect(summaryOf().trackRecords.length).toBeGreaterThan(0);
      out.mockClear();
      expect(await main([...args, '--json', '--no-learning'])).toBe(0);
      expect(summaryOf().trackRecords).toBeUndefined();
      expect(summaryOf().notRaised).toEqual({});
      out.mockClear();
      expect(await main(args)).toBe(0);
      const human = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(human).toMatch(/sensitivity\s+1\.000\s+\(3 of 3 caught/);
      expect(human).toMatch(/QA workload\s+\d+\.\d\d new candidate incidents a week on average, \d+ in the worst week/);
      // A truth file without the mapped columns is named, with the columns it has.
      writeFileSync(path.join(dir, 'bad.csv'), 'sku,when\nA,2025-01-01\n');
      expect(await main([...args.slice(0, 5), '--truth', path.join(dir, 'bad.csv')])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/no column "品番", "区分", "日付" \(its columns: sku, when\)/);
    } finally {
      out.mockRestore();
      log.mockRestore();
      err.mockRestore();
    }
  });

  it('learns from past recalls as the replay reaches each one: a category whose signals never became a recall is held back', async () => {
    // Every 40 days a burst of four reports on a new lot of a new product: NOISE bursts are
    // never recalled; SEAL bursts, 20 days later, each are, 30 days after the burst. (A backtest
    // keeps categories as their upper-case key code, as products: `seal` and `SEAL` are one.)
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const file = path.join(dir, 'rows.jsonl');
    const day0 = Date.parse('2020-01-01T00:00:00Z');
    const rows: string[] = [];
    const recalls: { sku: string; category: string; day: number }[] = [];
    for (let i = 0; i < 30; i++) {
      for (const [category, offset] of [['NOISE', 0], ['SEAL', 20]] as const) {
        const day = i * 40 + offset;
        for (let h = 1; h <= 4; h++) rows.push(JSON.stringify({ t: new Date(day0 + day * 86_400_000 + h * 3_600_000).toISOString(), sku: `${category}-${i}`, lot: `L-${i}`, plant: 'P1', cat: category }));
        if (category === 'SEAL') recalls.push({ sku: `SEAL-${i}`, category, day: dayOf(day0) + day + 30 });
      }
    }
    writeFileSync(file, rows.join('\n'));
    const replay = async (outcomes?: typeof recalls) => {
      const seen: { s: Signal; raised: boolean; reason?: string }[] = [];
      const summary = await runBacktest(readRows(file, 'jsonl'), {
        config: DEFAULT_DETECTION_CONFIG,
        mapping: BacktestMapping.parse({ time: 't', product: 'sku', lot: 'lot', plant: 'plant', category: 'cat' }),
        ...(outcomes ? { outcomes } : {}),
        onSignal: (s, a) => seen.push({ s, raised: a.raised, ...(a.reason ? { reason: a.reason } : {}) }),
      });
      return { summary, bursts: seen.filter((x) => x.s.rule === 'lot-burst') };
    };
    const learnt = await replay(recalls);
    const noise = learnt.bursts.filter((x) => x.s.key.category === 'NOISE');
    const seal = learnt.bursts.filter((x) => x.s.key.category === 'SEAL');
    expect(noise.length).toBeGreaterThanOrEqual(30);
    // Every seal burst is raised; noise bursts are raised until 15 of them are judged misses (a year after each), then held.
    expect(seal.every((x) => x.raised)).toBe(true);
    // (After 5 misses a product raises one candidate only: a burst's later signals join it.)
    const heldFrom = dayOf(day0) + 14 * 40 + 366;
    const firstOfEach = noise.filter((x, i) => noise.findIndex((y) => y.s.key.sku === x.s.key.sku) === i);
    expect(firstOfEach).toHaveLength(30);
    for (const x of firstOfEach) expect({ day: dayOf(x.s.at), raised: x.raised }).toEqual({ day: dayOf(x.s.at), raised: dayOf(x.s.at) < heldFrom });
    expect(noise.filter((x) => dayOf(x.s.at) >= heldFrom).every((x) => x.reason === 'held')).toBe(true);
    expect(noise.filter((x) => dayOf(x.s.at) < heldFrom && !x.raised).every((x) => x.reason === 'raised-once')).toBe(true);
    expect(learnt.summary.notRaised.held).toBeGreaterThan(0);
    const records = Object.fromEntries(learnt.summary.trackRecords!.map((r) => [r.category, r]));
    expect(records.NOISE).toMatchObject({ hits: 0, standing: 'held' });
    expect(records.NOISE!.misses).toBeGreaterThanOrEqual(15);
    // The last seal recall falls after the replay's last row: still pending, as it would be on that day.
    expect(records.SEAL).toMatchObject({ hits: 29, misses: 0, standing: 'normal' });
    // Without past recalls nothing is learnt: every burst is raised.
    const plain = await replay();
    expect(plain.bursts.every((x) => x.raised)).toBe(true);
    expect(plain.summary.trackRecords).toBeUndefined();
  });

  it('reads a time without a zone as UTC wherever it runs (Excel in Japan writes 2024/03/15), and refuses days that do not exist', () => {
    const iso = (v: string) => new Date(parseSourceTime(v)).toISOString();
    expect(iso('2024/03/15')).toBe('2024-03-15T00:00:00.000Z');
    expect(iso('2024-3-5 9:07')).toBe('2024-03-05T09:07:00.000Z');
    expect(iso('2024-03-15T10:00:00+09:00')).toBe('2024-03-15T01:00:00.000Z');
    expect(iso('2025-01-01T00:19:45.884Z')).toBe('2025-01-01T00:19:45.884Z');
    expect(iso('2024-02-29T23:30:00-02:00')).toBe('2024-03-01T01:30:00.000Z');
    // NHTSA's flat files write dates as YYYYMMDD.
    expect(iso('20240315')).toBe('2024-03-15T00:00:00.000Z');
    expect(iso('2024-03-05 09:07:00.123456')).toBe('2024-03-05T09:07:00.123Z');
    expect(iso('2024-03-05 09:07:00 UTC')).toBe('2024-03-05T09:07:00.000Z');
    expect(iso('2024-03-15T10:00-0500')).toBe('2024-03-15T15:00:00.000Z');
    // A year-last date only as the mapping's dateOrder says: never guessed.
    expect(new Date(parseSourceTime('03/05/2024 9:07', 'mdy')).toISOString()).toBe('2024-03-05T09:07:00.000Z');
    expect(new Date(parseSourceTime('05.03.2024', 'dmy')).toISOString()).toBe('2024-03-05T00:00:00.000Z');
    expect(parseSourceTime('13/05/2024', 'mdy')).toBeNaN();
    expect(iso(' 20240229 ')).toBe('2024-02-29T00:00:00.000Z');
    // The two forms read without a regular expression give what the general reader gives.
    expect(iso('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
    expect(iso('2024-12-31T23:59:59.999Z')).toBe('2024-12-31T23:59:59.999Z');
    for (const bad of ['2023-02-29', '1899-12-31', '2024-00-10', '2024-03-15T24:00:00.000Z', '2024-03-15T09:60:00.000Z', '2024-03-15T09:07:60.000Z', '2024-0a-15', '2024-03-15T09:07:00.12xZ']) {
      expect(parseSourceTime(bad), bad).toBeNaN();
    }
    // Close to them but not them: read as the general reader reads them.
    expect(iso('2024-03-15T09:07:00.123+0000')).toBe('2024-03-15T09:07:00.123Z');
    expect(iso('2024-03-15 09:07:00.123Z')).toBe('2024-03-15T09:07:00.123Z');
    // Refused with a zone too: Date.parse alone would roll 2024-02-30 over into March.
    const refused = ['2024-02-30', '2024/13/01', 'yesterday', '', '15/03/2024', '2024-02-30T00:00:00Z', '2023-02-29T10:00:00+09:00', '20240230', '20241301', '2024031'];
    // Day-first with a zone was guessed month-first by Date.parse; a placeholder year; an hour that rolls over.
    refused.push('05.03.2024 09:07 +01:00', '05/03/2024 09:07 +0100', '0001-01-01', '2024-03-05T24:00:00Z', '2024-03-05 09:60');
    for (const bad of refused) {
      expect(parseSourceTime(bad), bad).toBeNaN();
    }
  });
});

describe('the backtest in two stages', () => {
  it('raises what the live engine raises complaint by complaint, in one thread or with the reading in its own, however the reading numbers products and reuses lots', async () => {
    // Two years: lots fall out of the reading's numbering (and their numbers are reused) many times over.
    const world = synthesize({ seed: 21, products: 40, days: 700, meanRate: 0.4, lotBursts: 8, slowBurns: 4, injuries: 3 });
    // Model years of ten models (M3-2021, M3-2022, …): the family rule pools them.
    const modelYear = (sku: string) => `M${Number(sku.replace(/\D/g, '')) % 10}-${2020 + (Number(sku.replace(/\D/g, '')) % 4)}`;
    const rows = world.rows.map((r) => ({ ...r, sku: modelYear(r.sku) }));
    const store = new MemoryCounterStore();
    const live: Signal[] = [];
    for (const o of rows) live.push(...(await observe({ ...o, categoryIsHarm: o.category === 'injury' }, store, DEFAULT_DETECTION_CONFIG)).signals);
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const file = path.join(dir, 'history.csv');
    // Lot codes as a desk might type them: one lot in two widths and cases is one lot.
    const typed = (lot: string, i: number) => (i % 3 === 0 ? lot.toLowerCase() : i % 3 === 1 ? lot.normalize('NFKC').replace(/[A-Z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)) : lot);
    writeFileSync(file, [CSV_HEADER, ...rows.map((r, i) => toCsvLine({ ...r, lot: typed(r.lot, i) }))].join('\n'));
    const options = { config: DEFAULT_DETECTION_CONFIG, mapping: BacktestMapping.parse({ time: 'received_at', id: 'case_no', product: 'item_code', lot: 'lot_no', plant: 'factory', category: 'complaint_type', injury: 'injured', illness: 'ill' }) };
    const shown = (signals: readonly Signal[]) => signals.map((s) => ({ rule: s.rule, key: s.key, at: s.at, reportId: s.reportId, evidence: s.evidence }));
    const run = async (how: (onSignal: (s: Signal) => void) => Promise<BacktestSummary>) => {
      const signals: Signal[] = [];
      const { seconds: _s, rowsPerSecond: _r, ...summary } = await how((s) => signals.push(s));
      return { signals: shown(signals), summary };
    };
    const oneThread = await run((onSignal) => runBacktest(readRows(file, 'csv'), { ...options, onSignal }));
    // The product and plant lists restart every 50 (a file with a million product codes restarts them too).
    const restarting = await run((onSignal) => runBacktest(readRows(file, 'csv'), { ...options, onSignal, numbered: 50 }));
    const twoThreads = await run((onSignal) => runBacktestFile(file, 'csv', {}, { ...options, onSignal, threads: true }));
    expect(live.length).toBeGreaterThan(20);
    expect(new Set(live.map((s) => s.rule))).toEqual(new Set(['harm', 'lot-burst', 'slow-burn', 'family-burn']));
    expect(oneThread.signals).toEqual(shown(live));
    expect(restarting).toEqual(oneThread);
    expect(twoThreads).toEqual(oneThread);
    expect(oneThread.summary).toMatchObject({ rows: rows.length, replayed: rows.length });
  });

  it('stops with the reading thread\'s own error, having replayed what it read before it as one thread does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backtest-'));
    const [header, ...rows] = readFileSync(path.join(fixtures, 'complaints.csv'), 'utf8').trim().split('\n');
    const newest = path.join(dir, 'newest.csv');
    writeFileSync(newest, [header, ...rows.reverse()].join('\n'));
    const replayed: Record<string, string[]> = {};
    for (const threads of [true, false]) {
      const seen: string[] = (replayed[String(threads)] = []);
      const run = runBacktestFile(newest, 'csv', {}, { config: DEFAULT_DETECTION_CONFIG, mapping, threads, onSignal: () => {}, onObservation: (o) => seen.push(o.reportId) });
      await expect(run).rejects.toThrow(BacktestInputError);
      await expect(run).rejects.toThrow(/not oldest first/);
    }
    expect(replayed.true!.length).toBeGreaterThan(0);
    expect(replayed.true).toEqual(replayed.false);
    await expect(runBacktestFile(path.join(dir, 'missing.csv'), 'csv', {}, { config: DEFAULT_DETECTION_CONFIG, mapping, threads: true, onSignal: () => {} })).rejects.toThrow(/ENOENT|no such file/);
    // The parser's own error, with its line, from either thread.
    const open = path.join(dir, 'open-quote.csv');
    writeFileSync(open, `${header}\n${rows[0]}\nx,"never closed`);
    for (const threads of [true, false]) {
      const error = await runBacktestFile(open, 'csv', {}, { config: DEFAULT_DETECTION_CONFIG, mapping, threads, onSignal: () => {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CsvError);
      expect(error).toMatchObject({ line: 3, message: expect.stringMatching(/^line 3: a quoted field is not closed/) });
    }
  });
});

describe('the reading stage', () => {
  it('hands over every complaint, in order, when one row read replays two (a row held ahead, then itself) at a batch\'s edge', async () => {
    const header = ['id', 't', 'sku', 'lot', 'plant', 'cat'];
    const row = (id: string, t: string) => [id, t, 'A', `L${id}`, 'P', 'seal'];
    // Row 3 is far ahead of row 2; row 4 confirms the file moved on: row 4 replays row 3, then itself.
    const rows = [header, row('1', '2026-01-01'), row('2', '2026-01-02'), row('3', '2026-09-01'), row('4', '2026-09-02'), row('5', '2026-09-03')];
    for (const batchRows of [1, 2, 3, 4]) {
      const ids: string[] = [];
      const summary = await readReplay(
        (async function* () {
          yield rows;
        })(),
        { mapping: BacktestMapping.parse({ time: 't', id: 'id', product: 'sku', lot: 'lot', plant: 'plant', category: 'cat' }), lotRetainDays: 168, idRetainDays: 800, batchRows },
        activeCategories(),
        (batch) => {
          expect(batch.n).toBeLessThanOrEqual(batchRows + 1);
          ids.push(...batch.ids.slice(0, batch.n));
        },
      );
      expect(ids, `batches of ${batchRows}`).toEqual(['1', '2', '3', '4', '5']);
      expect(summary.replayed).toBe(5);
    }
  });
});
