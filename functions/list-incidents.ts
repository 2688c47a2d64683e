import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { IncidentListQuery } from '../shared/incidents/schema.js';
import { listIncidents } from '../shared/incidents/use-cases.js';

loadConfig(['TABLE_NAME']);

/** GET /incidents?status=&hazardClass=: incidents newest first, with their keys and evidence. */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], query: IncidentListQuery },
  async ({ query }) => ok(await listIncidents(query)),
);
