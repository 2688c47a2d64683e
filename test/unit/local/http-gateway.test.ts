import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, type FunctionSpec, type HttpTrigger } from '../../../functions/catalog.js';
import { handler as fallback } from '../../../functions/fallback.js';
import { DEMO_USERS, devKeys, LOCAL_AUDIENCE, LOCAL_ISSUER, type DevKeys } from '../../../infra/local/dev-auth.js';
import { createGateway } from '../../../infra/local/http-gateway.js';
import type { AnyHandler } from '../../../infra/local/lambda.js';

/**
 * The local gateway in front of two routes: the public fallback (the real function) and
 * POST /reports, whose function records what reached it. A body larger than the gateway's
 * 10 MB limit shows whether the gateway read it: reading it answers 413.
 */
const HUGE = 11 * 1024 * 1024;
const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'gateway-')), 'dev-key.json');
let keys: DevKeys;
let base: string;
const reached: unknown[] = [];
let server: ReturnType<typeof createGateway>;

beforeAll(async () => {
  keys = await devKeys(keyFile);
  const spec = (id: string) => catalog.find((s) => s.id === id) as FunctionSpec & { trigger: HttpTrigger };
  const submit: AnyHandler = async (event) => {
    reached.push(event);
    return { statusCode: 201, body: '{}' };
  };
  server = createGateway(
    [
      { spec: spec('fallback'), handler: fallback as unknown as AnyHandler },
      { spec: spec('submit-report'), handler: submit },
    ],
    keys,
    () => undefined,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${base}${url}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('the local gateway', () => {
  it('refuses an anonymous caller before reading its body', async () => {
    const response = await post('/reports', Buffer.alloc(HUGE, 0x20));
    expect(response.status).toBe(401);
    expect(reached).toHaveLength(0);
  });

  it('never reads a body on a public route, the fallback included', async () => {
    const response = await post('/no/such/path', Buffer.alloc(HUGE, 0x20));
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('reads the body of a signed-in caller', async () => {
    const token = await keys.sign(DEMO_USERS[0]!);
    expect((await post('/reports', '{"a":1}', { authorization: `Bearer ${token}` })).status).toBe(201);
    expect((reached.at(-1) as { body?: string }).body).toBe('{"a":1}');
  });

  it('refuses a token of its own key that carries no expiry', async () => {
    const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    const forever = await new SignJWT({ 'cognito:username': 'agent.sato', 'cognito:groups': ['agent'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('agent.sato')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .sign(await importJWK(jwk, 'ES256'));
    expect(await keys.verify(forever)).toBeUndefined();
    expect((await post('/reports', '{}', { authorization: `Bearer ${forever}` })).status).toBe(401);
  });
});
