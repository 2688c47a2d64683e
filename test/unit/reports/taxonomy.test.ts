import { describe, expect, it, vi } from 'vitest';
import { detectionConfigFromEnv } from '../../../shared/incidents/candidates.js';
import { fixedClock } from '../../../shared/platform/clock.js';
import { ConfigError } from '../../../shared/platform/config.js';
import { fieldProblems } from '../../../shared/platform/problem.js';
import { observationOf } from '../../../shared/reports/observation.js';
import { reportCreateSchema } from '../../../shared/reports/schema.js';
import { Categories, DEFAULT_TAXONOMY, taxonomyFromEnv } from '../../../shared/reports/taxonomy.js';
import { call, httpEvent } from '../../support/events.js';
import { validReport } from '../../support/reports.js';

const clock = fixedClock('2026-11-22T12:00:00Z');
const valid = () => validReport({ receivedAt: '2026-11-22T11:00:00Z' });
const bakery = {
  categories: [
    { code: 'mould', label: 'Mould' },
    { code: 'burn', label: 'Burn from a hot filling', harm: 'injury' },
    { code: 'hard_object', label: 'Hard object', rules: { lotBurst: { minCount: 2 } } },
  ],
};

describe('defect taxonomy', () => {
  it('defaults to the food categories of the domain, injury and illness being harm', () => {
    const categories = new Categories(taxonomyFromEnv({}));
    expect(categories.codes).toEqual(DEFAULT_TAXONOMY.categories.map((c) => c.code));
    expect(categories.codes).toContain('mislabelling_allergen');
    expect(categories.harmOf('injury')).toBe('injury');
    expect(categories.harmOf('illness')).toBe('illness');
    expect(categories.harmOf('foreign_matter')).toBeUndefined();
  });

  it('loads a deployment taxonomy from DEFECT_TAXONOMY and fails fast, naming each bad path', () => {
    expect(new Categories(taxonomyFromEnv({ DEFECT_TAXONOMY: JSON.stringify(bakery) })).codes).toEqual(['mould', 'burn', 'hard_object']);
    const bad = { categories: [{ code: 'mould', label: 'Mould' }, { code: 'mould', label: 'Again' }, { code: '', label: 'x', harm: 'death' }] };
    const error = (() => {
      try {
        taxonomyFromEnv({ DEFECT_TAXONOMY: JSON.stringify(bad) });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    expect(text).toMatch(/DEFECT_TAXONOMY\.categories\.2\.code/);
    expect(text).toMatch(/DEFECT_TAXONOMY\.categories\.2\.harm/);
    const twice = { categories: [{ code: 'mould', label: 'Mould' }, { code: 'mould', label: 'Again' }] };
    expect(() => taxonomyFromEnv({ DEFECT_TAXONOMY: JSON.stringify(twice) })).toThrow(/DEFECT_TAXONOMY\.categories\.1\.code: duplicate code mould/);
    expect(() => taxonomyFromEnv({ DEFECT_TAXONOMY: '{"categories":[]}' })).toThrow(/at least one category/);
    expect(() => taxonomyFromEnv({ DEFECT_TAXONOMY: 'not json' })).toThrow(/DEFECT_TAXONOMY is not JSON/);
  });

  it('validates a case record against the taxonomy: an unknown category is named with the allowed codes', () => {
    const schema = reportCreateSchema(clock, 365, new Categories(bakery as never));
    const body = { ...valid(), defect: { category: 'foreign_matter', description: 'a stone' } };
    const result = schema.safeParse(body);
    expect(result.success).toBe(false);
    const problems = fieldProblems(result.error!);
    expect(problems.map((p) => p.field)).toEqual(['defect.category']);
    expect(problems[0]!.message).toMatch(/mould, burn, hard_object/);
    expect(schema.safeParse({ ...body, defect: { category: 'hard_object', description: 'a stone' } }).success).toBe(true);
  });

  it('makes a harm category a harm observation for detection', () => {
    const report = { ...valid(), id: 'R1', version: 1, defect: { category: 'burn', description: 'hot jam' }, harm: { injury: false, illness: false, medicalAttention: false } };
    const o = observationOf(report as never, new Categories(bakery as never));
    expect(o).toMatchObject({ category: 'burn', injury: true, illness: false, categoryIsHarm: true });
    expect(observationOf({ ...report, defect: { category: 'mould', description: 'green' } } as never, new Categories(bakery as never))).toMatchObject({ injury: false, categoryIsHarm: false });
  });

  it('merges its per-category rule overrides into the detection config, DETECTION_CONFIG winning', () => {
    const env = { DEFECT_TAXONOMY: JSON.stringify(bakery) };
    expect(detectionConfigFromEnv(env).categories.hard_object?.lotBurst).toEqual({ minCount: 2 });
    const both = detectionConfigFromEnv({ ...env, DETECTION_CONFIG: JSON.stringify({ categories: { hard_object: { lotBurst: { minCount: 4 } } } }) });
    expect(both.categories.hard_object?.lotBurst).toEqual({ minCount: 4 });
    // Settings of one rule merge: the taxonomy's count stays when DETECTION_CONFIG sets another field.
    const merged = detectionConfigFromEnv({ ...env, DETECTION_CONFIG: JSON.stringify({ categories: { hard_object: { lotBurst: { alpha: 0.01 } } } }) });
    expect(merged.categories.hard_object?.lotBurst).toEqual({ minCount: 2, alpha: 0.01 });
    const invalid = { categories: [{ code: 'mould', label: 'Mould', rules: { lotBurst: { minCount: 0 } } }] };
    expect(() => detectionConfigFromEnv({ DEFECT_TAXONOMY: JSON.stringify(invalid) })).toThrow(ConfigError);
  });

  it('GET /taxonomy returns the deployment taxonomy to any signed-in role, not to an anonymous caller', async () => {
    vi.resetModules();
    vi.stubEnv('DEFECT_TAXONOMY', JSON.stringify(bakery));
    try {
      const { handler } = await import('../../../functions/get-taxonomy.js');
      const ok = await call(handler, httpEvent({ path: '/taxonomy', user: { roles: ['store'], storeId: 'S1', region: 'R1' } }));
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ categories: [{ code: 'mould', label: 'Mould' }, { code: 'burn', label: 'Burn from a hot filling', harm: 'injury' }, { code: 'hard_object', label: 'Hard object' }] });
      const anonymous = await call(handler, httpEvent({ path: '/taxonomy' }));
      expect(anonymous.status).toBe(401);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
