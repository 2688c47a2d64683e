import { httpRoute, ok } from '../shared/platform/http.js';
import { ReportIdPath } from '../shared/reports/schema.js';
import { readReport } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** GET /reports/{id}: the case record, its clocks and timeline; contact for desk and QA only. */
export const handler = httpRoute(
  { roles: ['agent', 'qa', 'executive', 'store', 'admin'], path: ReportIdPath },
  async ({ path, principal }) => ok(await readReport(deps, path.id, principal!)),
);
