import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError } from '../../../shared/platform/errors.js';
import { ROLES, type Role } from '../../../shared/platform/roles.js';
import { ACTION_IDS, availableActions, decide, type ActionId } from '../../../shared/incidents/lifecycle.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../../shared/incidents/model.js';

/**
 * The specification, written out independently of `ACTIONS`: for each action the states it
 * applies in, who may run it and where it leads. Every state × action × role is checked
 * against it, so a change to the table that nobody meant shows up here.
 */
const ACTIVE: IncidentStatus[] = ['declared', 'contained', 'disclosed', 'remediating'];
const SPEC: Record<ActionId, { from: IncidentStatus[]; roles: Role[]; to?: IncidentStatus }> = {
  declare: { from: ['candidate'], roles: ['qa', 'admin'], to: 'declared' },
  dismiss: { from: ['candidate'], roles: ['qa', 'admin'], to: 'dismissed' },
  merge: { from: ['candidate'], roles: ['qa', 'admin'], to: 'merged' },
  'update-scope': { from: ['declared'], roles: ['qa', 'admin'] },
  'record-hold': { from: ['declared', 'contained'], roles: ['qa', 'admin'] },
  'issue-withdrawal': { from: ACTIVE, roles: ['qa', 'admin'] },
  'accept-sponsorship': { from: ['candidate', ...ACTIVE], roles: ['executive'] },
  'draft-disclosure': { from: ['declared', 'contained'], roles: ['qa', 'executive', 'admin'] },
  'approve-disclosure': { from: ['declared', 'contained'], roles: ['executive'] },
  contain: { from: ['declared'], roles: ['qa', 'admin'], to: 'contained' },
  disclose: { from: ['contained'], roles: ['qa', 'executive', 'admin'], to: 'disclosed' },
  remediate: { from: ['disclosed'], roles: ['qa', 'admin'], to: 'remediating' },
  'record-root-cause': { from: ACTIVE, roles: ['qa', 'admin'] },
  'add-action': { from: ACTIVE, roles: ['qa', 'admin'] },
  'complete-action': { from: ACTIVE, roles: ['qa', 'admin'] },
  verify: { from: ['remediating'], roles: ['qa', 'admin'] },
  'override-verification': { from: ['remediating'], roles: ['executive'] },
  'acknowledge-breach': { from: ACTIVE, roles: ['executive'] },
  close: { from: ['remediating'], roles: ['qa', 'executive', 'admin'], to: 'closed' },
};

const cases = INCIDENT_STATUSES.flatMap((status) => ACTION_IDS.flatMap((action) => ROLES.map((role) => [status, action, role] as const)));

describe('incidents', () => {
  describe('lifecycle transition table', () => {
    it('specifies every action of the table, and no other', () => {
      expect([...ACTION_IDS].sort()).toEqual(Object.keys(SPEC).sort());
    });

    it.each(cases)('%s × %s × %s', (status, action, role) => {
      const spec = SPEC[action];
      if (!spec.roles.includes(role)) {
        expect(() => decide(status, action, [role])).toThrow(ForbiddenError);
      } else if (!spec.from.includes(status)) {
        expect(() => decide(status, action, [role])).toThrow(ConflictError);
      } else {
        expect(decide(status, action, [role]).to).toBe(spec.to);
      }
    });

    it('checks the role before the state: a store is 403 even where the action does not apply', () => {
      expect(() => decide('closed', 'contain', ['store'])).toThrow(ForbiddenError);
    });

    it('lets nothing at all happen to a closed, dismissed or merged incident', () => {
      for (const status of ['closed', 'dismissed', 'merged'] as const) {
        expect(availableActions(status, ['qa', 'executive', 'admin'])).toEqual([]);
      }
    });

    it('offers each role only the actions it may take now', () => {
      expect(availableActions('candidate', ['qa'])).toEqual(['declare', 'dismiss', 'merge']);
      expect(availableActions('contained', ['executive'])).toEqual(['accept-sponsorship', 'draft-disclosure', 'approve-disclosure', 'disclose', 'acknowledge-breach']);
      expect(availableActions('declared', ['agent'])).toEqual([]);
    });
  });
});
