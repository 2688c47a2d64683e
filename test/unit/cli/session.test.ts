import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../infra/cli/recall.js';
import { credentialsPath } from '../../../infra/cli/session.js';

/**
 * `recall login` against a stand-in for Cognito's managed login: it checks what Cognito
 * checks (PKCE S256 verifier against the challenge, the redirect URI, the client), and the
 * test plays the browser by following the redirect to the CLI's loopback callback.
 */
const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const seen: { grant: string; form: URLSearchParams }[] = [];
let challenge = '';
let revoked: string[] = [];
let cognito: http.Server;
let api: http.Server;
let cognitoUrl = '';
let apiUrl = '';
const authorizations: string[] = [];

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}
async function formOf(req: http.IncomingMessage) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

beforeAll(async () => {
  vi.stubEnv('XDG_CONFIG_HOME', mkdtempSync(path.join(tmpdir(), 'recall-cli-')));
  vi.stubEnv('RECALL_TOKEN', '');
  vi.stubEnv('RECALL_API_URL', '');
  cognito = http.createServer(async (req, res) => {
    const form = await formOf(req);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/oauth2/revoke') {
      revoked.push(form.get('token')!);
      return json(200, {});
    }
    const grant = form.get('grant_type')!;
    seen.push({ grant, form });
    if (grant === 'authorization_code') {
      const verifierOk = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') === challenge;
      if (form.get('code') !== 'code-1' || !verifierOk || form.get('redirect_uri') !== 'http://localhost:8765/callback' || form.get('client_id') !== 'cli-client') {
        return json(400, { error: 'invalid_grant' });
      }
      return json(200, { id_token: jwt({ 'cognito:username': 'qa.tanaka', 'cognito:groups': ['qa'] }), refresh_token: 'refresh-1', expires_in: 3600 });
    }
    if (grant === 'refresh_token' && form.get('refresh_token') === 'refresh-1') return json(200, { id_token: jwt({ renewed: true }), expires_in: 3600 });
    return json(400, { error: 'invalid_grant', error_description: 'Refresh Token has been revoked' });
  });
  api = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  [cognitoUrl, apiUrl] = await Promise.all([listen(cognito), listen(api)]);
});
afterAll(() => {
  cognito.close();
  api.close();
  vi.unstubAllEnvs();
});

describe('recall login / logout', () => {
  it('signs in with PKCE on the loopback callback, stores the tokens owner-only outside the repo, uses and refreshes them, and signs out', async () => {
    const stderr: string[] = [];
    const errorSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
    const logSpy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const login = main(['login', '--auth-domain', cognitoUrl, '--client-id', 'cli-client', '--api-url', apiUrl, '--no-browser']);
      // The browser: read the printed address, then follow Cognito's redirect to the callback.
      let address: URL | undefined;
      for (let i = 0; i < 100 && !address; i++) {
        const line = stderr.join('').match(/https?:\/\/\S+\/oauth2\/authorize\S+/)?.[0];
        if (line) address = new URL(line);
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(address, 'the sign-in address is printed').toBeDefined();
      expect(Object.fromEntries(address!.searchParams)).toMatchObject({ response_type: 'code', client_id: 'cli-client', code_challenge_method: 'S256', redirect_uri: 'http://localhost:8765/callback', scope: 'openid email profile' });
      challenge = address!.searchParams.get('code_challenge')!;
      // A redirect with another state is refused, and the login keeps waiting.
      expect((await fetch('http://127.0.0.1:8765/callback?code=evil&state=forged')).status).toBe(400);
      const done = await fetch(`http://127.0.0.1:8765/callback?code=code-1&state=${address!.searchParams.get('state')}`);
      expect(done.status).toBe(200);
      expect(await login).toBe(0);
    } finally {
      errorSpy.mockRestore();
      logSpy.mockRestore();
    }

    const file = credentialsPath();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ authDomain: cognitoUrl, clientId: 'cli-client', apiUrl, refreshToken: 'refresh-1' });

    // Other commands send the stored ID token to the stored API URL.
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['health'])).toBe(0);
    expect(authorizations.at(-1)).toBe(`Bearer ${stored.idToken}`);
    // About to expire: refreshed first, saved, and the new token sent.
    writeFileSync(file, JSON.stringify({ ...stored, expiresAt: Date.now() + 10_000 }));
    expect(await main(['health'])).toBe(0);
    expect(seen.at(-1)!.grant).toBe('refresh_token');
    const renewed = JSON.parse(readFileSync(file, 'utf8'));
    expect(renewed.idToken).not.toBe(stored.idToken);
    expect(authorizations.at(-1)).toBe(`Bearer ${renewed.idToken}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Another API (the local stack, a typo) never receives this sign-in's token.
    const before = authorizations.length;
    const other = http.createServer((req, res) => (authorizations.push(req.headers.authorization ?? ''), res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
    const otherUrl = await listen(other);
    expect(await main(['health', '--api-url', otherUrl])).toBe(0);
    other.close();
    expect(authorizations.slice(before)).toEqual(['']);

    expect(await main(['logout', '--no-browser'])).toBe(0);
    expect(String(log.mock.calls.at(-1)?.[0])).toContain(`${cognitoUrl}/logout?client_id=cli-client&logout_uri=`);
    log.mockRestore();
    expect(revoked).toEqual(['refresh-1']);
    expect(existsSync(file)).toBe(false);
  });

  it('says to sign in again when the refresh is refused, and what to give when flags are missing', async () => {
    const file = credentialsPath();
    writeFileSync(file, JSON.stringify({ authDomain: cognitoUrl, clientId: 'cli-client', apiUrl, idToken: 'old', refreshToken: 'revoked', expiresAt: 0 }), { mode: 0o600 });
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['health'])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/could not be renewed.*Refresh Token has been revoked.*recall login/);
      vi.stubEnv('RECALL_AUTH_DOMAIN', '');
      expect(await main(['login'])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/--auth-domain and --client-id.*AuthDomain and CliClientId/);
      expect(await main(['login', '--auth-domain', cognitoUrl, '--client-id', 'cli-client'])).toBe(2);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/--api-url.*ApiUrl/);
    } finally {
      err.mockRestore();
    }
  });
});
