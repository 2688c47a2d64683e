import type { Role } from '../../shared/platform/roles.js';
import type { ActionId } from '../../shared/incidents/lifecycle.js';
import type { IncidentStatus } from '../../shared/incidents/model.js';

/**
 * The lifecycle as the issue specifies it, written out independently of `ACTIONS` in the
 * code: the states each action applies in, who may run it and where it leads. The unit test
 * holds the transition table against it; the authorization matrix holds the API against it.
 */
const ACTIVE: IncidentStatus[] = ['declared', 'contained', 'disclosed', 'remediating'];
export const LIFECYCLE_SPEC: Record<ActionId, { from: IncidentStatus[]; roles: Role[]; to?: IncidentStatus }> = {
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

/** Who may call each incident endpoint at all (the finer rules are per action, above). */
export const INCIDENT_ROUTE_ROLES: Record<string, Role[]> = {
  'GET /incidents': ['qa', 'executive', 'admin'],
  'POST /incidents': ['qa', 'admin'],
  'GET /incidents/{id}': ['qa', 'executive', 'admin'],
  'POST /incidents/{id}/actions': ['qa', 'executive', 'admin'],
  'GET /incidents/{id}/report': ['qa', 'executive', 'admin'],
  'GET /incidents/{id}/effectiveness': ['qa', 'executive', 'admin'],
  'POST /incidents/{id}/replies': ['qa', 'admin'],
};
