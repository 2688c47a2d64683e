import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TABLE } from '../../shared/platform/table.js';
import { TOPICS, type TopicId } from '../../shared/platform/topics.js';

/**
 * Creates, on the emulators, what the CDK data stack creates in AWS, from the same
 * definitions (`shared/platform/table.ts`, `shared/platform/topics.ts`). Idempotent: a
 * persisted data directory is brought up to date instead of failing.
 */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export function localClientConfig(endpoint: string) {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

function indexDefinition(index: (typeof TABLE.indexes)[number]): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] },
  };
}

function attributeDefinitions(): AttributeDefinition[] {
  const names = [TABLE.partitionKey, TABLE.sortKey, ...TABLE.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  return names.map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
}

/** Creates the table (or adds indexes it lacks) and waits until it is active. */
export async function provisionTable(endpoint: string, tableName: string): Promise<{ streamArn: string }> {
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    const existing = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const have = new Set((existing.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of TABLE.indexes.filter((i) => !have.has(i.name))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributeDefinitions(),
          GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
        }),
      );
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(),
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE.indexes.map(indexDefinition),
        StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.stream },
      }),
    );
  }
  const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
  client.destroy();
  const streamArn = described.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${tableName} has no stream`);
  return { streamArn };
}

/** Creates the topics; returns their ARNs by topic id. */
export async function provisionTopics(endpoint: string): Promise<Record<TopicId, string>> {
  const client = new SNSClient(localClientConfig(endpoint));
  const arns = {} as Record<TopicId, string>;
  for (const [id, topic] of Object.entries(TOPICS) as [TopicId, (typeof TOPICS)[TopicId]][]) {
    const created = await client.send(new CreateTopicCommand({ Name: topic.name }));
    arns[id] = created.TopicArn!;
  }
  client.destroy();
  return arns;
}

export interface QueueInfo {
  readonly url: string;
  readonly arn: string;
}

/** Creates a queue and subscribes it to a topic, optionally with a filter policy. */
export async function subscribeQueue(
  endpoints: { sns: string; sqs: string },
  topicArn: string,
  queueName: string,
  filterPolicy?: Record<string, unknown>,
): Promise<QueueInfo> {
  const sqs = new SQSClient(localClientConfig(endpoints.sqs));
  const sns = new SNSClient(localClientConfig(endpoints.sns));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = attributes.Attributes!.QueueArn!;
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: arn,
      ...(filterPolicy ? { Attributes: { FilterPolicy: JSON.stringify(filterPolicy) } } : {}),
    }),
  );
  sqs.destroy();
  sns.destroy();
  return { url: QueueUrl!, arn };
}

/** Creates a queue with no subscription (the stream functions' on-failure destination). */
export async function provisionQueue(endpoint: string, queueName: string): Promise<QueueInfo> {
  const sqs = new SQSClient(localClientConfig(endpoint));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  sqs.destroy();
  return { url: QueueUrl!, arn: attributes.Attributes!.QueueArn! };
}

/**
 * A store's subscription to `store-notices`: its region's notices, addressed either to
 * every store of the region (`storeId` = "all") or to it alone. Scalar String attributes
 * only, which both SNS and the emulator match.
 */
export function storeFilterPolicy(store: { storeId: string; region: string }) {
  return { region: [store.region], storeId: [store.storeId, 'all'] };
}
