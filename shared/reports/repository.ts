import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { dynamo, tableName } from '../platform/aws.js';
import { batchGetAll } from '../platform/query.js';
import { decodeCursor, encodeCursor } from '../platform/cursor.js';
import { ConflictError, TooManyRequestsError } from '../platform/errors.js';
import { cancellationReasons, retryingConflicts } from '../platform/retry.js';
import { keyCode } from '../platform/fields.js';
import { outboxItem, type OutboxMessage } from '../platform/outbox.js';
import type { ReportClockState } from './clocks.js';
import type { Report, ReportContact, TimelineEvent } from './model.js';
import type { ReportListQuery } from './schema.js';
import { joinNarrative, splitNarrative, type DeskNotes, type Narrative } from './narrative.js';

/**
 * Reports in the single table. The only module that speaks DynamoDB for reports.
 *
 * | access pattern                         | key / index                                              |
 * |----------------------------------------|----------------------------------------------------------|
 * | report by id (+ timeline)              | pk=REPORT#<random part of id> (sk REPORT / EVENT#<ulid>)  |
 * | all reports, newest first              | byKind       pk=REPORT               sk=<receivedAt>#<id> |
 * | reports of a product                   | byProduct    pk=SKU#<sku>            sk=<receivedAt>#<id> |
 * | reports of a lot                       | byLot        pk=LOT#<sku>|<lot>      sk=<receivedAt>#<id> |
 * | reports of a store                     | byStore      pk=STORE#<storeId>      sk=<receivedAt>#<id> |
 * | reports of a region                    | byRegion     pk=REGION#<region>      sk=<receivedAt>#<id> |
 * | reports of a defect category           | byCategory   pk=CAT#<category>       sk=<receivedAt>#<id> |
 * | reports by clock summary               | byClockState pk=CLOCKS#<state>       sk=<receivedAt>#<id> |
 * | clocks due (watchdog)                  | dueWork      pk=DUE#CLOCK#<shard>    sk=<deadline>#<id>   |
 *
 * One item per report: the readable case record in `record`, the customer's contact (personal
 * data) in `contact`, the customer's own words and health details in `narrative`, what the
 * desk wrote on the clocks in `deskNotes`. Indexes project `record` only, so no list and no
 * index carries the contact, the narrative or the notes; only `getReport` (the item itself)
 * returns them, and the use cases decide who sees them.
 *
 * Idempotency in one write: a report id is a ULID whose time part is when the complaint was
 * received and whose random part, with an Idempotency-Key, is derived from the key. The item
 * is keyed by the random part alone, so every request with the same key lands on the same
 * item, whatever its body: the conditional PutItem is the whole check, strongly consistent.
 */
export const DUE_SHARDS = 4;

/** The ULID's random part (after the 10 time characters) keys the item; see above. */
const partitionOf = (id: string) => `REPORT#${id.slice(10)}`;
export const reportKey = (id: string) => ({ pk: partitionOf(id), sk: 'REPORT' });
export const dueShard = (id: string) => id.charCodeAt(id.length - 1) % DUE_SHARDS;

const sortKey = (report: Report) => `${report.receivedAt}#${report.id}`;

/** Index keys that follow the clocks; the others never change after creation. */
function clockKeys(report: Report, clockState: ReportClockState, dueAt: string | undefined) {
  return {
    byClockStatePk: `CLOCKS#${clockState}`,
    byClockStateSk: sortKey(report),
    ...(dueAt ? { dueWorkPk: `DUE#CLOCK#${dueShard(report.id)}`, dueWorkSk: `${dueAt}#${report.id}` } : {}),
  };
}

/** The stored item of a new report (exported for bulk loads of history). */
export function toItem(
  report: Report,
  contact: ReportContact,
  clockState: ReportClockState,
  dueAt: string | undefined,
  idempotency?: IdempotencyRecord,
): Record<string, unknown> {
  const sk = sortKey(report);
  const { record, narrative, deskNotes } = splitNarrative(report);
  return {
    ...reportKey(report.id),
    kind: 'report',
    record,
    narrative,
    deskNotes,
    contact,
    version: report.version,
    clockState,
    byKindPk: 'REPORT',
    byKindSk: sk,
    byProductPk: `SKU#${keyCode(report.product.sku)}`,
    byProductSk: sk,
    // `|` cannot occur in codes (`#` can): the lot key cannot mix two products.
    byLotPk: `LOT#${keyCode(report.product.sku)}|${keyCode(report.lotCode)}`,
    byLotSk: sk,
    byStorePk: `STORE#${report.purchase.storeId}`,
    byStoreSk: sk,
    byRegionPk: `REGION#${report.purchase.region}`,
    byRegionSk: sk,
    byCategoryPk: `CAT#${report.defect.category}`,
    byCategorySk: sk,
    ...clockKeys(report, clockState, dueAt),
    ...(idempotency ? { requestHash: idempotency.requestHash } : {}),
  };
}

