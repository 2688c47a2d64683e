import { created, httpRoute } from '../shared/platform/http.js';
import { ReportIdPath, SurveyCreate } from '../shared/reports/schema.js';
import { recordSurvey } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** POST /reports/{id}/survey: the customer's satisfaction (1–5) after the written reply. */
export const handler = httpRoute(
  { roles: ['agent', 'admin'], path: ReportIdPath, body: SurveyCreate },
  async ({ path, body, principal }) => created(await recordSurvey(deps, path.id, body, principal!)),
);
