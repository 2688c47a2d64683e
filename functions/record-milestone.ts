import { systemClock } from '../shared/platform/clock.js';
import { created, httpRoute } from '../shared/platform/http.js';
import { milestoneSchema, ReportIdPath } from '../shared/reports/schema.js';
import { recordMilestone } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** POST /reports/{id}/milestones: who did what, when; completes the named clock. */
export const handler = httpRoute(
  { roles: ['agent', 'qa', 'admin'], path: ReportIdPath, body: milestoneSchema(systemClock) },
  async ({ path, body, principal }) => created(await recordMilestone(deps, path.id, body, principal!)),
);
