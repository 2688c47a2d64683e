import type { ApiOptions } from './api.js';
import type { Page } from './types.js';
import { printable, table } from './table.js';

/**
 * What every CLI module shares: the command shape, flag helpers and output. Each domain
 * (reports, incidents, detection) registers its commands in its own module.
 */
/** Parsed flag values: a string, a repeated flag's strings, or a switch. */
export type FlagValues = Record<string, any>;

/** A command's flags: the meaning of each is in `flags.ts` (or the command's `docs`). */
export type Options = Record<string, { readonly type: 'string' | 'boolean'; readonly multiple?: boolean; readonly short?: string; readonly default?: unknown }>;
export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  /** What a flag means for this command when it differs from `flags.ts` (with its own `e.g.` when the general example does not fit). */
  readonly docs?: Readonly<Record<string, string>>;
  /** The values a flag takes for this command, checked before anything is sent (default: its list in `flags.ts`, if any). */
  readonly choices?: Readonly<Record<string, readonly string[]>>;
  /** A complete example for the help (default: the usage). */
  readonly example?: string;
  /** Who uses it, for the grouped help. */
  readonly group?: 'desk' | 'qa' | 'executive' | 'store' | 'admin' | 'any';
  run(args: { values: FlagValues; positionals: string[]; api: ApiOptions; json: boolean }): Promise<void>;
}

export const stringOptions = (...names: string[]): Options => Object.fromEntries(names.map((k) => [k, { type: 'string' as const }]));

/** The query string of a list command: the given flags that were set, renamed where the API differs. */
export function queryOf(values: Record<string, unknown>, flags: readonly string[], rename: Record<string, string> = {}): URLSearchParams {
  const query = new URLSearchParams();
  for (const flag of flags) {
    const value = values[flag];
    // An empty value is sent too: the API says what is wrong with it.
    if (typeof value === 'string') query.set(rename[flag] ?? flag, value);
  }
  return query;
}

/** Prints JSON for scripts, or the human form with control characters made harmless. */
export const print = (json: boolean, value: unknown, human: () => string) =>
  console.log(json ? JSON.stringify(value, null, 2) : printable(human()));

/** The first positional, or a usage error before any request is made. */
export function requireId(positionals: string[], usage: string, what = 'id'): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`Give the ${what}: ${usage}`);
  return id;
}

/** A mistake in the command line itself: exit code 2, no request sent. */
export class UsageError extends Error {}

/** The written reply's content from flags; every part is required by the 14-day rule. */
export function replyBody(values: Record<string, any>) {
  const missing = ['investigation', 'cause', 'prevention'].filter((k) => !values[k]);
  if (missing.length) throw new UsageError(`Missing --${missing.join(', --')}: the reply states what was found, why, and what changes.`);
  return { investigation: values.investigation, cause: values.cause, prevention: values.prevention, ...(values.apology ? { apology: values.apology } : {}) };
}

/** The list flags every list command takes. */
export const LIST_FLAGS: Options = { limit: { type: 'string' }, cursor: { type: 'string' }, all: { type: 'boolean' }, csv: { type: 'boolean' } };

/**
 * Reads a list: one page, or with --all every page (following the cursor, at most 100
 * pages). `pathFor` builds the request path from the query.
 */
export async function readList<T>(api: ApiOptions, pathFor: (query: URLSearchParams) => string, query: URLSearchParams, all: boolean): Promise<Page<T>> {
  const { request } = await import('./api.js');
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < (all ? 100 : 1); page++) {
    if (cursor) query.set('cursor', cursor);
    const { body } = await request<Page<T>>(api, 'GET', pathFor(query));
    items.push(...body.items);
    cursor = body.cursor;
    if (!cursor) break;
  }
  return { items, ...(cursor ? { cursor } : {}) };
}

const csvCell = (v: unknown) => {
  const s = printable(v === undefined || v === null ? '' : String(v));
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Prints a list: JSON, CSV (--csv) or an aligned table, with the cursor of the next page. */
export function printList(json: boolean, csv: boolean, body: { items: unknown[]; cursor?: string }, rows: Record<string, unknown>[], columns: string[], maxWidth = 40) {
  if (json) return console.log(JSON.stringify(body, null, 2));
  if (csv) return console.log([columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n'));
  console.log(table(rows, columns, maxWidth) + (body.cursor ? `\nmore: --cursor ${body.cursor}   (or --all)` : ''));
}
