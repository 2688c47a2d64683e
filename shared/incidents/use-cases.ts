import type { Principal } from '../platform/auth.js';
import { HOUR, type Clock } from '../platform/clock.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import type { OutboxMessage } from '../platform/outbox.js';
import { dayOf, dayToIso, lotKey, productKey } from '../detection/keys.js';
import type { CounterStore } from '../detection/store.js';
import type { TrackRecordConfig } from '../detection/track-record.js';
import { keyCode } from '../platform/fields.js';
import { logger } from '../platform/logger.js';
import { jitteredBackoff } from '../platform/retry.js';
import type { Effectiveness } from '../notices/effectiveness.js';
import { writeOutbox } from '../notices/repository.js';
import { incidentEffectiveness } from '../notices/use-cases.js';
import { replyClocks } from '../reports/repository.js';
import { getStores } from '../stores/repository.js';
import { applyAction, deadlinesFor, deadlinesToEscalate } from './actions.js';
import { deadlineBreached, evaluateChecklist, fixDate, type GateFacts } from './gates.js';
import { availableActions, decide, STATUS_RUNBOOK, type ActionId } from './lifecycle.js';
import { deadlineBreachAlert, DEFAULT_WITHDRAWAL_INSTRUCTIONS, heldReviewAlert, storesSilentAlert, storeWithdrawal } from './messages.js';
import { ACTIVE_STATUSES, HAZARD_CLASS_MEANING, type Incident, type IncidentEvent, type KeyEntry } from './model.js';
import type { IncidentPolicy } from './policy.js';
import { statusReport } from './report.js';
import * as repo from './repository.js';
import * as tracks from './track-records.js';
import type { IncidentAction, IncidentListQuery, IncidentOpen } from './schema.js';
import { diffLifecycle, firstEvent, lifecycleOf, stateAt } from './timeline.js';

/**
 * The recall lifecycle's use cases: open, act, read, report, and the incident watchdog.
 * What detection does with its signals (candidates) is in `candidates.ts`.
 */
export interface IncidentDeps {
  readonly clock: Clock;
  readonly policy: IncidentPolicy;
  /** The detection counters, read by the prevention gate's verification. */
  readonly counters: CounterStore;
  /** Where declared incidents teach detection (the categories' track records); absent or null: not noted. */
  readonly trackRecord?: TrackRecordConfig | null;
}

/**
 * Opens a declared incident by hand (no candidate).
 * 1. Derives its cluster keys from the scope's products and lots and the defect category.
 * 2. Claims them: a key another open incident holds is a 409 naming it.
 * 3. Writes the incident, timeline event 1 and the stage deadlines of its class.
 * 4. Notes it in its category's track record (a declared incident: see `learnFromDeclared`).
 */
export async function openIncident(deps: IncidentDeps, input: IncidentOpen, principal: Principal) {
  decide('candidate', 'declare', principal.roles);
  const now = deps.clock.now();
  const keyList = [
    ...(input.scope.products ?? []).map((p) => productKey(p.sku, input.category)),
    ...(input.scope.lots ?? []).map((l) => lotKey(l.sku, l.lotCode, input.category)),
  ];
  const at = now.toISOString();
  const declared = { by: principal.userId, at };
  const incident: Incident = {
    id: newId(now),
    status: 'declared',
    version: 1,
    origin: 'manual',
    openedAt: at,
    ...(keyList[0] ? { key: keyList[0] } : {}),
    keys: Object.fromEntries(keyList.map((k) => [k.id, { key: k, addedAt: at, evidence: {} }])),
    reportCount: 0,
    title: input.title,
    hazardClass: input.hazardClass,
    hazard: input.hazard,
    scope: input.scope,
    qaOwner: input.qaOwner ?? principal.userId,
    declared,
    deadlines: deadlinesFor(input.hazardClass, at, deps.policy),
  };
  await repo.createIncident(incident, firstEvent(incident, 'open', principal.userId), now);
  await learnFromDeclared(deps, incident, now);
  return incidentView(incident, {}, now, principal);
}

/**
 * Runs one action on an incident (POST /incidents/{id}/actions).
 * 1. Reads the incident; checks the role and the state (403, 409) before any costly read.
 * 2. Reads what the action's gate needs: replies owed (close), detection counters (verify),
 *    the candidates to merge (declare with `merge`).
 * 3. Applies the action (pure): version check, gate (422 naming every open item), new fields.
 * 4. Writes the new version, its timeline event, its notices and alerts and its key markers
 *    in one transaction (409 when someone else won).
 */
