import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../shared/platform/logger.js';

/**
 * Table stream: new items (INSERT only, by the catalog's event filter). For now it
 * records what arrived, by key and kind only (items may hold personal data).
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      logger.info('stream item received', {
        eventId: record.eventID,
        pk: image?.pk?.S,
        sk: image?.sk?.S,
        kind: image?.kind?.S,
      });
    }
    return { batchItemFailures: [] };
  });
