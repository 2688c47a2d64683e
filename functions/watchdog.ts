import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../shared/platform/logger.js';
import { countMetric, flushMetrics, METRIC } from '../shared/platform/metrics.js';
import { reviewHeldCategories, runIncidentWatchdog } from '../shared/incidents/use-cases.js';
import { incidentDeps } from '../shared/incidents/wiring.js';
import { runWatchdog } from '../shared/reports/use-cases.js';
import { activeCategories } from '../shared/reports/taxonomy.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();
const incidents = incidentDeps();

type Result = {
  reports: Awaited<ReturnType<typeof runWatchdog>>;
  incidents: Awaited<ReturnType<typeof runIncidentWatchdog>>;
  review?: Awaited<ReturnType<typeof reviewHeldCategories>>;
};

/**
 * Every minute: breached customer clocks and missed incident deadlines, each escalated once;
 * and once a week, the reminder of the categories detection holds back.
 */
export const handler = middy<ScheduledEvent, Result>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(flushMetrics())
  .handler(async () => {
    // The incident deadlines run even when a report failed: one must not hide the other.
    const review = async () => reviewHeldCategories(incidents, activeCategories().taxonomy.categories.map((c) => c.code));
    const [reports, incidentResult, reviewed] = await Promise.allSettled([runWatchdog(deps), runIncidentWatchdog(incidents), review()]);
    // Customer clocks and incident deadlines alike: a breach someone must see.
    countMetric(METRIC.clockBreaches, (reports.status === 'fulfilled' ? reports.value.breaches : 0) + (incidentResult.status === 'fulfilled' ? incidentResult.value.breaches : 0));
    // The weekly review is a reminder: it failing is logged (and tried again next minute), never a failed tick.
    if (reviewed.status === 'rejected') logger.error('weekly review of held categories failed', { error: String(reviewed.reason) });
    if (reports.status === 'rejected') throw reports.reason;
    if (incidentResult.status === 'rejected') throw incidentResult.reason;
    const result: Result = { reports: reports.value, incidents: incidentResult.value, ...(reviewed.status === 'fulfilled' ? { review: reviewed.value } : {}) };
    if (reviewed.status === 'fulfilled' && reviewed.value.held > 0) logger.info('held categories reviewed', reviewed.value);
    if (result.reports.examined + result.incidents.examined > 0) logger.info('watchdog run', result);
    return result;
  });
