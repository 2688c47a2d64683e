import type { Store } from '../stores/model.js';
import type { Acknowledgement } from './model.js';

/**
 * Recall effectiveness (DOMAIN.md §5, 21 CFR 7.42): the recall is effective when the stores
 * in scope have acknowledged the withdrawal and reported what they pulled. Pure: the stores
 * in scope and the acknowledgements in, the figures and whether the class's target is met out.
 */
export interface Effectiveness {
  readonly storesInScope: number;
  readonly acknowledged: number;
  readonly notResponded: readonly string[];
  readonly unitsOnHand: number;
  readonly unitsRemoved: number;
  readonly level: string;
  readonly targetPercent: number;
  readonly achievedPercent: number;
  readonly met: boolean;
  /** Why the target cannot be judged (no store in the directory for the scope). */
  readonly problem?: string;
  readonly byStore: readonly { storeId: string; region: string; acknowledgedAt?: string; quantityOnHand?: number; quantityRemoved?: number; corrections?: Acknowledgement['corrections'] }[];
}

export function effectiveness(stores: readonly Store[], acks: readonly Acknowledgement[], target: { level: string; targetPercent: number }): Effectiveness {
  const inScope = new Map(stores.map((s) => [s.storeId, s]));
  const byStore = new Map<string, Acknowledgement>();
  // A store acknowledges each notice it gets (a reminder is the same notice); count it once.
  for (const ack of acks) if (inScope.has(ack.storeId) && !byStore.has(ack.storeId)) byStore.set(ack.storeId, ack);
  const acknowledged = byStore.size;
  const achievedPercent = stores.length ? Math.round((acknowledged / stores.length) * 1000) / 10 : 0;
  const acked = [...byStore.values()];
  return {
    storesInScope: stores.length,
    acknowledged,
    notResponded: stores.filter((s) => !byStore.has(s.storeId)).map((s) => s.storeId),
    unitsOnHand: acked.reduce((n, a) => n + a.quantityOnHand, 0),
    unitsRemoved: acked.reduce((n, a) => n + a.quantityRemoved, 0),
    level: target.level,
    targetPercent: target.targetPercent,
    achievedPercent,
    // Whole numbers, not the rounded percentage: 1,999 of 2,000 is not 100 %.
    met: target.targetPercent === 0 || (stores.length > 0 && acknowledged * 100 >= target.targetPercent * stores.length),
    ...(stores.length === 0 && target.targetPercent > 0 ? { problem: 'no store of the scope is in the store directory' } : {}),
    byStore: stores.map((s) => {
      const a = byStore.get(s.storeId);
      return {
        storeId: s.storeId,
        region: s.region,
        ...(a ? { acknowledgedAt: a.at, quantityOnHand: a.quantityOnHand, quantityRemoved: a.quantityRemoved } : {}),
        // QA's corrections of the store's figures: who, when, why, the figures before.
        ...(a?.corrections?.length ? { corrections: a.corrections } : {}),
      };
    }),
  };
}
