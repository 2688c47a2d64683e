import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Role } from '../../shared/platform/roles.js';

/** An API Gateway HTTP API (payload 2.0) event as the JWT authorizer hands it over. */
export function httpEvent(options: {
  method?: string;
  path?: string;
  routeKey?: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  user?: { sub?: string; roles: Role[]; storeId?: string; region?: string };
}): APIGatewayProxyEventV2WithJWTAuthorizer {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/';
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const claims: Record<string, string> = options.user
    ? {
        sub: options.user.sub ?? `sub-${options.user.roles.join('-')}`,
        'cognito:username': options.user.sub ?? 'user',
        'cognito:groups': `[${options.user.roles.join(' ')}]`,
        ...(options.user.storeId ? { 'custom:storeId': options.user.storeId } : {}),
        ...(options.user.region ? { 'custom:region': options.user.region } : {}),
      }
    : {};
  return {
    version: '2.0',
    routeKey: options.routeKey ?? `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.local',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: options.routeKey ?? `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      authorizer: { principalId: claims.sub ?? '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '512',
  awsRequestId: 'test-request',
  logGroupName: '/test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

type AnyHttpHandler = (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => Promise<unknown>;

/** Calls an HTTP handler and returns status, headers and the parsed JSON body. */
export async function call(handler: AnyHttpHandler, event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  const result = (await handler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  const headers = (result.headers ?? {}) as Record<string, string>;
  return {
    status: result.statusCode ?? 200,
    headers,
    body: result.body ? (JSON.parse(result.body) as Record<string, any>) : undefined,
  };
}

/** Calls an HTTP handler whose body is not JSON (Markdown, HTML). */
export async function callText(handler: AnyHttpHandler, event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  const result = (await handler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode ?? 200, headers: (result.headers ?? {}) as Record<string, string>, text: result.body ?? '' };
}
