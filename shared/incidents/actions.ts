import type { Principal } from '../platform/auth.js';
import { DAY, HOUR } from '../platform/clock.js';
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '../platform/errors.js';
import type { OutboxMessage } from '../platform/outbox.js';
import { checkNoticeFacts, textHash } from './disclosure.js';
import { breachedDeadlines, deadlineBreached, fixDate, unmetItems, withdrawalsMissing, type GateFacts } from './gates.js';
import type { PublicNotice, StoreNotice } from '../notices/model.js';
import { noticeListing } from '../notices/repository.js';
import { decide, type ActionId, type GateId } from './lifecycle.js';
import { DEFAULT_WITHDRAWAL_INSTRUCTIONS, publicNotice, storeWithdrawal } from './messages.js';
import { DEADLINE_IDS, OPEN_STATUSES, type Deadline, type DeadlineId, type HazardClass, type Incident, type Stamp } from './model.js';
import type { IncidentPolicy } from './policy.js';
import type { IncidentAction } from './schema.js';

/**
 * What one action does to an incident, as a pure function: role, then state, then gate,
 * then the new lifecycle fields and the messages to send. The use case reads what the
 * action needs, calls this, and writes the outcome in one transaction.
 */
export interface ActionContext {
  readonly principal: Principal;
  readonly now: Date;
  readonly policy: IncidentPolicy;
  /** Facts a gate needs beyond the record (the close gate: replies owed). */
  readonly facts: GateFacts;
  /** For `verify`: reports counted on each key in the window after the fix. */
  readonly counts?: Record<string, number>;
  /** For `issue-withdrawal` to listed stores: each store's region, from the store directory. */
  readonly storeRegions?: Record<string, string>;
}

export interface ActionOutcome {
  readonly next: Incident;
  readonly outbox: readonly OutboxMessage[];
  /** The incident lets go of its cluster keys (dismissed or closed). */
  readonly releaseKeys?: boolean;
  /** Per key, the evidence a later signal must exceed to open a new candidate. */
  readonly dismissedEvidence?: Record<string, number>;
  /** The notice the public page shows from now on. */
  readonly publicNotice?: PublicNotice;
}

/** Store notices one `issue-withdrawal` sends at most (with the incident and its event, in one transaction). */
export const WITHDRAWALS_PER_ACTION = 90;

/** A 422 for a rule of the process, with the runbook that explains it. */
export function ruleError(message: string, rule: string, runbook: string): UnprocessableError {
  return new UnprocessableError(message, { rule, runbook });
}

/** A 422 naming every unmet checklist item of the gate, each with its runbook. */
export function gateError(gate: GateId, unmet: ReturnType<typeof unmetItems>): UnprocessableError {
  const principles = [...new Set(unmet.map((i) => i.principle))].join(', ');
  return new UnprocessableError(`The ${gate} gate has ${unmet.length} open checklist item(s) (${principles}): ${unmet.map((i) => i.id).join(', ')}.`, {
    rule: 'gate',
    gate,
    unmet: unmet.map((i) => ({ id: i.id, principle: i.principle, status: i.status, missing: i.missing, evidence: i.evidence, how: i.how, runbook: i.runbook })),
    runbook: unmet[0]!.runbook.split('#')[0],
  });
}

const stamp = (ctx: ActionContext): Stamp => ({ by: ctx.principal.userId, at: ctx.now.toISOString() });

/** Deadlines of each stage for the class, from the declaration; met times are kept. */
export function deadlinesFor(hazardClass: HazardClass, declaredAt: string, policy: IncidentPolicy, previous: Incident['deadlines'] = {}): Incident['deadlines'] {
  const hours: Record<DeadlineId, number | null> = {
    'stores-notified': policy.deadlines[hazardClass].storesNotifiedHours,
    disclosed: policy.deadlines[hazardClass].disclosedHours,
  };
  const out: Partial<Record<DeadlineId, Deadline>> = {};
  for (const id of DEADLINE_IDS) {
    const h = hours[id];
    const kept = previous?.[id];
    // A deadline that was missed stays on the record when the class changes: a breach that
    // happened is not erased by reclassifying (and still needs the sponsor's acknowledgement).
    if (h === null) {
      if (kept && (kept.escalatedAt || kept.acknowledged || (kept.metAt && kept.metAt > kept.due))) out[id] = kept;
      continue;
    }
    if (kept?.escalatedAt) {
      out[id] = kept;
      continue;
    }
    const due = new Date(new Date(declaredAt).getTime() + h * HOUR).toISOString();
    out[id] = { ...kept, id, due };
  }
  return out;
}

