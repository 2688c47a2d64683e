import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { logger } from '../shared/platform/logger.js';
import { publishOutboxItem } from '../shared/platform/outbox.js';
import { DynamoCounterStore } from '../shared/detection/dynamo-store.js';
import { detectAndEscalate, detectionConfigFromEnv } from '../shared/incidents/use-cases.js';
import { observationOf } from '../shared/reports/observation.js';
import type { Report } from '../shared/reports/model.js';

const config = loadConfig(['TABLE_NAME', 'INCIDENT_ALERTS_TOPIC_ARN']);
const topicArns = { incidentAlerts: config.INCIDENT_ALERTS_TOPIC_ARN };
const detection = { store: new DynamoCounterStore(config.TABLE_NAME), config: detectionConfigFromEnv(), clock: systemClock };

/**
 * Table stream, new items only (the catalog's event filter): runs detection for each new
 * report and publishes outbox items. Records are handled in order; the first failure and
 * everything after it go back to the event source (ReportBatchItemFailures) to be retried,
 * never skipped. Both steps are idempotent, so retries and redeliveries change nothing.
 * Logs keys, kinds and counts only: items may hold personal data.
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
  if (kind === 'report' && image?.record) {
    const report = unmarshall({ record: image.record as AttributeValue }).record as Report;
    const result = await detectAndEscalate(observationOf(report), detection);
    logger.info('report observed', {
      reportId: report.id,
      counted: result.counted,
      signals: result.signals.map((s) => `${s.rule}:${s.key.id}`),
      opened: result.opened,
      attached: result.attached,
    });
  } else if (kind === 'outbox' && image?.id?.S) {
    const published = await publishOutboxItem(config.TABLE_NAME, topicArns, image.id.S);
    logger.info(published ? 'outbox item published' : 'outbox item already published', { outboxId: image.id.S });
  }
}
