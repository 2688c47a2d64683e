import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { systemClock } from '../shared/platform/clock.js';
import { loadConfig, topicArnsFor } from '../shared/platform/config.js';
import { logger } from '../shared/platform/logger.js';
import { OutboxSweepError, sweepOutbox } from '../shared/notices/use-cases.js';
import { countMetric, flushMetrics, METRIC } from '../shared/platform/metrics.js';
import { specOf } from './catalog.js';

const config = loadConfig(['TABLE_NAME']);
const topicArns = topicArnsFor(specOf('outbox-sweeper').publishes);

/** Every minute: republishes any notice or alert the stream left pending for minutes. */
export const handler = middy<ScheduledEvent, Awaited<ReturnType<typeof sweepOutbox>>>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(flushMetrics())
  .handler(async () => {
    try {
      const result = await sweepOutbox({ clock: systemClock, topicArns, tableName: config.TABLE_NAME });
      if (result.pending > 0) logger.info('outbox swept', result);
      countMetric(METRIC.outboxPendingTooLong, result.pending);
      countMetric(METRIC.noticesPublished, result.published);
      return result;
    } catch (error) {
      if (error instanceof OutboxSweepError) {
        countMetric(METRIC.outboxPendingTooLong, error.pending);
        countMetric(METRIC.noticesPublished, error.published);
        countMetric(METRIC.noticesFailed, error.failed);
      }
      throw error;
    }
  });
