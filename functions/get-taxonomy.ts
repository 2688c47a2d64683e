import { httpRoute, ok } from '../shared/platform/http.js';
import { ROLES } from '../shared/platform/roles.js';
import { activeCategories } from '../shared/reports/taxonomy.js';

// Read at cold start: an invalid DEFECT_TAXONOMY fails here, before any request.
const categories = activeCategories();

/** GET /taxonomy: the deployment's defect categories (codes, labels, which are harm), for clients. */
export const handler = httpRoute({ roles: [...ROLES] }, async () =>
  ok(
    { categories: categories.taxonomy.categories.map(({ code, label, harm }) => ({ code, label, ...(harm ? { harm } : {}) })) },
    { 'cache-control': 'private, max-age=300' },
  ),
);
