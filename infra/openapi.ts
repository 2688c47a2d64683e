import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { httpRoutes } from '../functions/catalog.js';
import { openApiDocument, type DocumentedRoute } from '../shared/platform/openapi.js';
import { TOPICS } from '../shared/platform/topics.js';
import { REPO_ROOT } from './local/lambda.js';

/**
 * `npm run openapi`: writes `functions/openapi.json`, which `GET /openapi.json` serves. Each
 * catalog route's handler module is imported and its own route spec read (the schemas it
 * parses with), so the description cannot drift from what the API accepts; a test fails when
 * the committed file is not what this generates.
 */
export const OPENAPI_FILE = path.join(REPO_ROOT, 'functions', 'openapi.json');

export async function generateOpenApi() {
  // Handlers check their configuration at import; nothing is called.
  const placeholder = 'arn:aws:sns:us-east-1:000000000000:openapi';
  process.env.TABLE_NAME ??= 'openapi';
  for (const topic of Object.values(TOPICS)) process.env[topic.envVar] ??= placeholder;
  const routes: DocumentedRoute[] = [];
  for (const spec of httpRoutes().filter((r) => r.trigger.path !== '$default')) {
    const module = (await import(pathToFileURL(path.join(REPO_ROOT, spec.entry)).href)) as { handler?: { route?: DocumentedRoute['route'] } };
    const route = module.handler?.route;
    if (!route) throw new Error(`${spec.entry} (${spec.id}) is not an httpRoute handler`);
    routes.push({ spec, route });
  }
  const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return openApiDocument(routes, version);
}

export const serialize = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = await generateOpenApi();
  writeFileSync(OPENAPI_FILE, serialize(doc));
  console.log(`wrote ${path.relative(REPO_ROOT, OPENAPI_FILE)}: ${Object.keys(doc.paths).length} paths, ${Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0)} operations`);
}