/** The earliest deadline the watchdog still has to look at: unmet or met late, not yet escalated. */
export function nextDeadline(incident: Incident): string | undefined {
  const due = Object.values(incident.deadlines ?? {})
    .filter((d) => !d.escalatedAt && (!d.metAt || d.metAt > d.due))
    .map((d) => d.due);
  if (incident.storeFollowUp?.nextCheckAt && OPEN_STATUSES.includes(incident.status)) due.push(incident.storeFollowUp.nextCheckAt);
  return due.sort()[0];
}

function meet(incident: Incident, id: DeadlineId, at: string): Incident['deadlines'] {
  const d = incident.deadlines?.[id];
  if (!d || d.metAt) return incident.deadlines;
  return { ...incident.deadlines, [id]: { ...d, metAt: at } };
}

function requireGate(gate: GateId, incident: Incident, ctx: ActionContext): void {
  const unmet = unmetItems(gate, incident, ctx.facts, ctx.now);
  if (unmet.length > 0) throw gateError(gate, unmet);
}

/**
 * The evidence size of a signal: the reports its rule judged (`count`: a burst's window, a
 * trend's run), else its disproportionality table's own count (`a`). A dismissed key opens
 * again only on a signal larger than the largest its dismissed signals showed.
 */
export function evidenceSize(evidence: Record<string, unknown>): number {
  const size = typeof evidence.count === 'number' ? evidence.count : evidence.a;
  return typeof size === 'number' ? Math.max(0, size) : 0;
}

