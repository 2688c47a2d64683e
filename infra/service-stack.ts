import { CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLING } from './bundling.js';
import { catalog, type FunctionSpec, type PartitionGrants } from '../functions/catalog.js';
import { detectionConfigFromEnv } from '../shared/incidents/candidates.js';
import { METRIC, METRICS_NAMESPACE, metricsServiceOf, type MetricName } from '../shared/platform/metrics.js';
import { TABLE } from '../shared/platform/table.js';
import { clockPolicyFrom } from '../shared/reports/clocks.js';
import { incidentPolicyFrom } from '../shared/incidents/policy.js';
import { TOPICS, type TopicId } from '../shared/platform/topics.js';
import { jsonSetting } from '../shared/platform/config.js';
import { z } from 'zod';
import { taxonomyFromEnv } from '../shared/reports/taxonomy.js';
import type { StageSettings } from './app.js';
import { acceptFinding } from './nag.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServiceStackProps extends StackProps {
  readonly stage: StageSettings;
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  readonly topicKey: kms.IKey;
  readonly topics: Record<TopicId, sns.ITopic>;
  readonly userPool: cognito.IUserPool;
  /** Every app client whose ID tokens the API accepts (the SRP client and the CLI client). */
  readonly userPoolClients: readonly cognito.IUserPoolClient[];
  readonly cliClient: cognito.IUserPoolClient;
  readonly authDomain: cognito.UserPoolDomain;
}

/** The runbook each alarm links (checked on disk by test/unit/platform/runbooks.test.ts). */
export const ALARM_RUNBOOKS = {
  functionErrors: 'runbooks/function-errors.md#errors',
  functionThrottles: 'runbooks/function-errors.md#throttles',
  streamBacklog: 'runbooks/stream-backlog.md',
  streamFailures: 'runbooks/stream-failures.md',
  scheduleFailures: 'runbooks/schedule-failures.md',
  api5xx: 'runbooks/api-5xx.md',
  outboxStuck: 'runbooks/outbox-stuck.md',
  clockBreaches: 'runbooks/clock-breach.md',
} as const;

/**
 * Stateless resources, all derived from `functions/catalog.ts`: one Lambda per entry, its
 * route, stream event source or schedule, and exactly the grants the entry declares; plus
 * the operations around them: alarms to the ops topic, the recall desk's dashboard.
 */
export class ServiceStack extends Stack {
  readonly functions = new Map<string, nodejs.NodejsFunction>();
  readonly api: apigw.HttpApi;
  readonly opsTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly cursorKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { stage } = props;

