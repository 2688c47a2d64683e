import type { Server } from 'node:http';
import path from 'node:path';
import { catalog, type FunctionSpec, type HttpTrigger, type ScheduleTrigger, type StreamTrigger } from '../../functions/catalog.js';
import { systemClock } from '../../shared/platform/clock.js';
import { TOPICS, type TopicId } from '../../shared/platform/topics.js';
import { registerStore } from '../../shared/stores/use-cases.js';
import { DEMO_USERS, devKeys, type DemoUser } from './dev-auth.js';
import { requirePortFree, startDynamoDbLocal, startSnsSqs, type RunningEmulator } from './emulators.js';
import { createGateway } from './http-gateway.js';
import { loadHandler } from './lambda.js';
import {
  LOCAL_REGION,
  provisionQueue,
  provisionTable,
  provisionTopics,
  storeFilterPolicy,
  subscribeQueue,
  type QueueInfo,
} from './provision.js';
import { startScheduler } from './scheduler.js';
import { StreamPoller } from './stream-poller.js';

export interface LocalStackOptions {
  /** HTTP port of the API; 0 picks a free one. */
  readonly port?: number;
  /** Keep DynamoDB data (and the dev signing key) here between runs; in memory when unset. */
  readonly dataDir?: string;
  readonly tableName?: string;
  /** Reuse running emulators (the test suite starts them once per run). */
  readonly endpoints?: { dynamodb: string; snsSqs: string };
  readonly log?: (line: string) => void;
  /** Where the stream poller starts on existing shards (benchmarks preload history first). */
  readonly streamStartingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Run the scheduled functions every minute (default). The demo runs its watchdog itself. */
  readonly schedules?: boolean;
}

export interface LocalStack {
  readonly url: string;
  readonly tableName: string;
  readonly endpoints: { dynamodb: string; snsSqs: string };
  readonly topicArns: Record<TopicId, string>;
  /** Demo users with ready-made bearer tokens. */
  readonly users: readonly (DemoUser & { token: string })[];
  /** Queues that make the topics visible locally: alerts and each demo store's notices. */
  readonly queues: { alerts: QueueInfo; publicNotices: QueueInfo; customerReplies: QueueInfo; streamFailures: QueueInfo; stores: Record<string, QueueInfo> };
  readonly dynamoPid: number | undefined;
  /** Resolves when the stream has delivered nothing for `quietMs`. */
  streamIdle(quietMs?: number): Promise<void>;
  /** Holds and resumes stream delivery (benchmarks separate intake from detection). */
  pauseStream(): void;
  resumeStream(): void;
  stop(): Promise<void>;
}

/**
 * Starts the embedded stack: emulators, the table and topics from the shared definitions,
 * demo store subscriptions, then the catalog's functions behind a local API Gateway, a
 * stream poller and a scheduler. `stop()` ends everything this call started.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.port) await requirePortFree(options.port, 'HTTP API');
  const started: RunningEmulator[] = [];
  const stoppers: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s();
    for (const e of started.reverse()) await e.stop();
  };
  try {
    let endpoints = options.endpoints;
    let dynamoPid: number | undefined;
    if (!endpoints) {
      const [dynamo, snsSqs] = await Promise.all([
        startDynamoDbLocal(options.dataDir ? { dataDir: path.join(options.dataDir, 'dynamodb') } : {}),
        startSnsSqs(),
      ]);
      started.push(dynamo, snsSqs);
      dynamoPid = dynamo.pid;
      endpoints = { dynamodb: dynamo.endpoint, snsSqs: snsSqs.endpoint };
    }
    const tableName = options.tableName ?? 'recall-local';
    const { streamArn } = await provisionTable(endpoints.dynamodb, tableName);
    const topicArns = await provisionTopics(endpoints.snsSqs);
    const sns = { sns: endpoints.snsSqs, sqs: endpoints.snsSqs };
    const alerts = await subscribeQueue(sns, topicArns.incidentAlerts, 'local-incident-alerts');
    const publicNotices = await subscribeQueue(sns, topicArns.publicNotices, 'local-public-notices');
    const customerReplies = await subscribeQueue(sns, topicArns.customerReplies, 'local-customer-replies');
    const streamFailures = await provisionQueue(endpoints.snsSqs, 'local-stream-failures');
    const stores: Record<string, QueueInfo> = {};
    for (const user of DEMO_USERS.filter((u) => u.storeId && u.region)) {
      const store = { storeId: user.storeId!, region: user.region! };
      stores[store.storeId] = await subscribeQueue(sns, topicArns.storeNotices, `store-${store.storeId}`, storeFilterPolicy(store));
    }

    // The functions read exactly what the CDK service stack sets, plus the endpoint overrides.
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SNS: endpoints.snsSqs,
      AWS_ENDPOINT_URL_SQS: endpoints.snsSqs,
      TABLE_NAME: tableName,
      FUNCTION_ID: 'local',
      // No CloudWatch here: the handlers' metrics would only be JSON noise on the console.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      ...Object.fromEntries((Object.keys(TOPICS) as TopicId[]).map((id) => [TOPICS[id].envVar, topicArns[id]])),
    });

    // The demo stores are in the store directory, as an admin would register them.
    for (const user of DEMO_USERS.filter((u) => u.storeId && u.region)) {
      await registerStore({ clock: systemClock }, user.storeId!, { region: user.region!, name: user.about }, { userId: 'local-setup' });
    }

    const specs = catalog as readonly FunctionSpec[];
    const load = async <T extends FunctionSpec['trigger']>(kind: T['kind']) =>
      Promise.all(
        specs
          .filter((s): s is FunctionSpec & { trigger: T } => s.trigger.kind === kind)
          .map(async (spec) => ({ spec, handler: await loadHandler(spec) })),
      );
    const httpFunctions = await load<HttpTrigger>('http');
    const streamFunctions = await load<StreamTrigger>('stream');
    const scheduled = await load<ScheduleTrigger>('schedule');

    const keys = await devKeys(options.dataDir ? path.join(options.dataDir, 'dev-signing-key.json') : undefined);
    const users = await Promise.all(DEMO_USERS.map(async (u) => ({ ...u, token: await keys.sign(u) })));

    const poller = new StreamPoller({
      dynamoEndpoint: endpoints.dynamodb,
      streamArn,
      functions: streamFunctions,
      failureQueue: { endpoint: endpoints.snsSqs, url: streamFailures.url },
      ...(options.streamStartingPosition ? { startingPosition: options.streamStartingPosition } : {}),
      ...(options.dataDir ? { checkpointFile: path.join(options.dataDir, 'stream-checkpoints.json') } : {}),
      log,
    });
    poller.start();
    stoppers.push(() => poller.stop());
    const scheduler = startScheduler(options.schedules === false ? [] : scheduled, log);
    stoppers.push(() => scheduler.stop());

    const server = createGateway(httpFunctions, keys, log);
    const port = await listen(server, options.port ?? 0);
    stoppers.push(() => closeServer(server));

    return {
      url: `http://localhost:${port}`,
      tableName,
      endpoints,
      topicArns,
      users,
      queues: { alerts, publicNotices, customerReplies, streamFailures, stores },
      dynamoPid,
      streamIdle: (quietMs) => poller.idle(quietMs),
      pauseStream: () => poller.pause(),
      resumeStream: () => poller.resume(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the local stack's dev tokens are no protection on a shared network.
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
