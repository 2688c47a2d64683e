import middy, { type MiddlewareObj } from '@middy/core';
import { flushMetrics } from './metrics.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer as HttpEvent,
  APIGatewayProxyStructuredResultV2 as HttpResponse,
  Context,
} from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { authorize, principalFrom, type Principal } from './auth.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from './errors.js';
import { logger } from './logger.js';
import { parseOrThrow, toProblemResponse } from './problem.js';
import type { Role } from './roles.js';

/** Default body limit for JSON endpoints; larger bodies get 413 before any parsing. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  /** Roles allowed to call the route, or 'public' for no authentication. */
  readonly roles: readonly Role[] | 'public';
  readonly body?: B;
  readonly query?: Q;
  readonly path?: P;
  readonly maxBodyBytes?: number;
}

export interface RouteInput<B, Q, P> {
  readonly body: B;
  readonly query: Q;
  readonly path: P;
  /** Always set on routes with roles; may be set on public routes. */
  readonly principal: Principal | undefined;
  readonly correlationId: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly method: string;
  readonly rawPath: string;
}

export interface RouteResult {
  readonly status: number;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as is (Markdown, HTML), with the content type given in `headers`. */
  readonly text?: string;
  readonly headers?: Record<string, string>;
}

type Parsed = RouteInput<unknown, unknown, unknown>;
type Event = HttpEvent & { parsed?: Parsed };
type Internal = { correlationId?: string; startedAt?: number };
type Request = middy.Request<Event, HttpResponse, Error, Context, Internal>;
type Middleware = MiddlewareObj<Event, HttpResponse, Error, Context, Internal>;

const CORRELATION_HEADER = 'x-correlation-id';
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._-]{1,100}$/;

function correlationIdOf(event: HttpEvent): string {
  const given = event.headers?.[CORRELATION_HEADER];
  if (given && SAFE_CORRELATION_ID.test(given)) return given;
  return event.requestContext?.requestId || randomUUID();
}

function rawBody(event: HttpEvent): string | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** Before: correlation id into the logs; after/onError: onto the response, one access line. */
function correlation(): Middleware {
  return {
    before: (request: Request) => {
      const correlationId = correlationIdOf(request.event);
      request.internal.correlationId = correlationId;
      request.internal.startedAt = Date.now();
      logger.appendKeys({ correlationId });
    },
    after: (request: Request) => accessLog(request),
  };
}

function accessLog(request: Request): void {
  const { event, response, internal } = request;
  logger.info('http request', {
    method: event.requestContext?.http?.method,
    route: event.routeKey,
    status: response?.statusCode,
    durationMs: Date.now() - Number(internal.startedAt ?? Date.now()),
  });
}

/** Authenticates and authorizes, then parses body, query and path with the route's schemas. */
function parseInput<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(
  spec: RouteSpec<B, Q, P>,
): Middleware {
  return {
    before: (request: Request) => {
      const { event } = request;
      const claimed = principalFrom(event);
      const principal = spec.roles === 'public' ? claimed : authorize(claimed, spec.roles);
      const headers = event.headers ?? {};
      let body: unknown = undefined;
      if (spec.body) body = parseOrThrow(spec.body, parseJsonBody(event, spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
      const query = spec.query ? parseOrThrow(spec.query, event.queryStringParameters ?? {}, 'query') : undefined;
      const path = spec.path ? parseOrThrow(spec.path, event.pathParameters ?? {}, 'path') : undefined;
      event.parsed = {
        body,
        query,
        path,
        principal,
        headers,
        method: event.requestContext?.http?.method ?? 'GET',
        rawPath: event.rawPath ?? '/',
        correlationId: String(request.internal.correlationId),
      };
    },
  };
}

function parseJsonBody(event: HttpEvent, limit: number): unknown {
  const text = rawBody(event);
  const size = text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  if (size > limit) throw new PayloadTooLargeError(limit, size);
  if (text === undefined || text.trim() === '') {
    throw new ValidationError([{ field: 'body', message: 'a JSON body is required' }]);
  }
  const type = event.headers?.['content-type'];
  if (type && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new UnsupportedMediaTypeError(`Send the body as application/json, not ${type}.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError([{ field: 'body', message: 'the body is not valid JSON' }]);
  }
}

/** Registered last: any error becomes problem+json; only 5xx are logged as errors. */
function problemErrors(): Middleware {
  return {
    onError: (request: Request) => {
      const correlationId = String(request.internal.correlationId ?? correlationIdOf(request.event));
      const response = toProblemResponse(request.error, {
        instance: request.event.rawPath ?? '/',
        correlationId,
      });
      if ((response.statusCode ?? 500) >= 500) logger.error('request failed', request.error as Error);
      request.response = response;
      accessLog(request);
    },
  };
}

function toResponse(result: RouteResult, correlationId: string): HttpResponse {
  if (result.text !== undefined) {
    return { statusCode: result.status, headers: { 'content-type': 'text/plain; charset=utf-8', [CORRELATION_HEADER]: correlationId, ...result.headers }, body: result.text };
  }
  return {
    statusCode: result.status,
    headers: {
      ...(result.body === undefined ? {} : { 'content-type': 'application/json' }),
      [CORRELATION_HEADER]: correlationId,
      ...result.headers,
    },
    ...(result.body === undefined ? {} : { body: JSON.stringify(result.body) }),
  };
}

/**
 * The one middleware stack for HTTP functions: logger context, correlation id,
 * authentication and role check, zod parsing of body / query / path, and the problem+json
 * error handler registered last. The handler receives parsed, typed input.
 */
export function httpRoute<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
>(
  spec: RouteSpec<B, Q, P>,
  handle: (input: RouteInput<z.infer<B>, z.infer<Q>, z.infer<P>>, context: Context) => Promise<RouteResult>,
) {
  const handler = middy<Event, HttpResponse, Error, Context, Internal>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics())
    .use(correlation())
    .use(parseInput(spec))
    .use(problemErrors())
    .handler(async (event, context) => {
      const input = event.parsed as RouteInput<z.infer<B>, z.infer<Q>, z.infer<P>>;
      return toResponse(await handle(input, context), input.correlationId);
    });
  // The very spec the handler parses with: the OpenAPI description is generated from it.
  return Object.assign(handler, { route: spec as RouteSpec<z.ZodType, z.ZodType, z.ZodType> });
}

export const ok = (body: unknown, headers?: Record<string, string>): RouteResult => ({ status: 200, body, ...(headers ? { headers } : {}) });
export const created = (body: unknown, headers?: Record<string, string>): RouteResult => ({ status: 201, body, ...(headers ? { headers } : {}) });
