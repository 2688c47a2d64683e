import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { backtestCommand } from './backtest.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, request, type ApiOptions } from './api.js';
import { table } from './table.js';

/**
 * `npx recall <group> <command> [options]`: the command-line client of the recall API.
 * The API URL and token come from --api-url / --token or RECALL_API_URL / RECALL_TOKEN
 * (`npm start` prints both). Tables for people; --json for scripts.
 */
type Options = ParseArgsConfig['options'];
export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  run(args: { values: Record<string, any>; positionals: string[]; api: ApiOptions; json: boolean }): Promise<void>;
}

const GLOBAL: Options = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const stringOptions = (...names: string[]): Options => Object.fromEntries(names.map((k) => [k, { type: 'string' as const }]));

/** The query string of a list command: the given flags that were set, renamed where the API differs. */
function queryOf(values: Record<string, unknown>, flags: readonly string[], rename: Record<string, string> = {}): URLSearchParams {
  const query = new URLSearchParams();
  for (const flag of flags) {
    const value = values[flag];
    // An empty value is sent too: the API says what is wrong with it.
    if (typeof value === 'string') query.set(rename[flag] ?? flag, value);
  }
  return query;
}

const print = (json: boolean, value: unknown, human: () => string) => console.log(json ? JSON.stringify(value, null, 2) : human());

const clockRows = (report: any) =>
  (report.clocks ?? []).map((c: any) => ({ clock: c.id, state: c.state, deadline: c.deadline, owner: c.owner, completed: c.completedAt ?? '' }));

function describeReport(report: any): string {
  const lines = [
    `Report ${report.id}  (${report.clockState})`,
    `  product   ${report.product.sku} ${report.product.name}  lot ${report.lotCode}  plant ${report.plant}`,
    `  defect    ${report.defect.category}: ${report.defect.description}`,
    `  harm      injury=${report.harm.injury} illness=${report.harm.illness} medical=${report.harm.medicalAttention}`,
    `  bought    ${report.purchase.storeId} (${report.purchase.region})  received ${report.receivedAt} via ${report.channel} by ${report.receivingAgent}`,
  ];
  if (report.contact) lines.push(`  contact   ${report.contact.name} ${report.contact.phone ?? ''} ${report.contact.email ?? ''}`.trimEnd());
  if (report.survey) lines.push(`  survey    ${report.survey.satisfaction}/5 ${report.survey.comment ?? ''}`.trimEnd());
  lines.push('', table(clockRows(report), ['clock', 'state', 'deadline', 'owner', 'completed']));
  if (report.timeline) {
    lines.push('', table(report.timeline.map((e: any) => ({ at: e.at, event: e.type, by: e.by, details: JSON.stringify(e.details ?? {}) })), ['at', 'event', 'by', 'details'], 60));
  }
  return lines.join('\n');
}

/** Builds a case record from flags, for quick entries without a JSON file. */
function reportFromFlags(v: Record<string, any>) {
  const missing = ['sku', 'name', 'lot', 'plant', 'store', 'region', 'category', 'description', 'contact-name'].filter((k) => !v[k]);
  if (missing.length) throw new Error(`Missing --${missing.join(', --')} (or give --file report.json)`);
  return {
    product: { sku: v.sku, name: v.name, ...(v.gtin ? { gtin: v.gtin } : {}) },
    lotCode: v.lot,
    ...(v['production-date'] ? { productionDate: v['production-date'] } : {}),
    ...(v['best-before'] ? { bestBeforeDate: v['best-before'] } : {}),
    plant: v.plant,
    purchase: { storeId: v.store, region: v.region, ...(v['purchase-date'] ? { date: v['purchase-date'] } : {}) },
    defect: { category: v.category, description: v.description },
    harm: { injury: !!v.injury, illness: !!v.illness, medicalAttention: !!v['medical-attention'] },
    sampleCollected: !!v['sample-collected'],
    channel: v.channel ?? 'phone',
    receivedAt: v['received-at'] ?? new Date().toISOString(),
    contact: {
      name: v['contact-name'],
      ...(v['contact-phone'] ? { phone: v['contact-phone'] } : {}),
      ...(v['contact-email'] ? { email: v['contact-email'] } : {}),
    },
  };
}

