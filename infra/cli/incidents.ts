import { existsSync, readFileSync } from 'node:fs';
import type { IncidentAction, IncidentOpen, ScopeInput } from '../../shared/incidents/schema.js';
import { request, type ApiOptions } from './api.js';
import { LIST_FLAGS, print, printList, queryOf, readList, replyBody, requireId, stringOptions, UsageError, type Command, type Options } from './common.js';
import { table } from './table.js';
import type { EffectivenessRead, IncidentAt, IncidentListItem, IncidentRead, RepliesSent } from './types.js';
import type { IncidentView } from '../../shared/incidents/use-cases.js';
import type { StatusReport } from '../../shared/incidents/report.js';

/**
 * `recall incidents …`: quality assurance and executives run a recall. Each action reads the
 * incident first and acts on the version it shows (or on `--version N`), so a change by
 * someone else in between is a clear 409, never a silent overwrite.
 */
type Values = Record<string, any>;
type ActionBody = Omit<IncidentAction, 'expectedVersion'>;

const SCOPE_OPTIONS: Options = {
  product: { type: 'string', multiple: true },
  lot: { type: 'string', multiple: true },
  region: { type: 'string', multiple: true },
  store: { type: 'string', multiple: true },
  from: { type: 'string' },
  to: { type: 'string' },
};
const SCOPE_USAGE = '[--product SKU=NAME]... [--lot SKU=LOT]... [--region R]... [--store ID]... [--from YYYY-MM-DD --to YYYY-MM-DD]';
const DECLARATION_OPTIONS: Options = { ...stringOptions('title', 'class', 'hazard', 'qa-owner'), ...SCOPE_OPTIONS };

function pairs(values: string[] | undefined, flag: string, left: string, right: string) {
  return (values ?? []).map((v) => {
    const at = v.indexOf('=');
    if (at < 1 || at === v.length - 1) throw new UsageError(`--${flag} takes ${left}=${right}, e.g. --${flag} CHOC-100=${right === 'NAME' ? '"Almond chocolate"' : 'L1103'}; got "${v}"`);
    return [v.slice(0, at), v.slice(at + 1)] as const;
  });
}

/** The scope from flags; undefined when no scope flag was given. */
function scopeFrom(v: Values): ScopeInput | undefined {
  const products = pairs(v.product, 'product', 'SKU', 'NAME').map(([sku, name]) => ({ sku, name }));
  const lots = pairs(v.lot, 'lot', 'SKU', 'LOT').map(([sku, lotCode]) => ({ sku, lotCode }));
  if ((v.from && !v.to) || (!v.from && v.to)) throw new UsageError('Give the production-date range as both --from and --to.');
  const scope = {
    ...(products.length ? { products } : {}),
    ...(lots.length ? { lots } : {}),
    ...(v.from ? { productionDates: { from: v.from, to: v.to } } : {}),
    ...(v.region?.length ? { regions: v.region } : {}),
    ...(v.store?.length ? { stores: v.store } : {}),
  };
  return Object.keys(scope).length ? scope : undefined;
}

function declaration(v: Values, required: boolean) {
  const missing = ['title', 'class', 'hazard'].filter((k) => !v[k]);
  if (required && missing.length) throw new UsageError(`Missing --${missing.join(', --')}`);
  const scope = scopeFrom(v);
  return {
    ...(v.title ? { title: v.title } : {}),
    ...(v.class ? { hazardClass: v.class } : {}),
    ...(v.hazard ? { hazard: v.hazard } : {}),
    ...(scope ? { scope } : {}),
    ...(v['qa-owner'] ? { qaOwner: v['qa-owner'] } : {}),
  };
}

function readText(v: Values): string {
  if (v.file) {
    if (!existsSync(v.file)) throw new UsageError(`File not found: ${v.file}`);
    return readFileSync(v.file, 'utf8');
  }
  if (v.text) return v.text;
  throw new UsageError('Give the text with --file FILE or --text "..."');
}

