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
import { clusterKeys, type Observation } from '../shared/detection/keys.js';
import { retryingConflicts } from '../shared/platform/retry.js';
import { countMetric, flushMetrics, METRIC } from '../shared/platform/metrics.js';
import type { Report } from '../shared/reports/model.js';

const config = loadConfig(['TABLE_NAME']);
const topicArns = topicArnsFor(specOf('on-table-change').publishes);
const detection = { store: new DynamoCounterStore(config.TABLE_NAME), config: detectionConfigFromEnv(), clock: systemClock };

/** Groups of records handled at once within a batch. */
const CONCURRENCY = 8;
/** Records are not started with less than this left of the invocation (conflict retries wait up to 2 s each). */
const RESERVE_MS = 5_000;

/** A record's report as detection sees it, read once per record (undefined for outbox items; the error for an unreadable image). */
type Parsed = { observation?: Observation; error?: unknown };
function parse(record: DynamoDBRecord): Parsed {
  const image = record.dynamodb?.NewImage;
  if (image?.kind?.S !== 'report' || !image.record) return {};
  try {
    return { observation: observationOf(unmarshall({ record: image.record as AttributeValue }).record as Report) };
  } catch (error) {
    return { error };
  }
}

/**
 * The order key of a record: reports of one product and defect (its lot keys included) are
 * handled one after another in stream order, so a burst on one lot does not race itself on
 * the same counters and markers; everything else runs side by side.
 */
const orderKey = (parsed: Parsed, index: number): string => (parsed.observation ? clusterKeys(parsed.observation).product.id : `record#${index}`);

/**
 * Table stream: new reports and outbox items (the catalog's event filter). Runs detection for
 * each report and publishes outbox items, several groups of records at a time (reports that
 * share a product key in order). A transaction conflict (another writer on the same counter
 * or marker: DynamoDB cancels one of two) is retried with jittered backoff, at each write and
 * once more around the whole record, which is idempotent. Every record from the first failed
 * one on goes back to the event source (ReportBatchItemFailures) and is retried, never
 * skipped; a failed record stops the rest of its group, so order holds on redelivery too.
 * Logs keys, kinds and counts only: items may hold personal data.
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(flushMetrics())
  .handler(async (event, context) => {
    const parsed = event.Records.map(parse);
    const groups = new Map<string, number[]>();
    // An unreadable image has no product: it is a group of its own, and fails in `handle`.
    parsed.forEach((p, index) => {
      const key = orderKey(p, index);
      groups.set(key, [...(groups.get(key) ?? []), index]);
    });
    const queue = [...groups.values()];
    const failed: number[] = [];
    // Retries under conflicts take time: what is left when the invocation nears its timeout
    // goes back to the event source, in order, instead of the whole batch timing out.
    const timeLeft = () => typeof context?.getRemainingTimeInMillis !== 'function' || context.getRemainingTimeInMillis() > RESERVE_MS;
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
        for (let group = queue.shift(); group; group = queue.shift()) {
          for (const index of group) {
            const record = event.Records[index]!;
            if (!timeLeft()) {
              failed.push(index);
              break;
            }
            try {
              await retryingConflicts(() => handle(record, parsed[index]!));
            } catch (error) {
              logger.error('stream record failed', { eventId: record.eventID, error: error as Error });
              countMetric(METRIC.streamRecordsFailed);
              if (record.dynamodb?.NewImage?.kind?.S === 'outbox') countMetric(METRIC.noticesFailed);
              failed.push(index);
              break; // the rest of its group waits for the redelivery, in order
            }
          }
        }
      }),
    );
    if (failed.length === 0) return { batchItemFailures: [] };
    const first = event.Records[Math.min(...failed)]!;
    return { batchItemFailures: [{ itemIdentifier: first.dynamodb!.SequenceNumber! }] };
  });

async function handle(record: DynamoDBRecord, parsed: Parsed): Promise<void> {
  const image = record.dynamodb?.NewImage;
  const kind = image?.kind?.S;
  logger.info('stream item received', { eventId: record.eventID, pk: image?.pk?.S, sk: image?.sk?.S, kind });
  if (parsed.error) throw parsed.error;
  if (parsed.observation) {
    const result = await detectAndEscalate(parsed.observation, detection);
    if (result.counted) countMetric(METRIC.signals, result.signals.length);
    countMetric(METRIC.candidatesOpened, result.opened.length);
    logger.info('report observed', {
      reportId: parsed.observation.reportId,
      counted: result.counted,
      signals: result.signals.map((s) => `${s.rule}:${s.key.id}`),
      opened: result.opened,
      attached: result.attached,
    });
  } else if (kind === 'outbox' && image?.id?.S) {
    const published = await publishOutboxItem(config.TABLE_NAME, topicArns, image.id.S);
    if (published) countMetric(METRIC.noticesPublished);
    logger.info(published ? 'outbox item published' : 'outbox item already published', { outboxId: image.id.S });
  }
}
