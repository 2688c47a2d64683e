import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { idAt, newId } from '../../../shared/platform/ids.js';

describe('ids', () => {
  it('makes ids that sort in creation order', () => {
    const ids = Array.from({ length: 50 }, () => newId(new Date('2026-11-22T00:00:00Z')));
    expect([...ids].sort()).toEqual(ids);
  });

  it('derives the same id from the same moment and seed, and another from another seed', () => {
    const at = new Date('2026-11-20T00:12:00Z');
    expect(idAt(at, 'key-1')).toBe(idAt(at, 'key-1'));
    expect(idAt(at, 'key-2')).not.toBe(idAt(at, 'key-1'));
    expect(decodeTime(idAt(at, 'key-1'))).toBe(at.getTime());
  });

  it('keeps the seeded random part when only the moment changes', () => {
    const a = idAt(new Date('2026-11-20T00:00:00Z'), 'key');
    const b = idAt(new Date('2026-11-21T00:00:00Z'), 'key');
    expect(a.slice(10)).toBe(b.slice(10));
    expect(a.slice(0, 10)).not.toBe(b.slice(0, 10));
  });
});
