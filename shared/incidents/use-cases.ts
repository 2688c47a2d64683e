import { ConfigError } from '../platform/config.js';
import type { Clock } from '../platform/clock.js';
import { newId } from '../platform/ids.js';
import type { OutboxMessage } from '../platform/outbox.js';
import { detectionConfigFrom, type DetectionConfig } from '../detection/config.js';
import { observe, SUMMARY_WINDOWS, type Signal } from '../detection/engine.js';
import { clusterKeys, type ClusterKey, type Observation } from '../detection/keys.js';
import type { CounterStore } from '../detection/store.js';
import type { Incident } from './model.js';
import * as repo from './repository.js';

export interface DetectionDeps {
  readonly store: CounterStore;
  readonly config: DetectionConfig;
  readonly clock: Clock;
}

/** Reads `DETECTION_CONFIG` (JSON, partial) over the documented defaults; fails fast. */
export function detectionConfigFromEnv(env: Record<string, string | undefined> = process.env): DetectionConfig {
  if (!env.DETECTION_CONFIG) return detectionConfigFrom({});
  try {
    return detectionConfigFrom(JSON.parse(env.DETECTION_CONFIG));
  } catch (error) {
    throw new ConfigError([`DETECTION_CONFIG: ${(error as Error).message}`]);
  }
}


/**
 * Detection and escalation for one new report (the stream calls it; redeliveries are safe).
 * 1. Counts the report once and evaluates the rules (`observe`).
 * 2. For each of its cluster keys: attaches it to the open candidate of that key, or, if a
 *    rule fired and none is open, opens one, with one alert to `incident-alerts` (outbox).
 *    Two reports racing to open the same key: one opens, the other attaches.
 * 3. Updates each key's cluster summary for `GET /clusters`.
 */
export async function detectAndEscalate(o: Observation, deps: DetectionDeps) {
  const observed = await observe(o, deps.store, deps.config);
  const keys = Object.values(clusterKeys(o));
  const open = await repo.openCandidates(keys.map((k) => k.id));
  const opened: string[] = [];
  const attached: string[] = [];
  for (const key of keys) {
    const signals = observed.signals.filter((s) => s.key.id === key.id);
    let incidentId = open.get(key.id);
    if (!incidentId && signals.length > 0) {
      const incident = newCandidate(key, signals, deps.clock.now());
      if (await repo.createCandidate(incident, candidateAlert(incident), deps.clock.now())) {
        opened.push(incident.id);
        continue;
      }
      incidentId = (await repo.openCandidates([key.id])).get(key.id);
    }
    if (incidentId && (await repo.attachReport(incidentId, o.reportId, o.at, signals)) === 'attached') attached.push(incidentId);
  }
  for (const key of keys) {
    const latest = observed.signals.filter((s) => s.key.id === key.id).at(-1);
    await repo.saveClusterSummary({
      key,
      lastReportAt: o.at,
      counts: Object.fromEntries(SUMMARY_WINDOWS.map((w) => [String(w), observed.totals[key.id]?.[w] ?? 0])),
      ...(latest ? { latestSignal: latest } : {}),
    });
  }
  return { counted: observed.counted, signals: observed.signals, opened, attached };
}

function newCandidate(key: ClusterKey, signals: Signal[], now: Date): Incident {
  const first = signals[0]!;
  return {
    id: newId(now),
    status: 'candidate',
    key,
    openedAt: now.toISOString(),
    lastReportAt: first.at,
    reportCount: 1,
    recentReportIds: [first.reportId],
    openedBy: first,
    evidence: Object.fromEntries(signals.map((s) => [s.rule, s])),
  };
}

/** The one alert of a new candidate: keys, counts and evidence, never personal data. */
export function candidateAlert(incident: Incident): OutboxMessage {
  const harm = incident.openedBy.rule === 'harm';
  return {
    id: `candidate-${incident.id}`,
    topic: 'incidentAlerts',
    subject: `Candidate incident: ${incident.openedBy.rule} on ${incident.key.id}`,
    message: {
      type: 'candidate-incident',
      incidentId: incident.id,
      clusterKey: incident.key,
      rule: incident.openedBy.rule,
      evidence: incident.openedBy.evidence,
      reportId: incident.openedBy.reportId,
      openedAt: incident.openedAt,
      runbook: 'runbooks/candidate-incident.md',
    },
    attributes: { alertType: 'candidate-incident', severity: harm ? 'high' : 'normal', rule: incident.openedBy.rule },
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
