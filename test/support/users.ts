import type { Role } from '../../shared/platform/roles.js';

type User = { sub: string; roles: Role[]; storeId?: string; region?: string };

/** The cast of the tests, mirroring the local demo users. */
export const users = {
  agent: { sub: 'u-agent', roles: ['agent'] },
  qa: { sub: 'u-qa', roles: ['qa'] },
  executive: { sub: 'u-exec', roles: ['executive'] },
  storeKanto: { sub: 'u-store-0101', roles: ['store'], storeId: 'store-0101', region: 'kanto' },
  storeKansai: { sub: 'u-store-0201', roles: ['store'], storeId: 'store-0201', region: 'kansai' },
  admin: { sub: 'u-admin', roles: ['admin'] },
} satisfies Record<string, User>;
