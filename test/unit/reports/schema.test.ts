import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../shared/platform/clock.js';
import { fieldProblems } from '../../../shared/platform/problem.js';
import { reportCreateSchema } from '../../../shared/reports/schema.js';
import { validReport } from '../../support/reports.js';

const clock = fixedClock('2026-11-22T12:00:00Z');
const schema = reportCreateSchema(clock);
const fieldsOf = (body: unknown) => {
  const result = schema.safeParse(body);
  return result.success ? [] : fieldProblems(result.error).map((p) => p.field);
};
const valid = () => validReport({ receivedAt: '2026-11-22T11:00:00Z' });

describe('case record schema', () => {
  it('accepts a complete case record', () => {
    expect(fieldsOf(valid())).toEqual([]);
  });

  it('rejects dates in the future, wherever they are', () => {
    const body = valid();
    body.receivedAt = '2026-11-22T13:00:00Z';
    body.productionDate = '2026-12-01';
    body.bestBeforeDate = '2027-06-01';
    body.purchase.date = '2026-12-05';
    expect(fieldsOf(body).sort()).toEqual(['productionDate', 'purchase.date', 'receivedAt']);
  });

  it('refuses a receivedAt older than the horizon (365 days by default, configurable)', () => {
    expect(fieldsOf({ ...valid(), receivedAt: '2025-11-01T00:00:00Z', productionDate: '2025-10-01', purchase: { ...valid().purchase, date: '2025-10-15' } })).toEqual(['receivedAt']);
    const wide = reportCreateSchema(clock, 800);
    expect(wide.safeParse({ ...valid(), receivedAt: '2025-11-01T00:00:00Z', productionDate: '2025-10-01', purchase: { ...valid().purchase, date: '2025-10-15' } }).success).toBe(true);
  });

  it('refuses a landing point that is already due', () => {
    expect(fieldsOf({ ...valid(), landingPoints: [{ promise: 'call back', owner: 'QA', dueAt: '2026-11-21T00:00:00Z' }] })).toEqual(['landingPoints.0.dueAt']);
  });

  it('tolerates five minutes of clock skew on receivedAt', () => {
    expect(fieldsOf({ ...valid(), receivedAt: '2026-11-22T12:04:00Z' })).toEqual([]);
  });

  it('rejects a best-before date before the production date, and a record with neither', () => {
    expect(fieldsOf({ ...valid(), productionDate: '2026-11-10', bestBeforeDate: '2026-11-01' })).toEqual(['bestBeforeDate']);
    const { productionDate: _p, bestBeforeDate: _b, ...noDates } = valid();
    expect(fieldsOf(noDates)).toEqual(['productionDate']);
  });

  it('names every unknown field, nested ones included', () => {
    const body = valid();
    body.colour = 'red';
    body.product.weight = 100;
    expect(fieldsOf(body).sort()).toEqual(['colour', 'product.weight']);
  });

  it('bounds the description at 4,000 characters', () => {
    const body = valid();
    body.defect.description = 'x'.repeat(4001);
    expect(fieldsOf(body)).toEqual(['defect.description']);
    body.defect.description = 'x'.repeat(4000);
    expect(fieldsOf(body)).toEqual([]);
  });

  it('needs a way to reach the customer for the 14-day reply', () => {
    expect(fieldsOf({ ...valid(), contact: { name: 'A. Customer' } })).toEqual(['contact.phone']);
  });

  it('accepts only the fixed defect categories', () => {
    const body = valid();
    body.defect.category = 'bad vibes';
    expect(fieldsOf(body)).toEqual(['defect.category']);
  });
});
