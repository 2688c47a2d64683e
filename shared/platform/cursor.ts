import { ValidationError } from './errors.js';

/**
 * Opaque pagination cursors: a DynamoDB LastEvaluatedKey, the index it came from and what the
 * list was bound to (its filters), base64url-encoded. Decoding accepts only a cursor of the
 * same index and binding whose key holds exactly that index's key attributes as strings, so
 * a hand-made cursor is a 400, never a DynamoDB error.
 */
export function encodeCursor(index: string, key: Record<string, unknown>, binding = ''): string {
  return Buffer.from(JSON.stringify({ i: index, f: binding, k: key })).toString('base64url');
}

export function decodeCursor(cursor: string, index: string, binding = ''): Record<string, unknown> {
  const invalid = () => new ValidationError([{ field: 'query.cursor', message: 'not a cursor from this list (filters changed?)' }]);
  let parsed: { i?: unknown; f?: unknown; k?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!parsed || typeof parsed !== 'object' || parsed.i !== index || parsed.f !== binding) throw invalid();
  const key = parsed.k as Record<string, unknown>;
  const expected = ['pk', 'sk', `${index}Pk`, `${index}Sk`];
  if (!key || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length !== expected.length || !expected.every((k) => typeof key[k] === 'string')) {
    throw invalid();
  }
  return key;
}
