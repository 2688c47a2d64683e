import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { listIncidents } from '../shared/incidents/repository.js';
import { IncidentListQuery } from '../shared/incidents/schema.js';

loadConfig(['TABLE_NAME']);

/** GET /incidents?status=candidate: incidents with their evidence and linked reports. */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], query: IncidentListQuery },
  async ({ query }) => ok(await listIncidents(query.status, query.limit, query.cursor)),
);
