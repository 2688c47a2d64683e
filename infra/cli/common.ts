import type { ParseArgsConfig } from 'node:util';
import type { ApiOptions } from './api.js';
import { printable } from './table.js';

/**
 * What every CLI module shares: the command shape, flag helpers and output. Each domain
 * (reports, incidents, detection) registers its commands in its own module.
 */
export type Options = ParseArgsConfig['options'];
export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  /** Who uses it, for the grouped help. */
  readonly group?: 'desk' | 'qa' | 'executive' | 'store' | 'admin' | 'any';
  run(args: { values: Record<string, any>; positionals: string[]; api: ApiOptions; json: boolean }): Promise<void>;
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