const get = async (api: ApiOptions, id: string) => (await request<IncidentRead>(api, 'GET', `/incidents/${encodeURIComponent(id)}`)).body;

/** Runs one action on the version read just before (or the one given with --version). */
async function act(api: ApiOptions, id: string, body: ActionBody, version?: string) {
  const expectedVersion = version ? Number(version) : (await get(api, id)).version;
  if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw new UsageError(`--version must be a positive integer, not ${version}`);
  return (await request<IncidentView>(api, 'POST', `/incidents/${encodeURIComponent(id)}/actions`, { ...body, expectedVersion })).body;
}

function checklistTable(incident: IncidentView, gate?: string): string {
  const items = incident.checklist.filter((i) => !gate || i.gate === gate);
  return table(items.map((i) => ({ item: i.id, principle: i.principle, gate: i.gate, status: i.status, 'missing / evidence': i.missing ?? JSON.stringify(i.evidence ?? {}) })), ['item', 'principle', 'gate', 'status', 'missing / evidence'], 90);
}

function summary(incident: IncidentView): string {
  const lines = [
    `Incident ${incident.id}  ${incident.status} (version ${incident.version})${incident.hazardClass ? `  class ${incident.hazardClass}` : ''}`,
    ...(incident.title ? [`  title     ${incident.title}`] : []),
    ...(incident.hazard ? [`  hazard    ${incident.hazard}`] : []),
    `  keys      ${Object.keys(incident.keys).join(', ') || '-'}`,
    `  reports   ${incident.linkedReports ?? incident.reportCount}${incident.repliesOwed?.length ? ` (${incident.repliesOwed.length} owed the 14-day reply)` : ''}`,
    ...(incident.sponsor ? [`  sponsor   ${incident.sponsor.by} since ${incident.sponsor.at}`] : []),
    ...(incident.disclosure ? [`  notice    ${incident.disclosure.mode}, sha256 ${incident.disclosure.textHash}${incident.approval && incident.approval.textHash === incident.disclosure.textHash ? `, approved by ${incident.approval.by}` : ', not approved'}`] : []),
  ];
  if (incident.deadlines?.length) {
    lines.push('', table(incident.deadlines.map((d) => ({ deadline: d.id, due: d.due, state: d.state, met: d.metAt ?? '', acknowledged: d.acknowledged?.reason ?? '' })), ['deadline', 'due', 'state', 'met', 'acknowledged']));
  }
  lines.push('', checklistTable(incident));
  if (incident.nextActions?.length) lines.push('', `next: ${incident.nextActions.join(', ')}   (runbook: ${incident.runbook})`);
  return lines.join('\n');
}

/** An action command: positional ID, its own flags (those in `required` checked before any request), a body built from them. */
function action(name: string, summaryText: string, usage: string, options: Options, body: (v: Values) => ActionBody, group: Command['group'] = 'qa', required: string[] = []): [string, Command] {
  return [
    `incidents ${name}`,
    {
      summary: summaryText,
      usage: `recall incidents ${name} ID ${usage} [--version N]`.replace(/\s+/g, ' ').trim(),
      options: { ...options, version: { type: 'string' } },
      group,
      async run({ positionals, values, api, json }) {
        const id = requireId(positionals, this.usage, 'incident id');
        const missing = required.filter((flag) => values[flag] === undefined || (Array.isArray(values[flag]) ? values[flag].length === 0 : String(values[flag]).trim() === ''));
        if (missing.length) throw new UsageError(`Missing --${missing.join(', --')}`);
        const incident = await act(api, id, body(values), values.version);
        print(json, incident, () => summary(incident));
      },
    },
  ];
}

