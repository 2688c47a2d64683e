import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../infra/local/provision.js';

export interface ReceivedMessage {
  readonly body: any;
  readonly raw: string;
}

/**
 * Drains a queue until `expected` messages arrived and then `quietMs` passed with no more,
 * or `timeoutMs` ran out: asserting "exactly one" needs the quiet period, not a first hit.
 */
export async function drainQueue(
  endpoint: string,
  queueUrl: string,
  options: { expected?: number; quietMs?: number; timeoutMs?: number } = {},
): Promise<ReceivedMessage[]> {
  const sqs = new SQSClient(localClientConfig(endpoint));
  const { expected = 1, quietMs = 700, timeoutMs = 10_000 } = options;
  const messages: ReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  let lastArrival = Date.now();
  while (Date.now() < deadline) {
    const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    const batch = page.Messages ?? [];
    if (batch.length > 0) {
      lastArrival = Date.now();
      for (const m of batch) messages.push({ raw: m.Body ?? '', body: parse(m.Body) });
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
      );
    } else if (messages.length >= expected && Date.now() - lastArrival >= quietMs) break;
    else await new Promise((r) => setTimeout(r, 100));
  }
  sqs.destroy();
  return messages;
}

function parse(body: string | undefined): any {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return body;
  }
}