    // Deploy-time e-mail subscriptions: an empty parameter creates no subscription.
    const alertEmail = new CfnParameter(this, 'AlertEmail', {
      type: 'String',
      default: '',
      description: 'E-mail address subscribed to incident-alerts (candidate incidents, breaches); empty for none',
    });
    const opsEmail = new CfnParameter(this, 'OpsEmail', {
      type: 'String',
      default: '',
      description: 'E-mail address subscribed to the ops topic (every alarm and its recovery); empty for none',
    });
    this.opsTopic = new sns.Topic(this, 'OpsTopic', {
      topicName: `recall-${stage.name}-ops`,
      displayName: `recall ${stage.name} operations`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    this.opsTopic.applyRemovalPolicy(stage.statefulRemoval);
    // Alarms publish as the CloudWatch service; the topic key's policy lets it encrypt.
    this.opsTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.emailSubscription('AlertEmailSubscription', props.topics.incidentAlerts, alertEmail);
    this.emailSubscription('OpsEmailSubscription', this.opsTopic, opsEmail);

    // Signs list cursors (shared/platform/cursor.ts); reaches the functions as a dynamic
    // reference resolved by CloudFormation: no template or asset holds the value, but the
    // functions' environment does (lambda:GetFunctionConfiguration shows it). Acceptable for
    // this key: a forged cursor still stays inside the partition its query names.
    this.cursorKey = new secretsmanager.Secret(this, 'CursorKey', {
      description: `recall ${stage.name}: HMAC key of list cursors (CURSOR_KEY)`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: stage.statefulRemoval,
    });
    acceptFinding(
      this.cursorKey,
      'SMG4',
      'A new cursor key only invalidates the list cursors clients hold open (they list again from the start); it is rotated by hand, and functions pick it up on the next deploy.',
    );

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: stage.logRetention,
      removalPolicy: stage.statefulRemoval,
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: `recall-${stage.name}`,
      description: `Recall and incident management API (${stage.name})`,
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
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });
    // ID tokens of both clients: the handlers read `cognito:groups` and `custom:storeId`,
    // which only ID tokens carry (their `aud` is the client id).
    const authorizer = new HttpJwtAuthorizer(
      'CognitoJwt',
      `https://cognito-idp.${this.region}.amazonaws.com/${props.userPool.userPoolId}`,
      { jwtAudience: props.userPoolClients.map((c) => c.userPoolClientId) },
    );
    const streamFailures = this.failureQueue('StreamFailures', stage);
    acceptFinding(streamFailures, 'SQS3', 'This queue is itself the on-failure destination of the stream event sources; a DLQ of a DLQ adds nothing.');
    const scheduleFailures = this.failureQueue('ScheduleFailures', stage);
    acceptFinding(scheduleFailures, 'SQS3', 'This queue is itself the dead-letter queue of the schedule targets; a DLQ of a DLQ adds nothing.');

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
          // Records older than this wait behind a failing batch: the stream is stuck.
          this.alarm(`${spec.id}-IteratorAge`, {
            metric: fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
            threshold: 5 * 60_000,
            evaluationPeriods: 5,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            summary: `${spec.id}: table stream records wait more than 5 minutes (iterator age, 5 minutes running)`,
            runbook: ALARM_RUNBOOKS.streamBacklog,
          });
          // A partial batch failure is a successful invocation (Errors stays 0): count records.
          this.alarm(`${spec.id}-RecordsFailed`, {
            metric: businessMetric(METRIC.streamRecordsFailed, Duration.minutes(5), props.stage.name),
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            summary: `${spec.id}: stream records failed and are being retried (detection or publishing is behind)`,
            runbook: ALARM_RUNBOOKS.streamBacklog,
          });
          break;
        case 'schedule':
          new events.Rule(this, `Schedule-${spec.id}`, {
            schedule: events.Schedule.rate(Duration.minutes(trigger.rateMinutes)),
            // A tick older than two minutes is superseded by the next one; a tick that cannot
            // be delivered at all lands in the dead-letter queue (alarmed) instead of vanishing.
            targets: [new targets.LambdaFunction(fn, { deadLetterQueue: scheduleFailures, retryAttempts: 2, maxEventAge: Duration.minutes(2) })],
          });
          break;
      }
      const perFunction = [
        { name: 'Errors', metric: fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }), what: 'the function failed (errors', runbook: ALARM_RUNBOOKS.functionErrors },
        { name: 'Throttles', metric: fn.metricThrottles({ statistic: 'Sum', period: Duration.minutes(5) }), what: 'invocations were throttled (throttles', runbook: ALARM_RUNBOOKS.functionThrottles },
      ];
      for (const { name, metric, what, runbook } of perFunction) {
        this.alarm(`${spec.id}-${name}`, {
          metric,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          summary: `${spec.id}: ${what} >= 1 in 5 minutes)`,
          runbook,
        });
      }
    }

    this.alarm('StreamFailures-Visible', {
      metric: streamFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      summary: 'Table stream records were given up after their retries and wait in the stream failure queue',
      runbook: ALARM_RUNBOOKS.streamFailures,
    });
    this.alarm('ScheduleFailures-Visible', {
      metric: scheduleFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      summary: 'Schedule ticks (watchdog, outbox sweeper) could not be delivered and wait in the schedule dead-letter queue',
      runbook: ALARM_RUNBOOKS.scheduleFailures,
    });
    this.alarm('Api-5xx', {
      metric: this.api.metricServerError({ period: Duration.minutes(5) }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      summary: 'The API answered 5xx (>= 5 in 5 minutes)',
      runbook: ALARM_RUNBOOKS.api5xx,
    });
    this.alarm('Outbox-PendingTooLong', {
      metric: businessMetric(METRIC.outboxPendingTooLong, Duration.minutes(5), stage.name),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      summary: 'Notices or alerts are still unpublished after the stream grace period (the sweeper found them)',
      runbook: ALARM_RUNBOOKS.outboxStuck,
    });
    this.alarm('Clock-Breaches', {
      metric: businessMetric(METRIC.clockBreaches, Duration.minutes(5), stage.name),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      summary: 'A customer clock or an incident deadline was breached (>= 1 in 5 minutes)',
      runbook: ALARM_RUNBOOKS.clockBreaches,
    });

    this.dashboard(stage, streamFailures, scheduleFailures);

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the API (RECALL_API_URL)' });
    new CfnOutput(this, 'AuthDomain', { value: props.authDomain.baseUrl(), description: 'Managed login base URL (recall login --auth-domain, RECALL_AUTH_DOMAIN)' });
    new CfnOutput(this, 'CliClientId', { value: props.cliClient.userPoolClientId, description: 'App client of recall login (--client-id, RECALL_CLIENT_ID)' });
    new CfnOutput(this, 'UserPoolId', { value: props.userPool.userPoolId, description: 'User pool: create users, groups, custom:storeId / custom:region' });
    new CfnOutput(this, 'OpsTopicArn', { value: this.opsTopic.topicArn, description: 'Every alarm and its recovery; subscribe on-call here' });
    new CfnOutput(this, 'StreamFailuresQueueUrl', { value: streamFailures.queueUrl, description: 'Stream records given up after retries (runbooks/stream-failures.md)' });
    new CfnOutput(this, 'ScheduleFailuresQueueUrl', { value: scheduleFailures.queueUrl, description: 'Schedule ticks not delivered (runbooks/schedule-failures.md)' });
  }

  private emailSubscription(id: string, topic: sns.ITopic, email: CfnParameter): void {
    const given = new CfnCondition(this, `${id}Given`, { expression: Fn.conditionNot(Fn.conditionEquals(email.valueAsString, '')) });
    const subscription = new sns.Subscription(this, id, { topic, protocol: sns.SubscriptionProtocol.EMAIL, endpoint: email.valueAsString });
    (subscription.node.defaultChild as sns.CfnSubscription).cfnOptions.condition = given;
  }

  private failureQueue(id: string, stage: StageSettings): sqs.Queue {
    return new sqs.Queue(this, id, {
      queueName: `recall-${stage.name}-${id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      removalPolicy: stage.statefulRemoval,
    });
  }

  /** One alarm: its runbook in the description, the ops topic as alarm and OK action. */
  private alarm(id: string, options: { metric: cloudwatch.IMetric; threshold: number; evaluationPeriods: number; comparisonOperator: cloudwatch.ComparisonOperator; summary: string; runbook: string }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `Alarm-${id}`, {
      alarmName: `${this.stackName}-${id}`,
      alarmDescription: `${options.summary}. Runbook: ${options.runbook}`,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      comparisonOperator: options.comparisonOperator,
      // No data means nothing happened (no invocation, no breach, an empty queue).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.opsTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** The recall desk's dashboard: the business metrics first, then the machinery. */
  private dashboard(stage: StageSettings, streamFailures: sqs.IQueue, scheduleFailures: sqs.IQueue): void {
    const fiveMinutes = Duration.minutes(5);
    const business = (title: string, names: readonly MetricName[]) =>
      new cloudwatch.GraphWidget({ title, width: 8, left: names.map((n) => businessMetric(n, fiveMinutes, stage.name)) });
    const streamSpec = (catalog as readonly FunctionSpec[]).find((s) => s.trigger.kind === 'stream');
    const streamFn = streamSpec && this.functions.get(streamSpec.id);
    new cloudwatch.Dashboard(this, 'RecallDesk', {
      dashboardName: `recall-${stage.name}-desk`,
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          business('Reports filed', [METRIC.reportsFiled]),
          business('Detection: signals and candidates', [METRIC.signals, METRIC.candidatesOpened]),
          business('Incident transitions', [METRIC.incidentTransitions]),
        ],
        [
          business('Notices published / failed', [METRIC.noticesPublished, METRIC.noticesFailed, METRIC.outboxPendingTooLong]),
          business('Store acknowledgements', [METRIC.acknowledgements]),
          business('Clock breaches', [METRIC.clockBreaches]),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'API 4xx / 5xx',
            width: 8,
            left: [this.api.metricClientError({ period: fiveMinutes }), this.api.metricServerError({ period: fiveMinutes })],
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency (p50, p99)',
            width: 8,
            left: [this.api.metricLatency({ statistic: 'p50', period: fiveMinutes }), this.api.metricLatency({ statistic: 'p99', period: fiveMinutes })],
          }),
          new cloudwatch.GraphWidget({
            title: 'Stream iterator age and failure queues',
            width: 8,
            left: streamFn ? [streamFn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) })] : [],
            right: [
              businessMetric(METRIC.streamRecordsFailed, fiveMinutes, stage.name),
              streamFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: fiveMinutes }),
              scheduleFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: fiveMinutes }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            width: 24,
            stacked: true,
            left: [...this.functions.entries()].map(([fnId, fn]) => fn.metricErrors({ statistic: 'Sum', period: fiveMinutes, label: fnId })),
          }),
        ],
      ],
    });
  }

  /** One function, its log group, its environment and its grants: wired in one place. */
  private lambdaFor(spec: FunctionSpec, props: ServiceStackProps): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${spec.id}-logs`, {
      retention: props.stage.logRetention,
      removalPolicy: props.stage.statefulRemoval,
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
        POWERTOOLS_SERVICE_NAME: metricsServiceOf(props.stage.name),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      // One definition with bench:bundles and the bundle test (infra/bundling.ts).
      bundling: {
        format: nodejs.OutputFormat.CJS,
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourcemap,
        keepNames: BUNDLING.keepNames,
        externalModules: [...BUNDLING.external],
        esbuildArgs: { '--supported:dynamic-import': String(BUNDLING.supported['dynamic-import']) },
      },
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
    });
    acceptFinding(role, 'IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords take no resource-level permissions.');
    acceptFinding(fn, 'L1', 'nodejs22.x is the runtime the team pins (STACK.md); the code is also tested on Node 20 locally.');
    // Every function, table or not: GET /taxonomy and the OpenAPI document read the taxonomy too.
    for (const [name, value] of Object.entries(POLICY_OVERRIDES)) fn.addEnvironment(name, value);
    if (spec.table !== 'none') {
      fn.addEnvironment('TABLE_NAME', props.table.tableName);
      fn.addEnvironment('CURSOR_KEY', this.cursorKey.secretValue.unsafeUnwrap());
      grantTable(role, props.table, spec);
      // The table's key: reads decrypt; writes also encrypt (the key ARN, no wildcard).
      if (spec.table === 'read') props.tableKey.grantDecrypt(role);
      else {
        props.tableKey.grantEncryptDecrypt(role);
        acceptFinding(role, 'IAM5[Action::kms:ReEncrypt*]', 'ReEncrypt*/GenerateDataKey* on the table key alone, as DynamoDB needs for writes under a customer-managed key.');
        acceptFinding(role, 'IAM5[Action::kms:GenerateDataKey*]', 'GenerateDataKey* on the table or topic key alone (named by ARN): DynamoDB writes and SNS publishes under customer-managed keys.');
      }
    }
    for (const topicId of spec.publishes) {
      fn.addEnvironment(TOPICS[topicId].envVar, props.topics[topicId].topicArn);
      // With a masterKey, grantPublish also grants kms:Decrypt and kms:GenerateDataKey* on it.
      props.topics[topicId].grantPublish(fn);
      acceptFinding(role, 'IAM5[Action::kms:GenerateDataKey*]', 'GenerateDataKey* on the table or topic key alone (named by ARN): DynamoDB writes and SNS publishes under customer-managed keys.');
    }
    return fn;
  }
}

