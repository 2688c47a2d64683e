import type { RuleId, Signal } from '../detection/engine.js';
import type { ClusterKey } from '../detection/keys.js';

/**
 * A recall incident (DOMAIN.md §4). Detection opens it as a `candidate`; quality assurance
 * declares, dismisses or merges it; the five principle gates walk it to `closed`.
 *
 * Two kinds of fields live on one record:
 * - **detection fields** (`keys`, `reportCount`, `lastReportAt`) move as reports arrive, by
 *   atomic path updates that never read the record; they are not versioned;
 * - **lifecycle fields** (everything in `LIFECYCLE_FIELDS`) change only through an action:
 *   each action writes a new `version`, conditioned on the previous one, and one timeline
 *   event holding every changed field before → after.
 */
export const INCIDENT_STATUSES = ['candidate', 'dismissed', 'merged', 'declared', 'contained', 'disclosed', 'remediating', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** States in which an incident holds its cluster keys: later reports on them attach to it. */
export const OPEN_STATUSES: readonly IncidentStatus[] = ['candidate', 'declared', 'contained', 'disclosed', 'remediating'];
/** A declared recall that is not over yet. */
export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['declared', 'contained', 'disclosed', 'remediating'];

/** FDA recall classes (21 CFR 7.3(m)). */
export const HAZARD_CLASSES = ['I', 'II', 'III'] as const;
export type HazardClass = (typeof HAZARD_CLASSES)[number];
export const HAZARD_CLASS_MEANING: Record<HazardClass, string> = {
  I: 'reasonable probability of serious adverse health consequences or death',
  II: 'temporary or medically reversible adverse health consequences; serious harm remote',
  III: 'not likely to cause adverse health consequences',
};

export interface KeyEntry {
  readonly key: ClusterKey;
  readonly addedAt: string;
  /** The latest signal of each rule on this key: the evidence QA judges. */
  readonly evidence: Partial<Record<RuleId, Signal>>;
}

export interface Scope {
  readonly products?: readonly { sku: string; name: string }[];
  readonly lots?: readonly { sku: string; lotCode: string }[];
  readonly productionDates?: { from: string; to: string };
  readonly regions?: readonly string[];
  /** Specific stores; none listed means every store of the regions. */
  readonly stores?: readonly string[];
}

export interface Stamp {
  readonly by: string;
  readonly at: string;
}

export interface ShipmentHold extends Stamp {
  /** Warehouses or plants where shipments are held. */
  readonly locations: readonly string[];
  /** When the hold took effect (may be before it was recorded). */
  readonly heldAt: string;
  readonly note?: string;
}

export interface Withdrawal extends Stamp {
  readonly noticeId: string;
  readonly region: string;
  /** Set when the scope lists stores: the notice targets this one store. */
  readonly storeId?: string;
}

export type DisclosureMode = 'public-notice' | 'no-public-notice';
export interface Disclosure extends Stamp {
  readonly mode: DisclosureMode;
  /** The public notice text, or the reasons for not publishing one (class III). */
  readonly text: string;
  /** sha256 of the exact text: what an approval binds. */
  readonly textHash: string;
}

export interface Approval extends Stamp {
  readonly mode: DisclosureMode;
  readonly textHash: string;
}

export const DEADLINE_IDS = ['stores-notified', 'disclosed'] as const;
export type DeadlineId = (typeof DEADLINE_IDS)[number];
export interface Deadline {
  readonly id: DeadlineId;
  readonly due: string;
  readonly metAt?: string;
  /** When the watchdog escalated the breach; set once. */
  readonly escalatedAt?: string;
  /** The sponsor's acknowledgement of a breach, with the reason. */
  readonly acknowledged?: Stamp & { reason: string };
}

export interface CapaAction {
  readonly id: string;
  readonly kind: 'corrective' | 'preventive';
  readonly description: string;
  readonly owner: string;
  readonly dueDate: string;
  readonly addedBy: string;
  readonly addedAt: string;
  /** The time the action claims it was done. */
  readonly completedAt?: string;
  /** When it was recorded: the verification window starts no earlier (a backdated fix hides nothing). */
  readonly completedRecordedAt?: string;
  readonly completedBy?: string;
}

export type Verification =
  | (Stamp & { readonly result: 'passed' | 'failed'; readonly fixDate: string; readonly windowDays: number; readonly counts: Record<string, number> })
  | (Stamp & { readonly result: 'overridden'; readonly reason: string });

export interface Lifecycle {
  readonly status: IncidentStatus;
  readonly title?: string;
  readonly hazardClass?: HazardClass;
  /** The hazard in plain words, as notices state it (e.g. "may contain fragments of metal"). */
  readonly hazard?: string;
  readonly scope?: Scope;
  readonly declared?: Stamp;
  readonly qaOwner?: string;
  readonly sponsor?: Stamp;
  readonly dismissal?: Stamp & { reason: string };
  readonly mergedInto?: string;
  /** Candidates merged into this incident; their linked reports are this incident's too. */
  readonly mergedFrom?: readonly string[];
  readonly hold?: ShipmentHold;
  readonly withdrawals?: readonly Withdrawal[];
  /** Follow-up of stores that have not acknowledged: re-notified (stage 1), then escalated (2). */
  readonly storeFollowUp?: { readonly stage: 0 | 1 | 2; readonly nextCheckAt?: string; readonly renotified?: Stamp & { stores: number }; readonly escalated?: Stamp & { stores: number } };
  readonly disclosure?: Disclosure;
  readonly approval?: Approval;
  readonly disclosed?: Stamp & { noticeId?: string };
  readonly deadlines?: Partial<Record<DeadlineId, Deadline>>;
  readonly rootCause?: Stamp & { text: string };
  readonly actions?: readonly CapaAction[];
  readonly verification?: Verification;
  readonly closed?: Stamp;
}

export const LIFECYCLE_FIELDS = [
  'status', 'title', 'hazardClass', 'hazard', 'scope', 'declared', 'qaOwner', 'sponsor', 'dismissal', 'mergedInto',
  'mergedFrom', 'hold', 'withdrawals', 'storeFollowUp', 'disclosure', 'approval', 'disclosed', 'deadlines', 'rootCause', 'actions',
  'verification', 'closed',
] as const satisfies readonly (keyof Lifecycle)[];

export interface Incident extends Lifecycle {
  readonly id: string;
  readonly version: number;
  readonly origin: 'detection' | 'manual';
  readonly openedAt: string;
  /** The key that opened it (detection) or the first key of its scope (manual). */
  readonly key?: ClusterKey;
  /** The signal that opened it (detection only). */
  readonly openedBy?: Signal;
  /** Every cluster key of the problem with its evidence, by key id. */
  readonly keys: Record<string, KeyEntry>;
  readonly reportCount: number;
  readonly lastReportAt?: string;
}

/** One line of an incident's append-only timeline: who, when, what, every field before → after. */
export interface IncidentEvent {
  readonly version: number;
  readonly at: string;
  readonly by: string;
  readonly action: string;
  readonly changes: Record<string, { before?: unknown; after?: unknown }>;
  readonly note?: string;
}

/** A cluster key's running picture, for `GET /clusters`. */
export interface ClusterSummary {
  readonly key: ClusterKey;
  readonly lastReportAt: string;
  /** Totals over the last N days as of the latest report: { "7": 3, "30": 5, ... }. */
  readonly counts: Record<string, number>;
  /** The latest signal on this key, if any rule fired. */
  readonly latestSignal?: Signal;
  /** Why the latest signal opened no candidate, when its category's track record held it back (or allowed one per product). */
  readonly notRaised?: string;
}
