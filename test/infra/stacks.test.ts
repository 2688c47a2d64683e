import { Match } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, type FunctionSpec } from '../../functions/catalog.js';
import { CLI_CALLBACK_URL } from '../../infra/data-stack.js';
import { ACCESS_LOG_FORMAT, ALARM_RUNBOOKS, apiThrottleFrom } from '../../infra/service-stack.js';
import { METRIC, METRICS_NAMESPACE, metricsServiceOf } from '../../shared/platform/metrics.js';
import { TABLE } from '../../shared/platform/table.js';
import { TOPICS, TOPIC_IDS } from '../../shared/platform/topics.js';
import { ofType, runbookExists, synthesize, type Resource, type Synthesized } from './synth.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

let dev: Synthesized;
let resources: Record<string, Resource>;
let dataResources: Record<string, Resource>;

beforeAll(() => {
  dev = synthesize('dev');
  resources = dev.serviceResources;
  dataResources = dev.dataResources;
});

const specs = catalog as readonly FunctionSpec[];
const byId = (id: string) => specs.find((s) => s.id === id)!;
const topicLogicalPrefix = (topicId: string) => `${topicId[0]!.toUpperCase()}${topicId.slice(1)}Topic`;
const json = (value: unknown) => JSON.stringify(value);

function functionLogicalId(spec: FunctionSpec): string {
  const found = ofType(resources, 'AWS::Lambda::Function').filter(([, r]) => r.Properties.Environment?.Variables?.FUNCTION_ID === spec.id);
  expect(found, `exactly one Lambda for catalog entry ${spec.id}`).toHaveLength(1);
  return found[0]![0];
}

/** Every statement of the function's role, from all its inline policies. */
function statementsOf(spec: FunctionSpec): Statement[] {
  const fn = resources[functionLogicalId(spec)]!;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  expect(ofType(resources, 'AWS::IAM::ManagedPolicy').filter(([, r]) => json(r.Properties.Roles).includes(roleId))).toEqual([]);
  expect(resources[roleId]!.Properties.ManagedPolicyArns ?? []).toEqual([]);
  return ofType(resources, 'AWS::IAM::Policy')
    .filter(([, r]) => r.Properties.Roles.some((ref: any) => ref.Ref === roleId))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[]);
}

const READS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
const STREAM = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
const KMS_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/**
 * Fails on any statement the catalog entry does not account for: the role may write its own
 * logs, trace, use the table as declared (partitions, deletes), decrypt/encrypt with the table
 * key accordingly, publish to its declared topics (with the topic key), and, for the stream
 * function only, read the stream and send to its failure queue.
 */
