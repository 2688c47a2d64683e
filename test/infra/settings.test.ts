import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Resource } from './synth.js';

/**
 * Deploy-time settings are read from the deploying shell when the stacks are defined: each
 * case imports the app afresh with its environment.
 */
async function synthWith(env: Record<string, string>) {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const { synthesize } = await import('./synth.js');
  return synthesize('dev');
}
afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const bakery = { categories: [{ code: 'mould', label: 'Mould' }, { code: 'hard_object', label: 'Hard object', rules: { lotBurst: { minCount: 2 } } }] };

describe('deploy-time settings', () => {
  it('reach every function, those without table access included (GET /taxonomy reads the taxonomy)', async () => {
    const { serviceResources } = await synthWith({ DEFECT_TAXONOMY: JSON.stringify(bakery) });
    const functions = Object.values(serviceResources).filter((r: Resource) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.FUNCTION_ID);
    expect(functions.length).toBeGreaterThan(20);
    for (const fn of functions) expect(fn.Properties.Environment.Variables.DEFECT_TAXONOMY, fn.Properties.Environment.Variables.FUNCTION_ID).toBe(JSON.stringify(bakery));
  }, 60_000);

  it('fail synthesis when a taxonomy category carries invalid detection rules', async () => {
    const bad = { categories: [{ code: 'mould', label: 'Mould', rules: { lotBurst: { minCount: 0 } } }] };
    await expect(synthWith({ DEFECT_TAXONOMY: JSON.stringify(bad) })).rejects.toThrow(/DETECTION_CONFIG/);
  }, 60_000);
});