export async function runAction(deps: IncidentDeps, id: string, input: IncidentAction, principal: Principal) {
  const incident = await mustGet(id);
  decide(incident.status, input.action as ActionId, principal.roles);
  const now = deps.clock.now();
  // The close gate needs the replies owed and the stores' acknowledgements; every answer shows them.
  const { stores: _perStore, ...facts } = await gateFacts(incident, deps.policy);
  const counts = input.action === 'verify' ? await verificationCounts(deps, incident) : undefined;
  const storeRegions = input.action === 'issue-withdrawal' && incident.scope?.stores?.length
    ? Object.fromEntries([...(await getStores(incident.scope.stores)).values()].map((st) => [st.storeId, st.region]))
    : undefined;
  const outcome = applyAction(incident, input, { principal, now, policy: deps.policy, facts, ...(counts ? { counts } : {}), ...(storeRegions ? { storeRegions } : {}) });
  const note = 'reason' in input ? input.reason : undefined;
  const writes: repo.IncidentWrite[] = [];
  let next: Incident = { ...outcome.next, version: incident.version + 1 };
  const keyCount = (i: Incident) => Object.keys(i.keys).length;
  if (input.action === 'declare' && input.merge?.length) {
    const adopted: Record<string, { entry: KeyEntry; from: string }> = {};
    const sources: Incident[] = [];
    for (const sourceId of input.merge) {
      if (sourceId === id) throw new ConflictError('A candidate cannot be merged into itself.');
      const source = await repo.getIncident(sourceId);
      if (!source) throw new NotFoundError(`No candidate ${sourceId} to merge.`);
      decide(source.status, 'merge', principal.roles);
      sources.push(source);
      const merged: Incident = { ...source, status: 'merged', mergedInto: id, version: source.version + 1 };
      for (const [keyId, entry] of Object.entries(source.keys)) adopted[keyId] = { entry, from: sourceId };
      writes.push({ incident: merged, expectedVersion: source.version, expectedKeys: keyCount(source), event: eventOf(source, merged, 'merge', principal, now, `merged into ${id}`) });
    }
    if (keyCount(incident) + Object.keys(adopted).length > repo.MAX_KEYS) {
      throw new UnprocessableError(`Merged, the incident would hold more than ${repo.MAX_KEYS} cluster keys: merge fewer candidates.`, { rule: 'merge-size', runbook: 'runbooks/triage-candidate.md' });
    }
    // A report linked to two of them counts once: the count is the union of their links.
    const union = (await repo.linkedReportIds({ ...incident, mergedFrom: sources.map((x) => x.id) })).length;
    next = { ...next, keys: { ...next.keys, ...Object.fromEntries(Object.entries(adopted).map(([k, a]) => [k, a.entry])) }, reportCount: union };
    writes.unshift({ incident: next, expectedVersion: incident.version, expectedKeys: keyCount(incident), event: eventOf(incident, next, input.action, principal, now, note), adoptKeys: adopted, addReports: union - incident.reportCount });
  } else {
    writes.push({
      incident: next,
      expectedVersion: incident.version,
      expectedKeys: keyCount(incident),
      event: eventOf(incident, next, input.action, principal, now, note),
      outbox: outcome.outbox,
      ...(outcome.publicNotice ? { publicNotice: outcome.publicNotice } : {}),
      ...(outcome.releaseKeys ? { releaseKeys: Object.keys(incident.keys) } : {}),
      ...(outcome.dismissedEvidence ? { dismissedEvidence: outcome.dismissedEvidence } : {}),
    });
  }
  await repo.saveIncidents(writes, now);
  if (input.action === 'declare' || (input.action === 'update-scope' && ACTIVE_STATUSES.includes(next.status))) await learnFromDeclared(deps, next, now);
  if (input.action === 'dismiss') await learnFromDismissed(deps, incident, now);
  return incidentView(next, facts, now, principal);
}

