import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors.js';

/**
 * Opaque pagination cursors: a DynamoDB LastEvaluatedKey, the index it came from and what the
 * list was bound to (its filters), base64url-encoded and signed (HMAC-SHA256 with the
 * deployment's `CURSOR_KEY`; a random key per process when unset, as locally). Decoding
 * accepts only a cursor this deployment signed, of the same index and binding, whose key
 * holds exactly that index's key attributes as strings: a forged or edited cursor (another
 * partition's start key, say) is a 400, never a DynamoDB error.
 */
let signingKey: Buffer | undefined;
const keyOf = () => (signingKey ??= process.env.CURSOR_KEY ? Buffer.from(process.env.CURSOR_KEY, 'utf8') : randomBytes(32));
const signatureOf = (payload: string) => createHmac('sha256', keyOf()).update(payload).digest().subarray(0, 16);

export function encodeCursor(index: string, key: Record<string, unknown>, binding = ''): string {
  const payload = Buffer.from(JSON.stringify({ i: index, f: binding, k: key })).toString('base64url');
  return `${payload}.${signatureOf(payload).toString('base64url')}`;
}

export function decodeCursor(cursor: string, index: string, binding = ''): Record<string, unknown> {
  const invalid = () => new ValidationError([{ field: 'query.cursor', message: 'not a cursor from this list (filters changed?)' }]);
  const [payload, signature, extra] = cursor.split('.');
  if (!payload || !signature || extra !== undefined) throw invalid();
  const given = Buffer.from(signature, 'base64url');
  const signed = signatureOf(payload);
  if (given.length !== signed.length || !timingSafeEqual(given, signed)) throw invalid();
  let parsed: { i?: unknown; f?: unknown; k?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
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
