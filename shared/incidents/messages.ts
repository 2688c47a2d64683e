import { createHash } from 'node:crypto';
import type { Signal } from '../detection/engine.js';
import type { Standing, StandingOf } from '../detection/track-record.js';
import type { OutboxMessage } from '../platform/outbox.js';
import type { HeldReview } from './track-records.js';
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

/**
 * An injury or illness told in a complaint that no open incident holds and that opened no
 * candidate on its own (its category is not itself harm): QA reads the case and decides.
 */
export function harmNotification(signal: Signal): OutboxMessage {
  return {
    id: `harm-${signal.reportId}`,
    topic: 'incidentAlerts',
    subject: `Harm report ${signal.reportId} (${signal.key.category}), no open incident`,
    message: {
      type: 'harm-report',
      reportId: signal.reportId,
      clusterKey: signal.key,
      evidence: signal.evidence,
      at: signal.at,
      runbook: 'runbooks/triage-candidate.md#an-injury-or-illness-outside-any-incident',
    },
    attributes: { alertType: 'harm-report', severity: 'high', rule: 'harm-report' },
  };
}

/**
 * A category's standing moved (`track-records.ts`): QA is told at once, above all when
 * detection starts holding a category back, since its signals then open no candidate. One
 * alert per category, standing and day (its id), however many reports notice the change.
 */
export function trackRecordAlert(category: string, from: Standing, standing: StandingOf, day: string): OutboxMessage {
  const subject =
    standing.standing === 'held'
      ? `Detection now holds back ${category}: its signals open no candidate`
      : standing.standing === 'once'
        ? `Detection now limits ${category}: a dismissed key does not reopen`
        : `Detection raises every ${category} signal again`;
  return {
    id: `track-${digest(category)}-${standing.standing}-${day}`,
    topic: 'incidentAlerts',
    subject: subject.slice(0, 100),
    message: {
      type: 'track-record',
      category,
      from,
      to: standing.standing,
      hits: standing.hits,
      misses: standing.misses,
      rate: Number(standing.rate.toFixed(4)),
      overallRate: Number(standing.overallRate.toFixed(4)),
      explanation: standing.explanation,
      runbook: 'runbooks/held-category.md',
    },
    attributes: { alertType: 'track-record', severity: standing.standing === 'held' ? 'high' : 'normal' },
  };
}

/**
 * The weekly review of the categories detection holds back (`reviewHeldCategories`): what a
 * held category signalled lately reaches QA as a reminder, since it opens no candidate. One
 * alert per week (its id), whichever watchdog run sends it.
 */
export function heldReviewAlert(weekOf: string, review: HeldReview): OutboxMessage {
  const names = review.held.map((h) => h.category).join(', ');
  const recent = review.held.reduce((n, h) => n + h.recentProducts, 0);
  return {
    id: `track-review-${weekOf}`,
    topic: 'incidentAlerts',
    subject: `Weekly review: detection holds back ${names}`.slice(0, 100),
    message: {
      type: 'track-record-review',
      weekOf,
      overallRate: Number(review.overall.rate.toFixed(4)),
      recentDays: review.recentDays,
      categories: review.held.map((h) => ({ ...h, rate: Number(h.rate.toFixed(4)), overallRate: Number(h.overallRate.toFixed(4)) })),
      explanation:
        `${review.held.length} categor${review.held.length === 1 ? 'y is' : 'ies are'} held back by their track record (${names}): their signals open no candidate. ` +
        `${recent} product(s) signalled in them in the last ${review.recentDays} days with no incident declared; read their evidence and open an incident by hand for any real problem`,
      runbook: 'runbooks/held-category.md',
    },
    attributes: { alertType: 'track-record-review', severity: 'normal' },
  };
}

/**
 * The store withdrawal notice: published once per region in scope, to every store there, or
 * once per listed store, targeted to it. Region-wide notices carry `storeId=all` so that a
 * store's one filter policy (its region, and its id or `all`) matches both kinds, on SNS and
 * on the local emulator alike.
 */
export function storeWithdrawal(incident: Incident, target: { region: string; storeId?: string }, instructions: string, now: Date, reminderOf?: string): OutboxMessage {
  const { region } = target;
  const reminder = !!reminderOf;
  // A reminder goes to one store and asks it to acknowledge the notice it did not answer.
  const noticeId = reminderOf ?? withdrawalNoticeId(incident.id, region, target.storeId);
  return {
    id: reminderOf ? `reminder-${reminderOf}-${digest(target.storeId ?? '')}` : noticeId,
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
      ...(target.storeId ? { storeId: target.storeId } : {}),
      instructions,
      acknowledge: `Acknowledge notice ${noticeId} with the quantity on hand and the quantity removed: POST /notices/${noticeId}/acks (recall store ack ${noticeId}).`,
      issuedAt: now.toISOString(),
      ...(reminder ? { reminder: true } : {}),
    },
    attributes: { noticeType: reminder ? 'store-withdrawal-reminder' : 'store-withdrawal', incidentId: incident.id, hazardClass: incident.hazardClass ?? '', region, storeId: target.storeId ?? 'all', noticeId },
  };
}

/** 128 bits of a code's sha256: fixed length, whatever the code's script, no collisions in practice. */
const digest = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex').slice(0, 32);

/** Stable per incident and target, so a consumer can de-duplicate redeliveries. */
export function withdrawalNoticeId(incidentId: string, region: string, storeId?: string): string {
  return storeId ? `withdrawal-${incidentId}-s${digest(storeId)}` : `withdrawal-${incidentId}-${digest(region)}`;
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

/** QA's escalation when stores have not acknowledged a withdrawal after the reminder. */
export function storesSilentAlert(incident: Incident, silent: readonly string[], now: Date): OutboxMessage {
  return {
    id: `silent-stores-${incident.id}-${now.toISOString().slice(0, 16)}`,
    topic: 'incidentAlerts',
    subject: `Stores not responding on incident ${incident.id}`,
    message: {
      type: 'stores-not-responding',
      incidentId: incident.id,
      title: incident.title,
      hazardClass: incident.hazardClass,
      stores: silent.slice(0, 200),
      count: silent.length,
      detectedAt: now.toISOString(),
      runbook: 'runbooks/contain-incident.md#5-effectiveness',
    },
    attributes: { alertType: 'stores-not-responding', severity: incident.hazardClass === 'I' ? 'high' : 'normal', incidentId: incident.id },
  };
}
