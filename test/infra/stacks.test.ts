import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, type FunctionSpec } from '../../functions/catalog.js';
import { buildApp } from '../../infra/app.js';
import { TABLE } from '../../shared/platform/table.js';
import { TOPICS, TOPIC_IDS } from '../../shared/platform/topics.js';

type Resource = { Type: string; Properties: Record<string, any> };

const cdkJson = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../cdk.json'), 'utf8'));
const outdir = mkdtempSync(path.join(tmpdir(), 'recall-cdk-'));
// Skips esbuild bundling and CloudFormation validation: a template in milliseconds.
const app = new App({
  outdir,
  context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
  builtinCloudFormationValidation: false,
} as ConstructorParameters<typeof App>[0]);
const { data, service } = buildApp(app);
let serviceTemplate: Template;
let dataTemplate: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  app.synth();
  serviceTemplate = Template.fromStack(service);
  dataTemplate = Template.fromStack(data);
  resources = serviceTemplate.toJSON().Resources;
});

function functionLogicalId(spec: FunctionSpec): string {
  const found = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.FUNCTION_ID === spec.id,
  );
  expect(found, `exactly one Lambda for catalog entry ${spec.id}`).toHaveLength(1);
  return found[0]![0];
}

/** Every action and resource the function's role may use, from its inline policies. */
function grantsOf(spec: FunctionSpec): { action: string; resource: string }[] {
  const fn = resources[functionLogicalId(spec)]!;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: any) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as any[]);
  return statements.flatMap((s) =>
    [s.Action].flat().flatMap((action: string) => [s.Resource].flat().map((res: unknown) => ({ action, resource: JSON.stringify(res) }))),
  );
}

const specs = catalog as readonly FunctionSpec[];