export const incidentCommands: Record<string, Command> = {
  'incidents list': {
    summary: 'incidents by status and class, newest first (default: candidates)',
    usage: 'recall incidents list [--status candidate|declared|contained|disclosed|remediating|closed|dismissed|merged] [--class I|II|III] [--limit N] [--cursor C] [--all] [--csv]',
    options: { ...stringOptions('status', 'class'), ...LIST_FLAGS },
    group: 'qa',
    example: 'recall incidents list --status declared --class I --all',
    async run({ values, api, json }) {
      const query = queryOf(values, ['status', 'class', 'limit', 'cursor'], { class: 'hazardClass' });
      const body = await readList<IncidentListItem>(api, (q) => `/incidents?${q}`, query, !!values.all);
      const rows = body.items.map((i) => ({
        id: i.id,
        status: i.status,
        class: i.hazardClass ?? '',
        opened: i.openedAt,
        title: i.title ?? `${i.openedBy?.rule ?? ''} on ${i.key?.id ?? ''}`,
        keys: Object.keys(i.keys ?? {}).length,
        reports: i.reportCount,
      }));
      printList(json, !!values.csv, body, rows, ['id', 'status', 'class', 'opened', 'title', 'keys', 'reports'], 70);
    },
  },
  'incidents show': {
    summary: 'one incident: checklists with evidence, deadlines, next actions, timeline',
    usage: 'recall incidents show ID [--as-of-version N]',
    options: stringOptions('as-of-version'),
    group: 'qa',
    async run({ positionals, values, api, json }) {
      const id = requireId(positionals, this.usage, 'incident id');
      const query = values['as-of-version'] ? `?asOfVersion=${encodeURIComponent(values['as-of-version'])}` : '';
      const { body } = await request<IncidentRead | IncidentAt>(api, 'GET', `/incidents/${encodeURIComponent(id)}${query}`);
      print(json, body, () => {
        if ('state' in body) return `Incident ${body.id} as of version ${body.version} (${body.asOf}; now at ${body.currentVersion}):\n${JSON.stringify(body.state, null, 2)}`;
        const evidence = Object.values(body.keys).map((k) => ({ key: k.key.id, rules: Object.keys(k.evidence).join(', ') }));
        // Each signal's evidence in the words QA judges it by (every rule writes an explanation; the figures are in --json).
        const why = Object.values(body.keys).flatMap((k) =>
          Object.entries(k.evidence).map(([rule, s]) => `  ${rule} on ${k.key.id}: ${typeof s!.evidence.explanation === 'string' ? s!.evidence.explanation : JSON.stringify(s!.evidence)}`),
        );
        const timeline = table(body.timeline.map((e) => ({ v: e.version, at: e.at, by: e.by, action: e.action, changed: Object.keys(e.changes).join(', '), note: e.note ?? '' })), ['v', 'at', 'by', 'action', 'changed', 'note'], 60);
        return [summary(body), '', table(evidence, ['key', 'rules'], 90), '', 'Evidence (figures: --json):', ...why, '', timeline].join('\n');
      });
    },
  },
  'incidents report': {
    summary: 'the recall status report (Markdown; --json for the JSON document)',
    usage: 'recall incidents report ID [--json]',
    options: {},
    group: 'executive',
    async run({ positionals, api, json }) {
      const id = requireId(positionals, this.usage, 'incident id');
      const { body } = await request<StatusReport | string>(api, 'GET', `/incidents/${encodeURIComponent(id)}/report?format=${json ? 'json' : 'markdown'}`);
      console.log(json ? JSON.stringify(body, null, 2) : body);
    },
  },
  'incidents open': {
    summary: 'open a declared incident by hand, without a candidate',
    usage: `recall incidents open --title T --class I|II|III --hazard "may contain metal" --category CATEGORY ${SCOPE_USAGE}`,
    options: { ...DECLARATION_OPTIONS, category: { type: 'string' } },
    group: 'qa',
    async run({ values, api, json }) {
      if (!values.category) throw new UsageError('Missing --category (the defect: foreign_matter, mislabelling_allergen, …)');
      const body = { ...declaration(values, true), category: values.category, scope: scopeFrom(values) ?? {} } as IncidentOpen;
      const { body: incident } = await request<IncidentView>(api, 'POST', '/incidents', body);
      print(json, incident, () => summary(incident));
    },
  },
  ...Object.fromEntries([
    action('declare', 'declare a candidate a recall incident (optionally merging others)', `--title T --class I|II|III --hazard H ${SCOPE_USAGE} [--merge ID]...`, { ...DECLARATION_OPTIONS, merge: { type: 'string', multiple: true } }, (v) => ({ action: 'declare', ...declaration(v, true), ...(v.merge?.length ? { merge: v.merge } : {}) }) as ActionBody),
    action('dismiss', 'dismiss a candidate with a reason (its keys are freed)', '--reason R', stringOptions('reason'), (v) => ({ action: 'dismiss', reason: v.reason }) as ActionBody, 'qa', ['reason']),
    action('scope', 'change title, class, hazard or scope before containment', `[--title T] [--class C] [--hazard H] ${SCOPE_USAGE}`, DECLARATION_OPTIONS, (v) => {
      const changes = declaration(v, false);
      if (Object.keys(changes).length === 0) throw new UsageError('Give at least one change: --title, --class, --hazard, --qa-owner or scope flags');
      return { action: 'update-scope', ...changes } as ActionBody;
    }),
    action('hold', 'record the shipment hold', '--location PLANT_OR_WAREHOUSE... [--held-at T] [--note N]', { location: { type: 'string', multiple: true }, ...stringOptions('held-at', 'note') }, (v) => ({ action: 'record-hold', locations: v.location ?? [], ...(v['held-at'] ? { heldAt: v['held-at'] } : {}), ...(v.note ? { note: v.note } : {}) }) as ActionBody, 'qa', ['location']),
    action('withdraw', 'issue the store withdrawal notice to every region in scope not yet notified', '[--instructions T]', stringOptions('instructions'), (v) => ({ action: 'issue-withdrawal', ...(v.instructions ? { instructions: v.instructions } : {}) }) as ActionBody),
    action('sponsor', 'accept executive sponsorship of the incident (--reason to take it over)', '[--reason R]', stringOptions('reason'), (v) => ({ action: 'accept-sponsorship', ...(v.reason ? { reason: v.reason } : {}) }) as ActionBody, 'executive'),
    action('draft-notice', 'set the public notice text (class III: --no-public-notice with the reasons)', '--file notice.txt | --text T [--no-public-notice]', { ...stringOptions('file', 'text'), 'no-public-notice': { type: 'boolean' } }, // commander reads `--no-public-notice` as the negation of `--public-notice`.
    (v) => ({ action: 'draft-disclosure', mode: v['no-public-notice'] || v['public-notice'] === false ? 'no-public-notice' : 'public-notice', text: readText(v) }) as ActionBody),
    action('contain', 'customer first: pass the gate (scope, hold, withdrawals)', '', {}, () => ({ action: 'contain' }) as ActionBody),
    action('disclose', 'publish the approved disclosure', '', {}, () => ({ action: 'disclose' }) as ActionBody),
    action('remediate', 'start remediation', '', {}, () => ({ action: 'remediate' }) as ActionBody),
    action('root-cause', 'record the root cause', '--text T', stringOptions('text'), (v) => ({ action: 'record-root-cause', text: v.text }) as ActionBody, 'qa', ['text']),
    action('add-action', 'add a corrective or preventive action', '--kind corrective|preventive --description D --owner O --due YYYY-MM-DD', stringOptions('kind', 'description', 'owner', 'due'), (v) => ({ action: 'add-action', kind: v.kind, description: v.description, owner: v.owner, dueDate: v.due }) as ActionBody, 'qa', ['kind', 'description', 'owner', 'due']),
    action('complete-action', 'record an action as done (a corrective one dates the fix)', '--action capa-N [--at T]', stringOptions('action', 'at'), (v) => ({ action: 'complete-action', actionId: v.action, ...(v.at ? { completedAt: v.at } : {}) }) as ActionBody, 'qa', ['action']),
    action('verify', 'check the detection counters over the window after the fix', '', {}, () => ({ action: 'verify' }) as ActionBody),
    action('override-verification', 'accept the fix without the counter check (executive)', '--reason R', stringOptions('reason'), (v) => ({ action: 'override-verification', reason: v.reason }) as ActionBody, 'executive', ['reason']),
    action('ack-breach', 'acknowledge a missed deadline (the sponsor)', '--deadline stores-notified|disclosed --reason R', stringOptions('deadline', 'reason'), (v) => ({ action: 'acknowledge-breach', deadline: v.deadline, reason: v.reason }) as ActionBody, 'executive', ['deadline', 'reason']),
    action('close', 'prevention: close the incident', '', {}, () => ({ action: 'close' }) as ActionBody),
  ]),
  'incidents effectiveness': {
    summary: 'recall effectiveness: stores in scope, acknowledged, silent, units removed, the FDA level',
    usage: 'recall incidents effectiveness ID',
    options: {},
    group: 'qa',
    async run({ positionals, api, json }) {
      const id = requireId(positionals, this.usage, 'incident id');
      const { body } = await request<EffectivenessRead>(api, 'GET', `/incidents/${encodeURIComponent(id)}/effectiveness`);
      print(json, body, () =>
        [
          `Incident ${id}: level ${body.level} (target ${body.targetPercent} %) — ${body.acknowledged} of ${body.storesInScope} stores acknowledged (${body.achievedPercent} %), ${body.met ? 'target met' : 'target not met'}`,
          `  units removed ${body.unitsRemoved}, on hand ${body.unitsOnHand}${body.problem ? `\n  ${body.problem}` : ''}`,
          '',
          table(body.byStore.map((b) => ({ store: b.storeId, region: b.region, acknowledged: b.acknowledgedAt ?? 'not responded', 'on hand': b.quantityOnHand ?? '', removed: b.quantityRemoved ?? '' })), ['store', 'region', 'acknowledged', 'on hand', 'removed']),
        ].join('\n'),
      );
    },
  },
  'incidents replies': {
    summary: "send the 14-day written reply to every linked customer still owed one",
    usage: 'recall incidents replies ID --investigation TEXT --cause TEXT --prevention TEXT [--apology TEXT]',
    options: stringOptions('investigation', 'cause', 'prevention', 'apology'),
    group: 'qa',
    async run({ positionals, values, api, json }) {
      const id = requireId(positionals, this.usage, 'incident id');
      const { body } = await request<RepliesSent>(api, 'POST', `/incidents/${encodeURIComponent(id)}/replies`, replyBody(values));
      print(json, body, () => `Replies for incident ${id}: ${body.sent.length} sent, ${body.alreadyReplied.length} already replied, ${body.failed.length} failed${body.failed.map((f) => `\n  - ${f.reportId}: ${f.reason}`).join('')}`);
    },
  },
  'incidents approve-notice': {
    summary: 'approve the exact disclosure text it prints (executive, not the declarer)',
    usage: 'recall incidents approve-notice ID [--text-hash SHA256] [--version N]',
    options: stringOptions('text-hash', 'version'),
    group: 'executive',
    async run({ positionals, values, api, json }) {
      const id = requireId(positionals, this.usage, 'incident id');
      // With --json nobody reads the printed text: the hash must name what was read elsewhere.
      if (json && !values['text-hash']) throw new UsageError('With --json, give --text-hash SHA256 of the text you approve (GET /incidents/ID shows it).');
      const current = await get(api, id);
      if (!current.disclosure) throw new UsageError(`Incident ${id} has no disclosure text to approve yet.`);
      // The hash pins what a person read: by default, the text printed here.
      if (!json) console.log(`Approving this ${current.disclosure.mode} text (sha256 ${current.disclosure.textHash}):\n\n${current.disclosure.text}\n`);
      const incident = await act(api, id, { action: 'approve-disclosure', textHash: values['text-hash'] ?? current.disclosure.textHash } as ActionBody, values.version ?? String(current.version));
      print(json, incident, () => summary(incident));
    },
  },
};

