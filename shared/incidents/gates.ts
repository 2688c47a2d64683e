import type { Role } from '../platform/roles.js';
import type { Effectiveness } from '../notices/effectiveness.js';
import { checkNoticeFacts } from './disclosure.js';
import type { GateId } from './lifecycle.js';
import { DEADLINE_IDS, type Deadline, type Incident } from './model.js';

/**
 * The five principles of a voluntary recall (DOMAIN.md §4) as checklist items: data (id,
 * principle, the evidence it needs, who may provide it, the runbook that says how) plus a
 * pure predicate over the incident. A gate passes when every item of it is done.
 */
export type Principle = 'customer-first' | 'disclosure' | 'leadership' | 'speed' | 'prevention';
export type ItemStatus = 'done' | 'pending' | 'blocked';

export interface ChecklistItem {
  readonly id: string;
  readonly principle: Principle;
  readonly gate: GateId;
  /** The evidence the item requires, in words. */
  readonly requires: string;
  readonly providedBy: readonly Role[];
  /** The CLI command that provides the evidence. */
  readonly how: string;
  readonly runbook: string;
}

/** What a gate needs that is not on the incident record: read by the use case. */
export interface GateFacts {
  /** Linked reports whose 14-day reply is not sent yet (ids only). */
  readonly repliesOwed?: readonly string[];
  readonly linkedReports?: number;
  /** Store acknowledgements against the class's effectiveness target. */
  readonly effectiveness?: Pick<Effectiveness, 'storesInScope' | 'acknowledged' | 'notResponded' | 'level' | 'targetPercent' | 'achievedPercent' | 'met' | 'problem'>;
}

export interface ItemResult {
  readonly status: ItemStatus;
  /** What was provided, by whom and when (ids and codes, never personal data). */
  readonly evidence?: Record<string, unknown>;
  /** What is still needed, in words. */
  readonly missing?: string;
}

export interface EvaluatedItem extends ChecklistItem, ItemResult {}

const CONTAIN = 'runbooks/contain-incident.md';
const DISCLOSE = 'runbooks/approve-disclosure.md';
const BREACH = 'runbooks/deadline-breach.md';
const CLOSE = 'runbooks/close-incident.md';

export const CHECKLIST: readonly ChecklistItem[] = [
  { id: 'scope-defined', principle: 'customer-first', gate: 'contain', requires: 'products, lots or a production-date range, and regions in scope', providedBy: ['qa', 'admin'], how: 'recall incidents scope ID --product SKU=NAME --lot SKU=LOT --region R', runbook: `${CONTAIN}#1-define-the-scope` },
  { id: 'shipment-hold', principle: 'customer-first', gate: 'contain', requires: 'shipment hold: who, when, which warehouses or plants', providedBy: ['qa', 'admin'], how: 'recall incidents hold ID --location PLANT', runbook: `${CONTAIN}#2-hold-shipments` },
  { id: 'store-withdrawal', principle: 'customer-first', gate: 'contain', requires: 'a store withdrawal notice issued to every region in scope', providedBy: ['qa', 'admin'], how: 'recall incidents withdraw ID', runbook: `${CONTAIN}#3-withdraw-from-stores` },
  { id: 'sponsor-accepted', principle: 'leadership', gate: 'disclose', requires: 'an executive sponsor has accepted the incident', providedBy: ['executive'], how: 'recall incidents sponsor ID', runbook: `${DISCLOSE}#1-sponsor` },
  { id: 'disclosure-text', principle: 'disclosure', gate: 'disclose', requires: 'a public notice stating product, lots, hazard, what to do and how to reach us (class III: a no-public-notice decision instead)', providedBy: ['qa', 'executive', 'admin'], how: 'recall incidents draft-notice ID --file notice.txt', runbook: `${DISCLOSE}#2-draft-the-notice` },
  { id: 'disclosure-approved', principle: 'leadership', gate: 'disclose', requires: 'an executive other than the declarer approved this exact text', providedBy: ['executive'], how: 'recall incidents approve-notice ID', runbook: `${DISCLOSE}#3-approve` },
  { id: 'effectiveness', principle: 'customer-first', gate: 'close', requires: "the stores in scope acknowledged the withdrawal and reported what they pulled, to the class's effectiveness level", providedBy: ['store'], how: 'recall store ack NOTICE --on-hand N --removed N', runbook: `${CONTAIN}#5-effectiveness` },
  { id: 'root-cause', principle: 'prevention', gate: 'close', requires: 'the root cause', providedBy: ['qa', 'admin'], how: 'recall incidents root-cause ID --text T', runbook: `${CLOSE}#1-root-cause` },
  { id: 'capa', principle: 'prevention', gate: 'close', requires: 'corrective and preventive actions with owners and due dates; corrective ones done', providedBy: ['qa', 'admin'], how: 'recall incidents add-action ID --kind corrective --description D --owner O --due DATE', runbook: `${CLOSE}#2-corrective-and-preventive-actions` },
  { id: 'verification', principle: 'prevention', gate: 'close', requires: 'no new report on the incident keys over the verification window after the fix, or an executive override', providedBy: ['qa', 'admin', 'executive'], how: 'recall incidents verify ID', runbook: `${CLOSE}#3-verify-the-fix` },
  { id: 'customer-replies', principle: 'prevention', gate: 'close', requires: "every linked customer's 14-day written reply sent", providedBy: ['agent', 'qa', 'admin'], how: 'recall incidents replies ID --investigation TEXT --cause TEXT --prevention TEXT', runbook: `${CLOSE}#4-customer-replies` },
  { id: 'breaches-acknowledged', principle: 'speed', gate: 'close', requires: 'every missed deadline acknowledged by the sponsor with a reason', providedBy: ['executive'], how: 'recall incidents ack-breach ID --deadline D --reason R', runbook: `${BREACH}#acknowledge` },
];

