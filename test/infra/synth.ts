import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type StageName } from '../../infra/app.js';

export type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string };

export const ROOT = path.join(import.meta.dirname, '../..');
export const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));

export interface Synthesized {
  readonly outdir: string;
  readonly built: ReturnType<typeof buildApp>;
  readonly data: Template;
  readonly service: Template;
  readonly dataResources: Record<string, Resource>;
  readonly serviceResources: Record<string, Resource>;
}

/**
 * Synthesizes one stage with the project's own cdk.json context (feature flags included),
 * skipping esbuild bundling and CloudFormation validation: a template in about a second.
 * Call once per stage and file (beforeAll) and share the result.
 */
export function synthesize(stage: StageName, extraContext: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), `recall-cdk-${stage}-`));
  const app = new App({
    outdir,
    context: { ...cdkJson.context, stage, region: 'eu-west-1', ...extraContext, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  } as ConstructorParameters<typeof App>[0]);
  const built = buildApp(app);
  app.synth();
  const data = Template.fromStack(built.data);
  const service = Template.fromStack(built.service);
  return { outdir, built, data, service, dataResources: data.toJSON().Resources, serviceResources: service.toJSON().Resources };
}

export function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
export const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

/** True when `runbooks/<file>.md[#anchor]` exists on disk, with that section. */
export function runbookExists(link: string): boolean {
  const [file, anchor] = link.split('#') as [string, string | undefined];
  let text: string;
  try {
    text = readFileSync(path.join(ROOT, file), 'utf8');
  } catch {
    return false;
  }
  return !anchor || [...text.matchAll(/^#{2,4} (.+)$/gm)].some((m) => slug(m[1]!) === anchor);
}
