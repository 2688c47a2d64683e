import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lambda.js';

/**
 * Where `npm start` leaves the demo users' tokens for `npm run demo` (and other local tools)
 * to find: a file in the work tree's `.local/` (git-ignored), readable by its owner only,
 * removed when the stack stops. It exists only on a developer's machine; nothing deployed
 * to AWS has it or serves it.
 */
export const DEMO_TOKENS_FILE = path.join(REPO_ROOT, '.local', 'demo-tokens.json');

export function writeDemoTokens(url: string, users: readonly { username: string; token: string }[]): void {
  mkdirSync(path.dirname(DEMO_TOKENS_FILE), { recursive: true });
  writeFileSync(DEMO_TOKENS_FILE, JSON.stringify({ url, tokens: Object.fromEntries(users.map((u) => [u.username, u.token])) }), { mode: 0o600 });
}

export function removeDemoTokens(): void {
  rmSync(DEMO_TOKENS_FILE, { force: true });
}
