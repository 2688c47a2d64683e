import type { Effectiveness } from '../../shared/notices/effectiveness.js';
import type { Acknowledgement, PublicNotice, StoreNotice } from '../../shared/notices/model.js';
import type { sendIncidentReplies, sendReply } from '../../shared/notices/replies.js';
import type { ClusterSummary, Incident, IncidentEvent } from '../../shared/incidents/model.js';
import type { IncidentView, readIncidentAt } from '../../shared/incidents/use-cases.js';
import type { ReportContact, TimelineEvent } from '../../shared/reports/model.js';
import type { ReportView } from '../../shared/reports/use-cases.js';
import type { Store } from '../../shared/stores/model.js';

/**
 * What the API answers, in the domain's own types: the CLI reads the same shapes the
 * handlers return, so a changed field breaks the type check, not a user's terminal.
 */
export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

export type ReportRead = ReportView & { contact?: ReportContact; timeline: TimelineEvent[]; redacted?: readonly string[] };
export type IncidentListItem = Incident & { recentReportIds: string[] };
export type IncidentRead = IncidentView & { timeline: IncidentEvent[] };
export type IncidentAt = Awaited<ReturnType<typeof readIncidentAt>>;
export type EffectivenessRead = Effectiveness & { incidentId: string; hazardClass: string; notices: string[] };
export type StoreInbox = Page<StoreNotice & { acknowledgement?: Acknowledgement }> & { storeId: string; region: string };
export type ClusterPage = Page<ClusterSummary & { count: number }> & { window: number };
export interface TrackRecordPage {
  learning: boolean;
  overall?: { hits: number; misses: number; rate: number };
  thresholds?: { minOutcomes: number; onceBelow: number; holdOutcomes: number; holdBelow: number };
  items: { category: string; label: string; standing: 'normal' | 'once' | 'held'; hits: number; misses: number; dismissed?: number; pending: number; rate: number; explanation: string }[];
}
export type ReplySent = Awaited<ReturnType<typeof sendReply>>;
export type RepliesSent = Awaited<ReturnType<typeof sendIncidentReplies>>;
export type { Acknowledgement, PublicNotice, Store };
