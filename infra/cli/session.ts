import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { print, UsageError, type Command } from './common.js';

/**
 * `recall login` / `recall logout`: sign in through the deployment's Cognito managed login
 * with the authorization-code flow and PKCE (RFC 7636) for a public client, the code
 * received on a loopback redirect (RFC 8252: http://localhost:8765/callback). The tokens are
 * stored outside the repository, in `$XDG_CONFIG_HOME/recall/credentials.json` (default
 * ~/.config), readable by the owner only; every other command uses the ID token (it carries
 * the groups and the store claims the API reads) and refreshes it when it is about to expire.
 * `--token` / `RECALL_TOKEN` still win, for scripts and the local stack's dev tokens.
 */
export const CALLBACK_PORT = 8765;
const REFRESH_MARGIN_MS = 60_000;
const LOGIN_TIMEOUT_MS = 5 * 60_000;

export interface Credentials {
  readonly authDomain: string;
  readonly clientId: string;
  readonly apiUrl?: string;
  readonly idToken: string;
  readonly refreshToken?: string;
  /** Epoch ms when the ID token expires. */
  readonly expiresAt: number;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'recall', 'credentials.json');
}

export function readCredentials(file = credentialsPath()): Credentials | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  } catch {
    return undefined;
  }
}

function saveCredentials(credentials: Credentials, file = credentialsPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(file), 0o700);
  // Written beside it and renamed: two commands refreshing at once never leave half a file.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

const base64url = (buffer: Buffer) => buffer.toString('base64url');
const trimSlash = (url: string) => url.replace(/\/+$/, '');

interface TokenResponse {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

async function tokenRequest(authDomain: string, form: Record<string, string>): Promise<TokenResponse> {
  let response: Response;
  try {
    response = await fetch(`${trimSlash(authDomain)}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
  } catch (error) {
    throw new Error(`Cannot reach the sign-in service at ${authDomain} (${(error as Error).message}). Check --auth-domain (the stack output AuthDomain).`);
  }
  const body = (await response.json().catch(() => ({}))) as TokenResponse;
  if (!response.ok || !body.id_token) {
    throw new Error(`Sign-in failed: ${body.error ?? response.status}${body.error_description ? ` (${body.error_description})` : ''}.`);
  }
  return body;
}

const expiryOf = (tokens: TokenResponse) => Date.now() + (tokens.expires_in ?? 3600) * 1000;

/**
 * The ID token to send: the stored one, refreshed first when it expires within a minute.
 * Undefined when nobody signed in. A refused refresh (revoked, expired) says to sign in again.
 */
export async function storedToken(file = credentialsPath(), targetUrl?: string): Promise<{ token: string; apiUrl?: string } | undefined> {
  const credentials = readCredentials(file);
  if (!credentials) return undefined;
  // The sign-in is for one API: its token never goes to another URL (the local stack, a typo).
  if (targetUrl && (!credentials.apiUrl || trimSlash(targetUrl) !== trimSlash(credentials.apiUrl))) return undefined;
  if (credentials.expiresAt - REFRESH_MARGIN_MS > Date.now()) return { token: credentials.idToken, ...(credentials.apiUrl ? { apiUrl: credentials.apiUrl } : {}) };
  if (!credentials.refreshToken) throw new Error('Your sign-in expired: run `npx recall login` again.');
  let tokens: TokenResponse;
  try {
    tokens = await tokenRequest(credentials.authDomain, { grant_type: 'refresh_token', client_id: credentials.clientId, refresh_token: credentials.refreshToken });
  } catch (error) {
    throw new Error(`Your sign-in could not be renewed (${(error as Error).message.replace(/^Sign-in failed: /, '')}): run \`npx recall login\` again.`);
  }
  const renewed: Credentials = { ...credentials, idToken: tokens.id_token!, expiresAt: expiryOf(tokens), ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}) };
  saveCredentials(renewed, file);
  return { token: renewed.idToken, ...(renewed.apiUrl ? { apiUrl: renewed.apiUrl } : {}) };
}

