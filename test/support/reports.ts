import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A complete, valid case record (test/fixtures/report.json), with overrides. */
export function validReport(overrides: Record<string, unknown> = {}): Record<string, any> {
  const base = JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/report.json'), 'utf8'));
  return { ...base, receivedAt: new Date(Date.now() - 60_000).toISOString(), ...overrides };
}

/**
 * The README's sample report (test/fixtures/report.json) as filed today: its dates moved
 * together so that it was received at most 30 days ago (it is dated in the past on purpose, so
 * that its clocks show as overdue; the API refuses reports received more than 365 days ago).
 */
export function fixtureReportNow(): Record<string, any> {
  const report = JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/report.json'), 'utf8'));
  const shift = Math.max(0, Date.now() - 30 * 86_400_000 - Date.parse(report.receivedAt));
  const day = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + shift).toISOString().slice(0, 10);
  return {
    ...report,
    receivedAt: new Date(Date.parse(report.receivedAt) + shift).toISOString(),
    ...(report.productionDate ? { productionDate: day(report.productionDate) } : {}),
    ...(report.bestBeforeDate ? { bestBeforeDate: day(report.bestBeforeDate) } : {}),
    purchase: { ...report.purchase, ...(report.purchase?.date ? { date: day(report.purchase.date) } : {}) },
  };
}
