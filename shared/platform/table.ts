/**
 * The one table definition, used by the CDK data stack and by the local provisioning,
 * so keys, indexes and the stream cannot drift between AWS and the embedded stack.
 *
 * Single-table design: every entity lives under `pk`/`sk`. Each global secondary index is
 * named after the access pattern it serves; its key attributes are `<index>Pk`/`<index>Sk`
 * and are written only on the items that pattern needs (sparse indexes).
 *
 * Convention: an item keeps what readers may see under the map attribute `record`, and
 * anything sensitive (a customer's contact) in other attributes. Indexes project only
 * `kind`, `record` and their listed extras, so no index ever holds personal data.
 */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes the index carries (INCLUDE projection). */
  readonly projected: readonly string[];
  /** Which access pattern this index serves: read this before overloading it. */
  readonly purpose: string;
}

/** Attributes every index projects; filters on indexes may only use these. */
export const PROJECTED = ['kind', 'record', 'clockState'] as const;

function index(name: string, purpose: string, extra: readonly string[] = []): IndexDefinition {
  return { name, partitionKey: `${name}Pk`, sortKey: `${name}Sk`, projected: [...PROJECTED, ...extra], purpose };
}

export const TABLE = {
  /** Logical name; the physical name is chosen by CloudFormation or by the local stack. */
  id: 'RecallTable',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Items with this attribute (epoch seconds) are expired by DynamoDB TTL. */
  timeToLiveAttribute: 'expiresAt',
  stream: 'NEW_IMAGE',
  indexes: [
    index('byKind', 'all items of one kind, newest first (reports, incidents by status)'),
    index('byProduct', 'reports of one product (SKU), newest first'),
    index('byLot', 'reports of one product lot, newest first'),
    index('byStore', 'reports bought at one store, newest first'),
    index('byRegion', 'reports from one region, newest first'),
    index('byCategory', 'reports of one defect category, newest first'),
    index('byClockState', 'reports by clock summary (open / overdue / closed), newest first'),
    index('dueWork', 'what the watchdog must look at: running clocks by deadline, sharded', ['version']),
  ],
} as const satisfies {
  id: string;
  partitionKey: string;
  sortKey: string;
  timeToLiveAttribute: string;
  stream: 'NEW_IMAGE';
  indexes: readonly IndexDefinition[];
};

export type IndexName = (typeof TABLE.indexes)[number]['name'];
