import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConfig } from '../shared/platform/config.js';
import { logger } from '../shared/platform/logger.js';
import { publishOutboxItem } from '../shared/platform/outbox.js';

const config = loadConfig(['TABLE_NAME', 'INCIDENT_ALERTS_TOPIC_ARN']);
const topicArns = { incidentAlerts: config.INCIDENT_ALERTS_TOPIC_ARN };

/**
 * Table stream, new items only (the catalog's event filter). Publishes outbox items.
 * Records are handled in order; the first failure and everything after it are reported
 * back so the event source retries from there (ReportBatchItemFailures), never skipping.
 * Logs keys and kinds only: items may hold personal data.
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    for (const record of event.Records) {
      try {
        await handle(record);
      } catch (error) {
        logger.error('stream record failed', { eventId: record.eventID, error: error as Error });
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber! }] };
      }
    }
    return { batchItemFailures: [] };
  });

async function handle(record: DynamoDBRecord): Promise<void> {
  const image = record.dynamodb?.NewImage;
  const kind = image?.kind?.S;
  logger.info('stream item received', { eventId: record.eventID, pk: image?.pk?.S, sk: image?.sk?.S, kind });
  if (kind === 'outbox' && image?.id?.S) {
    const published = await publishOutboxItem(config.TABLE_NAME, topicArns, image.id.S);
    logger.info(published ? 'outbox item published' : 'outbox item already published', { outboxId: image.id.S });
  }
}
