import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { ClusterListQuery } from '../shared/incidents/schema.js';
import { topClusters } from '../shared/incidents/candidates.js';

loadConfig(['TABLE_NAME']);

/** GET /clusters: the busiest cluster keys over a window, with their latest statistic. */
export const handler = httpRoute(
  { roles: ['qa', 'executive', 'admin'], query: ClusterListQuery },
  async ({ query }) => ok(await topClusters({ clock: systemClock }, query)),
);