type StoredRecord = Report & { clockState: ReportClockState };
/** Main-table reads carry the narrative and the desk notes; index reads do not (they are not projected). */
const fromItem = (item: Record<string, unknown>): StoredRecord => ({
  ...joinNarrative(item.record as Report, item.narrative as Narrative | undefined, item.deskNotes as DeskNotes | undefined),
  version: Number(item.version),
  clockState: item.clockState as ReportClockState,
});

export interface IdempotencyRecord {
  readonly keyHash: string;
  readonly requestHash: string;
}

export function hashIdempotencyKey(userId: string, key: string): string {
  return createHash('sha256').update(`${userId}\u0000${key}`).digest('hex');
}

/** A stable hash of a parsed body: same content, same hash, whatever the key order. */
export function requestHash(body: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

export type InsertResult = { created: true } | { created: false; existingReportId: string };

const reuseConflict = () =>
  new ConflictError('This Idempotency-Key was already used with a different body. Use a new key for a new report.');

/**
 * Writes a new report in one conditional PutItem: all or nothing. With an Idempotency-Key,
 * a key seen before answers with the report it created (same body) or 409 (another body).
 * A report a store files also counts into the store's hourly intake counter, in the same
 * transaction and conditioned on the limit: over it, nothing is written and the answer is
 * 429 until the next hour (a replay of a report already filed is not counted again).
 */
export async function insertReport(
  report: Report,
  contact: ReportContact,
  clockState: ReportClockState,
  dueAt: string | undefined,
  idempotency?: IdempotencyRecord,
  intake?: { storeId: string; perHour: number; now: Date },
): Promise<InsertResult> {
  const TableName = tableName();
  const put = { TableName, Item: toItem(report, contact, clockState, dueAt, idempotency), ConditionExpression: 'attribute_not_exists(pk)' };
  try {
    if (!intake) await dynamo().send(new PutCommand(put));
    else {
      const hour = intake.now.toISOString().slice(0, 13);
      // A store's reports filed at once conflict on its counter in DynamoDB: retried.
      await retryingConflicts(() => dynamo().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: put },
            {
              Update: {
                TableName,
                Key: { pk: `INTAKE#${intake.storeId}`, sk: `HOUR#${hour}` },
                UpdateExpression: 'ADD n :one SET kind = :kind, expiresAt = :exp',
                ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
                ExpressionAttributeValues: { ':one': 1, ':limit': intake.perHour, ':kind': 'intake-counter', ':exp': Math.floor(intake.now.getTime() / 1000) + 2 * 3600 },
              },
            },
          ],
        }),
      ));
    }
    return { created: true };
  } catch (error) {
    const reasons = cancellationReasons(error);
    const duplicate = error instanceof ConditionalCheckFailedException || reasons?.[0] === 'ConditionalCheckFailed';
    if (!duplicate && reasons?.[1] === 'ConditionalCheckFailed') {
      const nextHour = new Date(intake!.now);
      nextHour.setUTCMinutes(60, 0, 0);
      throw new TooManyRequestsError(
        `Store ${intake!.storeId} has filed ${intake!.perHour} reports this hour, its limit (CLOCK_POLICY.storeReportsPerHour). Retry after ${nextHour.toISOString()}.`,
        Math.max(1, Math.ceil((nextHour.getTime() - intake!.now.getTime()) / 1000)),
      );
    }
    if (reasons?.includes('TransactionConflict')) throw new ConflictError('A concurrent report of this store touched its intake counter: retry.');
    if (!duplicate || !idempotency) throw error;
    // The key was used before: a retry (or a concurrent twin) of this request, or a misuse.
    const existing = await dynamo().send(new GetCommand({ TableName, Key: reportKey(report.id), ConsistentRead: true }));
    if (!existing.Item || existing.Item.requestHash !== idempotency.requestHash) throw reuseConflict();
    return { created: false, existingReportId: (existing.Item.record as Report).id };
  }
}

export interface StoredReport {
  readonly report: StoredRecord;
  readonly contact?: ReportContact;
  readonly timeline: TimelineEvent[];
}

