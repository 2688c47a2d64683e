import { created, httpRoute } from '../shared/platform/http.js';
import { countMetric, METRIC } from '../shared/platform/metrics.js';
import { IncidentOpen } from '../shared/incidents/schema.js';
import { openIncident } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';

const deps = incidentDeps();

/** POST /incidents: QA opens a declared recall incident by hand, without a candidate. */
export const handler = httpRoute({ roles: ['qa', 'admin'], body: IncidentOpen }, async ({ body, principal }) => {
  const incident = await openIncident(deps, body, principal!);
  countMetric(METRIC.incidentTransitions); // opened by hand, straight into `declared`
  return created(incident, { location: `/incidents/${incident.id}` });
});
