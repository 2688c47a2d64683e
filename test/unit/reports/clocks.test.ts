import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/platform/config.js';
import {
  breachesToEscalate,
  clockPolicyFrom,
  clockState,
  completeClock,
  isBackdated,
  DEFAULT_CLOCK_POLICY,
  markEscalated,
  nextDue,
  reportClockState,
  startClocks,
} from '../../../shared/reports/clocks.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../../../shared/platform/errors.js';

const received = '2026-11-20T09:00:00.000Z';
const at = (iso: string) => new Date(iso);
const clocks = startClocks(received, DEFAULT_CLOCK_POLICY);
const byId = (id: string, list = clocks) => list.find((c) => c.id === id)!;

describe('customer clocks', () => {
  describe('start', () => {
    it('starts the 15-minute, 2-hour and 14-day clocks from the time the complaint was received', () => {
      expect(clocks.map((c) => [c.id, c.deadline])).toEqual([
        ['handoff', '2026-11-20T09:15:00.000Z'],
        ['qa', '2026-11-20T11:00:00.000Z'],
        ['reply', '2026-12-04T09:00:00.000Z'],
      ]);
      expect(clocks.every((c) => c.owner.length > 0)).toBe(true);
    });

    it('takes its deadlines from the configured policy', () => {
      const policy = clockPolicyFrom({ CLOCK_POLICY: '{"handoffMinutes":10,"qaMinutes":60,"replyDays":7}' });
      expect(startClocks(received, policy).map((c) => c.deadline)).toEqual([
        '2026-11-20T09:10:00.000Z',
        '2026-11-20T10:00:00.000Z',
        '2026-11-27T09:00:00.000Z',
      ]);
    });

    it('refuses a policy that is not JSON or has a bad value, naming it', () => {
      expect(() => clockPolicyFrom({ CLOCK_POLICY: 'fast' })).toThrow(ConfigError);
      expect(() => clockPolicyFrom({ CLOCK_POLICY: '{"qaMinutes":-5}' })).toThrow(/CLOCK_POLICY.qaMinutes/);
    });
  });

  describe('state', () => {
    it('is running until the deadline and breached after it', () => {
      expect(clockState(byId('handoff'), at('2026-11-20T09:15:00.000Z'))).toBe('running');
      expect(clockState(byId('handoff'), at('2026-11-20T09:15:00.001Z'))).toBe('breached');
    });

    it('is met when the milestone came by the deadline, breached when it came late', () => {
      const onTime = completeClock(clocks, 'handoff', { at: '2026-11-20T09:14:00.000Z', recordedAt: '2026-11-20T09:14:00.000Z', by: 'u1' });
      expect(clockState(byId('handoff', onTime), at('2026-12-01T00:00:00Z'))).toBe('met');
      const late = completeClock(clocks, 'qa', { at: '2026-11-20T11:30:00.000Z', recordedAt: '2026-11-20T11:30:00.000Z', by: 'u1' });
      expect(clockState(byId('qa', late), at('2026-11-20T11:30:00Z'))).toBe('breached');
    });

    it('summarises a report as open, overdue or closed', () => {
      expect(reportClockState(clocks, at('2026-11-20T09:05:00Z'))).toBe('open');
      expect(reportClockState(clocks, at('2026-11-20T09:20:00Z'))).toBe('overdue');
      let done = clocks;
      for (const id of ['handoff', 'qa', 'reply']) done = completeClock(done, id, { at: '2026-11-20T09:10:00.000Z', recordedAt: '2026-11-20T09:10:00.000Z', by: 'u' });
      expect(reportClockState(done, at('2027-01-01T00:00:00Z'))).toBe('closed');
    });
  });

  describe('milestones', () => {
    it('records who and when, and refuses to complete a clock twice', () => {
      const once = completeClock(clocks, 'reply', { at: '2026-11-25T00:00:00.000Z', recordedAt: '2026-11-25T00:00:00.000Z', by: 'agent-7', note: 'letter sent' });
      expect(byId('reply', once)).toMatchObject({ completedAt: '2026-11-25T00:00:00.000Z', completedBy: 'agent-7', note: 'letter sent' });
      expect(() => completeClock(once, 'reply', { at: '2026-11-26T00:00:00.000Z', recordedAt: '2026-11-26T00:00:00.000Z', by: 'x' })).toThrow(ConflictError);
    });

    it('rejects an unknown clock and a milestone before the clock started', () => {
      expect(() => completeClock(clocks, 'lp-NOPE', { at: received, recordedAt: received, by: 'x' })).toThrow(NotFoundError);
      expect(() => completeClock(clocks, 'qa', { at: '2026-11-20T08:00:00.000Z', recordedAt: '2026-11-20T08:00:00.000Z', by: 'x' })).toThrow(UnprocessableError);
    });
  });

  describe('backdating', () => {
    it('keeps a breach that happened breached when the milestone is recorded late with an earlier time', () => {
      const done = completeClock(clocks, 'handoff', { at: '2026-11-20T09:10:00.000Z', recordedAt: '2026-11-20T09:40:00.000Z', by: 'u' });
      expect(clockState(byId('handoff', done), at('2026-11-20T09:40:00.000Z'))).toBe('breached');
      expect(isBackdated(byId('handoff', done))).toBe(true);
    });

    it('meets the clock when the milestone is recorded by the deadline, a little earlier claim being the desk’s clock', () => {
      const done = completeClock(clocks, 'handoff', { at: '2026-11-20T09:12:00.000Z', recordedAt: '2026-11-20T09:14:50.000Z', by: 'u' });
      expect(clockState(byId('handoff', done), at('2026-11-20T09:17:00.000Z'))).toBe('met');
      expect(isBackdated(byId('handoff', done))).toBe(false);
    });

    it('is breached once the deadline passed unrecorded, however little later the milestone came', () => {
      const late = completeClock(clocks, 'handoff', { at: '2026-11-20T09:14:00.000Z', recordedAt: '2026-11-20T09:15:30.000Z', by: 'u' });
      expect(clockState(byId('handoff', late), at('2026-11-20T09:16:00.000Z'))).toBe('breached');
    });

    it('keeps an escalated breach breached whatever the milestone claims', () => {
      const escalated = markEscalated(clocks, ['handoff'], at('2026-11-20T09:16:00.000Z'));
      const done = completeClock(escalated, 'handoff', { at: '2026-11-20T09:10:00.000Z', recordedAt: '2026-11-20T09:10:00.000Z', by: 'u' });
      expect(clockState(byId('handoff', done), at('2026-11-20T09:20:00.000Z'))).toBe('breached');
    });
  });

  describe('escalation', () => {
    it('escalates each breach once and then looks at the next deadline', () => {
      const now = at('2026-11-20T11:00:01Z');
      const due = breachesToEscalate(clocks, now);
      expect(due.map((c) => c.id)).toEqual(['handoff', 'qa']);
      const escalated = markEscalated(clocks, due.map((c) => c.id), now);
      expect(breachesToEscalate(escalated, now)).toEqual([]);
      expect(nextDue(escalated)).toBe('2026-12-04T09:00:00.000Z');
    });

    it('has nothing left to watch once every clock is completed or escalated', () => {
      let all = markEscalated(clocks, ['handoff', 'qa'], at('2026-11-20T12:00:00Z'));
      all = completeClock(all, 'reply', { at: '2026-11-21T00:00:00.000Z', recordedAt: '2026-11-21T00:00:00.000Z', by: 'u' });
      expect(nextDue(all)).toBeUndefined();
    });
  });
});