/** The report with its timeline; the contact only when asked for. One query. */
export async function getReport(id: string, options: { withContact: boolean }): Promise<StoredReport | undefined> {
  const result = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partitionOf(id) },
      ConsistentRead: true,
    }),
  );
  const items = result.Items ?? [];
  const reportItem = items.find((i) => i.sk === 'REPORT');
  // The partition is the id's random part: the full id must match too.
  if (!reportItem || (reportItem.record as Report).id !== id) return undefined;
  const timeline = items
    .filter((i) => typeof i.sk === 'string' && i.sk.startsWith('EVENT#'))
    .map((i) => ({ type: i.type, at: i.at, by: i.by, details: i.details }) as TimelineEvent);
  return {
    report: fromItem(reportItem),
    ...(options.withContact && reportItem.contact ? { contact: reportItem.contact as ReportContact } : {}),
    timeline,
  };
}

/**
 * Saves a changed report if nobody changed it since `expectedVersion` was read, together
 * with its timeline events and outgoing messages, in one transaction. A lost race is 409.
 * It updates the record and the clock keys only: the contact is never read to be written.
 */
export async function saveReport(
  report: Report,
  expectedVersion: number,
  clockState: ReportClockState,
  dueAt: string | undefined,
  events: readonly { id: string; event: TimelineEvent }[],
  outbox: readonly OutboxMessage[],
  now: Date,
  /**
   * Where the report was read: `item` (whole, with its narrative and desk notes: they are
   * written as they are now) or `index` (without them: they are kept as stored).
   */
  readFrom: 'item' | 'index',
): Promise<void> {
  const replaceNarrative = readFrom === 'item';
  const TableName = tableName();
  const keys = clockKeys(report, clockState, dueAt);
  // The record is rewritten without the narrative and the desk notes. They are replaced only
  // when the caller read the item whole (a milestone's note, a survey comment); a caller that
  // read an index (the watchdog) keeps them, and an item of the older layout (text still
  // inside `record`) has its text moved out, never dropped.
  const { record, narrative, deskNotes } = splitNarrative(report);
  const values: Record<string, unknown> = { ':record': record, ':version': report.version, ':expected': expectedVersion, ':clockState': clockState, ':narrative': narrative, ':deskNotes': deskNotes };
  const sets = [
    '#record = :record',
    'version = :version',
    'clockState = :clockState',
    replaceNarrative ? 'narrative = :narrative' : 'narrative = if_not_exists(narrative, :narrative)',
    replaceNarrative ? 'deskNotes = :deskNotes' : 'deskNotes = if_not_exists(deskNotes, :deskNotes)',
  ];
  for (const [name, value] of Object.entries(keys)) {
    sets.push(`${name} = :${name}`);
    values[`:${name}`] = value;
  }
  const update = `SET ${sets.join(', ')}${dueAt ? '' : ' REMOVE dueWorkPk, dueWorkSk'}`;
  try {
    await dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName,
              Key: reportKey(report.id),
              UpdateExpression: update,
              ConditionExpression: 'version = :expected',
              ExpressionAttributeNames: { '#record': 'record' },
              ExpressionAttributeValues: values,
            },
          },
          ...events.map(({ id, event }) => ({
            Put: { TableName, Item: { pk: partitionOf(report.id), sk: `EVENT#${id}`, kind: 'event', ...event } },
          })),
          ...outbox.map((message) => ({
            Put: { TableName, Item: outboxItem(message, now), ConditionExpression: 'attribute_not_exists(pk)' },
          })),
        ],
      }),
    );
  } catch (error) {
    // A failed version check, or a concurrent transaction on the same report: either way, 409.
    const code = cancellationReasons(error)?.[0];
    if (code === 'ConditionalCheckFailed' || code === 'TransactionConflict') {
      throw new ConflictError('The report changed while this request was processed. Read it again and retry.');
    }
    throw error;
  }
}

type ListIndex = { name: string; when: (q: ReportListQuery) => unknown; pk: (q: ReportListQuery) => string; serves: string[] };
const LIST_INDEXES: ListIndex[] = [
  { name: 'byLot', when: (q) => q.lot && q.sku, pk: (q) => `LOT#${keyCode(q.sku!)}|${keyCode(q.lot!)}`, serves: ['sku', 'lot'] },
  { name: 'byProduct', when: (q) => q.sku, pk: (q) => `SKU#${keyCode(q.sku!)}`, serves: ['sku'] },
  { name: 'byStore', when: (q) => q.storeId, pk: (q) => `STORE#${q.storeId}`, serves: ['storeId'] },
  { name: 'byCategory', when: (q) => q.category, pk: (q) => `CAT#${q.category}`, serves: ['category'] },
  { name: 'byRegion', when: (q) => q.region, pk: (q) => `REGION#${q.region}`, serves: ['region'] },
  { name: 'byClockState', when: (q) => q.clockState, pk: (q) => `CLOCKS#${q.clockState}`, serves: ['clockState'] },
  { name: 'byKind', when: () => true, pk: () => 'REPORT', serves: [] },
];

