import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { systemClock } from '../shared/platform/clock.js';
import { loadConfig, topicArnsFor } from '../shared/platform/config.js';
import { logger } from '../shared/platform/logger.js';
import { sweepOutbox } from '../shared/notices/use-cases.js';
import { specOf } from './catalog.js';

const config = loadConfig(['TABLE_NAME']);
const topicArns = topicArnsFor(specOf('outbox-sweeper').publishes);

/** Every minute: republishes any notice or alert the stream left pending for minutes. */
export const handler = middy<ScheduledEvent, Awaited<ReturnType<typeof sweepOutbox>>>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const result = await sweepOutbox({ clock: systemClock, topicArns, tableName: config.TABLE_NAME });
    if (result.pending > 0) logger.info('outbox swept', result);
    return result;
  });
