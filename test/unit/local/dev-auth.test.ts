import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, devKeys, LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../../infra/local/dev-auth.js';

describe('local dev tokens', () => {
  it('verify the tokens they sign, and nothing signed with another algorithm or another key', async () => {
    const keys = await devKeys();
    const good = await keys.sign(DEMO_USERS[0]!);
    expect(await keys.verify(good)).toMatchObject({ 'cognito:username': 'agent.sato', 'cognito:groups': '[agent]' });
    // The same claims under HS256 with a guessable secret: refused (one pinned algorithm).
    const hs = await new SignJWT({ 'cognito:groups': ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').sign(new TextEncoder().encode('secret'));
    expect(await keys.verify(hs)).toBeUndefined();
    // A token of another key pair: refused.
    const other = await (await devKeys()).sign(DEMO_USERS[6]!);
    expect(await keys.verify(other)).toBeUndefined();
    expect(await keys.verify('not-a-token')).toBeUndefined();
  });
});
