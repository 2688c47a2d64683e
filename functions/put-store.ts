import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { StoreIdPath, StorePut } from '../shared/stores/schema.js';
import { registerStore } from '../shared/stores/use-cases.js';

loadConfig(['TABLE_NAME']);

/** PUT /stores/{id}: registers or updates a store in the directory (admin). */
export const handler = httpRoute(
  { roles: ['admin'], path: StoreIdPath, body: StorePut },
  async ({ path, body, principal }) => ok(await registerStore({ clock: systemClock }, path.id, body, principal!)),
);
