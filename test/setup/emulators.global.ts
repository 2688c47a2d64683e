import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSnsSqs } from '../../infra/local/emulators.js';
import { provisionTopics } from '../../infra/local/provision.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    snsSqsEndpoint: string;
    topicArns: Record<string, string>;
  }
}

/** Starts DynamoDB Local and the SNS/SQS emulator once for the whole run. */
export default async function setup(project: TestProject) {
  const [dynamo, snsSqs] = await Promise.all([startDynamoDbLocal(), startSnsSqs()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('snsSqsEndpoint', snsSqs.endpoint);
  project.provide('topicArns', await provisionTopics(snsSqs.endpoint));
  return async () => {
    await snsSqs.stop();
    await dynamo.stop();
  };
}
