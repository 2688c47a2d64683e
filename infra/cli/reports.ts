import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from './api.js';
import { LIST_FLAGS, print, printList, queryOf, readList, replyBody, requireId, stringOptions, UsageError, type Command } from './common.js';
import { table } from './table.js';
import type { ReplySent, ReportRead } from './types.js';
import type { ReportView } from '../../shared/reports/use-cases.js';

/** `recall report …`: the customer desk's case records, clocks, landing points and surveys. */
const clockRows = (report: Pick<ReportView, 'clocks'>) =>
  report.clocks.map((c) => ({ clock: c.id, state: c.state, deadline: c.deadline, owner: c.owner, completed: c.completedAt ?? '' }));

function describeReport(report: ReportRead): string {
  const lines = [
    `Report ${report.id}  (${report.clockState})`,
    `  product   ${report.product.sku} ${report.product.name}  lot ${report.lotCode}  plant ${report.plant}`,
    `  defect    ${report.defect.category}: ${report.defect.description ?? '(not shown to your role)'}`,
    `  harm      injury=${report.harm.injury} illness=${report.harm.illness} medical=${report.harm.medicalAttention}`,
    `  bought    ${report.purchase.storeId} (${report.purchase.region})  received ${report.receivedAt} via ${report.channel} by ${report.receivingAgent}`,
  ];
  if (report.contact) lines.push(`  contact   ${report.contact.name} ${report.contact.phone ?? ''} ${report.contact.email ?? ''}`.trimEnd());
  if (report.survey) lines.push(`  survey    ${report.survey.satisfaction}/5 ${report.survey.comment ?? ''}`.trimEnd());
  lines.push('', table(clockRows(report), ['clock', 'state', 'deadline', 'owner', 'completed']));
  if (report.timeline) {
    lines.push('', table(report.timeline.map((e) => ({ at: e.at, event: e.type, by: e.by, details: JSON.stringify(e.details ?? {}) })), ['at', 'event', 'by', 'details'], 60));
  }
  return lines.join('\n');
}

