import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../shared/platform/logger.js';
import { countMetric, flushMetrics, METRIC } from '../shared/platform/metrics.js';
import { runIncidentWatchdog } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';
import { runWatchdog } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();
const incidents = incidentDeps();

/** Every minute: breached customer clocks and missed incident deadlines, each escalated once. */
export const handler = middy<ScheduledEvent, { reports: Awaited<ReturnType<typeof runWatchdog>>; incidents: Awaited<ReturnType<typeof runIncidentWatchdog>> }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(flushMetrics())
  .handler(async () => {
    // The incident deadlines run even when a report failed: one must not hide the other.
    const [reports, incidentResult] = await Promise.allSettled([runWatchdog(deps), runIncidentWatchdog(incidents)]);
    // Customer clocks and incident deadlines alike: a breach someone must see.
    countMetric(METRIC.clockBreaches, (reports.status === 'fulfilled' ? reports.value.breaches : 0) + (incidentResult.status === 'fulfilled' ? incidentResult.value.breaches : 0));
    if (reports.status === 'rejected') throw reports.reason;
    if (incidentResult.status === 'rejected') throw incidentResult.reason;
    const result = { reports: reports.value, incidents: incidentResult.value };
    if (result.reports.examined + result.incidents.examined > 0) logger.info('watchdog run', result);
    return result;
  });
