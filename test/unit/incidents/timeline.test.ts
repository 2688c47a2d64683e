import { describe, expect, it } from 'vitest';
import type { IncidentEvent, Lifecycle } from '../../../shared/incidents/model.js';
import { diffLifecycle, stateAt } from '../../../shared/incidents/timeline.js';

describe('incidents', () => {
  describe('timeline', () => {
    const v1: Lifecycle = { status: 'candidate' };
    const v2: Lifecycle = { status: 'declared', title: 'Metal in chocolate', hazardClass: 'I', declared: { by: 'u-qa', at: '2026-11-20T09:00:00.000Z' } };
    const v3: Lifecycle = { ...v2, hazardClass: 'II', hold: { by: 'u-qa', at: 'x', heldAt: 'x', locations: ['plant-1'] } };
    const { title: _dropped, ...v4 } = v3;
    const events: IncidentEvent[] = [v1, v2, v3, v4 as Lifecycle].map((after, i, all) => ({
      version: i + 1,
      at: `2026-11-20T0${i}:00:00.000Z`,
      by: 'u-qa',
      action: `step-${i + 1}`,
      changes: diffLifecycle(i === 0 ? undefined : all[i - 1], after),
    }));

    it('records only the fields an action changed, each before → after', () => {
      expect(events[2]!.changes).toEqual({ hazardClass: { before: 'I', after: 'II' }, hold: { after: v3.hold } });
      expect(events[3]!.changes).toEqual({ title: { before: 'Metal in chocolate' } });
    });

    it('reads every past state back from the events, in any order', () => {
      const shuffled = [events[3]!, events[0]!, events[2]!, events[1]!];
      expect(stateAt(shuffled, 1)).toEqual(v1);
      expect(stateAt(shuffled, 2)).toEqual(v2);
      expect(stateAt(shuffled, 3)).toEqual(v3);
      expect(stateAt(shuffled, 4)).toEqual(v4);
    });

    it('cannot read back without the first event', () => {
      expect(stateAt(events.slice(1), 3)).toBeUndefined();
    });
  });
});
