import { httpRoute, ok } from '../shared/platform/http.js';
import { ReportListQuery } from '../shared/reports/schema.js';
import { listReports } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** GET /reports: filtered, newest first, paginated with an opaque cursor. */
export const handler = httpRoute(
  { roles: ['agent', 'qa', 'executive', 'store', 'admin'], query: ReportListQuery },
  async ({ query, principal }) => ok(await listReports(deps, query, principal!)),
);
