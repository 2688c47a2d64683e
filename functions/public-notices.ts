import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { publicNoticesPage } from '../shared/notices/page.js';
import { PublicNoticesQuery } from '../shared/notices/schema.js';
import { publishedNotices } from '../shared/notices/use-cases.js';

loadConfig(['TABLE_NAME']);

/** GET /public/notices: published recall notices, HTML for people (`Accept: text/html` or `?format=html`), else JSON. No sign-in. */
export const handler = httpRoute({ roles: 'public', query: PublicNoticesQuery }, async ({ query, headers }) => {
  const { items } = await publishedNotices(query.limit);
  const html = query.format === 'html' || (!query.format && /text\/html/i.test(headers.accept ?? ''));
  if (!html) return ok({ items });
  return { status: 200, text: publicNoticesPage(items), headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60' } };
});
