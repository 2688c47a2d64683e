import { hasRole, type Principal } from '../platform/auth.js';
import type { Clock } from '../platform/clock.js';
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from '../platform/errors.js';
import { idAt, newId } from '../platform/ids.js';
import type { OutboxMessage } from '../platform/outbox.js';
import {
  breachesToEscalate,
  clockState,
  completeClock,
  isBackdated,
  landingPointClock,
  markEscalated,
  nextDue,
  reportClockState,
  startClocks,
  type ClockPolicy,
  type ClockRecord,
} from './clocks.js';
import type { Report, TimelineEvent } from './model.js';
import { forCaller, splitNarrative } from './narrative.js';
import * as repo from './repository.js';
import type { LandingPointCreate, MilestoneCreate, ReportCreate, ReportListQuery, SurveyCreate } from './schema.js';

export interface ReportDeps {
  readonly clock: Clock;
  readonly policy: ClockPolicy;
}

/** Roles that may see the customer's contact: the desk that answers and QA that calls back. */
const CONTACT_ROLES = ['agent', 'qa', 'admin'] as const;

export function reportView(report: Report, now: Date) {
  return {
    ...report,
    clockState: reportClockState(report.clocks, now),
    clocks: report.clocks.map((c) => ({ ...c, state: clockState(c, now) })),
  };
}
export type ReportView = ReturnType<typeof reportView>;

/**
 * Files a case record.
 * 1. A store files only for itself.
 * 2. Starts the three customer clocks from `receivedAt`, plus one per landing point.
 * 3. Writes report, contact and idempotency record in one transaction.
 * 4. A retry with the same Idempotency-Key returns the report the first call created.
 */
export async function submitReport(
  deps: ReportDeps,
  input: ReportCreate,
  principal: Principal,
  idempotencyKey?: string,
): Promise<{ report: ReportView; replayed: boolean }> {
  if (hasRole(principal, 'store') && !hasRole(principal, 'agent', 'admin') && input.purchase.storeId !== principal.storeId) {
    throw new ForbiddenError(`A store files reports for its own store (${principal.storeId}) only.`);
  }
  const now = deps.clock.now();
  const receivedAt = new Date(input.receivedAt).toISOString();
  const keyHash = idempotencyKey ? repo.hashIdempotencyKey(principal.userId, idempotencyKey) : undefined;
  // The id sorts by the time the complaint was received; with a key it is also derived from it.
  const id = idAt(new Date(receivedAt), keyHash);
  const clocks: ClockRecord[] = [
    ...startClocks(receivedAt, deps.policy),
    ...(input.landingPoints ?? []).map((lp) => landingPointClock(`lp-${newId(now)}`, lp.promise, lp.owner, lp.dueAt, now)),
  ];
  const { contact, landingPoints: _lp, receivingAgent, ...record } = input;
  const report: Report = {
    ...record,
    receivedAt,
    id,
    receivingAgent: receivingAgent ?? principal.username,
    clocks,
    createdBy: principal.userId,
    ...(isStoreOnly(principal) ? { filedByStore: principal.storeId! } : {}),
    createdAt: now.toISOString(),
    version: 1,
  };
  const result = await repo.insertReport(
    report,
    contact,
    reportClockState(clocks, now),
    nextDue(clocks),
    keyHash ? { keyHash, requestHash: repo.requestHash(input) } : undefined,
    isStoreOnly(principal) ? { storeId: principal.storeId!, perHour: deps.policy.storeReportsPerHour, now } : undefined,
  );
  if (result.created) return { report: reportView(forCaller(report, principal), now), replayed: false };
  const existing = await repo.getReport(result.existingReportId, { withContact: false });
  if (!existing) throw new NotFoundError('The report created with this Idempotency-Key no longer exists.');
  return { report: reportView(forCaller(existing.report, principal), now), replayed: true };
}

