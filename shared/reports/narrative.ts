import { hasRole, type Principal } from '../platform/auth.js';
import type { Report } from './model.js';

/**
 * The customer's own words and health details — what happened, who was hurt, the 5W1H, how it
 * was found, the survey comment — are need-to-know: the roles that handle the complaint
 * (agent, qa, admin) and the store that filed it read them; executives and other stores see
 * the case record without them. They are stored apart from `record` (in `narrative`, which no
 * index projects), so no list and no index that other roles read carries them.
 */
export const NARRATIVE_ROLES = ['agent', 'qa', 'admin'] as const;

export interface Narrative {
  readonly defectDescription?: string;
  readonly harmDescription?: string;
  readonly medicalAttention?: boolean;
  readonly fiveW1H?: Report['fiveW1H'];
  readonly howFound?: string;
  readonly resolutionProposed?: string;
  readonly surveyComment?: string;
}

/** The fields a redacted report leaves out, as they are named in the API. */
export const NARRATIVE_FIELDS = ['defect.description', 'harm.description', 'harm.medicalAttention', 'fiveW1H', 'howFound', 'resolutionProposed', 'survey.comment'] as const;

const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/**
 * What the desk wrote on a report's clocks, per clock id: a milestone's note, a landing
 * point's promise (its name). Staff text that may quote the customer: kept beside the record
 * like the narrative (`deskNotes`, which no index projects), so an index read shows a landing
 * point as `landing point` and no note.
 */
export type DeskNotes = Record<string, { note?: string; promise?: string }>;

/** What a landing point is called where its promise is not shown. */
export const LANDING_POINT = 'landing point';
const isLandingPoint = (clockId: string) => clockId.startsWith('lp-');

/** The record as stored and indexed (no narrative, no desk notes), and what is kept beside it. */
export function splitNarrative(report: Report): { record: Report; narrative: Narrative; deskNotes: DeskNotes } {
  const { fiveW1H, howFound, resolutionProposed, defect, harm, survey, clocks, ...rest } = report;
  const { description: defectDescription, ...defectRest } = defect;
  const { description: harmDescription, medicalAttention, ...harmRest } = harm;
  const { comment: surveyComment, ...surveyRest } = survey ?? ({} as NonNullable<Report['survey']>);
  const deskNotes: DeskNotes = {};
  const bareClocks = clocks.map(({ note, ...clock }) => {
    const promise = isLandingPoint(clock.id) && clock.name !== LANDING_POINT ? clock.name : undefined;
    if (note !== undefined || promise !== undefined) deskNotes[clock.id] = defined({ note, promise });
    return promise !== undefined ? { ...clock, name: LANDING_POINT } : clock;
  });
  const record = { ...rest, defect: defectRest, harm: harmRest, clocks: bareClocks, ...(survey ? { survey: surveyRest } : {}) } as unknown as Report;
  return { record, narrative: defined({ defectDescription, harmDescription, medicalAttention, fiveW1H, howFound, resolutionProposed, surveyComment }), deskNotes };
}

/**
 * The whole case record again, from a stored record, its narrative and its desk notes (both
 * absent on index reads). A record of the older layout (notes still on its clocks) keeps them.
 */
export function joinNarrative(record: Report, narrative: Narrative | undefined, deskNotes?: DeskNotes): Report {
  if (deskNotes && Object.keys(deskNotes).length > 0) {
    record = {
      ...record,
      clocks: record.clocks.map((c) => {
        const desk = deskNotes[c.id];
        return desk ? { ...c, ...(desk.promise !== undefined ? { name: desk.promise } : {}), ...(desk.note !== undefined ? { note: desk.note } : {}) } : c;
      }),
    };
  }
  if (!narrative) return record;
  return {
    ...record,
    defect: defined({ ...record.defect, description: narrative.defectDescription! }),
    harm: defined({ ...record.harm, description: narrative.harmDescription, medicalAttention: narrative.medicalAttention! }),
    ...defined({ fiveW1H: narrative.fiveW1H, howFound: narrative.howFound, resolutionProposed: narrative.resolutionProposed }),
    ...(record.survey ? { survey: defined({ ...record.survey, comment: narrative.surveyComment }) } : {}),
  };
}

/** Whether this caller may read the customer's own words on this report: the desk, QA, admins, and the store that filed it (any of its accounts). */
export function mayReadNarrative(principal: Principal, report: Pick<Report, 'createdBy' | 'filedByStore'>): boolean {
  if (hasRole(principal, ...NARRATIVE_ROLES)) return true;
  if (!hasRole(principal, 'store') || !principal.storeId) return false;
  return report.filedByStore === principal.storeId;
}

/** The report for this caller: whole, or without the narrative (and saying so). */
export function forCaller<R extends Report>(report: R, principal: Principal): R | (R & { redacted: readonly string[] }) {
  if (mayReadNarrative(principal, report)) return report;
  // The split keeps every other field of the report (clock state included), without the
  // narrative and without what the desk wrote on the clocks (it may quote the customer).
  const { record } = splitNarrative(report);
  return { ...(record as R), redacted: [...NARRATIVE_FIELDS, 'clocks.note', 'landing point promises'] } as R & { redacted: readonly string[] };
}
