import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { matchPath, type FunctionSpec, type HttpTrigger } from '../../functions/catalog.js';
import { NotFoundError, PayloadTooLargeError, UnauthorizedError, type DomainError } from '../../shared/platform/errors.js';
import { toProblemResponse } from '../../shared/platform/problem.js';
import type { DevKeys } from './dev-auth.js';
import { FunctionTimeoutError, invoke, type AnyHandler } from './lambda.js';

type HttpFunction = { spec: FunctionSpec & { trigger: HttpTrigger }; handler: AnyHandler };

/** API Gateway's own payload limit; the functions apply their stricter per-route limits. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The local API Gateway (HTTP API, payload 2.0): routes each request to the function the
 * catalog names, authenticates routes that have roles as the JWT authorizer would (401),
 * and turns the function's result into the HTTP response.
 */
export function createGateway(functions: HttpFunction[], keys: DevKeys, log: (line: string) => void): http.Server {
  const routes = functions.filter((f) => f.spec.trigger.path !== '$default');
  const fallback = functions.find((f) => f.spec.trigger.path === '$default');

  return http.createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = (req.method ?? 'GET').toUpperCase();
      let target: HttpFunction | undefined;
      let pathParameters: Record<string, string> | undefined;
      for (const route of routes) {
        const params = route.spec.trigger.method === method ? matchPath(route.spec.trigger.path, url.pathname) : undefined;
        if (params) {
          target = route;
          pathParameters = params;
          break;
        }
      }
      target ??= fallback;
      if (!target) return send(res, problem(new NotFoundError(`No route for ${method} ${url.pathname}.`), url.pathname, requestId));

      // The token is checked before the body is read, as API Gateway's authorizer does: an
      // anonymous caller cannot make the gateway buffer a megabyte. Public routes (all GET,
      // the fallback included) take no body: it is never read, and the connection closes.
      const trigger = target.spec.trigger;
      let claims: Record<string, string> | undefined;
      if (trigger.roles !== 'public') {
        const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
        claims = token ? await keys.verify(token) : undefined;
        if (!claims) {
          res.setHeader('connection', 'close');
          return send(res, problem(new UnauthorizedError('A valid bearer token is required.'), url.pathname, requestId));
        }
      }
      let body: string | undefined;
      if (trigger.roles !== 'public') body = await readBody(req);
      // A body sent to a public route is never read: close the connection rather than drain it.
      else if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding']) res.setHeader('connection', 'close');
      const event = toEvent(req, url, method, body, target.spec, requestId, pathParameters, claims);
      const started = Date.now();
      const result = await invoke(target.spec, target.handler, event);
      const response = toResponse(result);
      log(`${method} ${url.pathname} → ${target.spec.id} ${response.statusCode} ${Date.now() - started}ms`);
      send(res, response);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) return send(res, problem(error, req.url ?? '/', requestId));
      const timedOut = error instanceof FunctionTimeoutError;
      log(`${req.method} ${req.url} failed: ${(error as Error).message}`);
      send(res, {
        statusCode: timedOut ? 503 : 502,
        headers: { 'content-type': 'application/problem+json' },
        body: JSON.stringify({
          type: 'urn:recall:problem:gateway',
          title: timedOut ? 'Service Unavailable' : 'Bad Gateway',
          status: timedOut ? 503 : 502,
          correlationId: requestId,
        }),
      });
    }
  });
}

function problem(error: DomainError, instance: string, correlationId: string) {
  return toProblemResponse(error, { instance, correlationId });
}

async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY_BYTES) throw new PayloadTooLargeError(GATEWAY_MAX_BODY_BYTES, size);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

function toEvent(
  req: http.IncomingMessage,
  url: URL,
  method: string,
  body: string | undefined,
  spec: FunctionSpec & { trigger: HttpTrigger },
  requestId: string,
  pathParameters: Record<string, string> | undefined,
  claims: Record<string, string> | undefined,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const routeKey = spec.trigger.path === '$default' ? '$default' : `${spec.trigger.method} ${spec.trigger.path}`;
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters && Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      authorizer: { principalId: claims?.sub ?? '', integrationLatency: 0, jwt: { claims: claims ?? {}, scopes: [] } },
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** Payload 2.0 rules: a structured result is used as is; anything else is a 200 JSON body. */
function toResponse(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (result && typeof result === 'object' && 'statusCode' in result) return result as APIGatewayProxyStructuredResultV2;
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result ?? null) };
}

function send(res: http.ServerResponse, response: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | number | boolean> = { ...(response.headers ?? {}) };
  if (response.cookies?.length) res.setHeader('set-cookie', response.cookies);
  const body = response.body === undefined ? '' : response.isBase64Encoded ? Buffer.from(response.body, 'base64') : response.body;
  res.writeHead(response.statusCode ?? 200, headers as http.OutgoingHttpHeaders);
  res.end(body);
}
