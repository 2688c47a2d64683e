import { ConfigError } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import type { Clock } from '../platform/clock.js';
import { newId } from '../platform/ids.js';
import { detectionConfigFrom, type DetectionConfig } from '../detection/config.js';
import { observe, SUMMARY_WINDOWS, type Signal } from '../detection/engine.js';
import { clusterKeys, dayOf, type ClusterKey, type Observation } from '../detection/keys.js';
import type { CounterStore } from '../detection/store.js';
import { listReports } from '../reports/repository.js';
import { evidenceSize } from './actions.js';
import { candidateAlert, harmAlert, harmNotification, trackRecordAlert } from './messages.js';
import { writeOutbox } from '../notices/repository.js';
import { opensCandidate } from '../detection/signals.js';
import { activeCategories, Categories, taxonomyFromEnv } from '../reports/taxonomy.js';
import type { Incident, KeyEntry } from './model.js';
import * as repo from './repository.js';
import * as tracks from './track-records.js';
import { firstEvent } from './timeline.js';

/**
 * Candidates: what detection does with its signals (DOMAIN.md §3). One problem, one
 * candidate; dismissed keys stay quiet until the evidence grows; every new harm report on an
 * open incident raises its own alert. The lifecycle that follows is in `use-cases.ts`.
 */
export interface DetectionDeps {
  readonly store: CounterStore;
  readonly config: DetectionConfig;
  readonly clock: Clock;
}

/**
 * Reads `DETECTION_CONFIG` (JSON, partial) over the documented defaults, with the taxonomy's
 * per-category rule overrides under it (DETECTION_CONFIG.categories goes over them, rule by rule and field by field); fails fast.
 */
export function detectionConfigFromEnv(env: Record<string, string | undefined> = process.env): DetectionConfig {
  const fromTaxonomy = new Categories(taxonomyFromEnv(env)).ruleOverrides();
  try {
    const raw = env.DETECTION_CONFIG ? (JSON.parse(env.DETECTION_CONFIG) as Record<string, unknown>) : {};
    // Per category and per rule, DETECTION_CONFIG's settings go over the taxonomy's (a rule's
    // fields merge: the taxonomy's lotBurst.minCount survives a DETECTION_CONFIG lotBurst.alpha).
    const given = (raw.categories as Record<string, Record<string, unknown>> | undefined) ?? {};
    const categories: Record<string, Record<string, unknown>> = {};
    for (const code of new Set([...Object.keys(fromTaxonomy), ...Object.keys(given)])) {
      const base = (fromTaxonomy[code] ?? {}) as Record<string, unknown>;
      const over = given[code] ?? {};
      const merged: Record<string, unknown> = { ...base };
      for (const [rule, settings] of Object.entries(over)) {
        const under = base[rule];
        merged[rule] = isPlainObject(under) && isPlainObject(settings) ? { ...under, ...settings } : settings;
      }
      categories[code] = merged;
    }
    return detectionConfigFrom({ ...raw, categories });
  } catch (error) {
    throw new ConfigError([`DETECTION_CONFIG: ${(error as Error).message}`]);
  }
}

/**
 * Notes the report's signal episodes in its category's track record and returns the standing.
 * When the standing moved, QA is alerted (`trackRecordAlert`). A statistic must never stop
 * detection: if the record cannot be read or written, the report is judged as if the
 * category had no record (every signal may open), and it is logged.
 */
