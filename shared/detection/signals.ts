import type { Signal } from './engine.js';

/**
 * Which signals open a candidate incident. A `harm-report` (an injury or illness told in a
 * complaint whose category is not itself harm) is a notification to quality assurance on its
 * own: it joins an open incident on its keys, and weighs in the cluster rules, but does not
 * open a candidate by itself (one candidate per such report is alarm fatigue on real data).
 */
export const NOTIFY_ONLY_RULES: ReadonlySet<string> = new Set(['harm-report']);

export const opensCandidate = (signal: Pick<Signal, 'rule'>): boolean => !NOTIFY_ONLY_RULES.has(signal.rule);
