import { describe, expect, it } from 'vitest';
import { catalog, httpRoutes, matchPath } from '../../../functions/catalog.js';
import { handler as fallback } from '../../../functions/fallback.js';
import { handler as health } from '../../../functions/health.js';
import { call, httpEvent } from '../../support/events.js';

describe('http edge', () => {
  describe('health', () => {
    it('answers 200 without a token and echoes the correlation id', async () => {
      const response = await call(health, httpEvent({ path: '/health', headers: { 'x-correlation-id': 'abc-123' } }));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', service: 'recall' });
      expect(response.headers['x-correlation-id']).toBe('abc-123');
    });

    it('replaces an unsafe correlation id instead of echoing it into logs and headers', async () => {
      const response = await call(health, httpEvent({ path: '/health', headers: { 'x-correlation-id': 'a\nb<script>' } }));
      expect(response.headers['x-correlation-id']).not.toContain('<script>');
    });
  });

  describe('fallback', () => {
    it('answers an unknown path with problem+json 404', async () => {
      const response = await call(fallback, httpEvent({ path: '/nowhere', routeKey: '$default' }));
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(response.body).toMatchObject({ status: 404, instance: '/nowhere' });
    });

    it('answers a known path with the wrong method with 405 and Allow', async () => {
      const response = await call(fallback, httpEvent({ method: 'DELETE', path: '/health', routeKey: '$default' }));
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET');
    });
  });

  describe('catalog', () => {
    it('matches API Gateway path parameters', () => {
      expect(matchPath('/reports/{id}', '/reports/01J%2FX')).toEqual({ id: '01J/X' });
      expect(matchPath('/reports/{id}', '/reports')).toBeUndefined();
      expect(matchPath('/reports', '/reports/')).toEqual({});
      expect(matchPath('/reports/{id}', '/reports/%E0%A4%A')).toBeUndefined();
    });

    it('has unique ids and unique routes', () => {
      const ids = catalog.map((f) => f.id);
      expect(new Set(ids).size).toBe(ids.length);
      const routes = httpRoutes().map((f) => `${f.trigger.method} ${f.trigger.path}`);
      expect(new Set(routes).size).toBe(routes.length);
    });
  });
});
