import { App, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataStack } from './data-stack.js';
import { ServiceStack } from './service-stack.js';

export const STAGES = ['dev', 'prod'] as const;
export type StageName = (typeof STAGES)[number];

/** What a stage decides: names, what survives a `cdk destroy`, how long logs are kept. */
export interface StageSettings {
  readonly name: StageName;
  /** prod: stateful resources are retained and the table and user pool deletion-protected. */
  readonly retain: boolean;
  readonly statefulRemoval: RemovalPolicy;
  readonly logRetention: RetentionDays;
}

/** The stage from `-c stage=dev|prod` (default dev); anything else fails synthesis. */
export function stageSettings(app: App): StageSettings {
  const raw: unknown = app.node.tryGetContext('stage') ?? 'dev';
  if (!STAGES.includes(raw as StageName)) {
    throw new Error(`Unknown stage ${JSON.stringify(raw)}: pass -c stage=dev or -c stage=prod (default dev).`);
  }
  const name = raw as StageName;
  const retain = name === 'prod';
  return {
    name,
    retain,
    statefulRemoval: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: retain ? RetentionDays.ONE_YEAR : RetentionDays.ONE_MONTH,
  };
}

/** Builds both stacks of one stage on `app`; used by `cdk synth/deploy` and by the infra tests. */
export function buildApp(app: App) {
  const stage = stageSettings(app);
  // The region is part of the stacks (TableV2 renders its customer-managed key per replica
  // region); the CDK CLI always sets CDK_DEFAULT_REGION (profile, AWS_REGION or us-east-1).
  const region: unknown = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;
  if (typeof region !== 'string' || !region) throw new Error('No region: run through the CDK CLI (it sets CDK_DEFAULT_REGION) or pass -c region=<aws region>.');
  const env = {
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT } : {}),
    region,
  };
  const authDomainPrefix: unknown = app.node.tryGetContext('authDomainPrefix');
  const data = new DataStack(app, `RecallData-${stage.name}`, {
    env,
    stage,
    ...(typeof authDomainPrefix === 'string' && authDomainPrefix ? { authDomainPrefix } : {}),
    description: `Recall system (${stage.name}): table, topics, keys, users`,
  });
  const service = new ServiceStack(app, `RecallService-${stage.name}`, {
    env,
    stage,
    description: `Recall system (${stage.name}): functions, API, schedules, alarms`,
    table: data.table,
    tableKey: data.tableKey,
    topicKey: data.topicKey,
    topics: data.topics,
    userPool: data.userPool,
    userPoolClients: [data.userPoolClient, data.cliClient],
    cliClient: data.cliClient,
    authDomain: data.authDomain,
  });
  Tags.of(app).add('system', 'recall');
  Tags.of(app).add('stage', stage.name);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stage, data, service };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const app = new App();
  buildApp(app);
  app.synth();
}