/**
 * A declared incident teaches detection: the signal episodes of its products and defects
 * are hits in their categories' track records (`track-records.ts`): the products of its
 * cluster keys and of its scope (a recall names every model year or pack size it covers), in
 * the incident's defect categories; again when its scope grows (a hit is counted once). After
 * the declaration is saved, not in its transaction: a statistic must not undo a declaration.
 * Retried on failure, then logged (its episodes would be judged misses a year on).
 */
async function learnFromDeclared(deps: IncidentDeps, incident: Incident, now: Date): Promise<void> {
  const config = deps.trackRecord;
  if (!config) return;
  const keys = Object.values(incident.keys).map((e) => e.key);
  const categories = new Set(keys.map((k) => k.category));
  const skus = new Set([
    ...keys.flatMap((k) => (k.sku ? [k.sku] : [])),
    ...(incident.scope?.products ?? []).map((p) => keyCode(p.sku)),
    ...(incident.scope?.lots ?? []).map((l) => keyCode(l.sku)),
  ]);
  const pairs = [...categories].flatMap((category) => [...skus].map((sku) => ({ sku, category })));
  if (pairs.length === 0) return;
  // The recall is dated when it was declared: a scope update later adds products, not a second recall.
  const day = dayOf(incident.declared?.at ?? now.toISOString());
  await learning('a declared incident', incident.id, () => tracks.noteDeclared(pairs, day, config));
}

/**
 * A dismissed candidate teaches detection too: QA judged it no problem, so the signal episodes
 * of its products and defects count as misses at once rather than a year later (a recall in
 * their judging period still makes them hits). After the dismissal is saved, as for a declaration.
 */
async function learnFromDismissed(deps: IncidentDeps, incident: Incident, now: Date): Promise<void> {
  const config = deps.trackRecord;
  if (!config) return;
  // Per product key (plant-wide keys have no product); `noteDismissed` groups them by defect, once each.
  const pairs = Object.values(incident.keys).flatMap(({ key }) => (key.sku ? [{ sku: key.sku, category: key.category }] : []));
  if (pairs.length === 0) return;
  await learning('a dismissed candidate', incident.id, () => tracks.noteDismissed(pairs, dayOf(now.toISOString()), config));
}

/** A track-record update after the incident's change is saved: retried on failure, then logged (a statistic never undoes a decision). */
async function learning(what: string, incidentId: string, note: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await note();
    } catch (error) {
      if (attempt >= 3) return logger.error(`track record not updated for ${what}`, { incidentId, error: String(error) });
      await jitteredBackoff(attempt);
    }
  }
}

/** The Monday (UTC) that starts the week of `now`, as YYYY-MM-DD. */
export const weekOf = (now: Date) => dayToIso(dayOf(now) - ((dayOf(now) + 3) % 7));

/** The week this function instance last reviewed (each week is reviewed once per instance; the alert's id makes it one alert). */
let reviewedWeek: string | undefined;

/**
 * Once a week (the watchdog's first run of each week, Monday UTC): if detection holds any
 * category back, QA is reminded with what those categories signalled in the last 30 days
 * (`incident-alerts`, type `track-record-review`). A held category opens no candidate, so
 * without this its signals would be seen only by someone who looked. Nothing is sent when no
 * category is held, or when learning is off.
 */
export async function reviewHeldCategories(
  deps: Pick<IncidentDeps, 'clock' | 'trackRecord'>,
  categories: readonly string[],
): Promise<{ week: string; reviewed: boolean; held: number }> {
  const now = deps.clock.now();
  const week = weekOf(now);
  if (!deps.trackRecord || reviewedWeek === week) return { week, reviewed: false, held: 0 };
  const review = await tracks.heldForReview(categories, dayOf(now), deps.trackRecord);
  if (review.held.length > 0) await writeOutbox([heldReviewAlert(week, review)], now);
  reviewedWeek = week;
  return { week, reviewed: true, held: review.held.length };
}

/** Forgets which week was reviewed (tests that review again). */
export function forgetReviewedWeek(): void {
  reviewedWeek = undefined;
}

function eventOf(before: Incident, after: Incident, action: string, principal: Principal, now: Date, note?: string): IncidentEvent {
  return { version: after.version, at: now.toISOString(), by: principal.userId, action, changes: diffLifecycle(lifecycleOf(before), lifecycleOf(after)), ...(note ? { note } : {}) };
}

