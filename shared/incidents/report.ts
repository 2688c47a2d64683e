import type { IncidentView } from './use-cases.js';
import type { IncidentEvent } from './model.js';
import type { Effectiveness } from '../notices/effectiveness.js';

/**
 * The recall status report, in the spirit of an FDA recall status report (21 CFR 7.53):
 * scope, dates, gates, deadlines and breaches, notices, store acknowledgements, customer
 * replies, root cause, actions and the timeline. JSON for systems, Markdown for people.
 * Built from the incident view: ids, codes and staff-written text, never a customer.
 */
export function statusReport(view: IncidentView & { timeline: IncidentEvent[] }, stores: Effectiveness | undefined, now: Date) {
  const at = (action: string) => view.timeline.find((e) => e.action === action)?.at;
  return {
    generatedAt: now.toISOString(),
    incident: {
      id: view.id,
      title: view.title ?? '(candidate, not declared)',
      status: view.status,
      version: view.version,
      origin: view.origin,
      hazardClass: view.hazardClass,
      hazardClassMeaning: view.hazardClassMeaning,
      hazard: view.hazard,
      qaOwner: view.qaOwner,
      sponsor: view.sponsor?.by,
    },
    dates: {
      opened: view.openedAt,
      declared: view.declared?.at,
      contained: at('contain'),
      disclosed: view.disclosed?.at,
      remediating: at('remediate'),
      closed: view.closed?.at,
    },
    scope: view.scope ?? {},
    clusterKeys: Object.keys(view.keys),
    gates: view.checklist.map((i) => ({ id: i.id, principle: i.principle, gate: i.gate, status: i.status, ...(i.missing ? { missing: i.missing } : {}), ...(i.evidence ? { evidence: i.evidence } : {}) })),
    deadlines: view.deadlines,
    notices: {
      storeWithdrawals: view.withdrawals ?? [],
      publicNotice: view.disclosure
        ? { mode: view.disclosure.mode, textHash: view.disclosure.textHash, approvedBy: view.approval?.by, approvedAt: view.approval?.at, publishedAt: view.disclosed?.at, noticeId: view.disclosed?.noticeId, text: view.disclosure.text }
        : undefined,
    },
    storeAcknowledgements: stores ?? null,
    customerReplies: { linkedReports: view.linkedReports ?? 0, owed: view.repliesOwed ?? [], sent: (view.linkedReports ?? 0) - (view.repliesOwed?.length ?? 0) },
    rootCause: view.rootCause,
    actions: view.actions ?? [],
    verification: view.verification,
    timeline: view.timeline.map((e) => ({ version: e.version, at: e.at, by: e.by, action: e.action, fields: Object.keys(e.changes), ...(e.note ? { note: e.note } : {}) })),
  };
}
export type StatusReport = ReturnType<typeof statusReport>;

