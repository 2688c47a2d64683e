import { ConflictError, ForbiddenError } from '../platform/errors.js';
import type { Role } from '../platform/roles.js';
import { ACTIVE_STATUSES, type IncidentStatus } from './model.js';

/**
 * The recall lifecycle as data (STYLE.md rule 8): which action may run in which state, who
 * may run it, where it leads and which gate must pass first. Pure: `decide` is unit-tested
 * for every state × action × role.
 *
 *   candidate ─declare→ declared ─contain→ contained ─disclose→ disclosed ─remediate→ remediating ─close→ closed
 *       │                [customer first]            [disclosure, leadership]        [prevention, speed]
 *       ├─dismiss→ dismissed
 *       └─merge→ merged (into the incident declared from another candidate)
 *
 * Evidence actions (scope, hold, withdrawal, sponsorship, disclosure text and approval,
 * root cause, CAPA, verification, breach acknowledgement) keep the state and add evidence
 * to the checklists; they are versioned and on the timeline like transitions.
 *
 * Executive decisions (sponsoring, approving a disclosure, overriding a verification,
 * acknowledging a breach) belong to the `executive` group alone: an administrator can do
 * everything quality assurance does, but cannot stand in for leadership.
 */
export type GateId = 'contain' | 'disclose' | 'close';

export interface ActionSpec {
  readonly from: readonly IncidentStatus[];
  readonly to?: IncidentStatus;
  readonly roles: readonly Role[];
  /** The gate whose checklist must be complete before the transition. */
  readonly gate?: GateId;
  readonly summary: string;
}

const QA: readonly Role[] = ['qa', 'admin'];
const EXECUTIVE: readonly Role[] = ['executive'];
const ACTIVE = ACTIVE_STATUSES;

export const ACTIONS = {
  declare: { from: ['candidate'], to: 'declared', roles: QA, summary: 'declare the candidate a recall incident (class, title, hazard, scope)' },
  dismiss: { from: ['candidate'], to: 'dismissed', roles: QA, summary: 'dismiss the candidate with a reason; its keys are freed' },
  merge: { from: ['candidate'], to: 'merged', roles: QA, summary: 'merge the candidate into an incident declared from another one' },
  'update-scope': { from: ['declared'], roles: QA, summary: 'change title, class, hazard or scope before containment' },
  'record-hold': { from: ['declared', 'contained'], roles: QA, summary: 'record the shipment hold: where, since when' },
  'issue-withdrawal': { from: ACTIVE, roles: QA, summary: 'issue the store withdrawal notice to every region in scope not yet notified' },
  'accept-sponsorship': { from: ['candidate', ...ACTIVE], roles: EXECUTIVE, summary: 'an executive takes ownership of the incident' },
  'draft-disclosure': { from: ['declared', 'contained'], roles: ['qa', 'executive', 'admin'], summary: 'set the public notice text (or, class III, the no-public-notice decision)' },
  'approve-disclosure': { from: ['declared', 'contained'], roles: EXECUTIVE, summary: 'approve the exact disclosure text (not by the declarer)' },
  contain: { from: ['declared'], to: 'contained', roles: QA, gate: 'contain', summary: 'customer first: scope, hold and store withdrawals are done' },
  disclose: { from: ['contained'], to: 'disclosed', roles: ['qa', 'executive', 'admin'], gate: 'disclose', summary: 'publish the approved disclosure' },
  remediate: { from: ['disclosed'], to: 'remediating', roles: QA, summary: 'start remediation: root cause and corrective / preventive actions' },
  'record-root-cause': { from: ACTIVE, roles: QA, summary: 'record the root cause' },
  'add-action': { from: ACTIVE, roles: QA, summary: 'add a corrective or preventive action with owner and due date' },
  'complete-action': { from: ACTIVE, roles: QA, summary: 'record an action as done (a corrective action dates the fix)' },
  verify: { from: ['remediating'], roles: QA, summary: 'check the detection counters: no new report on the keys since the fix' },
  'override-verification': { from: ['remediating'], roles: EXECUTIVE, summary: 'an executive accepts the fix without the counter check, with a reason' },
  'acknowledge-breach': { from: ACTIVE, roles: EXECUTIVE, summary: 'the sponsor acknowledges a missed deadline with a reason' },
  close: { from: ['remediating'], to: 'closed', roles: ['qa', 'executive', 'admin'], gate: 'close', summary: 'prevention: root cause, actions, verification, replies, breaches acknowledged' },
} as const satisfies Record<string, ActionSpec>;

export type ActionId = keyof typeof ACTIONS;
export const ACTION_IDS = Object.keys(ACTIONS) as ActionId[];

/** The runbook of each state: where a person finds how to move the incident on. */
export const STATUS_RUNBOOK: Record<IncidentStatus, string> = {
  candidate: 'runbooks/triage-candidate.md',
  dismissed: 'runbooks/triage-candidate.md',
  merged: 'runbooks/triage-candidate.md',
  declared: 'runbooks/contain-incident.md',
  contained: 'runbooks/approve-disclosure.md',
  disclosed: 'runbooks/close-incident.md',
  remediating: 'runbooks/close-incident.md',
  closed: 'runbooks/close-incident.md',
};

/**
 * May these roles run this action in this state? Checks the role first (403), then the
 * state (409: the incident is not where the action applies). Gates are checked after this.
 */
export function decide(status: IncidentStatus, action: ActionId, roles: readonly Role[]): ActionSpec {
  const spec: ActionSpec = ACTIONS[action];
  if (!roles.some((r) => spec.roles.includes(r))) {
    throw new ForbiddenError(`"${action}" needs one of the roles: ${spec.roles.join(', ')}.`);
  }
  if (!spec.from.includes(status)) {
    throw new ConflictError(`"${action}" applies to an incident that is ${spec.from.join(' or ')}; this one is ${status}.`);
  }
  return spec;
}

/**
 * The actions these roles may take now: what the CLI and the read offer as next steps.
 * `merge` is not offered: a candidate is merged by declaring another one with `merge`.
 */
export function availableActions(status: IncidentStatus, roles: readonly Role[]): ActionId[] {
  return ACTION_IDS.filter((a) => a !== 'merge' && ACTIONS[a].from.includes(status as never) && roles.some((r) => (ACTIONS[a].roles as readonly Role[]).includes(r)));
}
