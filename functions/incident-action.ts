import { systemClock } from '../shared/platform/clock.js';
import { created, httpRoute } from '../shared/platform/http.js';
import { countMetric, METRIC } from '../shared/platform/metrics.js';
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
    countMetric(METRIC.incidentTransitions);
    return created(result);
  },
);
