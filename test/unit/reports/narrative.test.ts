import { describe, expect, it } from 'vitest';
import { forCaller, joinNarrative, splitNarrative } from '../../../shared/reports/narrative.js';
import type { Report } from '../../../shared/reports/model.js';
import { validReport } from '../../support/reports.js';

const report = {
  ...validReport({ harm: { injury: true, illness: false, medicalAttention: true, description: 'stitches' } }),
  id: '01JREPORT00000000000000000',
  receivingAgent: 'agent',
  clocks: [],
  createdBy: 'u-store',
  filedByStore: 'store-0101',
  createdAt: '2026-11-20T00:00:00.000Z',
  version: 1,
  survey: { satisfaction: 4, comment: 'thanks', at: 'x', by: 'y' },
} as unknown as Report;

describe('case record narrative', () => {
  it('splits the customer’s own words off the record and joins them back unchanged', () => {
    const { record, narrative } = splitNarrative(report);
    expect(JSON.stringify(record)).not.toMatch(/plastic film|stitches|thanks|breaking the bar|plastic film in product/);
    expect(record).toMatchObject({ defect: { category: 'foreign_matter' }, harm: { injury: true, illness: false }, survey: { satisfaction: 4 } });
    expect(joinNarrative(record, narrative)).toEqual(report);
  });

  it('keeps what the desk wrote on the clocks beside the record, and joins it back unchanged', () => {
    const withNotes = {
      ...report,
      clocks: [
        { id: 'handoff', name: 'handoff', owner: 'desk', startedAt: 'a', deadline: 'b', completedAt: 'c', note: 'Mrs Kobayashi was upset' },
        { id: 'lp-1', name: 'Call Mrs Kobayashi back', owner: 'QA', startedAt: 'a', deadline: 'b' },
        { id: 'reply', name: 'written reply', owner: 'desk', startedAt: 'a', deadline: 'b' },
      ],
    } as unknown as Report;
    const { record, narrative, deskNotes } = splitNarrative(withNotes);
    expect(JSON.stringify(record)).not.toContain('Kobayashi');
    expect(record.clocks.map((c) => c.name)).toEqual(['handoff', 'landing point', 'written reply']);
    expect(deskNotes).toEqual({ handoff: { note: 'Mrs Kobayashi was upset' }, 'lp-1': { promise: 'Call Mrs Kobayashi back' } });
    expect(joinNarrative(record, narrative, deskNotes)).toEqual(withNotes);
    // Split twice (a record already split): nothing more moves, nothing is lost.
    expect(splitNarrative(record).deskNotes).toEqual({});
  });

  it('shows the narrative to the desk, QA, admins and the filing store only', () => {
    const who = (roles: string[], storeId?: string) => forCaller(report, { userId: 'u-x', username: 'x', roles: roles as never, ...(storeId ? { storeId } : {}) });
    expect(who(['agent'])).toEqual(report);
    expect(who(['store'], 'store-0101')).toEqual(report);
    expect(who(['executive'])).toMatchObject({ redacted: expect.arrayContaining(['defect.description']) });
    expect(JSON.stringify(who(['store'], 'store-0201'))).not.toContain('stitches');
  });
});
