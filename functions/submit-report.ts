import { created, httpRoute } from '../shared/platform/http.js';
import { parseOrThrow } from '../shared/platform/problem.js';
import { countMetric, METRIC } from '../shared/platform/metrics.js';
import { systemClock } from '../shared/platform/clock.js';
import { IdempotencyKey, reportCreateSchema } from '../shared/reports/schema.js';
import { submitReport } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** POST /reports: files a case record and starts its clocks; idempotent by Idempotency-Key. */
export const handler = httpRoute(
  { roles: ['agent', 'store', 'admin'], body: reportCreateSchema(systemClock, deps.policy.receivedHorizonDays) },
  async ({ body, principal, headers }) => {
    const rawKey = headers['idempotency-key'];
    const key = rawKey === undefined ? undefined : parseOrThrow(IdempotencyKey, rawKey, 'headers.idempotency-key');
    const { report, replayed } = await submitReport(deps, body, principal!, key);
    if (!replayed) countMetric(METRIC.reportsFiled);
    return created(report, { location: `/reports/${report.id}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
  },
);
