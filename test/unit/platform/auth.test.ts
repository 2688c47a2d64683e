import { describe, expect, it } from 'vitest';
import { authorize, parseGroups, principalFrom } from '../../../shared/platform/auth.js';
import { ForbiddenError, UnauthorizedError } from '../../../shared/platform/errors.js';
import { httpEvent } from '../../support/events.js';

describe('auth claims', () => {
  it('reads groups in the flattened form API Gateway passes or as JSON, never split on commas', () => {
    expect(parseGroups('[qa executive]')).toEqual(['qa', 'executive']);
    expect(parseGroups('["qa","store"]')).toEqual(['qa', 'store']);
    expect(parseGroups('agent,admin')).toEqual(['agent,admin']);
    expect(parseGroups('[agent,admin]')).toEqual(['agent,admin']);
    expect(principalFrom(httpEvent({ user: { roles: ['agent,admin' as never] } }))?.roles).toEqual([]);
    expect(parseGroups(['qa'])).toEqual(['qa']);
    expect(parseGroups(undefined)).toEqual([]);
  });

  it('builds the principal with roles and the store claims, ignoring unknown groups', () => {
    const event = httpEvent({ user: { sub: 'u-1', roles: ['store'], storeId: 's-9', region: 'kanto' } });
    event.requestContext.authorizer.jwt.claims['cognito:groups'] = '[store hackers]';
    expect(principalFrom(event)).toMatchObject({ userId: 'u-1', roles: ['store'], storeId: 's-9', region: 'kanto' });
  });

  it('rejects a missing principal with 401 and a wrong role with 403', () => {
    expect(() => authorize(undefined, ['qa'])).toThrow(UnauthorizedError);
    const agent = principalFrom(httpEvent({ user: { roles: ['agent'] } }));
    expect(() => authorize(agent, ['qa', 'executive'])).toThrow(ForbiddenError);
    expect(authorize(agent, ['agent'])).toBe(agent);
  });

  it('refuses a store token without a store id', () => {
    const store = principalFrom(httpEvent({ user: { roles: ['store'] } }));
    expect(() => authorize(store, ['store'])).toThrow(/custom:storeId/);
  });
});
