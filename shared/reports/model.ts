import type { ClockRecord } from './clocks.js';
import type { ReportCreate } from './schema.js';

/** A stored case record: the create payload less the contact, plus what the system adds. */
export type Report = Omit<ReportCreate, 'contact' | 'landingPoints' | 'receivingAgent'> & {
  readonly id: string;
  readonly receivingAgent: string;
  readonly clocks: ClockRecord[];
  readonly survey?: { satisfaction: number; comment?: string; at: string; by: string };
  /** User id (token subject) of whoever filed it; never a name. */
  readonly createdBy: string;
  /** The store that filed it, when a store did (its accounts read the customer's words). */
  readonly filedByStore?: string;
  readonly createdAt: string;
  readonly version: number;
};

export type ReportContact = ReportCreate['contact'];

/** One line of a report's audit trail. `details` holds ids and codes, never personal data. */
export interface TimelineEvent {
  readonly type: 'received' | 'milestone' | 'landing-point-added' | 'clock-breached' | 'survey-recorded';
  readonly at: string;
  readonly by: string;
  readonly details?: Record<string, unknown>;
}
