import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';

/**
 * AWS SDK clients, one per process (Lambda reuses them across invocations).
 * The endpoint overrides are how the same handlers reach DynamoDB Local and the SNS/SQS
 * emulator: in Lambda these variables are unset and the SDK uses the regional endpoints.
 */
let documentClient: DynamoDBDocumentClient | undefined;
let sns: Promise<SNSClient> | undefined;

function endpoint(variable: string): { endpoint?: string } {
  const value = process.env[variable];
  return value ? { endpoint: value } : {};
}

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...endpoint('AWS_ENDPOINT_URL_DYNAMODB') }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return documentClient;
}

/** The table every repository works on (`TABLE_NAME`, checked at cold start by `loadConfig`). */
export function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

/**
 * The SNS client, loaded on first use: most functions never publish, and importing the SNS
 * package costs tens of milliseconds of every cold start (bench:bundles).
 */
export function snsClient(): Promise<SNSClient> {
  sns ??= import('@aws-sdk/client-sns').then(({ SNSClient }) => new SNSClient({ ...endpoint('AWS_ENDPOINT_URL_SNS') }));
  return sns;
}
