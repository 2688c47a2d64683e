import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler as submit } from '../../../functions/submit-report.js';
import { appMetrics } from '../../../shared/platform/metrics.js';
import { call, httpEvent } from '../../support/events.js';
import { validReport } from '../../support/reports.js';
import { incidentsApi, SAMPLE_ACTIONS, SCOPE, step } from '../../support/incidents.js';
import { users } from '../../support/users.js';

afterEach(() => vi.restoreAllMocks());

describe('metrics from the handlers', () => {
  it('counts a filed report once: a retry with the same Idempotency-Key is not another report', async () => {
    const added = vi.spyOn(appMetrics(), 'addMetric');
    const body = validReport();
    const key = `metrics-${Date.now()}`;
    const post = () => call(submit, httpEvent({ method: 'POST', path: '/reports', body, user: users.agent, headers: { 'idempotency-key': key } }));
    expect((await post()).status).toBe(201);
    expect((await post()).headers['idempotent-replayed']).toBe('true');
    expect(added.mock.calls.filter(([name]) => name === 'ReportsFiled')).toEqual([['ReportsFiled', 'Count', 1]]);
  });

  it('counts incident transitions, not every action: opening by hand is one, a hold or a scope change none', async () => {
    const added = vi.spyOn(appMetrics(), 'addMetric');
    const transitions = () => added.mock.calls.filter(([name]) => name === 'IncidentTransitions').reduce((n, [, , v]) => n + Number(v), 0);
    const opened = await incidentsApi.open({ title: 'Metrics check', hazardClass: 'II', hazard: 'plastic film', category: 'foreign_matter', scope: SCOPE });
    expect(opened.status).toBe(201);
    expect(transitions()).toBe(1);
    expect((await step(opened.body!.id, SAMPLE_ACTIONS['record-hold']!)).status).toBe(201);
    expect((await step(opened.body!.id, SAMPLE_ACTIONS['update-scope']!)).status).toBe(201);
    expect(transitions()).toBe(1);
  });
});
