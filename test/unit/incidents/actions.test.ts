import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../shared/platform/auth.js';
import { ConflictError, ForbiddenError, UnprocessableError } from '../../../shared/platform/errors.js';
import { applyAction, deadlinesToEscalate, nextDeadline, type ActionContext } from '../../../shared/incidents/actions.js';
import { checkNoticeFacts, textHash } from '../../../shared/incidents/disclosure.js';
import { evaluateChecklist, unmetItems } from '../../../shared/incidents/gates.js';
import type { Incident } from '../../../shared/incidents/model.js';
import { DEFAULT_INCIDENT_POLICY, incidentPolicyFrom } from '../../../shared/incidents/policy.js';
import type { IncidentAction } from '../../../shared/incidents/schema.js';
import { ConfigError } from '../../../shared/platform/config.js';

const qa: Principal = { userId: 'u-qa', username: 'qa.tanaka', roles: ['qa'] };
const qaExec: Principal = { userId: 'u-qa-exec', username: 'qa.exec', roles: ['qa', 'executive'] };
const exec: Principal = { userId: 'u-exec', username: 'exec.suzuki', roles: ['executive'] };
const exec2: Principal = { userId: 'u-exec2', username: 'exec.ito', roles: ['executive'] };
const T0 = new Date('2026-11-20T09:00:00.000Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3600_000);

const candidate: Incident = {
  id: '01JCANDIDATE0000000000000A',
  status: 'candidate',
  version: 1,
  origin: 'detection',
  openedAt: T0.toISOString(),
  keys: { 'lot|CHOC-100|L1103|foreign_matter': { key: { kind: 'lot', id: 'lot|CHOC-100|L1103|foreign_matter', sku: 'CHOC-100', lot: 'L1103', category: 'foreign_matter' }, addedAt: T0.toISOString(), evidence: { 'lot-burst': { rule: 'lot-burst', key: { kind: 'lot', id: 'lot|CHOC-100|L1103|foreign_matter', category: 'foreign_matter' }, at: T0.toISOString(), reportId: 'r1', evidence: { count: 4 } } } } },
  reportCount: 4,
};

const scope = { products: [{ sku: 'CHOC-100', name: 'Almond chocolate 100 g' }], lots: [{ sku: 'CHOC-100', lotCode: 'L1103' }], regions: ['kanto', 'kansai'] };
const NOTICE =
  'Voluntary recall: Almond chocolate 100 g (CHOC-100), lot L1103. The product may contain fragments of metal. ' +
  'Do not eat it; return it to the store for a full refund. Questions: 0120-123-456 or recall@example.com.';

/** Runs a sequence of actions from `start`, each on the version the previous one made. */
function run(start: Incident, steps: [Principal, Omit<IncidentAction, 'expectedVersion'> & Record<string, unknown>, Date?][], context: Partial<ActionContext> = {}) {
  let incident = start;
  for (const [principal, action, at] of steps) {
    const outcome = applyAction(incident, { ...action, expectedVersion: incident.version } as IncidentAction, { principal, now: at ?? hours(1), policy: DEFAULT_INCIDENT_POLICY, facts: {}, ...context });
    incident = { ...outcome.next, version: incident.version + 1 };
  }
  return incident;
}

const declare = { action: 'declare', title: 'Metal in almond chocolate', hazardClass: 'I', hazard: 'may contain fragments of metal', scope } as const;
const declared = run(candidate, [[qa, declare, T0]]);
const contained = run(declared, [
  [qa, { action: 'record-hold', locations: ['plant-saitama'] }],
  [qa, { action: 'issue-withdrawal' }],
  [qa, { action: 'contain' }],
]);

function expectRule(fn: () => unknown, rule: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UnprocessableError);
    expect((error as UnprocessableError).details.rule).toBe(rule);
    return error as UnprocessableError;
  }
  throw new Error(`expected a 422 with rule ${rule}`);
}

