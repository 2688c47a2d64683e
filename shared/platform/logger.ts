import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured logger per process. Log identifiers and counts, never a request body:
 * case records carry customers' personal data, which must not reach any log.
 */
export const logger = new Logger({
  serviceName: 'recall',
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
});
