import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { StoreListQuery } from '../shared/stores/schema.js';
import { listStores } from '../shared/stores/use-cases.js';

loadConfig(['TABLE_NAME']);

/** GET /stores?region=R: the stores of a region in the directory. */
export const handler = httpRoute({ roles: ['qa', 'executive', 'admin'], query: StoreListQuery }, async ({ query }) => ok(await listStores(query.region)));