/** Reads one report with its timeline; the contact only for roles that need it. */
export async function readReport(deps: ReportDeps, id: string, principal: Principal) {
  const stored = await repo.getReport(id, { withContact: hasRole(principal, ...CONTACT_ROLES) });
  // A store sees only its own reports; others do not even learn that the id exists.
  if (!stored || (isStoreOnly(principal) && stored.report.purchase.storeId !== principal.storeId)) {
    throw new NotFoundError(`No report ${id}.`);
  }
  const now = deps.clock.now();
  const received: TimelineEvent = { type: 'received', at: stored.report.receivedAt, by: stored.report.createdBy };
  return {
    ...reportView(forCaller(stored.report, principal), now),
    ...(stored.contact ? { contact: stored.contact } : {}),
    timeline: [received, ...stored.timeline],
  };
}

function isStoreOnly(principal: Principal): boolean {
  return hasRole(principal, 'store') && !hasRole(principal, 'agent', 'qa', 'executive', 'admin');
}

/** Lists reports newest first; a store's list is always limited to its own store. */
export async function listReports(deps: ReportDeps, query: ReportListQuery, principal: Principal) {
  if (isStoreOnly(principal)) {
    if (query.storeId && query.storeId !== principal.storeId) throw new ForbiddenError('A store lists its own reports only.');
    query = { ...query, storeId: principal.storeId! };
  }
  const now = deps.clock.now();
  const page = await repo.listReports(query);
  // A list is the same for every role that may list: no narrative, no desk notes. Index records
  // carry neither, except items of the older layout (text inside `record`): split off here too.
  const listed = page.items.map((r) => splitNarrative(r).record as typeof r);
  return { items: listed.map((r) => reportView(forCaller(r, principal), now)), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

async function change(
  deps: ReportDeps,
  id: string,
  principal: Principal,
  mutate: (report: Report, now: Date) => { report: Report; events: TimelineEvent[]; outbox?: OutboxMessage[] },
) {
  const stored = await repo.getReport(id, { withContact: false });
  if (!stored) throw new NotFoundError(`No report ${id}.`);
  const now = deps.clock.now();
  const { report, events, outbox } = mutate(stored.report, now);
  const next = { ...report, version: stored.report.version + 1 };
  await repo.saveReport(
    next,
    stored.report.version,
    reportClockState(next.clocks, now),
    nextDue(next.clocks),
    events.map((event) => ({ id: newId(now), event })),
    outbox ?? [],
    now,
    'item',
  );
  return reportView(forCaller(next, principal), now);
}

/**
 * Records a milestone (who, when, note) and so completes a clock: handoff, qa, reply, or
 * a landing point. Late milestones are recorded and the clock shows as breached.
 */
export async function recordMilestone(deps: ReportDeps, id: string, input: MilestoneCreate, principal: Principal) {
  return change(deps, id, principal, (report, now) => {
    const at = input.at ? new Date(input.at).toISOString() : now.toISOString();
    const recordedAt = now.toISOString();
    const clocks = completeClock(report.clocks, input.clock, { at, recordedAt, by: principal.userId, ...(input.note ? { note: input.note } : {}) });
    const completed = clocks.find((c) => c.id === input.clock)!;
    // The timeline keeps both times; a backdated milestone says so.
    const backdated = isBackdated(completed) ? { backdated: true, claimedAt: at, recordedAt } : {};
    return {
      report: { ...report, clocks },
      events: [{ type: 'milestone', at: recordedAt, by: principal.userId, details: { clock: input.clock, state: clockState(completed, now), claimedAt: at, ...backdated } }],
    };
  });
}

/** Adds a landing point: a promise to the customer with an owner and a due date, as a clock. */
export async function addLandingPoint(deps: ReportDeps, id: string, input: LandingPointCreate, principal: Principal) {
  return change(deps, id, principal, (report, now) => {
    if (report.clocks.length >= 23) throw new UnprocessableError('A report carries at most 20 landing points.');
    const clock = landingPointClock(`lp-${newId(now)}`, input.promise, input.owner, input.dueAt, now);
    return {
      report: { ...report, clocks: [...report.clocks, clock] },
      events: [{ type: 'landing-point-added', at: now.toISOString(), by: principal.userId, details: { clock: clock.id, deadline: clock.deadline } }],
    };
  });
}

/** Records the customer's answer to the survey that follows the written reply. */
export async function recordSurvey(deps: ReportDeps, id: string, input: SurveyCreate, principal: Principal) {
  return change(deps, id, principal, (report, now) => {
    const reply = report.clocks.find((c) => c.id === 'reply');
    if (!reply?.completedAt) {
      throw new UnprocessableError('The survey follows the written reply: record the reply milestone first.', { rule: 'survey-after-reply' });
    }
    if (report.survey) throw new UnprocessableError(`A survey was already recorded at ${report.survey.at}.`, { rule: 'one-survey' });
    const survey = { ...input, at: now.toISOString(), by: principal.userId };
    return {
      report: { ...report, survey },
      events: [{ type: 'survey-recorded', at: survey.at, by: principal.userId, details: { satisfaction: input.satisfaction } }],
    };
  });
}

/**
 * The watchdog, run every minute.
 * 1. Reads, shard by shard through the `dueWork` index, the reports with a clock due.
 * 2. Marks each breached clock escalated, once, with a timeline event.
 * 3. Writes one escalation per breach to the outbox, in the same transaction; the stream
 *    publisher sends it to `incident-alerts`. A second run finds nothing left to do.
 */
export async function runWatchdog(deps: ReportDeps): Promise<{ examined: number; breaches: number; conflicts: number }> {
  const now = deps.clock.now();
  let examined = 0;
  let breaches = 0;
  let conflicts = 0;
  const failures: string[] = [];
  for (let shard = 0; shard < repo.DUE_SHARDS; shard++) {
    for (const report of await repo.dueReports(shard, now)) {
      examined++;
      const due = breachesToEscalate(report.clocks, now);
      const clocks = markEscalated(report.clocks, due.map((c) => c.id), now);
      const next = { ...report, clocks, version: report.version + 1 };
      try {
        await repo.saveReport(
          next,
          report.version,
          reportClockState(clocks, now),
          nextDue(clocks),
          due.map((c) => ({
            id: newId(now),
            event: { type: 'clock-breached', at: now.toISOString(), by: 'watchdog', details: { clock: c.id, deadline: c.deadline, owner: c.owner } },
          })),
          due.map((c) => breachAlert(report, c, now)),
          now,
          'index',
        );
        breaches += due.length;
      } catch (error) {
        // Someone changed the report meanwhile (e.g. recorded the milestone): next run decides.
        if (error instanceof ConflictError) conflicts++;
        else failures.push(`${report.id}: ${(error as Error).message}`);
      }
    }
  }
  // One bad report must not keep the others from being escalated; the run still fails loudly.
  if (failures.length > 0) throw new Error(`watchdog: ${failures.length} report(s) failed: ${failures.slice(0, 5).join('; ')}`);
  return { examined, breaches, conflicts };
}

/** The escalation for one breach: ids, codes and deadlines only, never the customer. */
export function breachAlert(report: Report, clock: ClockRecord, now: Date): OutboxMessage {
  const harmed = report.harm.injury || report.harm.illness;
  return {
    id: `breach-${report.id}-${clock.id}`,
    topic: 'incidentAlerts',
    subject: `Clock breached: ${clock.id} on report ${report.id}`,
    message: {
      type: 'clock-breached',
      reportId: report.id,
      clock: clock.id,
      // A landing point's promise is free text a desk wrote: it stays on the report.
      clockName: clock.id.startsWith('lp-') ? 'landing point' : clock.name,
      owner: clock.owner,
      deadline: clock.deadline,
      detectedAt: now.toISOString(),
      product: { sku: report.product.sku, lotCode: report.lotCode, plant: report.plant },
      defectCategory: report.defect.category,
      storeId: report.purchase.storeId,
      region: report.purchase.region,
      severity: harmed ? 'high' : 'normal',
      runbook: 'runbooks/clock-breach.md',
    },
    attributes: { alertType: 'clock-breach', severity: harmed ? 'high' : 'normal', region: report.purchase.region },
  };
}
