import { httpRoute, ok } from '../shared/platform/http.js';
import { IncidentIdPath } from '../shared/incidents/schema.js';
import { readEffectiveness } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';

const deps = incidentDeps();

/** GET /incidents/{id}/effectiveness: stores in scope, acknowledged, silent, units removed, the FDA level. */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], path: IncidentIdPath },
  async ({ path }) => ok(await readEffectiveness(deps, path.id)),
);
