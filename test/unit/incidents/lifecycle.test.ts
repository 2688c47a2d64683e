import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError } from '../../../shared/platform/errors.js';
import { ROLES } from '../../../shared/platform/roles.js';
import { ACTION_IDS, availableActions, decide } from '../../../shared/incidents/lifecycle.js';
import { INCIDENT_STATUSES } from '../../../shared/incidents/model.js';
import { LIFECYCLE_SPEC } from '../../support/incident-spec.js';

const SPEC = LIFECYCLE_SPEC;

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
      expect(availableActions('candidate', ['qa'])).toEqual(['declare', 'dismiss']);
      expect(availableActions('contained', ['executive'])).toEqual(['accept-sponsorship', 'draft-disclosure', 'approve-disclosure', 'disclose', 'acknowledge-breach']);
      expect(availableActions('declared', ['agent'])).toEqual([]);
    });
  });
});
