import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../../infra/local/stream-poller.js';

const insert = { eventName: 'INSERT', dynamodb: { NewImage: { kind: { S: 'report' }, pk: { S: 'REPORT#1' } } } };

describe('local event filtering', () => {
  it('matches exact values, nested fields, prefixes and exists like Lambda filters', () => {
    expect(matchesFilter({ eventName: ['INSERT'] }, insert)).toBe(true);
    expect(matchesFilter({ eventName: ['MODIFY', 'REMOVE'] }, insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { NewImage: { kind: { S: ['report'] } } } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { NewImage: { pk: { S: [{ prefix: 'REPORT#' }] } } } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { NewImage: { pk: { S: [{ prefix: 'INCIDENT#' }] } } } }, insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { OldImage: [{ exists: false }] } }, insert)).toBe(true);
    expect(matchesFilter({ eventName: [{ 'anything-but': ['REMOVE'] }] }, insert)).toBe(true);
  });

  it('refuses a rule it does not implement rather than guessing', () => {
    expect(() => matchesFilter({ eventName: [{ numeric: ['>', 1] } as never] }, insert)).toThrow(/Unsupported/);
  });
});