/** Waits for the browser's redirect to the loopback callback; resolves with the code. */
function awaitCallback(port: number, state: string): { ready: Promise<void>; code: Promise<string>; close: () => void } {
  let resolveCode!: (code: string) => void;
  let rejectCode!: (error: Error) => void;
  const code = new Promise<string>((resolve, reject) => ((resolveCode = resolve), (rejectCode = reject)));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://localhost:${port}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const finish = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    };
    if (url.searchParams.get('state') !== state) {
      finish(400, 'This sign-in answer does not belong to the login that is waiting. Close this tab and run `npx recall login` again.');
      return; // a stray or forged redirect: keep waiting for the right one
    }
    const error = url.searchParams.get('error');
    const received = url.searchParams.get('code');
    if (error || !received) {
      finish(400, `Sign-in failed: ${error ?? 'no code'}. You can close this tab.`);
      rejectCode(new Error(`Sign-in failed: ${error ?? 'no code'}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')})` : ''}.`));
      return;
    }
    finish(200, 'Signed in to the recall system. You can close this tab and return to the terminal.');
    resolveCode(received);
  });
  // The redirect names localhost, which a browser may resolve to ::1 or to 127.0.0.1: both listen.
  const v6 = http.createServer(server.listeners('request')[0] as http.RequestListener);
  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `Port ${port} is in use: the sign-in callback needs it. Close what holds it and retry.` : e.message)),
    );
    server.listen(port, '127.0.0.1', () => {
      v6.once('error', () => resolve()); // no IPv6 loopback here: IPv4 alone
      v6.listen(port, '::1', () => resolve());
    });
  });
  const timer = setTimeout(() => rejectCode(new Error('No sign-in within 5 minutes: run `npx recall login` again.')), LOGIN_TIMEOUT_MS);
  timer.unref();
  return {
    ready,
    code,
    close: () => {
      clearTimeout(timer);
      for (const s of [server, v6]) {
        s.closeAllConnections();
        if (s.listening) s.close();
      }
    },
  };
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined); // no browser here: the printed URL is the way
    child.unref();
  } catch {
    // the URL is printed anyway
  }
}

export const sessionCommands: Record<string, Command> = {
  login: {
    group: 'any',
    summary: 'sign in through the deployment’s managed login (PKCE); tokens stored for the other commands',
    usage: 'recall login [--auth-domain URL] [--client-id ID] [--api-url URL] [--no-browser]',
    example: 'recall login --auth-domain https://recall-prod-123456789012.auth.eu-west-1.amazoncognito.com --client-id 5abc… --api-url https://abc.execute-api.eu-west-1.amazonaws.com',
    options: { 'auth-domain': { type: 'string' }, 'client-id': { type: 'string' }, 'no-browser': { type: 'boolean' } },
    async run({ values, json }) {
      const authDomain = (values['auth-domain'] as string | undefined) ?? process.env.RECALL_AUTH_DOMAIN;
      const clientId = (values['client-id'] as string | undefined) ?? process.env.RECALL_CLIENT_ID;
      if (!authDomain || !clientId) {
        throw new UsageError('Give --auth-domain and --client-id (the stack outputs AuthDomain and CliClientId), or set RECALL_AUTH_DOMAIN and RECALL_CLIENT_ID.');
      }
      if (!/^https?:\/\//.test(authDomain)) throw new UsageError(`--auth-domain must be a URL (https://…), not ${authDomain}`);
      // The sign-in is bound to one API: its tokens are only ever sent there.
      const apiUrl = (values['api-url'] as string | undefined) || process.env.RECALL_API_URL;
      if (!apiUrl) throw new UsageError('Give --api-url (the stack output ApiUrl) or set RECALL_API_URL: the sign-in is kept for that API only.');
      const verifier = base64url(randomBytes(32));
      const challenge = base64url(createHash('sha256').update(verifier).digest());
      const state = base64url(randomBytes(16));
      const redirectUri = `http://localhost:${CALLBACK_PORT}/callback`;
      const authorize = new URL(`${trimSlash(authDomain)}/oauth2/authorize`);
      for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid email profile', state, code_challenge: challenge, code_challenge_method: 'S256' })) {
        authorize.searchParams.set(k, v);
      }
      const callback = awaitCallback(CALLBACK_PORT, state);
      try {
        await callback.ready;
        // stderr: stdout stays clean for --json.
        process.stderr.write(`Open this address to sign in (it expires in 5 minutes):\n  ${authorize}\n`);
        if (values.browser !== false && !values['no-browser']) openBrowser(authorize.toString());
        const code = await callback.code;
        const tokens = await tokenRequest(authDomain, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: redirectUri, code_verifier: verifier });
        const credentials: Credentials = {
          authDomain,
          clientId,
          apiUrl,
          idToken: tokens.id_token!,
          ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
          expiresAt: expiryOf(tokens),
        };
        const file = credentialsPath();
        saveCredentials(credentials, file);
        const claims = JSON.parse(Buffer.from(tokens.id_token!.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as Record<string, unknown>;
        const who = { user: claims['cognito:username'] ?? claims.email ?? claims.sub, groups: claims['cognito:groups'] ?? [], credentials: file };
        print(json, who, () => `Signed in as ${who.user} (${[who.groups].flat().join(', ') || 'no group yet: ask an administrator'}); tokens in ${file} (owner only).`);
      } finally {
        callback.close();
      }
    },
  },
  logout: {
    group: 'any',
    summary: 'sign out: revoke the stored refresh token and remove the stored tokens',
    usage: 'recall logout [--no-browser]',
    options: { 'no-browser': { type: 'boolean' } },
    async run({ values, json }) {
      const file = credentialsPath();
      const credentials = readCredentials(file);
      let revoked = false;
      if (credentials?.refreshToken) {
        try {
          const response = await fetch(`${trimSlash(credentials.authDomain)}/oauth2/revoke`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token: credentials.refreshToken, client_id: credentials.clientId }).toString(),
          });
          revoked = response.ok;
        } catch {
          revoked = false; // offline: the local tokens still go
        }
      }
      rmSync(file, { force: true });
      // The managed login keeps its own browser session: end it too, or the next `recall
      // login` on this machine signs in as the same person without asking.
      const logoutUrl = credentials
        ? `${trimSlash(credentials.authDomain)}/logout?${new URLSearchParams({ client_id: credentials.clientId, logout_uri: `http://localhost:${CALLBACK_PORT}/callback` })}`
        : undefined;
      if (logoutUrl && values.browser !== false && !values['no-browser']) openBrowser(logoutUrl);
      print(json, { signedOut: true, revoked, credentials: file, ...(logoutUrl ? { logoutUrl } : {}) }, () =>
        credentials
          ? `Signed out${revoked ? '; the refresh token was revoked' : ' (the refresh token could not be revoked: it expires on its own)'}. ` +
            `To end the browser's sign-in session as well (shared machines), open: ${logoutUrl}`
          : 'Nobody was signed in.',
      );
    },
  },
};