function expectOnlyCatalogGrants(spec: FunctionSpec, statements: Statement[]): void {
  const fnId = functionLogicalId(spec);
  const ownLogGroup = json(resources[fnId]!.Properties.LoggingConfig.LogGroup);
  const isStream = spec.trigger.kind === 'stream';
  for (const s of statements) {
    const actions = [s.Action].flat();
    const targets = [s.Resource].flat().map(json);
    const where = `${spec.id}: ${json(s)}`;
    expect(s.Effect, where).toBe('Allow');
    const subset = (allowed: readonly string[]) => expect(actions.filter((a) => !allowed.includes(a)), where).toEqual([]);
    if (actions.every((a) => a.startsWith('logs:'))) {
      subset(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const t of targets) expect(t, where).toBe(json({ 'Fn::GetAtt': [JSON.parse(ownLogGroup).Ref, 'Arn'] }));
    } else if (actions.every((a) => a.startsWith('xray:'))) {
      subset(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
    } else if (actions.every((a) => STREAM.includes(a))) {
      expect(isStream, where).toBe(true);
      for (const t of targets) expect(t, where).toContain('StreamArn');
    } else if (actions.every((a) => a.startsWith('sqs:'))) {
      expect(isStream, where).toBe(true);
      subset(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']);
      for (const t of targets) expect(t, where).toContain('StreamFailures');
    } else if (actions.every((a) => a.startsWith('kms:'))) {
      for (const t of targets) {
        if (t.includes('TableKey')) {
          expect(spec.table, where).not.toBe('none');
          subset(spec.table === 'read' ? ['kms:Decrypt'] : KMS_WRITE);
        } else {
          expect(t, where).toContain('TopicKey');
          expect(spec.publishes.length, where).toBeGreaterThan(0);
          subset(['kms:Decrypt', 'kms:GenerateDataKey*']);
        }
      }
    } else if (actions.every((a) => a === 'sns:Publish')) {
      for (const t of targets) expect(spec.publishes.some((p) => t.includes(topicLogicalPrefix(p))), where).toBe(true);
    } else if (actions.every((a) => a.startsWith('dynamodb:'))) {
      expect(spec.table, where).not.toBe('none');
      for (const t of targets) expect(t, where).toContain('RecallTable');
      const allowed = spec.table === 'read' ? READS : [...READS, ...WRITES, ...(spec.deletes ? ['dynamodb:DeleteItem'] : [])];
      subset(allowed);
      if (spec.partitions) expectPartitionCondition(spec, s, targets, where);
    } else {
      expect.fail(`unexpected statement for ${where}`);
    }
  }
}

function expectPartitionCondition(spec: FunctionSpec, s: Statement, targets: string[], where: string): void {
  const partitions = spec.partitions!;
  const leading = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
  expect(leading, `${where} has a LeadingKeys condition`).toBeDefined();
  for (const t of targets) {
    const index = /\/index\/(\w+)/.exec(t)?.[1];
    if (index) {
      expect(partitions.indexes[index], where).toEqual(leading);
      expect([s.Action].flat(), where).toEqual(['dynamodb:Query']);
    } else if (s.Condition?.['ForAllValues:StringEquals']) {
      expect(leading, where).toEqual(partitions.projected?.table);
      expect(s.Condition['ForAllValues:StringEquals']!['dynamodb:Attributes'], where).toEqual(partitions.projected?.attributes);
      expect(s.Condition['StringEqualsIfExists'], where).toEqual({ 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' });
    } else {
      expect(leading, where).toEqual(partitions.table);
    }
  }
}

describe('infrastructure (dev stage)', () => {
  describe('service stack against the catalog', () => {
    it.each(specs.map((s) => [s.id, s] as const))('%s has its function on nodejs22.x arm64', (_id, spec) => {
      const fn = resources[functionLogicalId(spec)]!;
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe('index.handler');
    });

    it.each(specs.map((s) => [s.id, s] as const))('%s has its trigger', (_id, spec) => {
      const fnId = functionLogicalId(spec);
      const trigger = spec.trigger;
      if (trigger.kind === 'http') {
        const routeKey = trigger.path === '$default' ? '$default' : `${trigger.method} ${trigger.path}`;
        const routes = ofType(resources, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === routeKey);
        expect(routes).toHaveLength(1);
        const route = routes[0]![1];
        expect(route.Properties.AuthorizationType ?? 'NONE').toBe(trigger.roles === 'public' ? 'NONE' : 'JWT');
        const integrationId = json(route.Properties.Target).match(/"Ref":"([^"]+)"/)![1]!;
        expect(json(resources[integrationId]!.Properties.IntegrationUri)).toContain(fnId);
      } else if (trigger.kind === 'stream') {
        dev.service.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: fnId },
          BatchSize: trigger.batchSize,
          MaximumRetryAttempts: trigger.retryAttempts,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          FilterCriteria: { Filters: [{ Pattern: JSON.stringify(trigger.filter) }] },
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamFailures'), 'Arn'] } } },
        });
      } else {
        dev.service.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: `rate(${trigger.rateMinutes} minute${trigger.rateMinutes === 1 ? '' : 's'})`,
          Targets: Match.arrayWith([
            Match.objectLike({
              Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleFailures'), 'Arn'] } },
              RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
            }),
          ]),
        });
      }
    });

    it.each(specs.map((s) => [s.id, s] as const))('%s allows nothing beyond its catalog grants', (_id, spec) => {
      const statements = statementsOf(spec);
      expectOnlyCatalogGrants(spec, statements);
      const actions = statements.flatMap((s) => [s.Action].flat());
      // What it declares, it has.
      if (spec.table === 'readWrite') expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
      if (spec.table !== 'none') expect(actions.some((a) => a.startsWith('dynamodb:') && !STREAM.includes(a))).toBe(true);
      expect(actions.includes('dynamodb:DeleteItem'), `${spec.id} DeleteItem`).toBe(spec.deletes === true);
      expect(actions).not.toContain('dynamodb:BatchWriteItem');
      expect(actions).not.toContain('dynamodb:Scan');
      const publishes = statements.filter((s) => [s.Action].flat().includes('sns:Publish')).flatMap((s) => [s.Resource].flat().map(json));
      for (const topicId of TOPIC_IDS) {
        expect(publishes.some((r) => r.includes(topicLogicalPrefix(topicId))), `${spec.id} publish to ${topicId}`).toBe((spec.publishes as readonly string[]).includes(topicId));
      }
      if (spec.partitions) {
        for (const index of Object.keys(spec.partitions.indexes)) {
          expect(statements.some((s) => json(s.Resource).includes(`/index/${index}`)), `${spec.id} reads ${index}`).toBe(true);
        }
        // No unconditioned table access at all.
        expect(statements.filter((s) => [s.Action].flat().some((a) => READS.includes(a)) && !s.Condition)).toEqual([]);
      }
    });

    it('gives DeleteItem only to the functions whose code releases key markers', () => {
      // Callers of DeleteCommand / transactional Delete in shared/: releaseStaleKey (detection on
      // the stream, createIncident) and saveIncidents' releaseKeys (dismiss, close).
      expect(specs.filter((s) => s.deletes).map((s) => s.id).sort()).toEqual(['incident-action', 'on-table-change', 'open-incident']);
    });

    it('keeps the aggregate readers off report items (LeadingKeys)', () => {
      for (const id of ['list-clusters', 'list-incidents', 'incident-effectiveness', 'list-stores', 'store-notices', 'public-notices']) {
        const leading = statementsOf(byId(id)).flatMap((s) => (s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined) ?? []);
        expect(leading.length, id).toBeGreaterThan(0);
        expect(leading.filter((k) => k.startsWith('REPORT') || k === '*'), id).toEqual([]);
      }
      const clusters = statementsOf(byId('list-clusters')).filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
      expect(clusters).toHaveLength(1);
      expect(clusters[0]).toMatchObject({ Effect: 'Allow', Action: 'dynamodb:Query', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CLUSTER'] } } });
      expect(json(clusters[0]!.Resource)).toContain('/index/byKind');
    });

    it('lets the incident views read only the case record of a linked report (dynamodb:Attributes)', () => {
      for (const id of ['get-incident', 'incident-report']) {
        const reportRead = statementsOf(byId(id)).filter((s) => json(s.Condition ?? {}).includes('REPORT#'));
        expect(reportRead, id).toHaveLength(1);
        expect(reportRead[0]!.Condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REPORT#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'record'] },
          StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
        });
        expect([reportRead[0]!.Action].flat().sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
      }
    });

    it('builds no function, route, event source or schedule that the catalog does not name', () => {
      const count = (type: string) => ofType(resources, type).length;
      expect(count('AWS::Lambda::Function')).toBe(specs.length);
      expect(count('AWS::ApiGatewayV2::Route')).toBe(specs.filter((s) => s.trigger.kind === 'http').length);
      expect(count('AWS::Lambda::EventSourceMapping')).toBe(specs.filter((s) => s.trigger.kind === 'stream').length);
      expect(count('AWS::Events::Rule')).toBe(specs.filter((s) => s.trigger.kind === 'schedule').length);
    });

    it('signs cursors with a generated secret that reaches every table function as a dynamic reference', () => {
      const secrets = ofType(resources, 'AWS::SecretsManager::Secret');
      expect(secrets).toHaveLength(1);
      const [secretId, secret] = secrets[0]!;
      expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
      expect(secret.Properties.SecretString).toBeUndefined();
      for (const spec of specs) {
        const value = resources[functionLogicalId(spec)]!.Properties.Environment.Variables.CURSOR_KEY;
        if (spec.table === 'none') expect(value, spec.id).toBeUndefined();
        else expect(json(value), spec.id).toMatch(new RegExp(`^\\{"Fn::Join":\\["",\\["\\{\\{resolve:secretsmanager:",\\{"Ref":"${secretId}"\\},":SecretString:::\\}\\}"\\]\\]\\}$`));
      }
    });
  });

  describe('API', () => {
    it('throttles every route on the stage (deploy-time burst and rate)', () => {
      dev.service.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 } });
    });

    it('takes the throttle from API_THROTTLE, and refuses a bad one naming the field', () => {
      expect(apiThrottleFrom({ API_THROTTLE: '{"burstLimit":50}' })).toEqual({ burstLimit: 50, rateLimit: 100 });
      expect(apiThrottleFrom({ API_THROTTLE: '{"burstLimit":500,"rateLimit":20}' })).toEqual({ burstLimit: 500, rateLimit: 20 });
      expect(() => apiThrottleFrom({ API_THROTTLE: '{"rateLimit":0}' })).toThrow(/API_THROTTLE\.rateLimit/);
      expect(() => apiThrottleFrom({ API_THROTTLE: '{"burst":5}' })).toThrow(/API_THROTTLE/);
      expect(() => apiThrottleFrom({ API_THROTTLE: 'fast' })).toThrow(/not JSON/);
    });

    it('logs every request with the authorizer and integration errors', () => {
      const stage = ofType(resources, 'AWS::ApiGatewayV2::Stage')[0]![1];
      const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
      expect(format).toEqual(ACCESS_LOG_FORMAT);
      for (const variable of ['$context.authorizer.error', '$context.integrationErrorMessage', '$context.error.message', '$context.status', '$context.routeKey', '$context.responseLatency', '$context.requestId', '$context.authorizer.claims.sub']) {
        expect(Object.values(format)).toContain(variable);
      }
    });

    it('accepts the ID tokens of both app clients (audience = both client ids)', () => {
      const authorizers = ofType(resources, 'AWS::ApiGatewayV2::Authorizer');
      expect(authorizers).toHaveLength(1);
      const config = authorizers[0]![1].Properties.JwtConfiguration;
      expect(authorizers[0]![1].Properties.AuthorizerType).toBe('JWT');
      expect(json(config.Issuer)).toContain('cognito-idp');
      const audience = json(config.Audience);
      expect(config.Audience).toHaveLength(2);
      expect(audience).toContain('UsersApiClient');
      expect(audience).toContain('UsersCliClient');
    });

    it('outputs what an operator needs', () => {
      const outputs = Object.keys(dev.service.toJSON().Outputs);
      expect(outputs).toEqual(expect.arrayContaining(['ApiUrl', 'AuthDomain', 'CliClientId', 'UserPoolId', 'OpsTopicArn', 'StreamFailuresQueueUrl', 'ScheduleFailuresQueueUrl']));
      const authDomain = json(dev.service.toJSON().Outputs.AuthDomain.Value);
      expect(authDomain).toContain('https://');
      expect(authDomain).toContain('.auth.eu-west-1.amazoncognito.com');
    });
  });

  describe('data stack', () => {
    it('keeps the table safe: on demand, PITR, customer-managed key, stream with the new image only', () => {
      const [, table] = ofType(dataResources, 'AWS::DynamoDB::GlobalTable')[0]!;
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      });
      const replica = table.Properties.Replicas[0];
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      const keyId = replica.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0];
      expect(dataResources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
    });

    it('has a stream reader that reads only the new image', () => {
      const source = readFileSync(path.join(import.meta.dirname, '../../functions/on-table-change.ts'), 'utf8');
      expect(source).toContain('NewImage');
      expect(source).not.toContain('OldImage');
      expect(json(byId('on-table-change').trigger)).not.toContain('OldImage');
    });

    it('defines exactly the indexes of the shared table definition', () => {
      const [, table] = ofType(dataResources, 'AWS::DynamoDB::GlobalTable')[0]!;
      expect(table.Properties.GlobalSecondaryIndexes.map((i: any) => i.IndexName)).toEqual(TABLE.indexes.map((i) => i.name));
    });

    it('encrypts every topic with the rotating topic key, which CloudWatch alarms may use', () => {
      const [keyId, key] = ofType(dataResources, 'AWS::KMS::Key').find(([id]) => id.startsWith('TopicKey'))!;
      expect(key.Properties.EnableKeyRotation).toBe(true);
      for (const topic of Object.values(TOPICS)) {
        dev.data.hasResourceProperties('AWS::SNS::Topic', { TopicName: `recall-dev-${topic.name}`, KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      }
      const statement = (key.Properties.KeyPolicy.Statement as any[]).find((s) => s.Sid === 'AlarmsUseTheTopicKey');
      expect(statement).toMatchObject({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] });
      expect(statement.Principal.Service).toEqual('cloudwatch.amazonaws.com');
    });

    it('lets only the mail integration subscribe to customer replies, the one topic with contacts', () => {
      const policies = ofType(dataResources, 'AWS::SNS::TopicPolicy').map(([, p]) => p);
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
      const deny = statements.find((st) => st.Sid === 'OnlyTheMailIntegrationSubscribes');
      expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sns:Subscribe', Condition: { StringNotEquals: { 'aws:PrincipalTag/recall-role': 'mail-integration' } } });
      const topics = policies.filter((p) => (p.Properties.PolicyDocument.Statement as any[]).some((st) => st.Sid === 'OnlyTheMailIntegrationSubscribes')).flatMap((p) => p.Properties.Topics);
      expect(json(topics)).toContain('CustomerRepliesTopic');
    });

    const client = (prefix: string) => {
      const found = ofType(dataResources, 'AWS::Cognito::UserPoolClient').filter(([id]) => id.startsWith(prefix));
      expect(found).toHaveLength(1);
      return found[0]![1].Properties;
    };

    it('has exactly two app clients, and neither lets a user write any custom attribute', () => {
      expect(ofType(dataResources, 'AWS::Cognito::UserPoolClient')).toHaveLength(2);
      for (const prefix of ['UsersApiClient', 'UsersCliClient']) {
        const props = client(prefix);
        expect(props.WriteAttributes).toEqual(expect.arrayContaining(['email', 'name']));
        expect(props.WriteAttributes.some((a: string) => a.startsWith('custom:')), prefix).toBe(false);
      }
    });

    it('keeps the SRP client free of OAuth flows and placeholder callbacks', () => {
      const props = client('UsersApiClient');
      expect(props.AllowedOAuthFlows).toBeUndefined();
      expect(props.CallbackURLs).toBeUndefined();
      expect(props.AllowedOAuthFlowsUserPoolClient).not.toBe(true);
    });

    it('has a public CLI client: code grant (PKCE) only, loopback callback, 30-day refresh, 1-hour ID token', () => {
      const props = client('UsersCliClient');
      expect(props.GenerateSecret).toBe(false);
      expect(props.AllowedOAuthFlowsUserPoolClient).toBe(true);
      expect(props.AllowedOAuthFlows).toEqual(['code']);
      expect([...props.AllowedOAuthScopes].sort()).toEqual(['email', 'openid', 'profile']);
      expect(props.CallbackURLs).toEqual([CLI_CALLBACK_URL]);
      expect(props.LogoutURLs).toEqual([CLI_CALLBACK_URL]);
      expect(CLI_CALLBACK_URL).toBe('http://localhost:8765/callback');
      expect(props.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
      expect(props.SupportedIdentityProviders).toEqual(['COGNITO']);
      expect(props.RefreshTokenValidity).toBe(30 * 24 * 60);
      expect(props.IdTokenValidity).toBe(60);
      expect(props.TokenValidityUnits).toMatchObject({ IdToken: 'minutes', RefreshToken: 'minutes' });
      expect(props.EnableTokenRevocation).toBe(true);
    });

    it('has a Cognito domain with the managed login, styled for the CLI client', () => {
      dev.data.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 2, Domain: Match.anyValue() });
      const [, domain] = ofType(dataResources, 'AWS::Cognito::UserPoolDomain')[0]!;
      expect(json(domain.Properties.Domain)).toContain('recall-dev-');
      dev.data.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', { UseCognitoProvidedValues: true, ClientId: { Ref: Match.stringLikeRegexp('^UsersCliClient') } });
    });

    it('creates a user group per role', () => {
      for (const role of ['agent', 'qa', 'executive', 'store', 'admin']) {
        dev.data.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: role });
      }
    });
  });

  describe('operations', () => {
    const alarms = (): Record<string, any>[] => ofType(resources, 'AWS::CloudWatch::Alarm').map(([id, a]) => ({ id, ...a.Properties }));
    const opsTopicId = () => ofType(resources, 'AWS::SNS::Topic').find(([id]) => id.startsWith('OpsTopic'))![0];

    it('has an ops topic encrypted with the topic key, which CloudWatch alarms may publish to', () => {
      const [, topic] = ofType(resources, 'AWS::SNS::Topic').find(([id]) => id.startsWith('OpsTopic'))!;
      expect(topic.Properties.TopicName).toBe('recall-dev-ops');
      expect(json(topic.Properties.KmsMasterKeyId)).toContain('TopicKey');
      const statements = ofType(resources, 'AWS::SNS::TopicPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
      expect(statements.find((s) => s.Sid === 'CloudWatchAlarmsPublish')).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' });
    });

    it('sends every alarm and its recovery to the ops topic, and links an existing runbook', () => {
      expect(alarms().length).toBeGreaterThan(0);
      for (const alarm of alarms()) {
        expect(alarm.AlarmActions, alarm.id).toEqual([{ Ref: opsTopicId() }]);
        expect(alarm.OKActions, alarm.id).toEqual([{ Ref: opsTopicId() }]);
        const link = /runbooks\/[\w-]+\.md(?:#[\w-]+)?/.exec(alarm.AlarmDescription)?.[0];
        expect(link, alarm.id).toBeDefined();
        expect(runbookExists(link!), `${alarm.id}: ${link}`).toBe(true);
      }
      for (const link of Object.values(ALARM_RUNBOOKS)) expect(runbookExists(link), link).toBe(true);
    });

    it('alarms on each function’s errors and throttles', () => {
      for (const spec of specs) {
        const fnId = functionLogicalId(spec);
        for (const metric of ['Errors', 'Throttles']) {
          const found = alarms().filter((a) => a.MetricName === metric && a.Namespace === 'AWS/Lambda' && json(a.Dimensions).includes(fnId));
          expect(found, `${spec.id} ${metric}`).toHaveLength(1);
          expect(found[0]).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum', Period: 300, TreatMissingData: 'notBreaching' });
        }
      }
    });

    it('alarms on the stream’s iterator age, the failure queues, API 5xx and the business metrics', () => {
      const stream = specs.find((s) => s.trigger.kind === 'stream')!;
      expect(alarms().find((a) => a.MetricName === 'IteratorAge')).toMatchObject({ Statistic: 'Maximum', Threshold: 300_000, Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(stream) } }] });
      for (const queue of ['StreamFailures', 'ScheduleFailures']) {
        const found = alarms().filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && json(a.Dimensions).includes(queue));
        expect(found, queue).toHaveLength(1);
        expect(found[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      }
      expect(alarms().find((a) => a.MetricName === '5xx')).toMatchObject({ Namespace: 'AWS/ApiGateway', Statistic: 'Sum', Threshold: 5 });
      for (const name of [METRIC.outboxPendingTooLong, METRIC.clockBreaches, METRIC.streamRecordsFailed]) {
        expect(alarms().find((a) => a.MetricName === name), name).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'service', Value: metricsServiceOf('dev') }], Threshold: 1 });
      }
      // Errors and throttles per function; iterator age and failed records; two queues; 5xx; two business metrics.
      expect(alarms()).toHaveLength(specs.length * 2 + 2 + 2 + 1 + 2);
    });

    it('has a dead-letter queue for the schedule targets, encrypted and TLS-only', () => {
      const [, queue] = ofType(resources, 'AWS::SQS::Queue').find(([id]) => id.startsWith('ScheduleFailures'))!;
      expect(queue.Properties).toMatchObject({ QueueName: 'recall-dev-schedule-failures', SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
      const policy = ofType(resources, 'AWS::SQS::QueuePolicy').find(([, p]) => json(p.Properties.Queues).includes('ScheduleFailures'))![1];
      const statements = policy.Properties.PolicyDocument.Statement as any[];
      expect(statements.some((s) => s.Effect === 'Deny' && json(s.Condition).includes('aws:SecureTransport'))).toBe(true);
      expect(statements.some((s) => s.Effect === 'Allow' && s.Principal?.Service === 'events.amazonaws.com')).toBe(true);
    });

    it('subscribes e-mail to incident-alerts and ops only when the parameters are given', () => {
      const template = dev.service.toJSON();
      for (const [parameter, topic] of [['AlertEmail', 'IncidentAlertsTopic'], ['OpsEmail', 'OpsTopic']] as const) {
        expect(template.Parameters[parameter]).toMatchObject({ Type: 'String', Default: '' });
        const subscriptions = ofType(resources, 'AWS::SNS::Subscription').filter(([, s]) => json(s.Properties.TopicArn).includes(topic));
        expect(subscriptions, parameter).toHaveLength(1);
        const [, subscription] = subscriptions[0]!;
        expect(subscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: parameter } });
        expect(template.Conditions[subscription.Condition!]).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: parameter }, ''] }] });
      }
    });

    it('has one dashboard for the recall desk with the business metrics, the API and the stream', () => {
      const dashboards = ofType(resources, 'AWS::CloudWatch::Dashboard');
      expect(dashboards).toHaveLength(1);
      const [, dashboard] = dashboards[0]!;
      expect(dashboard.Properties.DashboardName).toBe('recall-dev-desk');
      const body = json(dashboard.Properties.DashboardBody);
      for (const name of Object.values(METRIC)) expect(body, name).toContain(`\\"${name}\\"`);
      for (const name of ['4xx', '5xx', 'Latency', 'IteratorAge', 'Errors']) expect(body, name).toContain(`\\"${name}\\"`);
      expect(body).toContain(METRICS_NAMESPACE);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('passes, and every acknowledged finding carries a written reason', () => {
      const report = JSON.parse(readFileSync(path.join(dev.outdir, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((p: { pluginName: string }) => p.pluginName === 'AwsSolutions');
      expect(nag, 'the AwsSolutions plugin ran').toBeDefined();
      expect(nag.violations).toEqual([]);
      expect(nag.conclusion).toBe('success');
      expect(nag.suppressedViolations.length).toBeGreaterThan(0);
      for (const suppressed of nag.suppressedViolations) {
        expect(String(suppressed.reason ?? '').trim().split(/\s+/).length, suppressed.ruleName).toBeGreaterThanOrEqual(5);
      }
    });
  });
});
