import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { FunctionSpec, StreamFilterPattern, StreamFilterRule, StreamTrigger } from '../../functions/catalog.js';
import { invoke, type AnyHandler } from './lambda.js';
import { localClientConfig } from './provision.js';

export type StreamFunction = { spec: FunctionSpec & { trigger: StreamTrigger }; handler: AnyHandler };

export interface StreamPollerOptions {
  readonly dynamoEndpoint: string;
  readonly streamArn: string;
  readonly functions: StreamFunction[];
  /** Where exhausted batches are reported, like the event source's on-failure destination. */
  readonly failureQueue?: { endpoint: string; url: string };
  /** Keeps per-shard positions across restarts (used with a persistent data directory). */
  readonly checkpointFile?: string;
  /**
   * Where reading starts on the shards that exist when the poller starts (as the event source
   * mapping's StartingPosition): TRIM_HORIZON (default) or LATEST. Later shards start at
   * their beginning.
   */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  readonly idleDelayMs?: number;
  readonly log: (line: string) => void;
}

/**
 * The local event source mapping: reads the table's stream shard by shard, applies each
 * function's event filter, delivers batches in order as `DynamoDBStreamEvent`, retries
 * from the first item a function reports in `batchItemFailures` (or the whole batch when it
 * throws), and after `retryAttempts` sends a failure record to the on-failure queue.
 */
export class StreamPoller {
  private readonly client: DynamoDBStreamsClient;
  private readonly iterators = new Map<string, string>();
  private readonly finished = new Set<string>();
  private readonly checkpoints: Record<string, string>;
  private running = false;
  private loop: Promise<void> | undefined;
  private lastDiscovery = 0;
  private firstDiscovery = true;
  private wake: (() => void) | undefined;
  private lastDelivery = Date.now();
  private busy = false;

  constructor(private readonly options: StreamPollerOptions) {
    this.client = new DynamoDBStreamsClient(localClientConfig(options.dynamoEndpoint));
    this.checkpoints =
      options.checkpointFile && existsSync(options.checkpointFile)
        ? (JSON.parse(readFileSync(options.checkpointFile, 'utf8')) as Record<string, string>)
        : {};
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.client.destroy();
  }

  private paused = false;

