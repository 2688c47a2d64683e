import { created, httpRoute } from '../shared/platform/http.js';
import { IncidentOpen } from '../shared/incidents/schema.js';
import { openIncident } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';

const deps = incidentDeps();

/** POST /incidents: QA opens a declared recall incident by hand, without a candidate. */
export const handler = httpRoute({ roles: ['qa', 'admin'], body: IncidentOpen }, async ({ body, principal }) => {
  const incident = await openIncident(deps, body, principal!);
  return created(incident, { location: `/incidents/${incident.id}` });
});
