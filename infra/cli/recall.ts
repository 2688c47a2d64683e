import { parseArgs } from 'node:util';
import { ApiError, request, type ApiOptions } from './api.js';
import { UsageError, print, type Command, type Options } from './common.js';
import { printable } from './table.js';
import { detectionCommands } from './detection.js';
import { incidentCommands } from './incidents.js';
import { reportCommands } from './reports.js';
import { noticeCommands, storeCommands } from './stores.js';

/**
 * `npx recall <group> <command> [options]`: the command-line client of the recall API.
 * One module per domain registers its commands (reports, incidents, detection).
 * The API URL and token come from --api-url / --token or RECALL_API_URL / RECALL_TOKEN
 * (`npm start` prints both). Tables for people; --json for scripts, errors included.
 */
export type { Command } from './common.js';

const GLOBAL: Options = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const commands: Record<string, Command> = {
  health: {
    summary: 'check that the API answers',
    usage: 'recall health',
    options: {},
    group: 'any',
    async run({ api, json }) {
      const { body } = await request(api, 'GET', '/health');
      print(json, body, () => `ok: ${api.apiUrl}`);
    },
  },
  ...reportCommands,
  ...incidentCommands,
  ...storeCommands,
  ...noticeCommands,
  ...detectionCommands,
};

const GROUPS: Record<NonNullable<Command['group']>, string> = {
  desk: 'Customer desk (agent)',
  qa: 'Quality assurance',
  executive: 'Executives',
  store: 'Stores',
  admin: 'Administrators',
  any: 'Everyone',
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const sections = (Object.keys(GROUPS) as (keyof typeof GROUPS)[]).flatMap((group) => {
    const names = Object.entries(commands).filter(([, c]) => (c.group ?? 'any') === group);
    return names.length ? ['', `${GROUPS[group]}:`, ...names.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)] : [];
  });
  return [
    'Usage: recall <command> [options]',
    ...sections,
    '',
    'Options for every command: --api-url URL (RECALL_API_URL, default http://localhost:3000),',
    '  --token JWT (RECALL_TOKEN), --json, --help',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const name = two in commands ? two : argv[0] ?? '';
  const command = commands[name];
  if (!command) {
    console.log(help());
    return name && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  const rest = argv.slice(name.split(' ').length);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\nUsage: ${command.usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  const api: ApiOptions = {
    apiUrl: (values['api-url'] as string) ?? process.env.RECALL_API_URL ?? 'http://localhost:3000',
    ...((values.token as string) ?? process.env.RECALL_TOKEN ? { token: (values.token as string) ?? process.env.RECALL_TOKEN } : {}),
  };
  const json = !!values.json;
  try {
    await command.run.call(command, { values, positionals, api, json });
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError;
    if (json) console.error(JSON.stringify(error instanceof ApiError ? { status: error.status, ...error.problem } : { error: usage ? 'usage' : 'failed', message: (error as Error).message }, null, 2));
    else console.error(printable(error instanceof ApiError ? error.describe(!!api.token) : usage ? `${(error as Error).message}\nUsage: ${command.usage}` : (error as Error).message));
    return usage ? 2 : 1;
  }
}