const commands: Record<string, Command> = {
  health: {
    summary: 'check that the API answers',
    usage: 'recall health',
    options: {},
    async run({ api, json }) {
      const { body } = await request(api, 'GET', '/health');
      print(json, body, () => `ok: ${api.apiUrl}`);
    },
  },
  'report submit': {
    summary: 'file a case record from a JSON file or from flags',
    usage:
      'recall report submit --file report.json | --sku S --name N --lot L --plant P --store ID --region R --category C --description D --contact-name N [--contact-phone P] [--contact-email E] [--production-date D] [--best-before D] [--injury] [--illness] [--idempotency-key K]',
    options: {
      ...stringOptions('file', 'sku', 'gtin', 'name', 'lot', 'plant', 'store', 'region', 'category', 'description', 'channel', 'received-at', 'production-date', 'best-before', 'purchase-date', 'contact-name', 'contact-phone', 'contact-email', 'idempotency-key'),
      ...Object.fromEntries(['injury', 'illness', 'medical-attention', 'sample-collected'].map((k) => [k, { type: 'boolean' as const }])),
    },
    async run({ values, api, json }) {
      const body = values.file ? JSON.parse(readFileSync(values.file, 'utf8')) : reportFromFlags(values);
      // A key per submission: rerunning after a network failure would need the same one.
      const key = values['idempotency-key'] ?? `cli-${randomUUID()}`;
      const { body: report, headers } = await request(api, 'POST', '/reports', body, { 'idempotency-key': key });
      print(json, report, () =>
        [`Filed report ${report.id}${headers.get('idempotent-replayed') ? ' (already filed with this key)' : ''}`, '', table(clockRows(report), ['clock', 'state', 'deadline', 'owner'])].join('\n'),
      );
    },
  },
  'report show': {
    summary: 'show one case record with its clocks and timeline',
    usage: 'recall report show ID',
    options: {},
    async run({ positionals, api, json }) {
      const id = positionals[0];
      if (!id) throw new Error('Give the report id: recall report show ID');
      const { body } = await request(api, 'GET', `/reports/${encodeURIComponent(id)}`);
      print(json, body, () => describeReport(body));
    },
  },
  'report list': {
    summary: 'list case records, newest first',
    usage: 'recall report list [--sku S] [--lot L] [--category C] [--store ID] [--region R] [--from T] [--to T] [--clock-state open|overdue|closed] [--limit N] [--cursor C]',
    options: stringOptions('sku', 'lot', 'category', 'store', 'region', 'from', 'to', 'clock-state', 'limit', 'cursor'),
    async run({ values, api, json }) {
      const query = queryOf(values, ['sku', 'lot', 'category', 'store', 'region', 'from', 'to', 'clock-state', 'limit', 'cursor'], {
        store: 'storeId',
        from: 'receivedFrom',
        to: 'receivedTo',
        'clock-state': 'clockState',
      });
      const { body } = await request(api, 'GET', `/reports?${query}`);
      print(json, body, () => {
        const rows = body.items.map((r: any) => ({
          id: r.id,
          received: r.receivedAt,
          sku: r.product.sku,
          lot: r.lotCode,
          category: r.defect.category,
          store: r.purchase.storeId,
          clocks: r.clockState,
        }));
        const more = body.cursor ? `\nmore: --cursor ${body.cursor}` : '';
        return table(rows, ['id', 'received', 'sku', 'lot', 'category', 'store', 'clocks']) + more;
      });
    },
  },
  'report milestone': {
    summary: 'record a milestone: handoff, qa, reply, or a landing point id',
    usage: 'recall report milestone ID --clock handoff|qa|reply|lp-... [--at T] [--note N]',
    options: { clock: { type: 'string' }, at: { type: 'string' }, note: { type: 'string' } },
    async run({ positionals, values, api, json }) {
      const body = { clock: values.clock, ...(values.at ? { at: values.at } : {}), ...(values.note ? { note: values.note } : {}) };
      const { body: report } = await request(api, 'POST', `/reports/${encodeURIComponent(positionals[0] ?? '')}/milestones`, body);
      print(json, report, () => table(clockRows(report), ['clock', 'state', 'deadline', 'owner', 'completed']));
    },
  },
  'report landing-point': {
    summary: 'add a landing point: a promise with owner and due date',
    usage: 'recall report landing-point ID --promise P --owner O --due T',
    options: { promise: { type: 'string' }, owner: { type: 'string' }, due: { type: 'string' } },
    async run({ positionals, values, api, json }) {
      const body = { promise: values.promise, owner: values.owner, dueAt: values.due };
      const { body: report } = await request(api, 'POST', `/reports/${encodeURIComponent(positionals[0] ?? '')}/landing-points`, body);
      print(json, report, () => table(clockRows(report), ['clock', 'state', 'deadline', 'owner', 'completed']));
    },
  },
  clusters: {
    summary: 'the busiest cluster keys over a window, with counts and the latest statistic',
    usage: 'recall clusters [--window 7|30|90|365] [--kind lot|product|plant] [--limit N]',
    options: stringOptions('window', 'kind', 'limit'),
    async run({ values, api, json }) {
      const query = queryOf(values, ['window', 'kind', 'limit']);
      const { body } = await request(api, 'GET', `/clusters?${query}`);
      print(json, body, () =>
        table(
          body.items.map((c: any) => ({
            key: c.key.id,
            [`count ${body.window}d`]: c.count,
            '7d': c.counts['7'],
            '30d': c.counts['30'],
            '365d': c.counts['365'],
            last: c.lastReportAt,
            signal: c.latestSignal ? `${c.latestSignal.rule} ${c.latestSignal.evidence.pValue ?? c.latestSignal.evidence.prr ?? ''}` : '',
          })),
          ['key', `count ${body.window}d`, '7d', '30d', '365d', 'last', 'signal'],
          60,
        ),
      );
    },
  },
  'incidents list': {
    summary: 'incidents by status (candidates from detection) with evidence',
    usage: 'recall incidents list [--status candidate] [--limit N] [--cursor C]',
    options: stringOptions('status', 'limit', 'cursor'),
    async run({ values, api, json }) {
      const query = queryOf(values, ['status', 'limit', 'cursor']);
      const { body } = await request(api, 'GET', `/incidents?${query}`);
      print(json, body, () => {
        const rows = body.items.map((i: any) => ({
          id: i.id,
          opened: i.openedAt,
          key: i.key.id,
          rule: i.openedBy.rule,
          reports: i.reportCount,
          evidence: JSON.stringify(i.openedBy.evidence),
        }));
        return table(rows, ['id', 'opened', 'key', 'rule', 'reports', 'evidence'], 70) + (body.cursor ? `\nmore: --cursor ${body.cursor}` : '');
      });
    },
  },
  backtest: backtestCommand,
  'report survey': {
    summary: "record the customer's survey (1-5) after the reply",
    usage: 'recall report survey ID --satisfaction 1..5 [--comment C]',
    options: { satisfaction: { type: 'string' }, comment: { type: 'string' } },
    async run({ positionals, values, api, json }) {
      const body = { satisfaction: Number(values.satisfaction), ...(values.comment ? { comment: values.comment } : {}) };
      const { body: report } = await request(api, 'POST', `/reports/${encodeURIComponent(positionals[0] ?? '')}/survey`, body);
      print(json, report, () => `Survey recorded on ${report.id}: ${report.survey.satisfaction}/5`);
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    'Usage: recall <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command: --api-url URL (RECALL_API_URL, default http://localhost:3000),',
    '  --token JWT (RECALL_TOKEN), --json, --help',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const name = two in commands ? two : argv[0] ?? '';
  const command = commands[name];
  if (!command) {
    console.log(help());
    return name && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  const rest = argv.slice(name.split(' ').length);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\nUsage: ${command.usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(`Usage: ${command.usage}`);
    return 0;
  }
  const api: ApiOptions = {
    apiUrl: (values['api-url'] as string) ?? process.env.RECALL_API_URL ?? 'http://localhost:3000',
    ...((values.token as string) ?? process.env.RECALL_TOKEN ? { token: (values.token as string) ?? process.env.RECALL_TOKEN } : {}),
  };
  try {
    await command.run({ values, positionals, api, json: !!values.json });
    return 0;
  } catch (error) {
    console.error(error instanceof ApiError ? error.describe() : (error as Error).message);
    return 1;
  }
}
