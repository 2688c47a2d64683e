import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../shared/platform/logger.js';
import { runWatchdog } from '../shared/reports/use-cases.js';
import { reportDeps } from '../shared/reports/wiring.js';

const deps = reportDeps();

/** Every minute: marks breached clocks once and queues one escalation per breach. */
export const handler = middy<ScheduledEvent, Awaited<ReturnType<typeof runWatchdog>>>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const result = await runWatchdog(deps);
    if (result.examined > 0) logger.info('watchdog run', result);
    return result;
  });