/** A deadline is breached when it was met late, is unmet past due, or the watchdog escalated it. */
export function deadlineBreached(deadline: Deadline, now: Date): boolean {
  if (deadline.escalatedAt) return true;
  return deadline.metAt ? deadline.metAt > deadline.due : now.toISOString() > deadline.due;
}

export function breachedDeadlines(incident: Incident, now: Date): Deadline[] {
  return DEADLINE_IDS.map((id) => incident.deadlines?.[id]).filter((d): d is Deadline => !!d && deadlineBreached(d, now));
}

/**
 * What still needs a store withdrawal notice: the stores the scope lists (one targeted
 * notice each), or else its regions (one notice per region, to every store there).
 */
export function withdrawalsMissing(incident: Incident): { stores: string[]; regions: string[] } {
  const done = incident.withdrawals ?? [];
  if (incident.scope?.stores?.length) {
    const notified = new Set(done.map((w) => w.storeId));
    return { stores: incident.scope.stores.filter((s) => !notified.has(s)), regions: [] };
  }
  const notified = new Set(done.filter((w) => !w.storeId).map((w) => w.region));
  return { stores: [], regions: (incident.scope?.regions ?? []).filter((r) => !notified.has(r)) };
}

const missingLabel = (m: { stores: string[]; regions: string[] }) => [...m.regions, ...m.stores.map((s) => `store ${s}`)];

/**
 * The date of the fix: the latest completion of a corrective action, taken no earlier than it
 * was recorded, so backdating a fix cannot move the verification window into the past.
 */
export function fixDate(incident: Incident): string | undefined {
  const done = (incident.actions ?? [])
    .filter((a) => a.kind === 'corrective' && a.completedAt)
    .map((a) => [a.completedAt!, a.completedRecordedAt ?? a.completedAt!].sort().at(-1)!);
  return done.sort().at(-1);
}

const done = (evidence?: Record<string, unknown>): ItemResult => ({ status: 'done', ...(evidence ? { evidence } : {}) });
const pending = (missing: string): ItemResult => ({ status: 'pending', missing });
const blocked = (missing: string): ItemResult => ({ status: 'blocked', missing });

