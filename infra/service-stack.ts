import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, type FunctionSpec } from '../functions/catalog.js';
import { detectionConfigFromEnv } from '../shared/incidents/candidates.js';
import { TABLE } from '../shared/platform/table.js';
import { clockPolicyFrom } from '../shared/reports/clocks.js';
import { incidentPolicyFrom } from '../shared/incidents/policy.js';
import { TOPICS, type TopicId } from '../shared/platform/topics.js';
import { jsonSetting } from '../shared/platform/config.js';
import { z } from 'zod';
import { taxonomyFromEnv } from '../shared/reports/taxonomy.js';
import { acceptFinding } from './nag.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServiceStackProps extends StackProps {
  readonly table: dynamodb.ITableV2;
  readonly topics: Record<TopicId, sns.ITopic>;
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
}

/**
 * Stateless resources, all derived from `functions/catalog.ts`: one Lambda per entry, its
 * route, stream event source or schedule, and exactly the grants the entry declares.
 */
export class ServiceStack extends Stack {
  readonly functions = new Map<string, nodejs.NodejsFunction>();
  readonly api: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Recall and incident management API',
      createDefaultStage: false,
    });
    new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // Throttling on every route: a flood of reports (or of guesses) is 429, not a bill.
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });
    const authorizer = new HttpJwtAuthorizer(
      'CognitoJwt',
      `https://cognito-idp.${this.region}.amazonaws.com/${props.userPool.userPoolId}`,
      { jwtAudience: [props.userPoolClient.userPoolClientId] },
    );
    const streamFailures = new sqs.Queue(this, 'StreamFailures', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    acceptFinding(streamFailures, 'SQS3', 'This queue is itself the on-failure destination of the stream event sources; a DLQ of a DLQ adds nothing.');

    for (const spec of catalog as readonly FunctionSpec[]) {
      const fn = this.lambdaFor(spec, props);
      this.functions.set(spec.id, fn);
      const trigger = spec.trigger;
      switch (trigger.kind) {
        case 'http': {
          const integration = new HttpLambdaIntegration(`${spec.id}-integration`, fn);
          const isDefault = trigger.path === '$default';
          const route = new apigw.HttpRoute(this, `Route-${spec.id}`, {
            httpApi: this.api,
            routeKey: isDefault
              ? apigw.HttpRouteKey.DEFAULT
              : apigw.HttpRouteKey.with(trigger.path, apigw.HttpMethod[trigger.method]),
            integration,
            ...(trigger.roles === 'public' ? {} : { authorizer }),
          });
          if (trigger.roles === 'public') {
            acceptFinding(route, 'APIG4', `Public by design: ${spec.description}. It holds no personal data.`);
          }
          break;
        }
        case 'stream':
          fn.addEventSource(
            new DynamoEventSource(props.table, {
              startingPosition: lambda.StartingPosition.TRIM_HORIZON,
              batchSize: trigger.batchSize,
              retryAttempts: trigger.retryAttempts,
              bisectBatchOnError: true,
              reportBatchItemFailures: true,
              onFailure: new SqsDlq(streamFailures),
              filters: [{ pattern: JSON.stringify(trigger.filter) }],
            }),
          );
          break;
        case 'schedule':
          new events.Rule(this, `Schedule-${spec.id}`, {
            schedule: events.Schedule.rate(Duration.minutes(trigger.rateMinutes)),
            targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
          });
          break;
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'UserPoolId', { value: props.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: props.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'StreamFailuresQueueUrl', { value: streamFailures.queueUrl });
  }

  /** One function, its log group, its environment and its grants: wired in one place. */
  private lambdaFor(spec: FunctionSpec, props: ServiceStackProps): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${spec.id}-logs`, {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: logs only to its own group.
    const role = new iam.Role(this, `${spec.id}-role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `recall function ${spec.id}`,
    });
    logGroup.grantWrite(role);
    const fn = new nodejs.NodejsFunction(this, `Fn-${spec.id}`, {
      role,
      entry: path.join(ROOT, spec.entry),
      handler: 'handler',
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb ?? 512,
      timeout: Duration.seconds(spec.timeoutSeconds ?? 10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        FUNCTION_ID: spec.id,
        POWERTOOLS_SERVICE_NAME: 'recall',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        externalModules: ['@aws-sdk/*'],
        // ESM bundles still carry CommonJS code that calls require(): give it one.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
    });
    acceptFinding(role, 'IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords take no resource-level permissions.');
    acceptFinding(fn, 'L1', 'nodejs22.x is the runtime the team pins (STACK.md); the code is also tested on Node 20 locally.');
    if (spec.table !== 'none') {
      fn.addEnvironment('TABLE_NAME', props.table.tableName);
      for (const [name, value] of Object.entries(POLICY_OVERRIDES)) fn.addEnvironment(name, value);
      grantTable(role, props.table, spec.table);
    }
    for (const topicId of spec.publishes) {
      fn.addEnvironment(TOPICS[topicId].envVar, props.topics[topicId].topicArn);
      props.topics[topicId].grantPublish(fn);
    }
    return fn;
  }
}

/**
 * Policy overrides taken from the deploying shell (`CLOCK_POLICY=... npx cdk deploy`),
 * validated at synthesis so a bad value fails the deploy, not the first request.
 */
const POLICY_OVERRIDES: Record<string, string> = (() => {
  const out: Record<string, string> = {};
  if (process.env.CLOCK_POLICY) {
    clockPolicyFrom(process.env);
    out.CLOCK_POLICY = process.env.CLOCK_POLICY;
  }
  if (process.env.DETECTION_CONFIG) {
    detectionConfigFromEnv(process.env);
    out.DETECTION_CONFIG = process.env.DETECTION_CONFIG;
  }
  if (process.env.DEFECT_TAXONOMY) {
    taxonomyFromEnv(process.env);
    out.DEFECT_TAXONOMY = process.env.DEFECT_TAXONOMY;
  }
  if (process.env.INCIDENT_POLICY) {
    incidentPolicyFrom(process.env);
    out.INCIDENT_POLICY = process.env.INCIDENT_POLICY;
  }
  return out;
})();

/**
 * API throttling, from the deploying shell: `API_THROTTLE='{"burstLimit":200,"rateLimit":100}'`
 * (requests; rate per second), validated at synthesis.
 */
export const API_THROTTLE: { burstLimit: number; rateLimit: number } = (() => {
  const schema = z.strictObject({ burstLimit: z.number().int().min(1).max(100_000).default(200), rateLimit: z.number().min(1).max(100_000).default(100) });
  return jsonSetting('API_THROTTLE', process.env.API_THROTTLE ?? '{}', schema);
})();

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
// No BatchWriteItem: nothing batches writes (it would bypass conditions). DeleteItem frees key markers.
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/**
 * Table access named index by index (TABLE.indexes) instead of the `index/*` wildcard the
 * L2 grants add. Writes cover transactions: TransactWriteItems is authorized per item.
 */
function grantTable(role: iam.IRole, table: dynamodb.ITableV2, access: 'read' | 'readWrite'): void {
  const actions = access === 'read' ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS];
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: TABLE.indexes.map((index) => `${table.tableArn}/index/${index.name}`),
    }),
  );
}