const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
function mdTable(columns: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '_none_';
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function statusReportMarkdown(r: StatusReport): string {
  const i = r.incident;
  const s = r.scope as { products?: { sku: string; name: string }[]; lots?: { sku: string; lotCode: string }[]; productionDates?: { from: string; to: string }; regions?: string[]; stores?: string[] };
  const lines = [
    `# Recall status report: ${i.title}`,
    '',
    `Incident \`${i.id}\` · status **${i.status}** (version ${i.version}) · class ${i.hazardClass ?? '—'}${i.hazardClassMeaning ? ` (${i.hazardClassMeaning})` : ''}`,
    '',
    `- Hazard: ${i.hazard ?? '—'}`,
    `- QA owner: ${i.qaOwner ?? '—'} · executive sponsor: ${i.sponsor ?? '—'}`,
    `- Generated: ${r.generatedAt}`,
    '',
    '## Scope',
    `- Products: ${(s.products ?? []).map((p) => `${p.sku} (${p.name})`).join(', ') || '—'}`,
    `- Lots: ${(s.lots ?? []).map((l) => `${l.sku}/${l.lotCode}`).join(', ') || '—'}`,
    `- Production dates: ${s.productionDates ? `${s.productionDates.from} to ${s.productionDates.to}` : '—'}`,
    `- Regions: ${(s.regions ?? []).join(', ') || '—'}${s.stores?.length ? ` · stores: ${s.stores.join(', ')}` : ''}`,
    `- Cluster keys: ${r.clusterKeys.join(', ') || '—'}`,
    '',
    '## Dates',
    mdTable(['stage', 'at'], Object.entries(r.dates).map(([k, v]) => [k, v ?? '—'])),
    '',
    '## Gates (the five principles)',
    mdTable(['item', 'principle', 'gate', 'status', 'missing'], r.gates.map((g) => [g.id, g.principle, g.gate, g.status, g.missing ?? ''])),
    '',
    '## Deadlines and breaches',
    mdTable(['deadline', 'due', 'met', 'state', 'escalated', 'acknowledged'], r.deadlines.map((d) => [d.id, d.due, d.metAt ?? '—', d.state, d.escalatedAt ?? '—', d.acknowledged ? `${d.acknowledged.by}: ${d.acknowledged.reason}` : '—'])),
    '',
    '## Notices',
    mdTable(['store withdrawal', 'region', 'issued', 'by'], r.notices.storeWithdrawals.map((w) => [w.noticeId, w.region, w.at, w.by])),
    '',
    r.notices.publicNotice
      ? [`Public disclosure (${r.notices.publicNotice.mode}), sha256 \`${r.notices.publicNotice.textHash}\`, approved by ${r.notices.publicNotice.approvedBy ?? '—'}, published ${r.notices.publicNotice.publishedAt ?? 'not yet'}:`, '', ...r.notices.publicNotice.text.split('\n').map((l) => `> ${l}`)].join('\n')
      : 'Public disclosure: not drafted.',
    '',
    '## Store acknowledgements and effectiveness',
    r.storeAcknowledgements
      ? [
          `Level ${r.storeAcknowledgements.level} (target ${r.storeAcknowledgements.targetPercent} %): ${r.storeAcknowledgements.acknowledged} of ${r.storeAcknowledgements.storesInScope} stores acknowledged (${r.storeAcknowledgements.achievedPercent} %) — ${r.storeAcknowledgements.met ? 'target met' : 'target not met'}; ${r.storeAcknowledgements.unitsRemoved} units removed, ${r.storeAcknowledgements.unitsOnHand} on hand.`,
          '',
          mdTable(
            ['store', 'region', 'acknowledged', 'on hand', 'removed', 'corrected'],
            r.storeAcknowledgements.byStore.map((b) => [
              b.storeId,
              b.region,
              b.acknowledgedAt ?? 'not responded',
              b.quantityOnHand ?? '',
              b.quantityRemoved ?? '',
              (b.corrections ?? []).map((c) => `${c.at} ${c.by}: ${c.reason} (was ${c.before.quantityOnHand} on hand, ${c.before.quantityRemoved} removed)`).join('; ') || '—',
            ]),
          ),
        ].join('\n')
      : '_no store withdrawal issued_',
    '',
    '## Customer replies (14-day rule)',
    `${r.customerReplies.sent} of ${r.customerReplies.linkedReports} linked customers have their written reply.${r.customerReplies.owed.length ? ` Owed: ${r.customerReplies.owed.join(', ')}` : ''}`,
    '',
    '## Root cause and actions',
    `Root cause: ${r.rootCause ? `${r.rootCause.text} (${r.rootCause.by}, ${r.rootCause.at})` : '—'}`,
    '',
    mdTable(['id', 'kind', 'description', 'owner', 'due', 'completed'], r.actions.map((a) => [a.id, a.kind, a.description, a.owner, a.dueDate, a.completedAt ?? '—'])),
    '',
    `Verification: ${!r.verification ? '—' : r.verification.result === 'overridden' ? `overridden by ${r.verification.by}: ${r.verification.reason}` : `${r.verification.result} (${r.verification.windowDays} days after the fix on ${r.verification.fixDate}; ${Object.entries(r.verification.counts).map(([k, n]) => `${k}=${n}`).join(', ')})`}`,
    '',
    '## Timeline',
    mdTable(['v', 'at', 'by', 'action', 'changed', 'note'], r.timeline.map((e) => [e.version, e.at, e.by, e.action, e.fields.join(', '), e.note ?? ''])),
    '',
  ];
  return lines.join('\n');
}
