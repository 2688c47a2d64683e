import { httpRoute, ok } from '../shared/platform/http.js';
import { IncidentIdPath, IncidentReadQuery } from '../shared/incidents/schema.js';
import { readIncident, readIncidentAt } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';

const deps = incidentDeps();

/** GET /incidents/{id}: checklists, deadlines and timeline; `?asOfVersion=N` reads a past state back. */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], path: IncidentIdPath, query: IncidentReadQuery },
  async ({ path, query, principal }) =>
    ok(query.asOfVersion === undefined ? await readIncident(deps, path.id, principal!) : await readIncidentAt(path.id, query.asOfVersion)),
);
