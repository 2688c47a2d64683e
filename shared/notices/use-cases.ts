import { hasRole, type Principal } from '../platform/auth.js';
import type { Clock } from '../platform/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../platform/errors.js';
import { OUTBOX_DUE_PK, publishOutboxItem } from '../platform/outbox.js';
import type { TopicId } from '../platform/topics.js';
import type { Incident } from '../incidents/model.js';
import type { IncidentPolicy } from '../incidents/policy.js';
import { getStores } from '../stores/repository.js';
import { storesInScope } from '../stores/use-cases.js';
import { effectiveness, type Effectiveness } from './effectiveness.js';
import type { Acknowledgement } from './model.js';
import * as repo from './repository.js';
import type { AckCorrection, AckCreate } from './schema.js';

/** A store user acts for its own store only; QA and admins may act for any. */
function requireOwnStore(principal: Principal, storeId: string): void {
  if (hasRole(principal, 'qa', 'admin')) return;
  if (principal.storeId !== storeId) throw new ForbiddenError(`A store acts for its own store (${principal.storeId ?? 'none'}) only.`);
}

/**
 * A store acknowledges a withdrawal notice with what it had and what it pulled.
 * 1. The notice must exist and be addressed to the store (its region, or it alone).
 * 2. One acknowledgement per store and notice: the same one again answers with the first;
 *    different figures are a 409 (a correction goes through QA, not a silent overwrite).
 */
export async function acknowledgeNotice(deps: { clock: Clock }, noticeId: string, input: AckCreate, principal: Principal) {
  const storeId = principal.storeId;
  if (!storeId) throw new ForbiddenError('Only a store acknowledges a notice, with its store id in its token.');
  const notice = await repo.getNotice(noticeId);
  if (!notice) throw new NotFoundError(`No store notice ${noticeId}.`);
  const store = (await getStores([storeId])).get(storeId);
  const addressed = notice.storeId ? notice.storeId === storeId : store?.region === notice.region;
  if (!addressed) throw new ForbiddenError(`Notice ${noticeId} is not addressed to store ${storeId}.`);
  const ack: Acknowledgement = {
    noticeId,
    incidentId: notice.incidentId,
    storeId,
    region: notice.region,
    quantityOnHand: input.quantityOnHand,
    quantityRemoved: input.quantityRemoved,
    ...(input.note ? { note: input.note } : {}),
    at: deps.clock.now().toISOString(),
    by: principal.userId,
  };
  const result = await repo.putAcknowledgement(ack);
  if (result.created) return { acknowledgement: ack, replayed: false };
  const existing = result.existing!;
  if (existing.quantityOnHand !== ack.quantityOnHand || existing.quantityRemoved !== ack.quantityRemoved) {
    throw new ConflictError(
      `Store ${storeId} already acknowledged ${noticeId} at ${existing.at} with ${existing.quantityOnHand} on hand and ${existing.quantityRemoved} removed; ` +
        `ask QA to correct it (npx recall store correct-ack ${noticeId} --store ${storeId} --on-hand N --removed N --reason "…").`,
    );
  }
  return { acknowledgement: existing, replayed: true };
}

/**
 * QA corrects a store's acknowledgement (a figure the store mistyped, a recount): the new
 * figures replace the old for effectiveness, and the record keeps every correction with who,
 * when, why and the figures before. The same figures again change nothing (a retry).
 */
