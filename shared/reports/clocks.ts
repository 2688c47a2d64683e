import * as z from 'zod';
import { jsonSetting } from '../platform/config.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../platform/errors.js';
import { DAY, MINUTE } from '../platform/clock.js';

/**
 * The customer clocks of DOMAIN.md §2, as pure functions of the clock records and `now`.
 * Every report starts three; each landing point (a promise with an owner and a due date)
 * adds one. A clock is running, met (completed by its deadline) or breached (past its
 * deadline, completed late or not at all). A breach is escalated once (`escalatedAt`).
 */
export const ClockPolicy = z.strictObject({
  handoffMinutes: z.number().int().positive().default(15),
  qaMinutes: z.number().int().positive().default(120),
  replyDays: z.number().int().positive().default(14),
  /** How far back a complaint's `receivedAt` may lie: older history is a backtest, not intake. */
  receivedHorizonDays: z.number().int().positive().max(3650).default(365),
  /** Reports one store may file per clock hour (its own system or staff); agents are not limited. */
  storeReportsPerHour: z.number().int().positive().max(100_000).default(120),
});
export type ClockPolicy = z.infer<typeof ClockPolicy>;
export const DEFAULT_CLOCK_POLICY: ClockPolicy = ClockPolicy.parse({});

/** Reads the policy from `CLOCK_POLICY` (JSON), falling back to the documented defaults. */
export function clockPolicyFrom(env: Record<string, string | undefined> = process.env): ClockPolicy {
  const raw = env.CLOCK_POLICY;
  return raw ? jsonSetting('CLOCK_POLICY', raw, ClockPolicy) : DEFAULT_CLOCK_POLICY;
}

export const BUILT_IN_CLOCKS = {
  handoff: { name: 'case record handed to the regional desk', owner: 'customer desk' },
  qa: { name: "plant's quality assurance reached", owner: 'regional desk' },
  reply: { name: 'written reply sent to the customer', owner: 'customer desk' },
} as const;
export type BuiltInClock = keyof typeof BUILT_IN_CLOCKS;

export interface ClockRecord {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly startedAt: string;
  readonly deadline: string;
  /** The time the milestone claims (may be earlier than it was recorded). */
  readonly completedAt?: string;
  /** When the server recorded the milestone: a claim after the fact cannot undo a breach. */
  readonly recordedAt?: string;
  readonly completedBy?: string;
  readonly note?: string;
  /** When the watchdog escalated the breach; set once. */
  readonly escalatedAt?: string;
}

export type ClockState = 'running' | 'met' | 'breached';
export type ReportClockState = 'open' | 'overdue' | 'closed';

export function startClocks(receivedAt: string, policy: ClockPolicy): ClockRecord[] {
  const start = new Date(receivedAt).getTime();
  const deadlines: Record<BuiltInClock, number> = {
    handoff: start + policy.handoffMinutes * MINUTE,
    qa: start + policy.qaMinutes * MINUTE,
    reply: start + policy.replyDays * DAY,
  };
  return (Object.keys(BUILT_IN_CLOCKS) as BuiltInClock[]).map((id) => ({
    id,
    ...BUILT_IN_CLOCKS[id],
    startedAt: receivedAt,
    deadline: new Date(deadlines[id]).toISOString(),
  }));
}

export function landingPointClock(id: string, promise: string, owner: string, dueAt: string, now: Date): ClockRecord {
  return { id, name: promise, owner, startedAt: now.toISOString(), deadline: new Date(dueAt).toISOString() };
}

/** Tolerated difference between the desk's clock and ours (also in the schemas). */
export const RECORDING_SKEW_MS = 5 * MINUTE;

/**
 * A clock is met only if its milestone both claims a time by the deadline and was recorded by
 * then: a running clock is breached the moment its deadline passes, and a milestone recorded
 * after that cannot make it met, whatever time it claims (one rule, whenever the watchdog runs).
 */
export function clockState(clock: ClockRecord, now: Date): ClockState {
  if (clock.completedAt) {
    const recordedInTime = !clock.recordedAt || clock.recordedAt <= clock.deadline;
    return clock.completedAt <= clock.deadline && recordedInTime && !clock.escalatedAt ? 'met' : 'breached';
  }
  return now.toISOString() > clock.deadline ? 'breached' : 'running';
}

/** The milestone claims a time more than the skew before it was recorded. */
export function isBackdated(clock: Pick<ClockRecord, 'completedAt' | 'recordedAt'>): boolean {
  return !!clock.completedAt && !!clock.recordedAt && new Date(clock.recordedAt).getTime() - new Date(clock.completedAt).getTime() > RECORDING_SKEW_MS;
}

/** The report-level summary used for filtering: closed when every clock is done. */
export function reportClockState(clocks: readonly ClockRecord[], now: Date): ReportClockState {
  if (clocks.every((c) => c.completedAt)) return 'closed';
  return clocks.some((c) => !c.completedAt && clockState(c, now) === 'breached') ? 'overdue' : 'open';
}

/** Records a milestone: completes the clock. Completing twice is a conflict. */
export function completeClock(
  clocks: readonly ClockRecord[],
  clockId: string,
  milestone: { at: string; by: string; note?: string; recordedAt: string },
): ClockRecord[] {
  const target = clocks.find((c) => c.id === clockId);
  if (!target) throw new NotFoundError(`This report has no clock "${clockId}".`);
  if (target.completedAt) {
    throw new ConflictError(`The clock "${clockId}" was already completed at ${target.completedAt}.`);
  }
  if (milestone.at < target.startedAt) {
    throw new UnprocessableError(`The milestone time ${milestone.at} is before the clock started (${target.startedAt}).`, { rule: 'milestone-after-start' });
  }
  const at = new Date(milestone.at).toISOString();
  return clocks.map((c) =>
    c.id === clockId ? { ...c, completedAt: at, recordedAt: new Date(milestone.recordedAt).toISOString(), completedBy: milestone.by, ...(milestone.note ? { note: milestone.note } : {}) } : c,
  );
}

/** Clocks past their deadline, not completed, and not yet escalated. */
export function breachesToEscalate(clocks: readonly ClockRecord[], now: Date): ClockRecord[] {
  return clocks.filter((c) => !c.completedAt && !c.escalatedAt && clockState(c, now) === 'breached');
}

export function markEscalated(clocks: readonly ClockRecord[], ids: readonly string[], now: Date): ClockRecord[] {
  return clocks.map((c) => (ids.includes(c.id) ? { ...c, escalatedAt: now.toISOString() } : c));
}

/** The earliest deadline the watchdog still has to look at, if any. */
export function nextDue(clocks: readonly ClockRecord[]): string | undefined {
  const pending = clocks.filter((c) => !c.completedAt && !c.escalatedAt).map((c) => c.deadline);
  return pending.length ? pending.sort()[0] : undefined;
}
