import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A complete, valid case record (test/fixtures/report.json), with overrides. */
export function validReport(overrides: Record<string, unknown> = {}): Record<string, any> {
  const base = JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/report.json'), 'utf8'));
  return { ...base, receivedAt: new Date(Date.now() - 60_000).toISOString(), ...overrides };
}
