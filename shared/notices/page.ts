import type { PublicNotice } from './model.js';

/**
 * The public recall page a company website links to: every published notice, newest first,
 * readable on a phone. Only what the approved notices already say publicly; every value is
 * HTML-escaped.
 */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CLASS_WORDS: Record<string, string> = {
  I: 'Serious health hazard',
  II: 'Health hazard',
  III: 'Unlikely to cause harm',
};

function article(n: PublicNotice): string {
  const lots = n.lots.map((l) => `${l.sku} ${l.lotCode}`).join(', ');
  const dates = n.productionDates ? ` (produced ${n.productionDates.from} to ${n.productionDates.to})` : '';
  return `<article id="${escape(n.incidentId)}">
<h2>${escape(n.title)}</h2>
<p class="meta"><span class="class c${escape(n.hazardClass)}">${escape(CLASS_WORDS[n.hazardClass] ?? n.hazardClass)}</span> · published <time datetime="${escape(n.publishedAt)}">${escape(n.publishedAt.slice(0, 10))}</time></p>
<dl>
<dt>Product</dt><dd>${n.products.map((p) => `${escape(p.name)} (${escape(p.sku)})`).join('<br>')}</dd>
<dt>Lots</dt><dd>${escape(lots || '—')}${escape(dates)}</dd>
<dt>Hazard</dt><dd>${escape(n.hazard)}</dd>
</dl>
<div class="text">${n.text.split(/\n{2,}/).map((para) => `<p>${escape(para).replace(/\n/g, '<br>')}</p>`).join('\n')}</div>
</article>`;
}

export function publicNoticesPage(notices: readonly PublicNotice[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Product recall notices</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:42rem;padding:1rem;color:#111}
h1{font-size:1.5rem}article{border-top:2px solid #ddd;padding:1rem 0}h2{font-size:1.2rem;margin:.2rem 0}
.meta{color:#555;font-size:.9rem}.class{font-weight:600}.cI{color:#b00020}.cII{color:#a15c00}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
</style>
</head>
<body>
<h1>Product recall notices</h1>
${notices.length ? notices.map(article).join('\n') : '<p>There are no recall notices.</p>'}
</body>
</html>
`;
}
