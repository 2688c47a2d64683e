import { describe, expect, it } from 'vitest';
import { clusterKeys, counterKeys } from '../../../shared/detection/keys.js';
import { keyCode } from '../../../shared/platform/fields.js';

const observation = (sku: string, lot: string, plant: string) => ({ reportId: 'r', at: '2026-11-01T00:00:00Z', sku, lot, plant, category: 'foreign_matter', injury: false, illness: false });

describe('cluster keys', () => {
  it('normalise codes (NFKC, trimmed, one case) so spellings of one lot do not split its cluster', () => {
    const half = clusterKeys(observation('CHOC-100', 'L1103', 'P1'));
    const full = clusterKeys(observation('ＣＨＯＣ－１００', ' ｌ１１０３ ', 'ｐ1'));
    expect(full.lot.id).toBe(half.lot.id);
    expect(full.product.id).toBe(half.product.id);
    expect(full.plant.id).toBe(half.plant.id);
    expect(half.lot.id).toBe('lot|CHOC-100|L1103|foreign_matter');
    expect(counterKeys(observation('ｃｈｏｃ-100', 'l1103', 'p1'))).toEqual(counterKeys(observation('CHOC-100', 'L1103', 'P1')));
  });

  it('keyCode folds width, case and whitespace runs, and keeps distinct codes distinct', () => {
    expect(keyCode('ﾁｮｺ　１００')).toBe('チョコ 100');
    expect(keyCode('  lot\t 7 ')).toBe('LOT 7');
    expect(keyCode('L1')).not.toBe(keyCode('L11'));
    // Only ASCII letters change case: distinct codes stay distinct, and the result is stable.
    expect(keyCode('MAß-1')).not.toBe(keyCode('MASS-1'));
    for (const code of ['ΐ-1', 'ＬＯＴ１', 'ﾁｮｺ　１００', 'straße 5']) expect(keyCode(keyCode(code)), code).toBe(keyCode(code));
  });
});