export async function correctAcknowledgement(deps: { clock: Clock }, noticeId: string, storeId: string, input: AckCorrection, principal: Principal) {
  const existing = await repo.getAcknowledgement(noticeId, storeId);
  if (!existing) {
    const notice = await repo.getNotice(noticeId);
    throw new NotFoundError(notice ? `Store ${storeId} has not acknowledged ${noticeId}: the store acknowledges it first (npx recall store ack).` : `No store notice ${noticeId}.`);
  }
  const last = existing.corrections?.at(-1);
  if (existing.quantityOnHand === input.quantityOnHand && existing.quantityRemoved === input.quantityRemoved && (!last || last.reason === input.reason)) {
    return { acknowledgement: existing, replayed: true };
  }
  const corrections = existing.corrections ?? [];
  const corrected: Acknowledgement = {
    ...existing,
    quantityOnHand: input.quantityOnHand,
    quantityRemoved: input.quantityRemoved,
    corrections: [
      ...corrections,
      { at: deps.clock.now().toISOString(), by: principal.userId, reason: input.reason, before: { quantityOnHand: existing.quantityOnHand, quantityRemoved: existing.quantityRemoved } },
    ],
  };
  if (!(await repo.replaceAcknowledgement(corrected, corrections.length))) {
    throw new ConflictError(`The acknowledgement of ${noticeId} by ${storeId} was corrected by someone else meanwhile: read it again (npx recall store inbox --store ${storeId} --all).`);
  }
  return { acknowledgement: corrected, replayed: false };
}

/** Stores in scope against the acknowledgements of every withdrawal notice of the incident. */
export async function incidentEffectiveness(incident: Incident, policy: IncidentPolicy): Promise<Effectiveness> {
  const [{ stores }, acks] = await Promise.all([
    storesInScope(incident.scope),
    Promise.all((incident.withdrawals ?? []).map((w) => repo.acknowledgements(w.noticeId))),
  ]);
  return effectiveness(stores, acks.flat(), policy.effectiveness[incident.hazardClass ?? 'III']);
}

/**
 * A store's open notices (`GET /stores/{id}/notices`), for when its queue lost a message:
 * the withdrawals addressed to its region or to it, newest first, each with its own
 * acknowledgement if it gave one.
 */
export async function storeNotices(storeId: string, principal: Principal, options: { all: boolean }) {
  requireOwnStore(principal, storeId);
  const store = (await getStores([storeId])).get(storeId);
  if (!store) throw new NotFoundError(`Store ${storeId} is not in the store directory.`);
  const notices = (await repo.noticesOfRegion(store.region)).filter((n) => !n.storeId || n.storeId === storeId);
  const withAcks = await Promise.all(
    notices.map(async (n) => ({ ...n, acknowledgement: (await repo.acknowledgements(n.noticeId)).find((a) => a.storeId === storeId) })),
  );
  return { storeId, region: store.region, items: options.all ? withAcks : withAcks.filter((n) => !n.acknowledgement) };
}

/** The published recall notices, newest first: what the public page shows. */
export async function publishedNotices(limit = 50) {
  return { items: await repo.publicNotices(limit) };
}

/**
 * The outbox sweeper (every minute): publishes any notice or alert still pending after
 * `graceMs` — one the stream gave up on after its retries, or whose publish failed. The
 * publish itself is the same conditional one the stream uses, so a message is marked
 * published once; only a crash between publish and mark can send it twice (subscribers
 * de-duplicate by `messageKey`).
 */
export async function sweepOutbox(deps: { clock: Clock; topicArns: Partial<Record<TopicId, string>>; tableName: string; graceMs?: number }) {
  const cutoff = new Date(deps.clock.now().getTime() - (deps.graceMs ?? 3 * 60_000)).toISOString();
  const pending = await repo.pendingOutbox(OUTBOX_DUE_PK, cutoff);
  let published = 0;
  const failed: string[] = [];
  for (const id of pending) {
    try {
      if (await publishOutboxItem(deps.tableName, deps.topicArns, id)) published++;
    } catch (error) {
      failed.push(`${id}: ${(error as Error).message}`);
    }
  }
  if (failed.length) throw new OutboxSweepError(failed, pending.length, published);
  return { pending: pending.length, published };
}

/** Some pending items still failed to publish; the run fails loudly, with its counts. */
export class OutboxSweepError extends Error {
  readonly failed: number;
  constructor(
    reasons: string[],
    readonly pending: number,
    readonly published: number,
  ) {
    super(`outbox sweeper: ${reasons.length} item(s) still failing: ${reasons.slice(0, 5).join('; ')}`);
    this.name = 'OutboxSweepError';
    this.failed = reasons.length;
  }
}
