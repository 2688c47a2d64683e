import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GROUPS_CLAIM, REGION_CLAIM, STORE_ID_CLAIM, type Role } from '../../shared/platform/roles.js';

/**
 * Local stand-in for the Cognito JWT authorizer: tokens signed with a development key,
 * verified the way API Gateway verifies Cognito tokens (signature, issuer, audience,
 * expiry), handed to functions as the same `requestContext.authorizer.jwt.claims`.
 */
export const LOCAL_ISSUER = 'urn:recall:local-dev-issuer';
export const LOCAL_AUDIENCE = 'recall-local';
const ALG = 'ES256';

export interface DemoUser {
  readonly username: string;
  readonly roles: readonly Role[];
  readonly storeId?: string;
  readonly region?: string;
  readonly about: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'agent.sato', roles: ['agent'], about: 'customer desk agent' },
  { username: 'qa.tanaka', roles: ['qa'], about: 'quality assurance' },
  { username: 'exec.suzuki', roles: ['executive'], about: 'executive' },
  { username: 'exec.ito', roles: ['executive'], about: 'second executive' },
  { username: 'store.shibuya', roles: ['store'], storeId: 'store-0101', region: 'kanto', about: 'store in kanto' },
  { username: 'store.umeda', roles: ['store'], storeId: 'store-0201', region: 'kansai', about: 'store in kansai' },
  { username: 'admin', roles: ['admin'], about: 'administrator' },
];

export interface DevKeys {
  sign(user: DemoUser, ttlSeconds?: number): Promise<string>;
  /** Verified claims in API Gateway's string form, or undefined for a bad token. */
  verify(token: string): Promise<Record<string, string> | undefined>;
}

/** Loads the key pair from `keyFile` when given (tokens survive restarts), else makes one. */
export async function devKeys(keyFile?: string): Promise<DevKeys> {
  let privateJwk: JWK;
  if (keyFile && existsSync(keyFile)) {
    privateJwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  } else {
    const pair = await generateKeyPair(ALG, { extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    if (keyFile) {
      mkdirSync(path.dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
    }
  }
  const { d: _private, ...publicJwk } = privateJwk;
  const privateKey = await importJWK(privateJwk, ALG);
  const publicKey = await importJWK(publicJwk, ALG);
  const verified = new Map<string, { claims: Record<string, string>; expiresAt: number }>();

  return {
    async sign(user, ttlSeconds = 12 * 3600) {
      return new SignJWT({
        'cognito:username': user.username,
        [GROUPS_CLAIM]: [...user.roles],
        ...(user.storeId ? { [STORE_ID_CLAIM]: user.storeId } : {}),
        ...(user.region ? { [REGION_CLAIM]: user.region } : {}),
        token_use: 'id',
      })
        .setProtectedHeader({ alg: ALG })
        .setSubject(`local-${user.username}`)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey);
    },
    async verify(token) {
      // Signature checks are deterministic: a token verified once stays valid until it expires.
      const cached = verified.get(token);
      if (cached && cached.expiresAt > Date.now()) return cached.claims;
      try {
        const { payload } = await jwtVerify(token, publicKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: [ALG], requiredClaims: ['exp', 'sub'] });
        const claims = flattenClaims(payload);
        if (verified.size >= 1000) verified.clear();
        verified.set(token, { claims, expiresAt: (payload.exp ?? 0) * 1000 });
        return claims;
      } catch {
        return undefined;
      }
    },
  };
}

/** API Gateway HTTP APIs pass every claim as a string; arrays become "[a b]". */
function flattenClaims(payload: JWTPayload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload)) {
    out[key] = Array.isArray(value) ? `[${value.join(' ')}]` : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}
