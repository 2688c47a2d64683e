import { httpRoute, ok } from '../shared/platform/http.js';

/** GET /health: liveness only; it touches no dependency, so it answers while they start. */
export const handler = httpRoute({ roles: 'public' }, async () => ok({ status: 'ok', service: 'recall' }));
