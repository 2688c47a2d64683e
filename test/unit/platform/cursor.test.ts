import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../shared/platform/cursor.js';
import { ValidationError } from '../../../shared/platform/errors.js';

const key = { pk: 'REPORT#01', sk: 'REPORT', byStorePk: 'STORE#s-1', byStoreSk: '2026-11-01#01' };

describe('pagination cursors', () => {
  it('round-trips a key it signed, bound to its index and filters', () => {
    const cursor = encodeCursor('byStore', key, 'f1');
    expect(decodeCursor(cursor, 'byStore', 'f1')).toEqual(key);
    expect(() => decodeCursor(cursor, 'byStore', 'f2')).toThrow(ValidationError);
    expect(() => decodeCursor(cursor, 'byRegion', 'f1')).toThrow(ValidationError);
  });

  it('refuses a well-formed cursor whose key was edited: another store’s start key is a 400', () => {
    const [payload, signature] = encodeCursor('byStore', key, 'f1').split('.');
    const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    decoded.k.byStorePk = 'STORE#s-2';
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${signature}`;
    expect(() => decodeCursor(forged, 'byStore', 'f1')).toThrow(ValidationError);
  });

  it('refuses garbage with a 400 naming query.cursor', () => {
    for (const bad of ['', 'x', 'a.b', 'a.b.c', `${Buffer.from('{}').toString('base64url')}.AAAA`, '..']) {
      try {
        decodeCursor(bad, 'byStore');
        expect.unreachable(bad);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).errors[0]!.field).toBe('query.cursor');
      }
    }
  });
});
