import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { TOPICS } from '../../shared/platform/topics.js';
import { cdkJson, ofType, ROOT, synthesize, type Resource, type Synthesized } from './synth.js';

const stages: Record<'dev' | 'prod', Synthesized> = {} as never;

beforeAll(() => {
  stages.dev = synthesize('dev');
  stages.prod = synthesize('prod');
});

const all = (s: Synthesized): [string, Resource][] => [...Object.entries(s.dataResources), ...Object.entries(s.serviceResources)];
const STATEFUL = ['AWS::DynamoDB::GlobalTable', 'AWS::KMS::Key', 'AWS::Cognito::UserPool', 'AWS::SNS::Topic', 'AWS::Logs::LogGroup', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret'];

describe('stages', () => {
  it('carry the stage in stack ids and physical names, so dev and prod share an account', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const s = stages[stage];
      expect(s.built.data.stackName).toBe(`RecallData-${stage}`);
      expect(s.built.service.stackName).toBe(`RecallService-${stage}`);
      for (const topic of Object.values(TOPICS)) s.data.hasResourceProperties('AWS::SNS::Topic', { TopicName: `recall-${stage}-${topic.name}` });
      s.service.hasResourceProperties('AWS::SNS::Topic', { TopicName: `recall-${stage}-ops` });
      s.data.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TableName: `recall-${stage}` });
      s.data.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolName: `recall-${stage}` });
      s.service.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `recall-${stage}-desk` });
      for (const [, alarm] of ofType(s.serviceResources, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmName).toMatch(new RegExp(`^RecallService-${stage}-`));
      for (const [, queue] of ofType(s.serviceResources, 'AWS::SQS::Queue')) expect(queue.Properties.QueueName).toMatch(new RegExp(`^recall-${stage}-`));
    }
  });

  it('hand the functions the stage’s real topic ARNs through the usual variables', () => {
    const fn = ofType(stages.prod.serviceResources, 'AWS::Lambda::Function').find(([, r]) => r.Properties.Environment.Variables.FUNCTION_ID === 'outbox-sweeper')![1];
    for (const topic of Object.values(TOPICS)) expect(JSON.stringify(fn.Properties.Environment.Variables[topic.envVar])).toContain('RecallData-prod');
  });

  it('prod retains every stateful resource, with deletion protection and a year of logs', () => {
    const s = stages.prod;
    for (const [id, r] of all(s).filter(([, r]) => STATEFUL.includes(r.Type))) {
      expect(r.DeletionPolicy, id).toBe('Retain');
      expect(r.UpdateReplacePolicy, id).toBe('Retain');
    }
    const [, table] = ofType(s.dataResources, 'AWS::DynamoDB::GlobalTable')[0]!;
    expect(table.Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    expect(ofType(s.dataResources, 'AWS::Cognito::UserPool')[0]![1].Properties.DeletionProtection).toBe('ACTIVE');
    for (const [id, r] of ofType(s.serviceResources, 'AWS::Logs::LogGroup')) expect(r.Properties.RetentionInDays, id).toBe(365);
  });

  it('dev can be torn down: everything is destroyed, no deletion protection, a month of logs', () => {
    const s = stages.dev;
    for (const [id, r] of all(s).filter(([, r]) => STATEFUL.includes(r.Type))) expect(r.DeletionPolicy, id).toBe('Delete');
    const [, table] = ofType(s.dataResources, 'AWS::DynamoDB::GlobalTable')[0]!;
    expect(table.Properties.Replicas[0].DeletionProtectionEnabled ?? false).toBe(false);
    expect(ofType(s.dataResources, 'AWS::Cognito::UserPool')[0]![1].Properties.DeletionProtection ?? 'INACTIVE').toBe('INACTIVE');
    for (const [id, r] of ofType(s.serviceResources, 'AWS::Logs::LogGroup')) expect(r.Properties.RetentionInDays, id).toBe(30);
  });

  it('takes the managed login prefix from the authDomainPrefix context when given', () => {
    const s = synthesize('dev', { authDomainPrefix: 'acme-recall-dev' });
    s.data.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-recall-dev' });
  });

  it('refuses an unknown stage with a message that names the allowed ones', () => {
    const app = new App({ context: { stage: 'staging', region: 'eu-west-1' } });
    expect(() => buildApp(app)).toThrow(/Unknown stage "staging": pass -c stage=dev or -c stage=prod/);
  });
});

describe('cdk.json', () => {
  it('sets every feature flag aws-cdk-lib recommends for this version', () => {
    const recommended = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/aws-cdk-lib/recommended-feature-flags.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(recommended).length).toBeGreaterThan(50);
    for (const [flag, value] of Object.entries(recommended)) {
      // Kept "strong" on purpose: CloudFormation exports stop the data stack (the table, the
      // keys) from being deleted while the service stack still uses it.
      if (flag === '@aws-cdk/core:defaultCrossStackReferences') expect(cdkJson.context[flag]).toBe('strong');
      else expect(cdkJson.context[flag], flag).toEqual(value);
    }
  });
});