/** Builds a case record from flags, for quick entries without a JSON file. */
function reportFromFlags(v: Record<string, any>) {
  const missing = ['sku', 'name', 'lot', 'plant', 'store', 'region', 'category', 'description', 'contact-name'].filter((k) => !v[k]);
  if (missing.length) throw new UsageError(`Missing --${missing.join(', --')} (or give --file report.json)`);
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

export const reportCommands: Record<string, Command> = {
  taxonomy: {
    group: 'any',
    summary: 'list the defect categories of this deployment (codes for --category)',
    usage: 'recall taxonomy',
    options: {},
    async run({ api, json }) {
      const { body } = await request<{ categories: { code: string; label: string; harm?: string }[] }>(api, 'GET', '/taxonomy');
      print(json, body, () => table(body.categories.map((c) => ({ code: c.code, label: c.label, harm: c.harm ?? '' })), ['code', 'label', 'harm']));
    },
  },
  'report submit': {
    summary: 'file a case record from a JSON file or from flags',
    usage:
      'recall report submit --file report.json | --sku S --name N --lot L --plant P --store ID --region R --category C --description D --contact-name N (--contact-phone P | --contact-email E) (--production-date D | --best-before D) [--injury] [--illness] [--idempotency-key K]',
    group: 'desk',
    options: {
      ...stringOptions('file', 'sku', 'gtin', 'name', 'lot', 'plant', 'store', 'region', 'category', 'description', 'channel', 'received-at', 'production-date', 'best-before', 'purchase-date', 'contact-name', 'contact-phone', 'contact-email', 'idempotency-key'),
      ...Object.fromEntries(['injury', 'illness', 'medical-attention', 'sample-collected'].map((k) => [k, { type: 'boolean' as const }])),
    },
    async run({ values, api, json }) {
      if (values.file && !existsSync(values.file)) throw new UsageError(`File not found: ${values.file}`);
      let body: unknown;
      try {
        body = values.file ? JSON.parse(readFileSync(values.file, 'utf8')) : reportFromFlags(values);
        // With a file, --received-at replaces its time (refiling a sample as received lately).
        if (values.file && values['received-at'] && body && typeof body === 'object' && !Array.isArray(body)) body = { ...body, receivedAt: values['received-at'] };
      } catch (error) {
        if (error instanceof SyntaxError) throw new UsageError(`${values.file} is not valid JSON: ${error.message}`);
        throw error;
      }
      // A key per submission: rerunning after a network failure would need the same one.
      const key = values['idempotency-key'] ?? `cli-${randomUUID()}`;
      const { body: report, headers } = await request<ReportView>(api, 'POST', '/reports', body, { 'idempotency-key': key });
      print(json, report, () =>
        [`Filed report ${report.id}${headers.get('idempotent-replayed') ? ' (already filed with this key)' : ''}`, '', table(clockRows(report), ['clock', 'state', 'deadline', 'owner'])].join('\n'),
      );
    },
  },
  'report show': {
    group: 'desk',
    summary: 'show one case record with its clocks and timeline',
    usage: 'recall report show ID',
    options: {},
    async run({ positionals, api, json }) {
      const id = requireId(positionals, this.usage, 'report id');
      const { body } = await request<ReportRead>(api, 'GET', `/reports/${encodeURIComponent(id)}`);
      print(json, body, () => describeReport(body));
    },
  },
  'report list': {
    group: 'desk',
    summary: 'list case records, newest first',
    usage: 'recall report list [--sku S] [--lot L] [--category C] [--store ID] [--region R] [--from T] [--to T] [--clock-state open|overdue|closed] [--limit N] [--cursor C] [--all] [--csv]',
    example: 'recall report list --sku CHOC-ALM-100 --clock-state overdue --all --csv',
    options: { ...stringOptions('sku', 'lot', 'category', 'store', 'region', 'from', 'to', 'clock-state'), ...LIST_FLAGS },
    async run({ values, api, json }) {
      const query = queryOf(values, ['sku', 'lot', 'category', 'store', 'region', 'from', 'to', 'clock-state', 'limit', 'cursor'], {
        store: 'storeId',
        from: 'receivedFrom',
        to: 'receivedTo',
        'clock-state': 'clockState',
      });
      const body = await readList<ReportView>(api, (q) => `/reports?${q}`, query, !!values.all);
      const rows = body.items.map((r) => ({ id: r.id, received: r.receivedAt, sku: r.product.sku, lot: r.lotCode, category: r.defect.category, store: r.purchase.storeId, clocks: r.clockState }));
      printList(json, !!values.csv, body, rows, ['id', 'received', 'sku', 'lot', 'category', 'store', 'clocks']);
    },
  },
  'report milestone': {
    group: 'desk',
    summary: 'record a milestone: handoff, qa, reply, or a landing point id',
    usage: 'recall report milestone ID --clock handoff|qa|reply|lp-... [--at T] [--note N]',
    options: { clock: { type: 'string' }, at: { type: 'string' }, note: { type: 'string' } },
    async run({ positionals, values, api, json }) {
      const body = { clock: values.clock, ...(values.at ? { at: values.at } : {}), ...(values.note ? { note: values.note } : {}) };
      const { body: report } = await request<ReportView>(api, 'POST', `/reports/${encodeURIComponent(requireId(positionals, this.usage, 'report id'))}/milestones`, body);
      print(json, report, () => table(clockRows(report), ['clock', 'state', 'deadline', 'owner', 'completed']));
    },
  },
  'report landing-point': {
    group: 'desk',
    summary: 'add a landing point: a promise with owner and due date',
    usage: 'recall report landing-point ID --promise P --owner O --due T',
    options: { promise: { type: 'string' }, owner: { type: 'string' }, due: { type: 'string' } },
    async run({ positionals, values, api, json }) {
      const body = { promise: values.promise, owner: values.owner, dueAt: values.due };
      const { body: report } = await request<ReportView>(api, 'POST', `/reports/${encodeURIComponent(requireId(positionals, this.usage, 'report id'))}/landing-points`, body);
      print(json, report, () => table(clockRows(report), ['clock', 'state', 'deadline', 'owner', 'completed']));
    },
  },
  'report reply': {
    group: 'desk',
    summary: 'send the written reply to one complaint (stops its 14-day clock)',
    usage: 'recall report reply ID --investigation TEXT --cause TEXT --prevention TEXT [--apology TEXT]',
    options: stringOptions('investigation', 'cause', 'prevention', 'apology'),
    async run({ positionals, values, api, json }) {
      const id = requireId(positionals, this.usage, 'report id');
      const { body } = await request<ReplySent>(api, 'POST', `/reports/${encodeURIComponent(id)}/reply`, replyBody(values));
      print(json, body, () => `Reply ${body.replyId} sent by ${body.channel} at ${body.at}; the 14-day clock of ${body.reportId} is stopped.`);
    },
  },
  'report survey': {
    group: 'desk',
    summary: "record the customer's survey (1-5) after the reply",
    usage: 'recall report survey ID --satisfaction 1..5 [--comment C]',
    options: { satisfaction: { type: 'string' }, comment: { type: 'string' } },
    async run({ positionals, values, api, json }) {
      const body = { satisfaction: Number(values.satisfaction), ...(values.comment ? { comment: values.comment } : {}) };
      const { body: report } = await request<ReportView>(api, 'POST', `/reports/${encodeURIComponent(requireId(positionals, this.usage, 'report id'))}/survey`, body);
      print(json, report, () => `Survey recorded on ${report.id}: ${report.survey?.satisfaction}/5`);
    },
  },
};