const PREDICATES: Record<string, (incident: Incident, facts: GateFacts, now: Date) => ItemResult> = {
  'scope-defined': (i) => {
    const s = i.scope ?? {};
    const gaps = [
      !s.products?.length && 'at least one product',
      !s.lots?.length && !s.productionDates && 'lots or a production-date range',
      !s.regions?.length && 'at least one region',
    ].filter(Boolean);
    return gaps.length ? pending(`scope needs ${gaps.join(', ')}`) : done({ products: s.products!.length, lots: s.lots?.length ?? 0, regions: s.regions });
  },
  'shipment-hold': (i) => (i.hold ? done({ by: i.hold.by, at: i.hold.at, heldAt: i.hold.heldAt, locations: i.hold.locations }) : pending('record where shipments are held and since when')),
  'store-withdrawal': (i) => {
    if (!i.scope?.regions?.length && !i.scope?.stores?.length) return blocked('define the regions in scope first');
    const missing = missingLabel(withdrawalsMissing(i));
    return missing.length ? pending(`no withdrawal notice yet for: ${missing.join(', ')}`) : done({ notices: (i.withdrawals ?? []).map((w) => ({ noticeId: w.noticeId, region: w.region, ...(w.storeId ? { storeId: w.storeId } : {}), at: w.at, by: w.by })) });
  },
  'sponsor-accepted': (i) => (i.sponsor ? done({ by: i.sponsor.by, at: i.sponsor.at }) : pending('an executive accepts sponsorship')),
  'disclosure-text': (i) => {
    const d = i.disclosure;
    if (!d) return pending(i.hazardClass === 'III' ? 'draft the public notice, or document the no-public-notice decision' : 'draft the public notice');
    if (d.mode === 'no-public-notice') {
      return i.hazardClass === 'III' ? done({ mode: d.mode, textHash: d.textHash, by: d.by, at: d.at }) : pending(`class ${i.hazardClass} needs a public notice; a no-public-notice decision is for class III only`);
    }
    const failed = checkNoticeFacts(d.text, i).filter((c) => !c.ok);
    return failed.length ? pending(`the notice is missing: ${failed.map((c) => `${c.fact} (${c.missing})`).join('; ')}`) : done({ mode: d.mode, textHash: d.textHash, by: d.by, at: d.at });
  },
  'disclosure-approved': (i) => {
    const d = i.disclosure;
    const a = i.approval;
    if (!d) return blocked('draft the disclosure first');
    if (!a) return pending('an executive who did not declare the incident approves the text');
    if (a.textHash !== d.textHash || a.mode !== d.mode) return pending('the text changed after it was approved: approve the new text');
    if (a.by === i.declared?.by) return pending('the declarer cannot approve alone: another executive approves');
    if (a.by === d.by) return pending('the author of the text cannot approve it: another executive approves');
    return done({ by: a.by, at: a.at, textHash: a.textHash });
  },
  effectiveness: (i, facts) => {
    if (!i.withdrawals?.length) return blocked('issue the store withdrawal notices first');
    const e = facts.effectiveness;
    if (!e) return pending('not evaluated');
    if (e.problem) return pending(e.problem);
    const figures = { level: e.level, targetPercent: e.targetPercent, achievedPercent: e.achievedPercent, storesInScope: e.storesInScope, acknowledged: e.acknowledged };
    return e.met ? done(figures) : pending(`level ${e.level}: ${e.achievedPercent} % of ${e.storesInScope} stores acknowledged, ${e.targetPercent} % needed; not responded: ${e.notResponded.slice(0, 20).join(', ')}${e.notResponded.length > 20 ? ', …' : ''}`);
  },
  'root-cause': (i) => (i.rootCause ? done({ by: i.rootCause.by, at: i.rootCause.at }) : pending('record the root cause')),
  capa: (i) => {
    const actions = i.actions ?? [];
    const corrective = actions.filter((a) => a.kind === 'corrective');
    const preventive = actions.filter((a) => a.kind === 'preventive');
    const open = corrective.filter((a) => !a.completedAt).map((a) => a.id);
    const gaps = [
      !corrective.length && 'at least one corrective action',
      !preventive.length && 'at least one preventive action',
      open.length > 0 && `corrective actions still open: ${open.join(', ')}`,
    ].filter(Boolean);
    return gaps.length ? pending(gaps.join('; ')) : done({ corrective: corrective.length, preventive: preventive.length, fixDate: fixDate(i) });
  },
  verification: (i) => {
    const v = i.verification;
    if (v?.result === 'overridden') return done({ result: v.result, by: v.by, at: v.at, reason: v.reason });
    const fixed = fixDate(i);
    if (!fixed) return blocked('complete a corrective action first: its date is the fix date');
    if (Object.keys(i.keys).length === 0) return blocked('the incident has no cluster keys to count reports on: an executive overrides with a reason');
    if (!v) return pending('run the verification after the window has passed');
    if (v.fixDate < fixed) return pending('the fix date moved after the last verification: verify again');
    if (v.result === 'failed') return pending(`new reports after the fix: ${Object.entries(v.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(', ')}`);
    return done({ result: v.result, fixDate: v.fixDate, windowDays: v.windowDays, counts: v.counts, by: v.by, at: v.at });
  },
  'customer-replies': (_i, facts) => {
    if (!facts.repliesOwed) return pending('not evaluated');
    return facts.repliesOwed.length
      ? pending(`${facts.repliesOwed.length} customer(s) still owed the written reply: reports ${facts.repliesOwed.slice(0, 20).join(', ')}${facts.repliesOwed.length > 20 ? ', …' : ''}`)
      : done({ linkedReports: facts.linkedReports ?? 0 });
  },
  'breaches-acknowledged': (i, _facts, now) => {
    const open = breachedDeadlines(i, now).filter((d) => !d.acknowledged);
    return open.length ? pending(`the sponsor acknowledges each missed deadline: ${open.map((d) => d.id).join(', ')}`) : done({ breaches: breachedDeadlines(i, now).map((d) => ({ id: d.id, acknowledgedBy: d.acknowledged!.by, reason: d.acknowledged!.reason })) });
  },
};

/** Every checklist item evaluated against the incident. */
export function evaluateChecklist(incident: Incident, facts: GateFacts, now: Date): EvaluatedItem[] {
  return CHECKLIST.map((item) => ({ ...item, ...PREDICATES[item.id]!(incident, facts, now) }));
}

/** The items of one gate that are not done: empty when the gate passes. */
export function unmetItems(gate: GateId, incident: Incident, facts: GateFacts, now: Date): EvaluatedItem[] {
  return evaluateChecklist(incident, facts, now).filter((i) => i.gate === gate && i.status !== 'done');
}
