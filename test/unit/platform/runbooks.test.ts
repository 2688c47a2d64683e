import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKLIST } from '../../../shared/incidents/gates.js';
import { STATUS_RUNBOOK } from '../../../shared/incidents/lifecycle.js';

const ROOT = path.join(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    return statSync(path.join(ROOT, rel)).isDirectory() ? sources(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

describe('runbooks', () => {
  const links = new Set([
    // Built from parts in code, so listed here as data.
    ...CHECKLIST.map((i) => i.runbook),
    ...Object.values(STATUS_RUNBOOK),
    ...[...sources('shared'), ...sources('functions'), ...sources('infra'), 'README.md', ...readdirSync(path.join(ROOT, 'runbooks')).map((f) => `runbooks/${f}`)].flatMap((file) =>
      [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/runbooks\/[\w-]+\.md(?:#[\w-]+)?/g)].map((m) => m[0]),
    ),
  ]);

  it('are linked from the code', () => {
    expect(links.size).toBeGreaterThan(10);
  });

  it.each([...links].filter((l) => !l.includes('#') || !l.startsWith('runbooks/api-errors.md#')))('%s exists, with its section', (link) => {
    const [file, anchor] = link.split('#') as [string, string | undefined];
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    if (anchor) {
      const anchors = [...text.matchAll(/^#{2,4} (.+)$/gm)].map((m) => slug(m[1]!));
      expect(anchors).toContain(anchor);
    }
  });

  it('have a section for every problem slug the API links to', () => {
    const text = readFileSync(path.join(ROOT, 'runbooks/api-errors.md'), 'utf8');
    const slugs = [...readFileSync(path.join(ROOT, 'shared/platform/errors.ts'), 'utf8').matchAll(/slug = '([\w-]+)'/g)].map((m) => m[1]!);
    for (const s of [...slugs, 'internal']) expect(text).toMatch(new RegExp(`^## ${s}$`, 'm'));
  });
});
