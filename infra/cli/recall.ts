import { Command as Program, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ApiError, request, type ApiOptions } from './api.js';
import { UsageError, print, type Command } from './common.js';
import { detectionCommands } from './detection.js';
import { FLAG_DOCS, flagHelp } from './flags.js';
import { incidentCommands } from './incidents.js';
import { reportCommands } from './reports.js';
import { noticeCommands, storeCommands } from './stores.js';
import { sessionCommands, storedToken } from './session.js';
import { printable } from './table.js';

/**
 * `npx recall <group> <command> [options]`: the command-line client of the recall API, on
 * commander. One module per domain registers its commands (reports, incidents, stores and
 * notices, detection); every flag's help comes from `flags.ts`. The API URL and token come
 * from --api-url / --token or RECALL_API_URL / RECALL_TOKEN (`npm start` prints both).
 * Tables for people; --json for scripts, errors included. Exit codes: 0 done, 1 the API or
 * the system said no, 2 a mistake in the command line (nothing was sent).
 */
export type { Command } from './common.js';

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
  ...sessionCommands,
};

const GROUPS: Record<NonNullable<Command['group']>, string> = {
  desk: 'Customer desk (agent)',
  qa: 'Quality assurance',
  executive: 'Executives',
  store: 'Stores',
  admin: 'Administrators',
  any: 'Everyone',
};

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function groupedHelp(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const sections = (Object.keys(GROUPS) as (keyof typeof GROUPS)[]).flatMap((group) => {
    const names = Object.entries(commands).filter(([, c]) => (c.group ?? 'any') === group);
    return names.length ? ['', `${GROUPS[group]}:`, ...names.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)] : [];
  });
  return [
    `recall ${VERSION}: the command line of the recall system`,
    '',
    'Usage: recall <command> [options]        recall <command> --help shows every flag, its values and an example',
    ...sections,
    '',
    'Options for every command:',
    `  --api-url URL  ${flagHelp('api-url')}`,
    `  --token JWT    ${flagHelp('token')}`,
    `  --json         ${flagHelp('json')}`,
    '  --version      the version of this CLI',
    '',
  ].join('\n');
}

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function build(out: { exitCode: number }, json = false): Program {
  // Positional options: the program's own flags (--version) only before the command, so an
  // incident action's `--version N` is never taken for it.
  const program = new Program('recall').version(VERSION, '--version').enablePositionalOptions().exitOverride().configureOutput({
    writeErr: (s) => process.stderr.write(s),
    // A command line the CLI cannot parse, as JSON when JSON was asked for (scripts read stderr too).
    outputError: (s, write) => write(json ? `${JSON.stringify({ error: 'usage', message: s.replace(/^error: /, '').trim() })}\n` : s),
  });
  program.helpInformation = groupedHelp;
  const parents = new Map<string, Program>();
  for (const [name, command] of Object.entries(commands)) {
    const words = name.split(' ');
    let parent = program;
    for (const word of words.slice(0, -1)) {
      if (!parents.has(word)) parents.set(word, program.command(word).description(`${word} commands`).exitOverride());
      parent = parents.get(word)!;
    }
    // What follows the command's own words in its usage (an alias keeps its original's usage).
    const rest = command.usage.replace(/^recall\s+/, '').replace(/^([a-z][a-z-]*\s*)+/, '').trim();
    // A command that acts on something names it in capitals right after its name: `… show ID`.
    const takesId = /^[A-Z][A-Z_]*\b/.test(rest);
    const leaf = parent.command(words.at(-1)!).summary(command.summary).description(command.summary).usage(rest || '[options]').exitOverride();
    if (takesId) leaf.argument('[id]', 'the id the command acts on');
    for (const [flag, spec] of Object.entries(command.options ?? {})) {
      if (!spec || flag === 'help') continue;
      const option = new Option(spec.type === 'boolean' ? `--${flag}` : `--${flag} <value>`, flagHelp(flag, command.docs?.[flag]));
      if (spec.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
      // A flag with a fixed list of values (the lists the API validates with) is checked here: a typo exits 2, nothing sent.
      else {
        const choices = command.choices?.[flag] ?? (command.docs?.[flag] || flag === 'clock' ? undefined : FLAG_DOCS[flag]?.values);
        if (choices) option.choices([...choices]);
      }
      leaf.addOption(option);
    }
    leaf.option('--api-url <url>', flagHelp('api-url')).option('--token <jwt>', flagHelp('token')).option('--json', flagHelp('json'));
    leaf.addHelpText('after', `\nExample:\n  $ npx ${command.example ?? command.usage}\n`);
    leaf.action(async (...args: unknown[]) => {
      const self = args.at(-1) as Program;
      const opts = self.opts() as Record<string, unknown>;
      const values = Object.fromEntries(Object.entries(opts).map(([k, v]) => [kebab(k), v]));
      const positionals = takesId && typeof args[0] === 'string' ? [args[0]] : [];
      out.exitCode = await execute(command, values, positionals);
    });
  }
  return program;
}

/** Commands that work without a token (and must not try to refresh one). */
const SIGNED_OUT_COMMANDS = new Set<Command>([sessionCommands.login!, sessionCommands.logout!, detectionCommands.backtest!]);

async function execute(command: Command, values: Record<string, any>, positionals: string[]): Promise<number> {
  const json = !!values.json;
  let api: ApiOptions = { apiUrl: values['api-url'] || process.env.RECALL_API_URL || 'http://localhost:3000' };
  try {
    // --token / RECALL_TOKEN first (scripts, dev tokens), else the stored sign-in (`recall login`).
    const given = values.token ?? process.env.RECALL_TOKEN;
    const named: string | undefined = values['api-url'] || process.env.RECALL_API_URL || undefined;
    // The stored sign-in's token goes only to the API it was made for (the stored URL).
    const stored = given || SIGNED_OUT_COMMANDS.has(command) ? undefined : await storedToken(undefined, named);
    api = {
      apiUrl: named ?? stored?.apiUrl ?? 'http://localhost:3000',
      ...(given ? { token: given } : stored ? { token: stored.token } : {}),
    };
    await command.run.call(command, { values, positionals, api, json });
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError;
    if (json) console.error(JSON.stringify(error instanceof ApiError ? { status: error.status, ...error.problem } : { error: usage ? 'usage' : 'failed', message: (error as Error).message }, null, 2));
    else console.error(printable(error instanceof ApiError ? error.describe(!!api.token) : usage ? `${(error as Error).message}\nUsage: ${command.usage}` : (error as Error).message));
    return usage ? 2 : 1;
  }
}

export async function main(argv: string[]): Promise<number> {
  const out = { exitCode: 0 };
  const program = build(out, argv.includes('--json'));
  if (argv.length === 0) {
    console.log(groupedHelp());
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return out.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // commander printed what was wrong (or the help of a group without its command); nothing was sent.
      return 2;
    }
    throw error;
  }
}
