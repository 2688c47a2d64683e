import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { StoreNoticesQuery } from '../shared/notices/schema.js';
import { storeNotices } from '../shared/notices/use-cases.js';
import { StoreIdPath } from '../shared/stores/schema.js';

loadConfig(['TABLE_NAME']);

/** GET /stores/{id}/notices: a store's open withdrawal notices (`?all=true`: acknowledged too). */
export const handler = httpRoute(
  { roles: ['store', 'qa', 'admin'], path: StoreIdPath, query: StoreNoticesQuery },
  async ({ path, query, principal }) => ok(await storeNotices(path.id, principal!, { all: query.all === 'true' })),
);
