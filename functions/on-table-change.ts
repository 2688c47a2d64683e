import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { systemClock } from '../shared/platform/clock.js';
import { loadConfig, topicArnsFor } from '../shared/platform/config.js';
import { specOf } from './catalog.js';
import { logger } from '../shared/platform/logger.js';
import { publishOutboxItem } from '../shared/platform/outbox.js';
import { DynamoCounterStore } from '../shared/detection/dynamo-store.js';
import { detectAndEscalate, detectionConfigFromEnv } from '../shared/incidents/candidates.js';
import { observationOf } from '../shared/reports/observation.js';
import type { Report } from '../shared/reports/model.js';

const config = loadConfig(['TABLE_NAME']);
const topicArns = topicArnsFor(specOf('on-table-change').publishes);
const detection = { store: new DynamoCounterStore(config.TABLE_NAME), config: detectionConfigFromEnv(), clock: systemClock };

/** Records handled at once within a batch: detection is idempotent and order-insensitive. */
const CONCURRENCY = 8;

/**
 * Table stream: new reports and outbox items (the catalog's event filter). Runs detection for
 * each report and publishes outbox items, several records at a time. Every record from the
 * first failed one on goes back to the event source (ReportBatchItemFailures) and is retried,
 * never skipped; both steps are idempotent, so retries and redeliveries change nothing.
 * Logs keys, kinds and counts only: items may hold personal data.
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const failed: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, event.Records.length) }, async () => {
        while (next < event.Records.length) {
          const index = next++;
          const record = event.Records[index]!;
          try {
            await handle(record);
          } catch (error) {
            logger.error('stream record failed', { eventId: record.eventID, error: error as Error });
            failed.push(index);
          }
        }
      }),
    );
    if (failed.length === 0) return { batchItemFailures: [] };
    const first = event.Records[Math.min(...failed)]!;
    return { batchItemFailures: [{ itemIdentifier: first.dynamodb!.SequenceNumber! }] };
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
