import { systemClock } from '../shared/platform/clock.js';
import { created, httpRoute } from '../shared/platform/http.js';
import { countMetric, METRIC } from '../shared/platform/metrics.js';
import { ACTIONS, type ActionSpec } from '../shared/incidents/lifecycle.js';
import { IncidentIdPath, incidentActionSchema } from '../shared/incidents/schema.js';
import { runAction } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';

const deps = incidentDeps();

/**
 * POST /incidents/{id}/actions: one lifecycle action (`{ action, expectedVersion, ... }`).
 * Role, then state, then gate; the new version, its timeline event and its notices in one
 * transaction. 403 wrong role, 409 stale version or wrong state, 422 gate or rule.
 */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], path: IncidentIdPath, body: incidentActionSchema(systemClock) },
  async ({ path, body, principal }) => {
    const result = await runAction(deps, path.id, body, principal!);
    // A transition changes the status (declare, contain, close…); a hold or an action does not.
    // A merge also moves the candidates merged in: each is a transition too.
    const spec: ActionSpec = ACTIONS[body.action];
    if (spec.to) countMetric(METRIC.incidentTransitions, 1 + (body.action === 'declare' ? (body.merge?.length ?? 0) : 0));
    return created(result);
  },
);
