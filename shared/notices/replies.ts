import type { Principal } from '../platform/auth.js';
import type { Clock } from '../platform/clock.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { logger } from '../platform/logger.js';
import type { OutboxMessage } from '../platform/outbox.js';
import { linkedReportIds, getIncident } from '../incidents/repository.js';
import { completeClock, nextDue, reportClockState } from '../reports/clocks.js';
import type { Report, ReportContact } from '../reports/model.js';
import { getReport, saveReport } from '../reports/repository.js';
import type { ReplyCreate } from './schema.js';

/**
 * The written reply of the 14-day rule (DOMAIN.md §2, §5): the investigation result, the
 * cause, the prevention measures and an apology for the trouble, whoever was at fault, in
 * plain words, through the customer's preferred channel. It is published to
 * `customer-replies` (the only message that carries a contact, for the mail integration)
 * and recorded as the report's `reply` milestone, in one transaction, which stops the clock.
 */
export type ReplyChannel = 'email' | 'phone' | 'mail';

/** The report already has its written reply: one reply per complaint. */
export class AlreadyRepliedError extends ConflictError {}

export const STANDARD_APOLOGY = 'We are sorry for the trouble and worry this caused you, and we thank you for telling us: it helps us make our products safer.';

/** The channel to answer on: the customer's preference if it can be reached, else e-mail, phone, post. */
export function replyChannel(contact: ReportContact): ReplyChannel {
  const reachable: Record<ReplyChannel, boolean> = { email: !!contact.email, phone: !!contact.phone, mail: !!contact.postalAddress };
  if (contact.preferredChannel && reachable[contact.preferredChannel]) return contact.preferredChannel;
  return (['email', 'phone', 'mail'] as const).find((c) => reachable[c]) ?? 'mail';
}

export function renderReply(report: Pick<Report, 'product' | 'lotCode' | 'receivedAt'>, contact: ReportContact, input: ReplyCreate) {
  const received = report.receivedAt.slice(0, 10);
  const subject = `Our reply about your ${report.product.name} (lot ${report.lotCode})`;
  const body = [
    `Dear ${contact.name},`,
    '',
    `Thank you for contacting us on ${received} about the ${report.product.name} (lot ${report.lotCode}).`,
    '',
    `What we found: ${input.investigation}`,
    '',
    `Why it happened: ${input.cause}`,
    '',
    `What we are doing so that it does not happen again: ${input.prevention}`,
    '',
    input.apology ?? STANDARD_APOLOGY,
    '',
    'Customer desk',
  ].join('\n');
  return { subject, body };
}

export function customerReplyMessage(report: Report, contact: ReportContact, input: ReplyCreate, incidentId?: string): OutboxMessage {
  const channel = replyChannel(contact);
  const { subject, body } = renderReply(report, contact, input);
  const to = channel === 'email' ? { email: contact.email } : channel === 'phone' ? { phone: contact.phone } : { postalAddress: contact.postalAddress };
  return {
    id: `reply-${report.id}`,
    topic: 'customerReplies',
    // From ids only: the subject line of the SNS message, not of the letter.
    subject: `Customer reply for report ${report.id}`,
    message: { type: 'customer-reply', reportId: report.id, ...(incidentId ? { incidentId } : {}), channel, to: { name: contact.name, ...to }, subject, body },
    attributes: { messageType: 'customer-reply', channel, ...(incidentId ? { incidentId } : {}) },
  };
}

/**
 * Sends the written reply for one report.
 * 1. Reads the report with its contact; a reply already sent is 409.
 * 2. Completes the `reply` clock (the 14-day rule) with a timeline event.
 * 3. Writes the report, the event and the reply message in one transaction.
 */
export async function sendReply(deps: { clock: Clock }, reportId: string, input: ReplyCreate, principal: Principal, incidentId?: string) {
  const stored = await getReport(reportId, { withContact: true });
  if (!stored || !stored.contact) throw new NotFoundError(`No report ${reportId}.`);
  const report = stored.report;
  const reply = report.clocks.find((c) => c.id === 'reply');
  if (reply?.completedAt) throw new AlreadyRepliedError(`Report ${reportId} already has its written reply (${reply.completedAt}).`);
  const now = deps.clock.now();
  const at = now.toISOString();
  const message = customerReplyMessage(report, stored.contact, input, incidentId);
  const clocks = completeClock(report.clocks, 'reply', { at, recordedAt: at, by: principal.userId, note: incidentId ? `written reply for incident ${incidentId}` : 'written reply sent' });
  const next: Report = { ...report, clocks, version: report.version + 1 };
  await saveReport(
    next,
    report.version,
    reportClockState(clocks, now),
    nextDue(clocks),
    [{ id: newId(now), event: { type: 'milestone', at, by: principal.userId, details: { clock: 'reply', replyId: message.id, channel: (message.message as { channel: string }).channel, ...(incidentId ? { incidentId } : {}) } } }],
    [message],
    now,
    'item',
  );
  return { reportId, replyId: message.id, channel: (message.message as { channel: string }).channel, at };
}

/**
 * Sends the reply to every customer whose report is linked to the incident and who has not
 * had one yet. Each report is its own transaction: a failure leaves the others sent, and a
 * rerun sends only what is still owed.
 */
export async function sendIncidentReplies(deps: { clock: Clock }, incidentId: string, input: ReplyCreate, principal: Principal) {
  const incident = await getIncident(incidentId);
  if (!incident) throw new NotFoundError(`No incident ${incidentId}.`);
  const sent: string[] = [];
  const alreadyReplied: string[] = [];
  const failed: { reportId: string; reason: string }[] = [];
  for (const reportId of await linkedReportIds(incident)) {
    try {
      await sendReply(deps, reportId, input, principal, incidentId);
      sent.push(reportId);
    } catch (error) {
      if (error instanceof AlreadyRepliedError) alreadyReplied.push(reportId);
      else if (error instanceof ConflictError || error instanceof NotFoundError) failed.push({ reportId, reason: error.message });
      else {
        logger.error('customer reply failed', { reportId, incidentId, error: error as Error });
        failed.push({ reportId, reason: 'internal error: retry; the reports already answered are skipped' });
      }
    }
  }
  return { incidentId, sent, alreadyReplied, failed };
}