/** Attribute paths (within the projected attributes) of the filters an index does not serve. */
const FILTERS: Record<string, { path: string[]; value: (q: ReportListQuery) => string | undefined }> = {
  sku: { path: ['record', 'product', 'sku'], value: (q) => q.sku },
  lot: { path: ['record', 'lotCode'], value: (q) => q.lot },
  storeId: { path: ['record', 'purchase', 'storeId'], value: (q) => q.storeId },
  category: { path: ['record', 'defect', 'category'], value: (q) => q.category },
  region: { path: ['record', 'purchase', 'region'], value: (q) => q.region },
  clockState: { path: ['clockState'], value: (q) => q.clockState },
};

/** At most this many index pages are read to fill one page of filtered results. */
const MAX_READS_PER_PAGE = 10;

/**
 * Lists reports newest first. The most selective index for the given filters serves the
 * query; the received-between range is a key condition; remaining filters are filter
 * expressions. Never a Scan. The cursor is opaque and bound to the filters it came from.
 */
export async function listReports(query: ReportListQuery): Promise<{ items: StoredRecord[]; cursor?: string }> {
  const index = LIST_INDEXES.find((i) => i.when(query))!;
  const filterFingerprint = requestHash({ ...query, limit: undefined, cursor: undefined }).slice(0, 16);
  let startKey = query.cursor ? decodeCursor(query.cursor, index.name, filterFingerprint) : undefined;

  const names: Record<string, string> = { '#pk': `${index.name}Pk` };
  const values: Record<string, unknown> = { ':pk': index.pk(query) };
  let keyCondition = '#pk = :pk';
  const from = query.receivedFrom ? new Date(query.receivedFrom).toISOString() : undefined;
  const to = query.receivedTo ? `${new Date(query.receivedTo).toISOString()}#\uffff` : undefined;
  if (from || to) names['#sk'] = `${index.name}Sk`;
  if (from && to) {
    keyCondition += ' AND #sk BETWEEN :from AND :to';
    Object.assign(values, { ':from': from, ':to': to });
  } else if (from) {
    keyCondition += ' AND #sk >= :from';
    values[':from'] = from;
  } else if (to) {
    keyCondition += ' AND #sk <= :to';
    values[':to'] = to;
  }
  const filters: string[] = [];
  for (const [name, filter] of Object.entries(FILTERS)) {
    const value = filter.value(query);
    if (value === undefined || index.serves.includes(name)) continue;
    const path = filter.path.map((segment, i) => {
      names[`#f_${name}_${i}`] = segment;
      return `#f_${name}_${i}`;
    });
    values[`:f_${name}`] = value;
    filters.push(`${path.join('.')} = :f_${name}`);
  }

  const items: Record<string, unknown>[] = [];
  for (let reads = 0; reads < MAX_READS_PER_PAGE && items.length < query.limit; reads++) {
    const input: QueryCommandInput = {
      TableName: tableName(),
      IndexName: index.name,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: query.limit - items.length,
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    };
    const page = await dynamo().send(new QueryCommand(input));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
    if (!startKey) break;
  }
  return {
    items: items.map(fromItem),
    ...(startKey ? { cursor: encodeCursor(index.name, startKey, filterFingerprint) } : {}),
  };
}

/** Reports with a clock due by `now` in one shard, earliest first (watchdog). */
export async function dueReports(shard: number, now: Date, limit = 100): Promise<StoredRecord[]> {
  const result = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'dueWork',
      KeyConditionExpression: 'dueWorkPk = :pk AND dueWorkSk <= :now',
      ExpressionAttributeValues: { ':pk': `DUE#CLOCK#${shard}`, ':now': `${now.toISOString()}#\uffff` },
      Limit: limit,
    }),
  );
  return (result.Items ?? []).map(fromItem);
}

/**
 * The reply clock of each of these reports (the 14-day rule), read 100 at a time with only
 * the clocks projected: the incident's close gate asks whether every customer has their reply.
 */
export async function replyClocks(ids: readonly string[]): Promise<Map<string, { completedAt?: string; deadline: string } | undefined>> {
  const out = new Map<string, { completedAt?: string; deadline: string } | undefined>();
  const items = await batchGetAll(tableName(), ids.map(reportKey), { ProjectionExpression: '#record.#id, #record.clocks', ExpressionAttributeNames: { '#record': 'record', '#id': 'id' } });
  for (const item of items) {
    const reply = (item.record.clocks as { id: string; completedAt?: string; deadline: string }[]).find((c) => c.id === 'reply');
    out.set(item.record.id, reply && { deadline: reply.deadline, ...(reply.completedAt ? { completedAt: reply.completedAt } : {}) });
  }
  return out;
}
