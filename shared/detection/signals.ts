import { CANDIDATE_RULES, type Signal } from './engine.js';

/**
 * Which signals open a candidate incident: the engine's `CANDIDATE_RULES`. The others
 * (`harm-report`: an injury or illness told in a complaint whose category is not itself
 * harm) notify quality assurance on their own, join an open incident on their keys, and do
 * not open a candidate by themselves (one candidate per such report is alarm fatigue on real
 * data: 2.9 false alarms per 1,000 key-weeks on the NHTSA set, precision 0.10).
 */
const OPENERS: ReadonlySet<string> = new Set(CANDIDATE_RULES);

export const opensCandidate = (signal: Pick<Signal, 'rule'>): boolean => OPENERS.has(signal.rule);