/** What the gates need beyond the record: replies owed (report ids only) and store acknowledgements. */
async function gateFacts(incident: Incident, policy: IncidentPolicy): Promise<GateFacts & { stores?: Effectiveness }> {
  const [ids, stores] = await Promise.all([repo.linkedReportIds(incident), incident.withdrawals?.length ? incidentEffectiveness(incident, policy) : undefined]);
  const clocks = await replyClocks(ids);
  const repliesOwed = ids.filter((rid) => !clocks.get(rid)?.completedAt);
  if (!stores) return { linkedReports: ids.length, repliesOwed };
  const { byStore: _perStore, ...effectiveness } = stores;
  return { linkedReports: ids.length, repliesOwed, effectiveness, stores };
}

/** Reports counted on each of the incident's keys in the verification window after the fix. */
async function verificationCounts(deps: IncidentDeps, incident: Incident): Promise<Record<string, number> | undefined> {
  const fixed = fixDate(incident);
  if (!fixed) return undefined;
  // The fix day itself counts too: a report later that day may be after the fix (counters are daily).
  const days = deps.policy.verificationDays + 1;
  const keys = Object.keys(incident.keys);
  const reader = await deps.counters.read(keys, dayOf(fixed) + days - 1, days);
  return Object.fromEntries(keys.map((k) => [k, reader.total(k, days)]));
}

/** The incident as people read it: every checklist item with its evidence, deadlines, next actions. */
export function incidentView(incident: Incident, facts: GateFacts, now: Date, principal?: Principal) {
  return {
    ...incident,
    ...(incident.hazardClass ? { hazardClassMeaning: HAZARD_CLASS_MEANING[incident.hazardClass] } : {}),
    checklist: evaluateChecklist(incident, facts, now),
    deadlines: Object.values(incident.deadlines ?? {}).map((d) => ({ ...d, state: d.metAt ? (deadlineBreached(d, now) ? 'met-late' : 'met') : deadlineBreached(d, now) ? 'breached' : 'running' })),
    ...(facts.linkedReports !== undefined ? { linkedReports: facts.linkedReports, repliesOwed: facts.repliesOwed } : {}),
    nextActions: principal ? availableActions(incident.status, principal.roles) : [],
    runbook: STATUS_RUNBOOK[incident.status],
  };
}
export type IncidentView = ReturnType<typeof incidentView>;

async function mustGet(id: string): Promise<Incident> {
  const incident = await repo.getIncident(id);
  if (!incident) throw new NotFoundError(`No incident ${id}.`);
  return incident;
}

async function load(deps: IncidentDeps, id: string, principal: Principal) {
  const incident = await mustGet(id);
  const [events, { stores, ...facts }] = await Promise.all([repo.timeline(id), gateFacts(incident, deps.policy)]);
  return { view: { ...incidentView(incident, facts, deps.clock.now(), principal), timeline: events }, stores };
}

/** GET /incidents/{id}: the incident with every checklist item, its deadlines and its timeline. */
export async function readIncident(deps: IncidentDeps, id: string, principal: Principal) {
  return (await load(deps, id, principal)).view;
}

/** GET /incidents/{id}?asOfVersion=N: the lifecycle state as it was, read back from the timeline. */
export async function readIncidentAt(id: string, version: number) {
  const incident = await mustGet(id);
  const events = await repo.timeline(id);
  const state = version <= incident.version ? stateAt(events, version) : undefined;
  if (!state) throw new NotFoundError(`Incident ${id} has no version ${version} (it is at ${incident.version}).`);
  return { id, version, currentVersion: incident.version, asOf: events.find((e) => e.version === version)!.at, state };
}

/** GET /incidents/{id}/report: the status report (JSON; the function renders Markdown on request). */
export async function incidentStatusReport(deps: IncidentDeps, id: string, principal: Principal) {
  const { view, stores } = await load(deps, id, principal);
  return statusReport(view, stores, deps.clock.now());
}

/** GET /incidents/{id}/effectiveness: stores in scope, acknowledged, not responded, units, the class's level. */
export async function readEffectiveness(deps: IncidentDeps, id: string) {
  const incident = await mustGet(id);
  if (!incident.hazardClass) throw new ConflictError(`Incident ${id} is a ${incident.status}: effectiveness starts with a declared recall.`);
  return { incidentId: id, hazardClass: incident.hazardClass, notices: (incident.withdrawals ?? []).map((w) => w.noticeId), ...(await incidentEffectiveness(incident, deps.policy)) };
}

