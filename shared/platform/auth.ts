import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { ForbiddenError, UnauthorizedError } from './errors.js';
import { GROUPS_CLAIM, REGION_CLAIM, ROLES, STORE_ID_CLAIM, type Role } from './roles.js';

/** Who is calling, as established by the JWT authorizer (Cognito in AWS, dev key locally). */
export interface Principal {
  /** Stable subject id; this is what audit trails record, never a name or e-mail. */
  readonly userId: string;
  readonly username: string;
  readonly roles: readonly Role[];
  /** Set for store users: the store they act for. */
  readonly storeId?: string;
  readonly region?: string;
}

/**
 * API Gateway HTTP APIs hand JWT claims over as strings; array claims such as
 * `cognito:groups` arrive flattened as "[qa executive]". Accept that or a JSON array, so the
 * same code reads AWS and local tokens. Never split on commas: a group named "qa,admin" is
 * one (unknown) group, not two roles.
 */
export function parseGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  const trimmed = value.trim();
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // not JSON: the flattened "[a b]" form
    }
    return trimmed.slice(1, -1).split(/\s+/).filter(Boolean);
  }
  return trimmed.split(/\s+/).filter(Boolean);
}

type ClaimsEvent = Pick<APIGatewayProxyEventV2WithJWTAuthorizer, 'requestContext'>;

/** Reads the principal from the authorizer's claims, or undefined when there are none. */
export function principalFrom(event: ClaimsEvent): Principal | undefined {
  const claims = event.requestContext?.authorizer?.jwt?.claims;
  if (!claims || typeof claims.sub !== 'string') return undefined;
  const roles = parseGroups(claims[GROUPS_CLAIM]).filter((g): g is Role => (ROLES as readonly string[]).includes(g));
  const storeId = claims[STORE_ID_CLAIM];
  const region = claims[REGION_CLAIM];
  return {
    userId: claims.sub,
    username: String(claims['cognito:username'] ?? claims.username ?? claims.sub),
    roles,
    ...(typeof storeId === 'string' && storeId ? { storeId } : {}),
    ...(typeof region === 'string' && region ? { region } : {}),
  };
}

/** Throws 401 without a principal and 403 when none of its roles is allowed. */
export function authorize(principal: Principal | undefined, allowed: readonly Role[]): Principal {
  if (!principal) throw new UnauthorizedError('A valid bearer token is required.');
  if (!principal.roles.some((r) => allowed.includes(r))) {
    throw new ForbiddenError(`This action needs one of the roles: ${allowed.join(', ')}.`);
  }
  if (principal.roles.includes('store') && !principal.storeId && allowed.includes('store')) {
    throw new ForbiddenError(`A store user's token must carry the ${STORE_ID_CLAIM} claim.`);
  }
  return principal;
}

export function hasRole(principal: Principal | undefined, ...roles: Role[]): boolean {
  return !!principal && principal.roles.some((r) => roles.includes(r));
}