/** Every field a request's access log line carries; the authorizer's and integration's errors included. */
export const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  sub: '$context.authorizer.claims.sub',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
  errorMessage: '$context.error.message',
} as const;

/** A business metric from the handlers (Powertools EMF: namespace and the stage's `service` dimension). */
function businessMetric(name: MetricName, period: Duration, stage: string): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: metricsServiceOf(stage) }, statistic: 'Sum', period });
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
  // The taxonomy's per-category rules merge into the detection config: validate them together.
  if (process.env.DETECTION_CONFIG || process.env.DEFECT_TAXONOMY) detectionConfigFromEnv(process.env);
  if (process.env.DETECTION_CONFIG) out.DETECTION_CONFIG = process.env.DETECTION_CONFIG;
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
export function apiThrottleFrom(env: NodeJS.ProcessEnv = process.env): { burstLimit: number; rateLimit: number } {
  const schema = z.strictObject({ burstLimit: z.number().int().min(1).max(100_000).default(200), rateLimit: z.number().min(1).max(100_000).default(100) });
  return jsonSetting('API_THROTTLE', env.API_THROTTLE ?? '{}', schema);
}
export const API_THROTTLE = apiThrottleFrom();

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
// No BatchWriteItem: nothing batches writes (it would bypass conditions).
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** Only where `deletes` is declared: key markers released when an incident is dismissed or closed. */
const DELETE_ACTIONS = ['dynamodb:DeleteItem'];