async function noteTrack(o: Observation, judged: readonly Signal[], config: NonNullable<DetectionConfig['trackRecord']>, now: Date) {
  try {
    const categories = activeCategories().taxonomy.categories.map((c) => c.code);
    const standing = await tracks.noteSignals(o.category, judged.map((s) => s.key.sku!), dayOf(o.at), config, categories);
    // QA hears when a category's standing moves, above all when its signals start being held back.
    if (standing.changedFrom !== undefined) await writeOutbox([trackRecordAlert(o.category, standing.changedFrom, standing, now.toISOString().slice(0, 10))], now);
    return standing;
  } catch (error) {
    logger.error('track record not noted: the signals are judged without it', { reportId: o.reportId, category: o.category, error: String(error) });
    return undefined;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const entryOf = (key: ClusterKey, signals: readonly Signal[], at: string): KeyEntry => ({ key, addedAt: at, evidence: Object.fromEntries(signals.map((s) => [s.rule, s])) });

/**
 * Detection and escalation for one new report (the stream calls it; redeliveries are safe).
 * 1. Counts the report once and evaluates the rules (`observe`).
 * 2. One problem, one candidate: when an open candidate or incident holds any of the
 *    report's keys, the report joins it (and every incident holding one of its keys); keys
 *    whose rules fired and that nobody holds join it too. Otherwise, if a rule fired, one
 *    candidate opens for all the keys that fired, with one alert.
 * 3. A key dismissed before opens a new candidate only when the evidence has grown past
 *    what was dismissed (more reports in the signal's window than any signal on it showed);
 *    a report in a harm category always counts as new evidence. The category's track
 *    record (`track-records.ts`) is noted and read first: a category whose signals have
 *    seldom become incidents opens none (`held`), or none again on a key dismissed once
 *    (`once`); harm is never held back.
 * 4. An injury or illness joining an open candidate or incident raises its own alert.
 * 5. Updates each key's cluster summary for `GET /clusters`.
 * Two reports racing to open one key: one opens, the other reads the markers again and joins.
 */
export async function detectAndEscalate(given: Observation, deps: DetectionDeps) {
  // Whether the category is itself harm comes from the deployment's taxonomy when not given.
  const o: Observation = given.categoryIsHarm === undefined ? { ...given, categoryIsHarm: activeCategories().harmOf(given.category) !== undefined } : given;
  const observed = await observe(o, deps.store, deps.config);
  const keys = Object.values(clusterKeys(o));
  // The signals a track record judges: candidate-opening ones on a product, not in a harm category.
  const judged = o.categoryIsHarm ? [] : observed.signals.filter((s) => opensCandidate(s) && s.rule !== 'harm' && s.key.sku !== undefined);
  const record = deps.config.trackRecord;
  const standing = record && judged.length > 0 ? await noteTrack(o, judged, record, deps.clock.now()) : undefined;
  const notRaised = new Map<string, string>();
  const opened: string[] = [];
  const attached: string[] = [];
  const now = deps.clock.now();
  for (let attempt = 0; attempt < 5; attempt++) {
    const markers = await repo.keyMarkers(keys.map((k) => k.id));
    const mayOpen = observed.signals.filter((s) => {
      const dismissed = markers.dismissed.get(s.key.id);
      if (!opensCandidate(s)) return false;
      // Plant-wide keys are not judged by a track record (it is per product and defect).
      if (s.rule !== 'harm' && s.key.sku !== undefined && standing && (standing.standing === 'held' || (standing.standing === 'once' && dismissed))) {
        // A key an open incident holds takes the report anyway: nothing was held back there.
        if (!markers.open.has(s.key.id)) notRaised.set(s.key.id, standing.explanation);
        return false;
      }
      return !dismissed || s.rule === 'harm' || evidenceSize(s.evidence) > dismissed.count;
    });
    const holders = [...new Set(keys.map((k) => markers.open.get(k.id)).filter((id): id is string => !!id))];
    if (holders.length === 0) {
      if (mayOpen.length === 0) {
        // A harm report nobody holds and that opened nothing: QA still hears of it.
        const harm = observed.signals.find((s) => !opensCandidate(s));
        if (harm) await writeOutbox([harmNotification(harm)], now);
        break;
      }
      const incident = newCandidate(o, mayOpen, now);
      if (await repo.createCandidate(incident, firstEvent(incident, 'detected', 'detection'), candidateAlert(incident), now)) {
        opened.push(incident.id);
        await linkEvidence(incident, o);
        break;
      }
      continue; // another report claimed a key first: join it
    }
    const primary = holders[0]!;
    // A retry of the report that opened the candidate: its evidence links may not all have
    // been written before the failure (linking is idempotent, so link them again).
    if (!observed.counted) {
      const own = await repo.getIncident(primary);
      if (own?.openedBy?.reportId === o.reportId) await linkEvidence(own, o);
    }
    const held = new Map(keys.map((k) => [k.id, markers.open.get(k.id)]));
    for (const key of keys.filter((k) => !held.get(k.id))) {
      const signals = mayOpen.filter((s) => s.key.id === key.id);
      if (signals.length > 0 && (await repo.claimKey(primary, key, entryOf(key, signals, o.at)))) held.set(key.id, primary);
    }
    const harm = observed.signals.find((s) => s.rule === 'harm' || !opensCandidate(s));
    let stale = false;
    for (const incidentId of holders) {
      const signals = observed.signals.filter((s) => held.get(s.key.id) === incidentId);
      const alert = harm && incidentId === primary ? harmAlert(incidentId, 'open', harm) : undefined;
      const linked = await repo.attachReport(incidentId, o.reportId, o.at, signals, alert, now);
      if (linked.result === 'attached') attached.push(linked.incidentId);
      // Linked before its own turn (a candidate's evidence links the burst's reports): its
      // harm alert was not in that link's transaction. The alert's id is fixed: written once.
      if (linked.result === 'already-linked' && alert) await writeOutbox([alert], now);
      if (linked.result === 'not-open') {
        stale = true;
        for (const key of keys.filter((k) => held.get(k.id) === incidentId)) await repo.releaseStaleKey(key.id, incidentId);
      }
    }
    if (!stale) break;
    // A holder was dismissed or closed meanwhile: read the markers again (links are idempotent).
  }
  for (const key of keys) {
    const latest = observed.signals.filter((s) => s.key.id === key.id).at(-1);
    await repo.saveClusterSummary({
      key,
      lastReportAt: o.at,
      counts: Object.fromEntries(SUMMARY_WINDOWS.map((w) => [String(w), observed.totals[key.id]?.[w] ?? 0])),
      ...(latest ? { latestSignal: latest } : {}),
      ...(latest && notRaised.has(key.id) ? { notRaised: notRaised.get(key.id)! } : {}),
    });
  }
  return { counted: observed.counted, signals: observed.signals, opened, attached };
}

/** Reports of one key read to link a new candidate's evidence: enough for any burst. */
const EVIDENCE_LINK_CAP = 300;

/**
 * Links to a new candidate the reports that make up its evidence: those on its lot and
 * product keys since the start of the window that fired (a week for harm). A burst opens on
 * its third report, but all three customers belong to the problem and are owed its reply;
 * this also catches a report processed at the same moment as the one that opened it.
 * Plant keys have no index by plant and defect; their reports join as they arrive.
 */
async function linkEvidence(incident: Incident, opener: Observation): Promise<void> {
  for (const entry of Object.values(incident.keys)) {
    const key = entry.key;
    if (key.kind === 'plant' || !key.sku) continue;
    // The longest window the evidence speaks of (a slow burn confirmed over 365 days links a year).
    const windows = Object.values(entry.evidence).flatMap((s) =>
      Object.entries(s!.evidence).flatMap(([name, value]) => (name === 'windowDays' ? [Number(value)] : /^a(\d+)d$/.test(name) ? [Number(/^a(\d+)d$/.exec(name)![1])] : [])),
    );
    const windowDays = Math.max(7, ...windows.filter((w) => Number.isFinite(w)));
    const receivedFrom = new Date(new Date(opener.at).getTime() - windowDays * 86_400_000).toISOString();
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await listReports({ sku: key.sku, ...(key.lot ? { lot: key.lot } : {}), category: key.category, receivedFrom, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const report of page.items) {
        if (report.id !== opener.reportId) await repo.attachReport(incident.id, report.id, report.receivedAt, []);
      }
      seen += page.items.length;
      cursor = page.cursor;
    } while (cursor && seen < EVIDENCE_LINK_CAP);
  }
}

function newCandidate(o: Observation, signals: readonly Signal[], now: Date): Incident {
  const first = signals[0]!;
  const keys: Record<string, KeyEntry> = {};
  for (const s of signals) keys[s.key.id] = entryOf(s.key, signals.filter((x) => x.key.id === s.key.id), o.at);
  return {
    id: newId(now),
    status: 'candidate',
    version: 1,
    origin: 'detection',
    openedAt: now.toISOString(),
    key: first.key,
    openedBy: first,
    keys,
    lastReportAt: o.at,
    reportCount: 1,
  };
}

/** Top cluster keys over a window, by count, with their latest statistic. */
export async function topClusters(deps: { clock: Clock }, query: { window: number; kind?: string; limit: number }) {
  const since = new Date(deps.clock.now().getTime() - query.window * 86_400_000).toISOString();
  const { items, truncated } = await repo.clustersSince(since, 5000);
  const ranked = items
    .filter((c) => !query.kind || c.key.kind === query.kind)
    .map((c) => ({ ...c, count: c.counts[String(query.window)] ?? 0 }))
    .filter((c) => c.count > 0)
    .sort((a, b) => b.count - a.count || b.lastReportAt.localeCompare(a.lastReportAt))
    .slice(0, query.limit);
  return { window: query.window, items: ranked, ...(truncated ? { truncated: true } : {}) };
}

