import { httpRoute, ok } from '../shared/platform/http.js';
import { statusReportMarkdown } from '../shared/incidents/report.js';
import { IncidentIdPath, IncidentReportQuery } from '../shared/incidents/schema.js';
import { incidentStatusReport } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';

const deps = incidentDeps();

/** GET /incidents/{id}/report: the recall status report, JSON or `?format=markdown`. */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], path: IncidentIdPath, query: IncidentReportQuery },
  async ({ path, query, principal }) => {
    const report = await incidentStatusReport(deps, path.id, principal!);
    if (query.format === 'markdown') return { status: 200, text: statusReportMarkdown(report), headers: { 'content-type': 'text/markdown; charset=utf-8' } };
    return ok(report);
  },
);
