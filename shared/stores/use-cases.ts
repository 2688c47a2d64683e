import type { Principal } from '../platform/auth.js';
import type { Clock } from '../platform/clock.js';
import type { Store } from './model.js';
import * as repo from './repository.js';
import type { StorePut } from './schema.js';

/** Registers or updates a store in the directory (admin): notices and effectiveness read it. */
export async function registerStore(deps: { clock: Clock }, storeId: string, input: StorePut, principal: Pick<Principal, 'userId'>): Promise<Store> {
  const store: Store = { storeId, region: input.region, name: input.name, updatedAt: deps.clock.now().toISOString(), updatedBy: principal.userId };
  await repo.putStore(store);
  return store;
}

export async function listStores(region: string) {
  return { region, items: await repo.storesOfRegion(region) };
}

/**
 * The stores a scope reaches: the listed stores (each must be in the directory), or every
 * store of the listed regions. `unknown` names listed stores the directory does not have.
 */
export async function storesInScope(scope: { regions?: readonly string[]; stores?: readonly string[] } | undefined): Promise<{ stores: Store[]; unknown: string[] }> {
  if (scope?.stores?.length) {
    const found = await repo.getStores(scope.stores);
    return { stores: scope.stores.map((s) => found.get(s)).filter((s): s is Store => !!s), unknown: scope.stores.filter((s) => !found.has(s)) };
  }
  const byRegion = await Promise.all((scope?.regions ?? []).map((r) => repo.storesOfRegion(r)));
  return { stores: byRegion.flat(), unknown: [] };
}