/**
 * Table access named index by index (TABLE.indexes) instead of the `index/*` wildcard the
 * L2 grants add. Writes cover transactions: TransactWriteItems is authorized per item.
 *
 * A read-only entry with `partitions` gets only those partitions (`dynamodb:LeadingKeys`;
 * on an index, the index's partition key), and for `projected` partitions only the listed
 * top-level attributes (`dynamodb:Attributes`, with `dynamodb:Select` so a Query cannot ask
 * for all of them). Where IAM cannot express a restriction:
 * - the report readers (list-reports, get-report) read report items, whose `narrative`, `deskNotes` and
 *   `contact` they show or redact per caller: the caller's role is in the JWT, which IAM does
 *   not see (one Lambda role serves every caller), so that stays in the use case;
 * - writers (readWrite) touch many partitions through transactions and conditional updates
 *   (reports, counters, markers, incidents, outbox): a LeadingKeys list would be the whole
 *   key space, and Attributes cannot be applied to UpdateItem expressions usefully;
 * - the index projections already keep `narrative`, `deskNotes` and `contact` out of every index.
 */
function grantTable(role: iam.IRole, table: dynamodb.ITableV2, spec: FunctionSpec): void {
  const indexArn = (name: string) => `${table.tableArn}/index/${name}`;
  if (spec.table === 'read' && spec.partitions) {
    grantPartitions(role, table, spec.partitions);
    return;
  }
  const actions = spec.table === 'read' ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS, ...(spec.deletes ? DELETE_ACTIONS : [])];
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: TABLE.indexes.map((index) => indexArn(index.name)) }));
}

function grantPartitions(role: iam.IRole, table: dynamodb.ITableV2, partitions: PartitionGrants): void {
  const leading = (keys: readonly string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...keys] } });
  if (partitions.table.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], resources: [table.tableArn], conditions: leading(partitions.table) }),
    );
  }
  if (partitions.projected) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [table.tableArn],
        conditions: {
          ...leading(partitions.projected.table),
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...partitions.projected.attributes] },
          StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
        },
      }),
    );
  }
  for (const [index, keys] of Object.entries(partitions.indexes)) {
    if (!TABLE.indexes.some((i) => i.name === index)) throw new Error(`catalog: unknown index ${index}`);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${index}`], conditions: leading(keys) }));
  }
}