describe('incidents', () => {
  describe('declare', () => {
    it('sets class, hazard, scope, the declarer and the class I deadlines (stores 2 h, disclosure 24 h)', () => {
      expect(declared).toMatchObject({ status: 'declared', hazardClass: 'I', declared: { by: 'u-qa', at: T0.toISOString() }, qaOwner: 'u-qa' });
      expect(declared.deadlines).toEqual({
        'stores-notified': { id: 'stores-notified', due: '2026-11-20T11:00:00.000Z' },
        disclosed: { id: 'disclosed', due: '2026-11-21T09:00:00.000Z' },
      });
    });

    it('has no disclosure deadline for class III by default', () => {
      const c3 = run(candidate, [[qa, { ...declare, hazardClass: 'III' }, T0]]);
      expect(Object.keys(c3.deadlines!)).toEqual(['stores-notified']);
      expect(c3.deadlines!['stores-notified']!.due).toBe('2026-11-23T09:00:00.000Z');
    });

    it('refuses a stale version with 409', () => {
      expect(() => applyAction(declared, { action: 'record-hold', locations: ['x'], expectedVersion: 1 }, { principal: qa, now: T0, policy: DEFAULT_INCIDENT_POLICY, facts: {} })).toThrow(ConflictError);
    });
  });

  describe('customer first gate', () => {
    it('names every unmet item when containment is tried too early', () => {
      const bare = run(candidate, [[qa, { ...declare, scope: { products: scope.products } }, T0]]);
      const error = expectRule(() => run(bare, [[qa, { action: 'contain' }]]), 'gate');
      const unmet = error.details.unmet as { id: string; runbook: string }[];
      expect(unmet.map((u) => u.id)).toEqual(['scope-defined', 'shipment-hold', 'store-withdrawal']);
      expect(unmet.every((u) => u.runbook.startsWith('runbooks/contain-incident.md#'))).toBe(true);
      expect(error.details.gate).toBe('contain');
    });

    it('issues one withdrawal per region in scope and meets the stores-notified deadline', () => {
      const held = run(declared, [[qa, { action: 'record-hold', locations: ['plant-saitama'] }]]);
      const outcome = applyAction(held, { action: 'issue-withdrawal', expectedVersion: held.version }, { principal: qa, now: hours(1), policy: DEFAULT_INCIDENT_POLICY, facts: {} });
      expect(outcome.outbox.map((m) => [m.topic, m.attributes.region, m.attributes.noticeType, m.attributes.storeId])).toEqual([
        ['storeNotices', 'kanto', 'store-withdrawal', 'all'],
        ['storeNotices', 'kansai', 'store-withdrawal', 'all'],
      ]);
      expect(outcome.outbox.every((m) => /^[\x20-\x7e]{1,100}$/.test(m.subject))).toBe(true);
      expect(outcome.next.deadlines!['stores-notified']!.metAt).toBe(hours(1).toISOString());
      expect(() => applyAction({ ...outcome.next, version: 4 }, { action: 'issue-withdrawal', expectedVersion: 4 }, { principal: qa, now: hours(1), policy: DEFAULT_INCIDENT_POLICY, facts: {} })).toThrow(ConflictError);
    });

    it('passes once scope, hold and every region’s withdrawal are recorded', () => {
      expect(contained.status).toBe('contained');
    });
  });

  describe('disclosure', () => {
    it('checks each required fact in the text and names what is missing', () => {
      const checks = checkNoticeFacts('Our chocolate has a problem.', declared);
      expect(checks.filter((c) => !c.ok).map((c) => c.fact)).toEqual(['product', 'lots', 'hazard', 'customer-action', 'contact']);
      expect(checkNoticeFacts(NOTICE, declared).every((c) => c.ok)).toBe(true);
      const japanese = 'アーモンドチョコレート 100 g（CHOC-100）ロット L1103 may contain fragments of metal。お召し上がりにならず、返品してください。お問い合わせ 0120-123-456';
      expect(checkNoticeFacts(japanese, declared).every((c) => c.ok)).toBe(true);
    });

    it('passes the sample notice the README drafts for its declare example (test/fixtures/notice.txt)', () => {
      const text = readFileSync(path.join(import.meta.dirname, '../../fixtures/notice.txt'), 'utf8');
      const readmeExample = {
        hazard: 'may contain pieces of plastic film',
        scope: { products: [{ sku: 'CHOC-ALM-100', name: 'Almond chocolate 100 g' }], lots: [{ sku: 'CHOC-ALM-100', lotCode: 'L2026-1103-A' }], regions: ['kanto', 'kansai'] },
      } as Pick<Incident, 'scope' | 'hazard'>;
      expect(checkNoticeFacts(text, readmeExample).filter((c) => !c.ok)).toEqual([]);
    });

    it('refuses to store a notice that misses facts (422 listing each)', () => {
      const error = expectRule(() => run(contained, [[qa, { action: 'draft-disclosure', mode: 'public-notice', text: 'CHOC-100 L1103 recall.' }]]), 'notice-facts');
      expect((error.details.missingFacts as { fact: string }[]).map((f) => f.fact)).toEqual(['hazard', 'customer-action', 'contact']);
    });

    it('allows "no public notice" for class III only', () => {
      expectRule(() => run(contained, [[qa, { action: 'draft-disclosure', mode: 'no-public-notice', text: 'Low risk.' }]]), 'public-notice-required');
      const c3 = run(candidate, [[qa, { ...declare, hazardClass: 'III' }, T0]]);
      expect(run(c3, [[qa, { action: 'draft-disclosure', mode: 'no-public-notice', text: 'Cosmetic defect only; stores withdraw.' }]]).disclosure?.mode).toBe('no-public-notice');
    });
  });

  describe('approve disclosure', () => {
    const drafted = run(contained, [[exec, { action: 'accept-sponsorship' }], [qa, { action: 'draft-disclosure', mode: 'public-notice', text: NOTICE }]]);

    it('binds the approval to the exact text: a changed text needs a new approval', () => {
      const approved = run(drafted, [[exec, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]]);
      expect(unmetItems('disclose', approved, {}, hours(2))).toEqual([]);
      const changed = run(approved, [[qa, { action: 'draft-disclosure', mode: 'public-notice', text: `${NOTICE} ` }]]);
      const unmet = unmetItems('disclose', changed, {}, hours(2));
      expect(unmet.map((i) => [i.id, i.missing])).toEqual([['disclosure-approved', 'the text changed after it was approved: approve the new text']]);
      expectRule(() => run(changed, [[qa, { action: 'disclose' }]]), 'gate');
    });

    it('refuses an approval of a text other than the current one (409)', () => {
      expect(() => run(drafted, [[exec, { action: 'approve-disclosure', textHash: textHash('something else') }]])).toThrow(ConflictError);
    });

    it('rejects approval by the person who declared the incident, even when also an executive', () => {
      const byQaExec = run(candidate, [[qaExec, declare, T0], [qaExec, { action: 'draft-disclosure', mode: 'public-notice', text: NOTICE }]]);
      expectRule(() => run(byQaExec, [[qaExec, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]]), 'separation-of-duties');
      expect(run(byQaExec, [[exec2, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]]).approval?.by).toBe('u-exec2');
    });

    it('rejects approval by the executive who wrote the text', () => {
      const ownText = run(contained, [[exec2, { action: 'draft-disclosure', mode: 'public-notice', text: NOTICE }]]);
      expectRule(() => run(ownText, [[exec2, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]]), 'separation-of-duties');
      expect(run(ownText, [[exec, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]]).approval?.by).toBe('u-exec');
    });

    it('does not take a date or a lot code for a phone number', () => {
      const dated = { ...declared, scope: { ...scope, productionDates: { from: '2026-11-01', to: '2026-11-07' } } };
      const noContact = NOTICE.replace('Questions: 0120-123-456 or recall@example.com.', 'Produced 2026-11-01 to 2026-11-07, code 20261101.');
      const lotDigits = { ...declared, scope: { ...scope, lots: [{ sku: 'CHOC-100', lotCode: '2026110300012' }] } };
      expect(checkNoticeFacts(noContact, dated).find((c) => c.fact === 'contact')!.ok).toBe(false);
      expect(checkNoticeFacts(NOTICE.replace('L1103', '2026110300012').replace('Questions: 0120-123-456 or recall@example.com.', ''), lotDigits).find((c) => c.fact === 'contact')!.ok).toBe(false);
      expect(checkNoticeFacts(NOTICE, dated).find((c) => c.fact === 'contact')!.ok).toBe(true);
    });

    it('does not let quality assurance approve at all (403)', () => {
      expect(() => run(drafted, [[qa, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]])).toThrow(ForbiddenError);
    });

    it('publishes the approved text byte for byte on disclosure and meets the deadline', () => {
      const approved = run(drafted, [[exec2, { action: 'approve-disclosure', textHash: textHash(NOTICE) }]]);
      const outcome = applyAction(approved, { action: 'disclose', expectedVersion: approved.version }, { principal: exec, now: hours(5), policy: DEFAULT_INCIDENT_POLICY, facts: {} });
      expect(outcome.outbox).toHaveLength(1);
      expect(outcome.outbox[0]).toMatchObject({ topic: 'publicNotices', message: NOTICE, attributes: { noticeType: 'public-notice', textHash: textHash(NOTICE) } });
      expect(outcome.next.deadlines!.disclosed!.metAt).toBe(hours(5).toISOString());
    });
  });

  describe('speed', () => {
    it('escalates a missed deadline once and needs the sponsor’s acknowledgement to close', () => {
      const late = run(candidate, [[qa, declare, T0], [exec, { action: 'accept-sponsorship' }]]);
      expect(deadlinesToEscalate(late, hours(1))).toEqual([]);
      expect(deadlinesToEscalate(late, hours(3)).map((d) => d.id)).toEqual(['stores-notified']);
      expect(nextDeadline(late)).toBe('2026-11-20T11:00:00.000Z');
      const escalated = { ...late, deadlines: { ...late.deadlines, 'stores-notified': { ...late.deadlines!['stores-notified']!, escalatedAt: hours(3).toISOString() } } };
      expect(deadlinesToEscalate(escalated, hours(4))).toEqual([]);
      expect(nextDeadline(escalated)).toBe('2026-11-21T09:00:00.000Z');
      const item = () => evaluateChecklist(escalated, {}, hours(4)).find((i) => i.id === 'breaches-acknowledged')!;
      expect(item().status).toBe('pending');
      expect(() => run(escalated, [[exec2, { action: 'acknowledge-breach', deadline: 'stores-notified', reason: 'late' }, hours(4)]])).toThrow(ForbiddenError);
      const acked = run(escalated, [[exec, { action: 'acknowledge-breach', deadline: 'stores-notified', reason: 'warehouse list was incomplete' }, hours(4)]]);
      expect(evaluateChecklist(acked, {}, hours(4)).find((i) => i.id === 'breaches-acknowledged')!.status).toBe('done');
      expectRule(() => run(acked, [[exec, { action: 'acknowledge-breach', deadline: 'disclosed', reason: 'x' }, hours(4)]]), 'no-breach');
    });

    it('keeps a missed deadline on the record when the class is lowered', () => {
      const missed = run(candidate, [[qa, declare, T0]]);
      const escalated = { ...missed, deadlines: { ...missed.deadlines, disclosed: { ...missed.deadlines!.disclosed!, escalatedAt: hours(25).toISOString() } } };
      const lowered = run(escalated, [[qa, { action: 'update-scope', hazardClass: 'III' }, hours(26)]]);
      expect(lowered.deadlines!.disclosed).toMatchObject({ escalatedAt: hours(25).toISOString() });
      expect(evaluateChecklist(lowered, {}, hours(26)).find((i) => i.id === 'breaches-acknowledged')!.status).toBe('pending');
    });

    it('lets another executive take sponsorship over only with a reason', () => {
      const sponsored = run(candidate, [[qa, declare, T0], [exec, { action: 'accept-sponsorship' }]]);
      expectRule(() => run(sponsored, [[exec2, { action: 'accept-sponsorship' }]]), 'sponsor-takeover');
      expect(() => run(sponsored, [[exec, { action: 'accept-sponsorship' }]])).toThrow(ConflictError);
      expect(run(sponsored, [[exec2, { action: 'accept-sponsorship', reason: 'on leave' }]]).sponsor?.by).toBe('u-exec2');
    });

    it('counts a deadline met late as a breach', () => {
      const met = run(candidate, [[qa, declare, T0], [qa, { action: 'record-hold', locations: ['p'] }, hours(3)], [qa, { action: 'issue-withdrawal' }, hours(3)]]);
      expect(deadlinesToEscalate(met, hours(3)).map((d) => d.id)).toEqual(['stores-notified']);
    });
  });

  describe('prevention gate', () => {
    const effective = { storesInScope: 2, acknowledged: 2, notResponded: [], level: 'A', targetPercent: 100, achievedPercent: 100, met: true };
    const remediating = run(contained, [
      [exec, { action: 'accept-sponsorship' }],
      [qa, { action: 'draft-disclosure', mode: 'public-notice', text: NOTICE }],
      [exec, { action: 'approve-disclosure', textHash: textHash(NOTICE) }],
      [qa, { action: 'disclose' }],
      [qa, { action: 'remediate' }],
    ]);

    it('names root cause, actions, verification and replies when closing too early', () => {
      const silent = { storesInScope: 2, acknowledged: 1, notResponded: ['store-0201'], level: 'A', targetPercent: 100, achievedPercent: 50, met: false };
      const error = expectRule(() => run(remediating, [[qa, { action: 'close' }]], { facts: { repliesOwed: ['R1'], linkedReports: 1, effectiveness: silent } }), 'gate');
      expect((error.details.unmet as { id: string; status: string }[]).map((u) => [u.id, u.status])).toEqual([
        ['effectiveness', 'pending'],
        ['root-cause', 'pending'],
        ['capa', 'pending'],
        ['verification', 'blocked'],
        ['customer-replies', 'pending'],
      ]);
    });

    it('starts the verification window when the fix was recorded, not at a backdated claim', () => {
      const backdated = run(remediating, [
        [qa, { action: 'add-action', kind: 'corrective', description: 'replace the sieve', owner: 'plant QA', dueDate: '2026-11-25' }],
        [qa, { action: 'complete-action', actionId: 'capa-1', completedAt: '2025-01-01T00:00:00.000Z' }, hours(48)],
      ]);
      expectRule(() => run(backdated, [[qa, { action: 'verify' }, hours(72)]], { counts: {} }), 'verification-window');
    });

    it('verifies from the counters only after the window, and fails on a new report', () => {
      const fixed = run(remediating, [
        [qa, { action: 'record-root-cause', text: 'worn sieve at the roasting line' }],
        [qa, { action: 'add-action', kind: 'corrective', description: 'replace the sieve', owner: 'plant QA', dueDate: '2026-11-25' }],
        [qa, { action: 'add-action', kind: 'preventive', description: 'weekly sieve inspection', owner: 'maintenance', dueDate: '2026-12-31' }],
        [qa, { action: 'complete-action', actionId: 'capa-1', completedAt: hours(2).toISOString() }],
      ]);
      expectRule(() => run(fixed, [[qa, { action: 'verify' }, hours(24 * 10)]], { counts: {} }), 'verification-window');
      const failed = run(fixed, [[qa, { action: 'verify' }, hours(24 * 31)]], { counts: { 'lot|CHOC-100|L1103|foreign_matter': 2 } });
      expect(failed.verification).toMatchObject({ result: 'failed', windowDays: 30 });
      expect(unmetItems('close', failed, { repliesOwed: [], effectiveness: effective }, hours(24 * 31)).map((i) => i.id)).toEqual(['verification']);
      const passed = run(fixed, [[qa, { action: 'verify' }, hours(24 * 31)]], { counts: { 'lot|CHOC-100|L1103|foreign_matter': 0 } });
      const closed = run(passed, [[qa, { action: 'close' }, hours(24 * 31)]], { facts: { repliesOwed: [], linkedReports: 3, effectiveness: effective } });
      expect(closed.status).toBe('closed');
      const overridden = run(failed, [[exec, { action: 'override-verification', reason: 'the two reports predate the fix in the store' }, hours(24 * 31)]]);
      expect(unmetItems('close', overridden, { repliesOwed: [], effectiveness: effective }, hours(24 * 31))).toEqual([]);
    });
  });

  describe('dismiss', () => {
    it('frees the keys and remembers the evidence size a new signal must exceed', () => {
      const outcome = applyAction(candidate, { action: 'dismiss', reason: 'one customer, four calls', expectedVersion: 1 }, { principal: qa, now: T0, policy: DEFAULT_INCIDENT_POLICY, facts: {} });
      expect(outcome.next.status).toBe('dismissed');
      expect(outcome.releaseKeys).toBe(true);
      expect(outcome.dismissedEvidence).toEqual({ 'lot|CHOC-100|L1103|foreign_matter': 4 });
    });
  });

  describe('policy', () => {
    it('overrides one class partially and fails fast on a bad value, naming it', () => {
      const policy = incidentPolicyFrom({ INCIDENT_POLICY: '{"deadlines":{"II":{"storesNotifiedHours":12}},"verificationDays":14}' });
      expect(policy.deadlines.II).toEqual({ storesNotifiedHours: 12, disclosedHours: 72 });
      expect(policy.deadlines.I).toEqual(DEFAULT_INCIDENT_POLICY.deadlines.I);
      expect(policy.verificationDays).toBe(14);
      expect(() => incidentPolicyFrom({ INCIDENT_POLICY: '{"deadlines":{"I":{"storesNotifiedHours":-1}}}' })).toThrow(/INCIDENT_POLICY\.deadlines\.I\.storesNotifiedHours/);
      expect(() => incidentPolicyFrom({ INCIDENT_POLICY: 'nope' })).toThrow(ConfigError);
    });
  });
});
