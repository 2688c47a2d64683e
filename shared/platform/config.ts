import * as z from 'zod';
import { TOPICS, type TopicId } from './topics.js';

/**
 * Every environment variable a function may read, with what it is for. The CDK service
 * stack and the local runtime set them; functions parse the ones they need at cold start
 * and fail fast with a message that names each missing or invalid variable.
 */
export const ENV_VARS = {
  TABLE_NAME: z.string().min(1).describe('DynamoDB table name (set from the data stack)'),
  FUNCTION_ID: z.string().min(1).describe('catalog id of the running function'),
  STORE_NOTICES_TOPIC_ARN: arn(TOPICS.storeNotices.name),
  PUBLIC_NOTICES_TOPIC_ARN: arn(TOPICS.publicNotices.name),
  INCIDENT_ALERTS_TOPIC_ARN: arn(TOPICS.incidentAlerts.name),
  CUSTOMER_REPLIES_TOPIC_ARN: arn(TOPICS.customerReplies.name),
} as const;

function arn(topic: string) {
  return z
    .string()
    .regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN')
    .describe(`ARN of the ${topic} topic`);
}

export type EnvName = keyof typeof ENV_VARS;
export type Config<K extends EnvName> = { readonly [P in K]: z.infer<(typeof ENV_VARS)[P]> };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the named variables from `env`; throws ConfigError naming every bad one. */
export function loadConfig<K extends EnvName>(
  names: readonly K[],
  env: Record<string, string | undefined> = process.env,
): Config<K> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const schema = ENV_VARS[name];
    const value = env[name];
    if (value === undefined || value === '') {
      problems.push(`${name} is not set (${schema.description})`);
      continue;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name}=${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Config<K>;
}

/**
 * A deploy-time setting given as JSON in an environment variable (`CLOCK_POLICY`,
 * `INCIDENT_POLICY`, `API_THROTTLE`): parsed, optionally shaped (defaults merged in), then
 * validated; a ConfigError names the variable and every offending path.
 */
export function jsonSetting<S extends z.ZodType>(name: string, raw: string, schema: S, shape: (parsed: unknown) => unknown = (p) => p): z.infer<S> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError([`${name} is not JSON: ${raw}`]);
  }
  const result = schema.safeParse(shape(parsed));
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `${name}.${i.path.join('.')}: ${i.message}`));
  return result.data;
}

/** The ARNs of these topics from their environment variables (fails fast like loadConfig). */
export function topicArnsFor<T extends TopicId>(topics: readonly T[], env: Record<string, string | undefined> = process.env): Record<T, string> {
  const names = topics.map((t) => TOPICS[t].envVar) as EnvName[];
  const config = loadConfig(names, env) as Record<string, string>;
  return Object.fromEntries(topics.map((t) => [t, config[TOPICS[t].envVar]!])) as Record<T, string>;
}
