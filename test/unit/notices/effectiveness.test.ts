import { describe, expect, it } from 'vitest';
import { effectiveness } from '../../../shared/notices/effectiveness.js';

const stores = (n: number) => Array.from({ length: n }, (_, i) => ({ storeId: `s${i}`, region: 'r', name: `s${i}`, updatedAt: '', updatedBy: '' }));
const acks = (n: number) => Array.from({ length: n }, (_, i) => ({ noticeId: 'n', incidentId: 'i', storeId: `s${i}`, region: 'r', quantityOnHand: 2, quantityRemoved: 1, at: '2026-11-20T00:00:00Z', by: 'u' }));

describe('notices', () => {
  describe('effectiveness', () => {
    it('needs every store for level A: 1,999 of 2,000 is not 100 %', () => {
      const e = effectiveness(stores(2000), acks(1999), { level: 'A', targetPercent: 100 });
      expect(e.achievedPercent).toBe(100);
      expect(e.met).toBe(false);
      expect(e.notResponded).toEqual(['s1999']);
      expect(effectiveness(stores(2000), acks(2000), { level: 'A', targetPercent: 100 }).met).toBe(true);
    });

    it('counts a store once, units from its first acknowledgement, and ignores stores outside the scope', () => {
      const e = effectiveness(stores(3), [...acks(2), ...acks(1), { ...acks(1)[0]!, storeId: 'elsewhere' }], { level: 'B', targetPercent: 60 });
      expect(e).toMatchObject({ storesInScope: 3, acknowledged: 2, unitsRemoved: 2, unitsOnHand: 4, met: true });
    });

    it('cannot be met with no store in scope, except at level E (no check)', () => {
      expect(effectiveness([], [], { level: 'A', targetPercent: 100 })).toMatchObject({ met: false, problem: expect.stringContaining('store directory') });
      expect(effectiveness([], [], { level: 'E', targetPercent: 0 })).toMatchObject({ met: true });
    });
  });
});
