/**
 * Notices (DOMAIN.md §5): what stores and customers receive. The messages themselves go
 * through the outbox; these records are what the system remembers of them.
 */
export interface StoreNotice {
  readonly noticeId: string;
  readonly incidentId: string;
  readonly type: 'store-withdrawal';
  readonly region: string;
  /** Set when the notice targets one store; otherwise every store of the region. */
  readonly storeId?: string;
  readonly hazardClass?: string;
  readonly issuedAt: string;
  readonly issuedBy: string;
}

export interface Acknowledgement {
  readonly noticeId: string;
  readonly incidentId: string;
  readonly storeId: string;
  readonly region: string;
  readonly quantityOnHand: number;
  readonly quantityRemoved: number;
  readonly note?: string;
  readonly at: string;
  readonly by: string;
  /** QA's corrections of the figures, oldest first: who, when, why, and the figures before (the audit trail). */
  readonly corrections?: readonly AckCorrectionRecord[];
}

export interface AckCorrectionRecord {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  readonly before: { readonly quantityOnHand: number; readonly quantityRemoved: number };
}

/** A published recall notice, as the public page shows it. No personal data, by construction. */
export interface PublicNotice {
  readonly incidentId: string;
  readonly noticeId: string;
  readonly title: string;
  readonly hazardClass: string;
  readonly hazard: string;
  readonly products: readonly { sku: string; name: string }[];
  readonly lots: readonly { sku: string; lotCode: string }[];
  readonly productionDates?: { from: string; to: string };
  readonly regions: readonly string[];
  readonly text: string;
  readonly textHash: string;
  readonly publishedAt: string;
}