export function applyAction(incident: Incident, input: IncidentAction, ctx: ActionContext): ActionOutcome {
  const spec = decide(incident.status, input.action as ActionId, ctx.principal.roles);
  if (input.expectedVersion !== incident.version) {
    throw new ConflictError(`The incident is at version ${incident.version}, not ${input.expectedVersion}: read it again and retry.`);
  }
  if (spec.gate) requireGate(spec.gate, incident, ctx);
  const now = ctx.now.toISOString();
  const to = spec.to ? { status: spec.to } : {};
  const same = (changes: Partial<Incident>, outbox: OutboxMessage[] = []): ActionOutcome => ({ next: { ...incident, ...to, ...changes }, outbox });

  switch (input.action) {
    case 'declare': {
      const declared = stamp(ctx);
      return same({
        title: input.title,
        hazardClass: input.hazardClass,
        hazard: input.hazard,
        ...(input.scope ? { scope: input.scope } : {}),
        qaOwner: input.qaOwner ?? ctx.principal.userId,
        declared,
        deadlines: deadlinesFor(input.hazardClass, declared.at, ctx.policy),
        ...(input.merge?.length ? { mergedFrom: input.merge } : {}),
      });
    }
    case 'dismiss': {
      const dismissedEvidence = Object.fromEntries(
        Object.entries(incident.keys).map(([id, entry]) => [id, Math.max(0, ...Object.values(entry.evidence).map((s) => evidenceSize(s!.evidence)))]),
      );
      return { next: { ...incident, ...to, dismissal: { ...stamp(ctx), reason: input.reason } }, outbox: [], releaseKeys: true, dismissedEvidence };
    }
    case 'update-scope': {
      const hazardClass = input.hazardClass ?? incident.hazardClass!;
      const next: Incident = {
        ...incident,
        ...(input.title ? { title: input.title } : {}),
        ...(input.hazard ? { hazard: input.hazard } : {}),
        ...(input.scope ? { scope: input.scope } : {}),
        ...(input.qaOwner ? { qaOwner: input.qaOwner } : {}),
        hazardClass,
        deadlines: deadlinesFor(hazardClass, incident.declared!.at, ctx.policy, incident.deadlines),
      };
      // A region added after the stores were notified re-opens the stores-notified deadline.
      const storesDeadline = next.deadlines?.['stores-notified'];
      const { stores, regions } = withdrawalsMissing(next);
      if (storesDeadline?.metAt && stores.length + regions.length > 0) {
        const { metAt: _reopened, ...rest } = storesDeadline;
        return same({ ...next, deadlines: { ...next.deadlines, 'stores-notified': rest } });
      }
      return same(next);
    }
    case 'record-hold':
      return same({ hold: { ...stamp(ctx), locations: input.locations, heldAt: input.heldAt ? new Date(input.heldAt).toISOString() : now, ...(input.note ? { note: input.note } : {}) } });
    case 'issue-withdrawal': {
      const scope = incident.scope;
      if (!scope?.products?.length || (!scope.regions?.length && !scope.stores?.length) || (!scope.lots?.length && !scope.productionDates)) {
        throw ruleError('A withdrawal notice needs the scope first: products, lots or production dates, and regions.', 'scope-before-withdrawal', 'runbooks/contain-incident.md#1-define-the-scope');
      }
      const missing = withdrawalsMissing(incident);
      const unknown = missing.stores.filter((s) => !ctx.storeRegions?.[s]);
      if (unknown.length) {
        throw ruleError(`The store directory has no ${unknown.join(', ')}: register the stores first (recall store register).`, 'store-not-in-directory', 'runbooks/contain-incident.md#3-withdraw-from-stores');
      }
      const all = [...missing.regions.map((region) => ({ region })), ...missing.stores.map((storeId) => ({ region: ctx.storeRegions![storeId]!, storeId }))];
      if (all.length === 0) throw new ConflictError('Every region and store in scope already has its withdrawal notice.');
      // One transaction holds 100 items: larger lists go out in batches, the next run sends the rest.
      const targets = all.slice(0, WITHDRAWALS_PER_ACTION);
      const instructions = input.instructions ?? DEFAULT_WITHDRAWAL_INSTRUCTIONS;
      const outbox = targets.map((t) => {
        const message = storeWithdrawal(incident, t, instructions, ctx.now);
        const notice: StoreNotice = { noticeId: message.id, incidentId: incident.id, type: 'store-withdrawal', ...t, ...(incident.hazardClass ? { hazardClass: incident.hazardClass } : {}), issuedAt: now, issuedBy: ctx.principal.userId };
        return { ...message, listing: noticeListing(notice) };
      });
      const withdrawals = [...(incident.withdrawals ?? []), ...targets.map((t, i) => ({ ...stamp(ctx), ...t, noticeId: outbox[i]!.id }))];
      const after = withdrawalsMissing({ ...incident, withdrawals });
      const deadlines = after.stores.length + after.regions.length === 0 ? meet(incident, 'stores-notified', now) : incident.deadlines;
      // Stores that have not acknowledged are re-notified, then escalated (the watchdog).
      const followUp = { stage: 0 as const, nextCheckAt: new Date(ctx.now.getTime() + ctx.policy.storeResponse.renotifyAfterHours * HOUR).toISOString() };
      return same({ withdrawals, deadlines, storeFollowUp: followUp }, outbox);
    }
    case 'accept-sponsorship':
      if (incident.sponsor?.by === ctx.principal.userId) throw new ConflictError('You already sponsor this incident.');
      // Another executive takes over (the sponsor left, or is the wrong person): with a reason, on the timeline.
      if (incident.sponsor && !input.reason) {
        throw ruleError(`The incident is sponsored by ${incident.sponsor.by} since ${incident.sponsor.at}: taking it over needs a reason.`, 'sponsor-takeover', 'runbooks/approve-disclosure.md#1-sponsor');
      }
      return same({ sponsor: stamp(ctx) });
    case 'draft-disclosure': {
      if (input.mode === 'no-public-notice' && incident.hazardClass !== 'III') {
        throw ruleError(`A class ${incident.hazardClass ?? '?'} recall needs a public notice; "no public notice" is a class III decision only.`, 'public-notice-required', 'runbooks/approve-disclosure.md#2-draft-the-notice');
      }
      if (input.mode === 'public-notice') {
        const failed = checkNoticeFacts(input.text, incident).filter((c) => !c.ok);
        if (failed.length) {
          throw new UnprocessableError(`The notice is missing ${failed.length} required fact(s): ${failed.map((c) => c.fact).join(', ')}.`, {
            rule: 'notice-facts',
            missingFacts: failed.map((c) => ({ fact: c.fact, missing: c.missing })),
            runbook: 'runbooks/approve-disclosure.md#2-draft-the-notice',
          });
        }
      }
      return same({ disclosure: { ...stamp(ctx), mode: input.mode, text: input.text, textHash: textHash(input.text) } });
    }
    case 'approve-disclosure': {
      const d = incident.disclosure;
      if (!d) throw ruleError('There is no disclosure text to approve yet.', 'draft-before-approval', 'runbooks/approve-disclosure.md#2-draft-the-notice');
      if (d.textHash !== input.textHash) throw new ConflictError('The disclosure text changed since you read it: read the incident again and approve the text it shows now.');
      if (incident.declared?.by === ctx.principal.userId) {
        throw ruleError('The person who declared the incident cannot approve its disclosure alone: another executive approves.', 'separation-of-duties', 'runbooks/approve-disclosure.md#3-approve');
      }
      if (d.by === ctx.principal.userId) {
        throw ruleError('The author of the disclosure text cannot approve it alone: another executive approves.', 'separation-of-duties', 'runbooks/approve-disclosure.md#3-approve');
      }
      if (incident.approval?.textHash === d.textHash && incident.approval.mode === d.mode) throw new ConflictError(`This text was already approved by ${incident.approval.by}.`);
      return same({ approval: { ...stamp(ctx), mode: d.mode, textHash: d.textHash } });
    }
    case 'contain':
      return same({});
    case 'disclose': {
      const d = incident.disclosure!;
      if (d.mode === 'no-public-notice') return same({ disclosed: stamp(ctx), deadlines: meet(incident, 'disclosed', now) });
      const message = publicNotice(incident);
      const page: PublicNotice = {
        incidentId: incident.id,
        noticeId: message.id,
        title: incident.title!,
        hazardClass: incident.hazardClass!,
        hazard: incident.hazard!,
        products: incident.scope?.products ?? [],
        lots: incident.scope?.lots ?? [],
        ...(incident.scope?.productionDates ? { productionDates: incident.scope.productionDates } : {}),
        regions: incident.scope?.regions ?? [],
        text: d.text,
        textHash: d.textHash,
        publishedAt: now,
      };
      return { ...same({ disclosed: { ...stamp(ctx), noticeId: message.id }, deadlines: meet(incident, 'disclosed', now) }, [message]), publicNotice: page };
    }
    case 'remediate':
      return same({});
    case 'record-root-cause':
      return same({ rootCause: { ...stamp(ctx), text: input.text } });
    case 'add-action': {
      const actions = incident.actions ?? [];
      if (actions.length >= 50) throw ruleError('An incident carries at most 50 actions.', 'action-limit', 'runbooks/close-incident.md#2-corrective-and-preventive-actions');
      const action = { id: `capa-${actions.length + 1}`, kind: input.kind, description: input.description, owner: input.owner, dueDate: input.dueDate, addedBy: ctx.principal.userId, addedAt: now };
      return same({ actions: [...actions, action] });
    }
    case 'complete-action': {
      const actions = incident.actions ?? [];
      const target = actions.find((a) => a.id === input.actionId);
      if (!target) throw new NotFoundError(`The incident has no action ${input.actionId}.`);
      if (target.completedAt) throw new ConflictError(`${input.actionId} was already completed at ${target.completedAt}.`);
      const completedAt = input.completedAt ? new Date(input.completedAt).toISOString() : now;
      return same({ actions: actions.map((a) => (a.id === input.actionId ? { ...a, completedAt, completedRecordedAt: now, completedBy: ctx.principal.userId } : a)) });
    }
    case 'verify': {
      const fixed = fixDate(incident);
      if (!fixed) throw ruleError('Verification counts reports after the fix: complete a corrective action first.', 'fix-before-verification', 'runbooks/close-incident.md#3-verify-the-fix');
      if (Object.keys(incident.keys).length === 0) {
        throw ruleError('The incident has no cluster keys to count reports on: an executive accepts the fix with override-verification.', 'no-keys-to-verify', 'runbooks/close-incident.md#3-verify-the-fix');
      }
      const windowEnds = new Date(new Date(fixed).getTime() + ctx.policy.verificationDays * DAY);
      if (ctx.now < windowEnds) {
        throw new UnprocessableError(`The verification window (${ctx.policy.verificationDays} days after the fix on ${fixed}) ends at ${windowEnds.toISOString()}.`, {
          rule: 'verification-window',
          windowEndsAt: windowEnds.toISOString(),
          runbook: 'runbooks/close-incident.md#3-verify-the-fix',
        });
      }
      const counts = ctx.counts ?? {};
      const result = Object.values(counts).some((n) => n > 0) ? 'failed' : 'passed';
      return same({ verification: { ...stamp(ctx), result, fixDate: fixed, windowDays: ctx.policy.verificationDays, counts } });
    }
    case 'override-verification':
      return same({ verification: { ...stamp(ctx), result: 'overridden', reason: input.reason } });
    case 'acknowledge-breach': {
      if (incident.sponsor?.by !== ctx.principal.userId) throw new ForbiddenError('Only the executive sponsor of the incident acknowledges its missed deadlines.');
      const d = incident.deadlines?.[input.deadline];
      if (!d || !deadlineBreached(d, ctx.now)) throw ruleError(`The ${input.deadline} deadline is not missed.`, 'no-breach', 'runbooks/deadline-breach.md#acknowledge');
      if (d.acknowledged) throw new ConflictError(`The ${input.deadline} breach was already acknowledged by ${d.acknowledged.by}.`);
      return same({ deadlines: { ...incident.deadlines, [input.deadline]: { ...d, acknowledged: { ...stamp(ctx), reason: input.reason } } } });
    }
    case 'close':
      return { next: { ...incident, ...to, closed: stamp(ctx) }, outbox: [], releaseKeys: true };
  }
}

/** The deadlines the watchdog escalates now: missed and not escalated yet. */
export function deadlinesToEscalate(incident: Incident, now: Date): Deadline[] {
  return breachedDeadlines(incident, now).filter((d) => !d.escalatedAt);
}