describe('infrastructure', () => {
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
        const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey);
        expect(routes).toHaveLength(1);
        const route = routes[0]!;
        expect(route.Properties.AuthorizationType ?? 'NONE').toBe(trigger.roles === 'public' ? 'NONE' : 'JWT');
        const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)![1]!;
        expect(JSON.stringify(resources[integrationId]!.Properties.IntegrationUri)).toContain(fnId);
      } else if (trigger.kind === 'stream') {
        serviceTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: fnId },
          BatchSize: trigger.batchSize,
          MaximumRetryAttempts: trigger.retryAttempts,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          FilterCriteria: { Filters: [{ Pattern: JSON.stringify(trigger.filter) }] },
          DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
        });
      } else {
        serviceTemplate.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: `rate(${trigger.rateMinutes} minute${trigger.rateMinutes === 1 ? '' : 's'})`,
          Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })]),
        });
      }
    });

    it.each(specs.map((s) => [s.id, s] as const))('%s has only the grants it declares', (_id, spec) => {
      const grants = grantsOf(spec);
      const dynamo = grants.filter((g) => g.action.startsWith('dynamodb:') && !g.action.includes('Stream') && !g.action.includes('ListStreams'));
      const writes = dynamo.filter((g) => /Put|Update|Delete|BatchWrite/.test(g.action));
      if (spec.table === 'none') expect(dynamo).toEqual([]);
      if (spec.table === 'read') {
        expect(dynamo.length).toBeGreaterThan(0);
        expect(writes).toEqual([]);
      }
      if (spec.table === 'readWrite') expect(writes.map((w) => w.action)).toContain('dynamodb:PutItem');
      expect(grants.every((g) => g.resource !== '"*"' || g.action.startsWith('xray:'))).toBe(true);

      const publishes = grants.filter((g) => g.action === 'sns:Publish');
      for (const topicId of TOPIC_IDS) {
        const logicalPrefix = `${topicId[0]!.toUpperCase()}${topicId.slice(1)}Topic`;
        const granted = publishes.some((g) => g.resource.includes(logicalPrefix));
        expect(granted, `${spec.id} publish to ${topicId}`).toBe((spec.publishes as readonly string[]).includes(topicId));
      }
    });

    it('builds no function, route, event source or schedule that the catalog does not name', () => {
      const count = (type: string) => Object.values(resources).filter((r) => r.Type === type).length;
      expect(count('AWS::Lambda::Function')).toBe(specs.length);
      expect(count('AWS::ApiGatewayV2::Route')).toBe(specs.filter((s) => s.trigger.kind === 'http').length);
      expect(count('AWS::Lambda::EventSourceMapping')).toBe(specs.filter((s) => s.trigger.kind === 'stream').length);
      expect(count('AWS::Events::Rule')).toBe(specs.filter((s) => s.trigger.kind === 'schedule').length);
    });

    const authenticated = specs.some((s) => s.trigger.kind === 'http' && s.trigger.roles !== 'public');
    it.runIf(authenticated)('puts the authenticated routes behind the Cognito JWT authorizer', () => {
      serviceTemplate.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        JwtConfiguration: { Issuer: Match.anyValue(), Audience: Match.anyValue() },
      });
    });
  });

  describe('API', () => {
    it('throttles every route on the stage (deploy-time burst and rate)', () => {
      serviceTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 } });
    });
  });

  describe('data stack', () => {
    it('keeps the table safe: on demand, PITR, deletion protection, stream with both images', () => {
      dataTemplate.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
          Replicas: [Match.objectLike({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
        }),
      });
    });

    it('defines exactly the indexes of the shared table definition', () => {
      const table = Object.values(dataTemplate.toJSON().Resources as Record<string, Resource>).find((r) => r.Type === 'AWS::DynamoDB::GlobalTable')!;
      const names = table.Properties.GlobalSecondaryIndexes.map((i: any) => i.IndexName);
      expect(names).toEqual(TABLE.indexes.map((i) => i.name));
    });

    it('creates every topic, encrypted', () => {
      for (const topic of Object.values(TOPICS)) {
        dataTemplate.hasResourceProperties('AWS::SNS::Topic', { TopicName: topic.name, KmsMasterKeyId: Match.anyValue() });
      }
    });

    it('lets only the mail integration subscribe to customer replies, the one topic with contacts', () => {
      const policies = Object.values(dataTemplate.toJSON().Resources as Record<string, Resource>).filter((r) => r.Type === 'AWS::SNS::TopicPolicy');
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
      const deny = statements.find((st) => st.Sid === 'OnlyTheMailIntegrationSubscribes');
      expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sns:Subscribe', Condition: { StringNotEquals: { 'aws:PrincipalTag/recall-role': 'mail-integration' } } });
      const topics = policies.filter((p) => (p.Properties.PolicyDocument.Statement as any[]).some((st) => st.Sid === 'OnlyTheMailIntegrationSubscribes')).flatMap((p) => p.Properties.Topics);
      expect(JSON.stringify(topics)).toContain('CustomerRepliesTopic');
    });

    it('lets no user write custom:storeId or custom:region, and has no OAuth flow or placeholder callback', () => {
      const clients = Object.values(dataTemplate.toJSON().Resources as Record<string, Resource>).filter((r) => r.Type === 'AWS::Cognito::UserPoolClient');
      expect(clients).toHaveLength(1);
      const client = clients[0]!.Properties;
      expect(client.WriteAttributes).toEqual(expect.arrayContaining(['email', 'name']));
      expect(client.WriteAttributes.some((a: string) => a.startsWith('custom:'))).toBe(false);
      expect(client.AllowedOAuthFlows).toBeUndefined();
      expect(client.CallbackURLs).toBeUndefined();
      expect(client.AllowedOAuthFlowsUserPoolClient).not.toBe(true);
    });

    it('creates a user group per role', () => {
      for (const role of ['agent', 'qa', 'executive', 'store', 'admin']) {
        dataTemplate.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: role });
      }
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('passes, and every acknowledged finding carries a written reason', () => {
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
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
