import { systemClock } from '../shared/platform/clock.js';
import { loadConfig } from '../shared/platform/config.js';
import { httpRoute, ok } from '../shared/platform/http.js';
import { dayOf } from '../shared/detection/keys.js';
import { standingsNow } from '../shared/incidents/track-records.js';
import { trackRecordFromEnv } from '../shared/incidents/wiring.js';
import { activeCategories } from '../shared/reports/taxonomy.js';

loadConfig(['TABLE_NAME']);
// Read at cold start: an invalid DEFECT_TAXONOMY or DETECTION_CONFIG fails here, before any request.
const categories = activeCategories();
const config = trackRecordFromEnv();

/**
 * GET /track-records: what detection has learnt of each category of the taxonomy: its judged
 * signal episodes, hits, misses, pending ones, and whether its signals are raised, raised
 * once per key, or held back (`shared/detection/track-record.ts`).
 */
export const handler = httpRoute({ roles: ['qa', 'executive', 'admin'] }, async () => {
  if (!config) return ok({ learning: false, items: [] });
  const now = systemClock.now();
  const { overall, items } = await standingsNow(categories.taxonomy.categories.map((c) => c.code), dayOf(now), config);
  return ok({
    learning: true,
    overall: { hits: overall.hits, misses: overall.misses, rate: Number(overall.rate.toFixed(4)) },
    thresholds: { minOutcomes: config.minOutcomes, onceBelow: config.onceBelow, holdOutcomes: config.holdOutcomes, holdBelow: config.holdBelow },
    items: items.map((r) => {
      // Harm categories are never judged: every report of harm is looked at.
      const harm = categories.harmOf(r.category) !== undefined;
      return {
        category: r.category,
        label: categories.taxonomy.categories.find((c) => c.code === r.category)?.label ?? r.category,
        standing: harm ? 'normal' : r.standing,
        hits: r.hits,
        misses: r.misses,
        // Of the misses, QA's dismissals not yet a year old (a recall may still make them hits).
        ...(r.dismissed ? { dismissed: r.dismissed } : {}),
        pending: r.pending,
        rate: Number(r.rate.toFixed(4)),
        explanation: harm ? `${r.category} is a harm category: its signals are never held back` : r.explanation,
      };
    }),
  });
});
