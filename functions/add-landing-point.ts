import { systemClock } from '../shared/platform/clock.js';
import { created, httpRoute } from '../shared/platform/http.js';
import { landingPointSchema, ReportIdPath } from '../shared/reports/schema.js';
import { addLandingPoint } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** POST /reports/{id}/landing-points: a promise to the customer, with owner and due date. */
export const handler = httpRoute(
  { roles: ['agent', 'qa', 'admin'], path: ReportIdPath, body: landingPointSchema(systemClock) },
  async ({ path, body, principal }) => created(await addLandingPoint(deps, path.id, body, principal!)),
);
