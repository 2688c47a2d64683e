import { describe, expect, it } from 'vitest';
import { AckCreate } from '../../../shared/notices/schema.js';

describe('a store acknowledgement', () => {
  it('removes at most the units the store had, and names the field when not', () => {
    expect(AckCreate.safeParse({ quantityOnHand: 12, quantityRemoved: 12 }).success).toBe(true);
    expect(AckCreate.safeParse({ quantityOnHand: 12, quantityRemoved: 0, note: 'none on the shelf' }).success).toBe(true);
    const refused = AckCreate.safeParse({ quantityOnHand: 5, quantityRemoved: 9 });
    expect(refused.success).toBe(false);
    expect(refused.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['quantityRemoved', 'cannot be more than quantityOnHand (the units the store had)']]);
  });
});
