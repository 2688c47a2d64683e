import type { Signal } from '../detection/engine.js';
import type { OutboxMessage } from '../platform/outbox.js';
import { HAZARD_CLASS_MEANING, type Deadline, type Incident } from './model.js';

/**
 * Everything incidents send, built from ids, codes and staff-written text: never a
 * customer's personal data. SNS subjects are built from ids and codes only (ASCII, short).
 */
const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

export const DEFAULT_WITHDRAWAL_INSTRUCTIONS =
  'Remove every unit of the products and lots above from sale now. Keep the stock apart and do not return it to the distribution centre. ' +
  'Count what you had on hand and what you removed, and acknowledge this notice with both quantities.';

/** The one alert of a new candidate: keys, counts and evidence. */
export function candidateAlert(incident: Incident): OutboxMessage {
  const signal = incident.openedBy!;
  const harm = signal.rule === 'harm';
  return {
    id: `candidate-${incident.id}`,
    topic: 'incidentAlerts',
    subject: `Candidate incident ${incident.id} (${signal.rule})`,
    message: {
      type: 'candidate-incident',
      incidentId: incident.id,
      clusterKey: incident.key,
      clusterKeys: Object.keys(incident.keys),
      rule: signal.rule,
      evidence: signal.evidence,
      reportId: signal.reportId,
      openedAt: incident.openedAt,
      runbook: 'runbooks/triage-candidate.md',
    },
    attributes: { alertType: 'candidate-incident', severity: harm ? 'high' : 'normal', rule: signal.rule },
  };
}

/** A new injury or illness on a key that already has an open candidate or incident. */
export function harmAlert(incidentId: string, status: string, signal: Signal): OutboxMessage {
  return {
    id: `harm-${incidentId}-${signal.reportId}`,
    topic: 'incidentAlerts',
    subject: `Harm report ${signal.reportId} on incident ${incidentId}`,
    message: {
      type: 'harm-report',
      incidentId,
      incidentStatus: status,
      reportId: signal.reportId,
      clusterKey: signal.key,
      evidence: signal.evidence,
      at: signal.at,
      runbook: 'runbooks/triage-candidate.md#a-new-injury-or-illness-on-an-open-incident',
    },
    attributes: { alertType: 'harm-report', severity: 'high', rule: 'harm' },
  };
}

/** The store withdrawal notice for one region in scope (published once per region). */
export function storeWithdrawal(incident: Incident, region: string, instructions: string, now: Date): OutboxMessage {
  const noticeId = withdrawalNoticeId(incident.id, region);
  return {
    id: noticeId,
    topic: 'storeNotices',
    subject: ascii(`Recall withdrawal: incident ${incident.id} class ${incident.hazardClass}`),
    message: {
      type: 'store-withdrawal',
      noticeId,
      incidentId: incident.id,
      hazardClass: incident.hazardClass,
      hazard: incident.hazard,
      title: incident.title,
      products: incident.scope?.products ?? [],
      lots: incident.scope?.lots ?? [],
      ...(incident.scope?.productionDates ? { productionDates: incident.scope.productionDates } : {}),
      region,
      ...(incident.scope?.stores?.length ? { stores: incident.scope.stores } : {}),
      instructions,
      acknowledge: `Acknowledge notice ${noticeId} with the quantity on hand and the quantity removed.`,
      issuedAt: now.toISOString(),
    },
    attributes: { noticeType: 'store-withdrawal', incidentId: incident.id, hazardClass: incident.hazardClass ?? '', region, storeId: 'all' },
  };
}

/** Stable per incident and region, so a consumer can de-duplicate redeliveries. */
export function withdrawalNoticeId(incidentId: string, region: string): string {
  return `withdrawal-${incidentId}-${Buffer.from(region, 'utf8').toString('hex').slice(0, 64)}`;
}

/** The approved public notice, byte for byte as approved: the text is the whole message. */
export function publicNotice(incident: Incident): OutboxMessage {
  return {
    id: `public-${incident.id}`,
    topic: 'publicNotices',
    subject: ascii(`Recall notice: incident ${incident.id} class ${incident.hazardClass}`),
    message: incident.disclosure!.text,
    attributes: {
      noticeType: 'public-notice',
      incidentId: incident.id,
      hazardClass: incident.hazardClass ?? '',
      textHash: incident.disclosure!.textHash,
    },
  };
}

/** One escalation per missed deadline, to the incident's sponsor and QA via `incident-alerts`. */
export function deadlineBreachAlert(incident: Incident, deadline: Deadline, now: Date): OutboxMessage {
  return {
    id: `deadline-${incident.id}-${deadline.id}`,
    topic: 'incidentAlerts',
    subject: `Deadline missed: ${deadline.id} on incident ${incident.id}`,
    message: {
      type: 'deadline-breached',
      incidentId: incident.id,
      title: incident.title,
      hazardClass: incident.hazardClass,
      hazardClassMeaning: incident.hazardClass ? HAZARD_CLASS_MEANING[incident.hazardClass] : undefined,
      deadline: deadline.id,
      due: deadline.due,
      detectedAt: now.toISOString(),
      status: incident.status,
      sponsor: incident.sponsor?.by,
      runbook: 'runbooks/deadline-breach.md',
    },
    attributes: { alertType: 'deadline-breach', severity: incident.hazardClass === 'I' ? 'high' : 'normal', incidentId: incident.id },
  };
}