  /** Holds delivery (records wait in the stream, as when an event source mapping is disabled). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.lastDelivery = Date.now(); // what waited must be read before the stream counts as idle
    this.wake?.();
  }

  /** Resolves once no record has arrived for `quietMs` (benchmarks wait for the stream to drain). */
  async idle(quietMs = 1000, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.busy || Date.now() - this.lastDelivery < quietMs) {
      if (Date.now() > deadline) throw new Error(`the stream was still busy after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delivered = 0;
      if (this.paused) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      try {
        if (Date.now() - this.lastDiscovery > 1000) await this.discoverShards();
        for (const [shardId, iterator] of [...this.iterators]) {
          try {
            delivered += await this.pollShard(shardId, iterator);
          } catch (error) {
            // One shard's failure (an expired iterator, say) must not stop the others; the
            // shard is read again from its checkpoint at the next discovery.
            this.iterators.delete(shardId);
            this.lastDiscovery = 0;
            this.options.log(`stream poller: shard ${shardId}: ${(error as Error).message}`);
          }
        }
      } catch (error) {
        this.options.log(`stream poller: ${(error as Error).message}`);
      }
      if (delivered === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.idleDelayMs ?? 50);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private async discoverShards(): Promise<void> {
    this.lastDiscovery = Date.now();
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.iterators.has(id) || this.finished.has(id)) continue;
      // A child shard waits until its parent is read to the end, to keep per-key order.
      if (shard.ParentShardId && shards.some((s) => s.ShardId === shard.ParentShardId) && !this.finished.has(shard.ParentShardId)) {
        if (this.iterators.has(shard.ParentShardId)) continue;
      }
      const after = this.checkpoints[id];
      const { ShardIterator } = await this.client.send(
        new GetShardIteratorCommand({
          StreamArn: this.options.streamArn,
          ShardId: id,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: this.firstDiscovery ? (this.options.startingPosition ?? 'TRIM_HORIZON') : 'TRIM_HORIZON' }),
        }),
      );
      if (ShardIterator) this.iterators.set(id, ShardIterator);
    }
    this.firstDiscovery = false;
  }

  private async pollShard(shardId: string, iterator: string): Promise<number> {
    const page = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const records = (page.Records ?? []).map((r) => this.toLambdaRecord(r));
    this.busy = records.length > 0;
    try {
      for (const fn of this.options.functions) {
        const matching = records.filter((r) => matchesFilter(fn.spec.trigger.filter, r));
        if (matching.length > 0) await this.deliver(fn, matching);
      }
    } finally {
      this.busy = false;
    }
    if (records.length > 0) {
      this.lastDelivery = Date.now();
      this.checkpoints[shardId] = records[records.length - 1]!.dynamodb!.SequenceNumber!;
      if (this.options.checkpointFile) writeFileSync(this.options.checkpointFile, JSON.stringify(this.checkpoints));
    }
    if (page.NextShardIterator) this.iterators.set(shardId, page.NextShardIterator);
    else {
      this.iterators.delete(shardId);
      this.finished.add(shardId);
    }
    return records.length;
  }

  private toLambdaRecord(record: SdkRecord): DynamoDBRecord {
    const created = record.dynamodb?.ApproximateCreationDateTime;
    return {
      eventID: record.eventID,
      eventName: record.eventName,
      eventVersion: record.eventVersion ?? '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: record.awsRegion ?? 'us-east-1',
      eventSourceARN: this.options.streamArn,
      dynamodb: {
        ...(record.dynamodb as DynamoDBRecord['dynamodb']),
        ApproximateCreationDateTime: created ? Math.floor(new Date(created).getTime() / 1000) : Math.floor(Date.now() / 1000),
      },
    } as DynamoDBRecord;
  }

  private async deliver(fn: StreamFunction, records: DynamoDBRecord[]): Promise<void> {
    const { batchSize, retryAttempts } = fn.spec.trigger;
    for (let i = 0; i < records.length; i += batchSize) {
      let pending = records.slice(i, i + batchSize);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const failedFrom = await this.invokeBatch(fn, pending);
        if (failedFrom < 0) break;
        if (attempt >= retryAttempts) {
          await this.reportFailure(fn, pending.slice(failedFrom));
          break;
        }
        pending = pending.slice(failedFrom);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Index of the first record to retry, or -1 when the batch succeeded. */
  private async invokeBatch(fn: StreamFunction, batch: DynamoDBRecord[]): Promise<number> {
    try {
      const result = (await invoke(fn.spec, fn.handler, { Records: batch })) as
        | { batchItemFailures?: { itemIdentifier: string }[] }
        | undefined;
      const failed = result?.batchItemFailures ?? [];
      if (failed.length === 0) return -1;
      const indexes = failed.map((f) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier));
      // An identifier that names no record of the batch fails the whole batch, as in Lambda.
      return indexes.some((x) => x < 0) ? 0 : Math.min(...indexes);
    } catch (error) {
      this.options.log(`${fn.spec.id}: batch of ${batch.length} failed: ${(error as Error).message}`);
      return 0;
    }
  }

  private async reportFailure(fn: StreamFunction, records: DynamoDBRecord[]): Promise<void> {
    const first = records[0]?.dynamodb?.SequenceNumber;
    const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
    this.options.log(`${fn.spec.id}: gave up on ${records.length} record(s) ${first}..${last} after retries`);
    if (!this.options.failureQueue) return;
    const sqs = new SQSClient(localClientConfig(this.options.failureQueue.endpoint));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: this.options.failureQueue.url,
        MessageBody: JSON.stringify({
          requestContext: { functionArn: fn.spec.id, condition: 'RetryAttemptsExhausted' },
          DDBStreamBatchInfo: {
            streamArn: this.options.streamArn,
            startSequenceNumber: first,
            endSequenceNumber: last,
            batchSize: records.length,
          },
        }),
      }),
    );
    sqs.destroy();
  }
}

/**
 * Lambda event filtering for the pattern forms the catalog uses: exact values, `prefix`,
 * `exists` and `anything-but`. An unsupported form throws, so local wiring cannot
 * silently disagree with AWS.
 */
export function matchesFilter(pattern: StreamFilterPattern, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const field = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) {
      if (!(rule as readonly StreamFilterRule[]).some((leaf) => matchesLeaf(leaf, field))) return false;
    } else if (!matchesFilter(rule as StreamFilterPattern, field)) return false;
  }
  return true;
}

function matchesLeaf(leaf: StreamFilterRule, field: unknown): boolean {
  if (typeof leaf === 'string' || typeof leaf === 'number') return field === leaf;
  if ('exists' in leaf) return leaf.exists ? field !== undefined : field === undefined;
  if ('prefix' in leaf) return typeof field === 'string' && field.startsWith(leaf.prefix);
  if ('anything-but' in leaf) return field !== undefined && !leaf['anything-but'].includes(field as string);
  throw new Error(`Unsupported event filter rule: ${JSON.stringify(leaf)}`);
}
