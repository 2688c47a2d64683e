import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { inject } from 'vitest';
import { catalog, type FunctionSpec, type StreamTrigger } from '../../functions/catalog.js';
import { StreamPoller } from '../../infra/local/stream-poller.js';

/**
 * Runs the real stream function behind the local event source mapping on this file's table,
 * keeping every record it was given (for replay tests). Stop the poller in afterAll.
 */
export function startStreamFunction(handler: (event: DynamoDBStreamEvent, context: any) => Promise<unknown>) {
  const spec = (catalog as readonly FunctionSpec[]).find((f) => f.id === 'on-table-change') as FunctionSpec & { trigger: StreamTrigger };
  const delivered: DynamoDBRecord[] = [];
  const poller = new StreamPoller({
    dynamoEndpoint: inject('dynamoEndpoint'),
    streamArn: process.env.TEST_STREAM_ARN!,
    functions: [
      {
        spec,
        handler: async (event: any, context) => {
          delivered.push(...(event as DynamoDBStreamEvent).Records);
          return handler(event, context);
        },
      },
    ],
    log: () => undefined,
  });
  poller.start();
  return { poller, delivered };
}
