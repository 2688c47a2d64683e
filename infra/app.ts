import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataStack } from './data-stack.js';
import { ServiceStack } from './service-stack.js';

/** Builds both stacks on `app`; used by `cdk synth/deploy` and by the infra tests. */
export function buildApp(app: App) {
  const env = {
    ...(process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT } : {}),
    ...(process.env.CDK_DEFAULT_REGION ? { region: process.env.CDK_DEFAULT_REGION } : {}),
  };
  const data = new DataStack(app, 'RecallData', { env, description: 'Recall system: table, topics, users' });
  const service = new ServiceStack(app, 'RecallService', {
    env,
    description: 'Recall system: functions, API, schedules',
    table: data.table,
    topics: data.topics,
    userPool: data.userPool,
    userPoolClient: data.userPoolClient,
  });
  Tags.of(app).add('system', 'recall');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { data, service };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const app = new App();
  buildApp(app);
  app.synth();
}
