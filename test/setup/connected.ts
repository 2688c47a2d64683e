import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { LOCAL_REGION, provisionTable } from '../../infra/local/provision.js';
import { TOPICS, type TopicId } from '../../shared/platform/topics.js';

/**
 * Each connected test file gets its own table on the shared DynamoDB Local, so files can
 * run in parallel and a watchdog test sees only its own clocks. Handlers imported after
 * this point read the same variables the CDK stack and the local runtime set.
 */
const tableName = `test-${randomUUID().slice(0, 8)}`;
const topicArns = inject('topicArns') as Record<TopicId, string>;
Object.assign(process.env, {
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
  AWS_ENDPOINT_URL_SNS: inject('snsSqsEndpoint'),
  AWS_ENDPOINT_URL_SQS: inject('snsSqsEndpoint'),
  TABLE_NAME: tableName,
  FUNCTION_ID: 'test',
  ...Object.fromEntries((Object.keys(TOPICS) as TopicId[]).map((id) => [TOPICS[id].envVar, topicArns[id]])),
});
const { streamArn } = await provisionTable(inject('dynamoEndpoint'), tableName);
process.env.TEST_STREAM_ARN = streamArn;