export async function listIncidents(query: IncidentListQuery) {
  return repo.listIncidents(query);
}

/**
 * The incident part of the watchdog (every minute).
 * 1. Reads the incidents with a stage deadline or a store follow-up due (`dueWork` index).
 * 2. Marks each missed deadline escalated, once, with one alert to `incident-alerts`.
 * 3. Store follow-up: stores that have not acknowledged the withdrawal are re-notified, each
 *    by a reminder targeted to its store id; still silent after the second period, they are
 *    escalated to QA in one alert. Reminders are written first, each once by its id, so a
 *    failed run repeats nothing when it runs again.
 * 4. Writes the new version and its timeline event in one transaction; a concurrent action
 *    wins and the next run decides again.
 */
export async function runIncidentWatchdog(deps: Pick<IncidentDeps, 'clock' | 'policy'>): Promise<{ examined: number; breaches: number; reminders: number; conflicts: number }> {
  const now = deps.clock.now();
  let examined = 0;
  let breaches = 0;
  let reminders = 0;
  let conflicts = 0;
  for (const incident of await repo.dueIncidents(now)) {
    examined++;
    const due = deadlinesToEscalate(incident, now);
    const deadlines = { ...incident.deadlines };
    for (const d of due) deadlines[d.id] = { ...d, escalatedAt: now.toISOString() };
    const outbox: OutboxMessage[] = due.map((d) => deadlineBreachAlert({ ...incident, deadlines }, d, now));
    const notes = due.map((d) => `${d.id} was due ${d.due}`);
    let storeFollowUp = incident.storeFollowUp;
    const f = incident.storeFollowUp;
    if (f?.nextCheckAt && f.nextCheckAt <= now.toISOString() && f.stage < 2 && ACTIVE_STATUSES.includes(incident.status)) {
      const stores = await incidentEffectiveness(incident, deps.policy);
      const silent = stores.byStore.filter((b) => !b.acknowledgedAt);
      const stamp = { by: 'watchdog', at: now.toISOString(), stores: silent.length };
      if (silent.length === 0) storeFollowUp = { ...f, stage: 2, nextCheckAt: undefined };
      else if (f.stage === 0) {
        const messages = silent.flatMap((b) => {
          const notice = incident.withdrawals?.find((w) => w.storeId === b.storeId) ?? incident.withdrawals?.find((w) => !w.storeId && w.region === b.region);
          return notice ? [storeWithdrawal(incident, { region: b.region, storeId: b.storeId }, DEFAULT_WITHDRAWAL_INSTRUCTIONS, now, notice.noticeId)] : [];
        });
        await writeOutbox(messages, now);
        reminders += messages.length;
        storeFollowUp = { stage: 1, nextCheckAt: new Date(now.getTime() + deps.policy.storeResponse.escalateAfterHours * HOUR).toISOString(), renotified: stamp };
        notes.push(`${messages.length} store(s) re-notified`);
      } else {
        outbox.push(storesSilentAlert(incident, silent.map((b) => b.storeId), now));
        storeFollowUp = { ...f, stage: 2, nextCheckAt: undefined, escalated: stamp };
        notes.push(`${silent.length} store(s) silent after the reminder: escalated`);
      }
    }
    if (outbox.length === 0 && storeFollowUp === incident.storeFollowUp) continue;
    const next: Incident = { ...incident, deadlines, ...(storeFollowUp ? { storeFollowUp: withoutUndefined(storeFollowUp) } : {}), version: incident.version + 1 };
    const event: IncidentEvent = {
      version: next.version,
      at: now.toISOString(),
      by: 'watchdog',
      action: due.length ? 'deadline-breached' : 'stores-followed-up',
      changes: diffLifecycle(lifecycleOf(incident), lifecycleOf(next)),
      note: notes.join('; '),
    };
    try {
      await repo.saveIncidents([{ incident: next, expectedVersion: incident.version, expectedKeys: Object.keys(incident.keys).length, event, outbox }], now);
      breaches += due.length;
    } catch (error) {
      if (error instanceof ConflictError) conflicts++;
      else throw error;
    }
  }
  return { examined, breaches, reminders, conflicts };
}

const withoutUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

