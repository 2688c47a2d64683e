import { httpRoutes, matchPath } from './catalog.js';
import { MethodNotAllowedError, NotFoundError } from '../shared/platform/errors.js';
import { httpRoute } from '../shared/platform/http.js';

/**
 * `$default` route: every request no catalog route matched. A known path with another
 * method is 405 with `Allow`; anything else is 404. Both as problem+json.
 */
export const handler = httpRoute({ roles: 'public' }, async ({ method, rawPath }) => {
  const allow = httpRoutes()
    .filter((f) => matchPath(f.trigger.path, rawPath))
    .map((f) => f.trigger.method);
  if (allow.length > 0) {
    throw new MethodNotAllowedError([...new Set(allow)], `${method} is not supported on ${rawPath}.`);
  }
  throw new NotFoundError(`No route for ${method} ${rawPath}.`);
});
