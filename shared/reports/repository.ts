import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { dynamo } from '../platform/aws.js';
import { ConflictError, ValidationError } from '../platform/errors.js';
import { outboxItem, type OutboxMessage } from '../platform/outbox.js';
import type { ClockRecord, ReportClockState } from './clocks.js';
import type { Report, ReportContact, TimelineEvent } from './model.js';
import type { ReportListQuery } from './schema.js';

/**
 * Reports in the single table. The only module that speaks DynamoDB for reports.
 *
 * | access pattern                         | key / index                                              |
 * |----------------------------------------|----------------------------------------------------------|
 * | report by id (+ contact, timeline)     | pk=REPORT#<id>  (sk REPORT / CONTACT / EVENT#<ulid>)     |
 * | idempotent create                      | pk=IDEMPOTENCY#<sha256(user,key)>  sk=IDEMPOTENCY        |
 * | all reports, newest first              | byKind       pk=REPORT               sk=<receivedAt>#<id> |
 * | reports of a product                   | byProduct    pk=SKU#<sku>            sk=<receivedAt>#<id> |
 * | reports of a lot                       | byLot        pk=LOT#<sku>#<lot>      sk=<receivedAt>#<id> |
 * | reports of a store                     | byStore      pk=STORE#<storeId>      sk=<receivedAt>#<id> |
 * | reports of a region                    | byRegion     pk=REGION#<region>      sk=<receivedAt>#<id> |
 * | reports of a defect category           | byCategory   pk=CAT#<category>       sk=<receivedAt>#<id> |
 * | reports by clock summary               | byClockState pk=CLOCKS#<state>       sk=<receivedAt>#<id> |
 * | clocks due (watchdog)                  | dueWork      pk=DUE#CLOCK#<shard>    sk=<deadline>#<id>   |
 *
 * The contact (personal data) is its own item with no index keys, so no index and no list
 * ever carries it; only `getReport(id, { withContact: true })` reads it.
 */
export const DUE_SHARDS = 4;
const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export const reportKey = (id: string) => ({ pk: `REPORT#${id}`, sk: 'REPORT' });
const contactKey = (id: string) => ({ pk: `REPORT#${id}`, sk: 'CONTACT' });
const idempotencyKey = (hash: string) => ({ pk: `IDEMPOTENCY#${hash}`, sk: 'IDEMPOTENCY' });
export const dueShard = (id: string) => id.charCodeAt(id.length - 1) % DUE_SHARDS;

function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

function toItem(report: Report, clockState: ReportClockState, dueAt: string | undefined): Record<string, unknown> {
  const sk = `${report.receivedAt}#${report.id}`;
  return {
    ...reportKey(report.id),
    kind: 'report',
    ...report,
    clockState,
    byKindPk: 'REPORT',
    byKindSk: sk,
    byProductPk: `SKU#${report.product.sku}`,
    byProductSk: sk,
    byLotPk: `LOT#${report.product.sku}#${report.lotCode}`,
    byLotSk: sk,
    byStorePk: `STORE#${report.purchase.storeId}`,
    byStoreSk: sk,
    byRegionPk: `REGION#${report.purchase.region}`,
    byRegionSk: sk,
    byCategoryPk: `CAT#${report.defect.category}`,
    byCategorySk: sk,
    byClockStatePk: `CLOCKS#${clockState}`,
    byClockStateSk: sk,
    ...(dueAt ? { dueWorkPk: `DUE#CLOCK#${dueShard(report.id)}`, dueWorkSk: `${dueAt}#${report.id}` } : {}),
  };
}

const INDEX_ATTRIBUTES = /^(by\w+|dueWork)(Pk|Sk)$/;
function fromItem(item: Record<string, unknown>): Report & { clockState: ReportClockState } {
  const report: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === 'pk' || key === 'sk' || key === 'kind' || INDEX_ATTRIBUTES.test(key)) continue;
    report[key] = value;
  }
  return report as Report & { clockState: ReportClockState };
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

/**
 * Writes a new report, its contact and (with a key) the idempotency record in one
 * transaction: all or nothing. A reused key with the same body answers with the report it
 * created; with another body, 409.
 */
export async function insertReport(
  report: Report,
  contact: ReportContact,
  clockState: ReportClockState,
  dueAt: string | undefined,
  idempotency?: { keyHash: string; requestHash: string },
): Promise<InsertResult> {
  const TableName = tableName();
  const items = [
    ...(idempotency
      ? [
          {
            Put: {
              TableName,
              Item: {
                ...idempotencyKey(idempotency.keyHash),
                kind: 'idempotency',
                requestHash: idempotency.requestHash,
                reportId: report.id,
                expiresAt: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_SECONDS,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ]
      : []),
    { Put: { TableName, Item: toItem(report, clockState, dueAt), ConditionExpression: 'attribute_not_exists(pk)' } },
    { Put: { TableName, Item: { ...contactKey(report.id), kind: 'contact', contact } } },
  ];
  try {
    await dynamo().send(new TransactWriteCommand({ TransactItems: items }));
    return { created: true };
  } catch (error) {
    const keyTaken =
      idempotency &&
      error instanceof TransactionCanceledException &&
      error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
    if (!keyTaken) throw error;
    const existing = await dynamo().send(
      new GetCommand({ TableName, Key: idempotencyKey(idempotency.keyHash), ConsistentRead: true }),
    );
    if (!existing.Item) throw error;
    if (existing.Item.requestHash !== idempotency.requestHash) {
      throw new ConflictError('This Idempotency-Key was already used with a different body. Use a new key for a new report.');
    }
    return { created: false, existingReportId: String(existing.Item.reportId) };
  }
}

export interface StoredReport {
  readonly report: Report & { clockState: ReportClockState };
  readonly contact?: ReportContact;
  readonly timeline: TimelineEvent[];
}

/** The report with its timeline; the contact only when asked for. One query. */
export async function getReport(id: string, options: { withContact: boolean }): Promise<StoredReport | undefined> {
  const result = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `REPORT#${id}` },
      ConsistentRead: true,
    }),
  );
  const items = result.Items ?? [];
  const reportItem = items.find((i) => i.sk === 'REPORT');
  if (!reportItem) return undefined;
  const contactItem = options.withContact ? items.find((i) => i.sk === 'CONTACT') : undefined;
  const timeline = items
    .filter((i) => typeof i.sk === 'string' && i.sk.startsWith('EVENT#'))
    .map((i) => ({ type: i.type, at: i.at, by: i.by, details: i.details }) as TimelineEvent);
  return {
    report: fromItem(reportItem),
    ...(contactItem ? { contact: contactItem.contact as ReportContact } : {}),
    timeline,
  };
}

/**
 * Saves a changed report if nobody changed it since `expectedVersion` was read, together
 * with its timeline events and outgoing messages, in one transaction. A lost race is 409.
 */
export async function saveReport(
  report: Report,
  expectedVersion: number,
  clockState: ReportClockState,
  dueAt: string | undefined,
  events: readonly { id: string; event: TimelineEvent }[],
  outbox: readonly OutboxMessage[] = [],
  now: Date = new Date(),
): Promise<void> {
  const TableName = tableName();
  try {
    await dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName,
              Item: toItem(report, clockState, dueAt),
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': expectedVersion },
            },
          },
          ...events.map(({ id, event }) => ({
            Put: { TableName, Item: { pk: `REPORT#${report.id}`, sk: `EVENT#${id}`, kind: 'event', ...event } },
          })),
          ...outbox.map((message) => ({
            Put: { TableName, Item: outboxItem(message, now), ConditionExpression: 'attribute_not_exists(pk)' },
          })),
        ],
      }),
    );
  } catch (error) {
    if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
      throw new ConflictError('The report changed while this request was processed. Read it again and retry.');
    }
    throw error;
  }
}

const LIST_INDEXES = [
  { name: 'byLot', when: (q: ReportListQuery) => q.lot && q.sku, pk: (q: ReportListQuery) => `LOT#${q.sku}#${q.lot}` },
  { name: 'byProduct', when: (q: ReportListQuery) => q.sku, pk: (q: ReportListQuery) => `SKU#${q.sku}` },
  { name: 'byStore', when: (q: ReportListQuery) => q.storeId, pk: (q: ReportListQuery) => `STORE#${q.storeId}` },
  { name: 'byCategory', when: (q: ReportListQuery) => q.category, pk: (q: ReportListQuery) => `CAT#${q.category}` },
  { name: 'byRegion', when: (q: ReportListQuery) => q.region, pk: (q: ReportListQuery) => `REGION#${q.region}` },
  { name: 'byClockState', when: (q: ReportListQuery) => q.clockState, pk: (q: ReportListQuery) => `CLOCKS#${q.clockState}` },
  { name: 'byKind', when: () => true, pk: () => 'REPORT' },
] as const;

/** Attribute paths of the filters the chosen index does not serve. */
const FILTERS: Record<string, { path: string[]; value: (q: ReportListQuery) => string | undefined }> = {
  sku: { path: ['product', 'sku'], value: (q) => q.sku },
  lot: { path: ['lotCode'], value: (q) => q.lot },
  storeId: { path: ['purchase', 'storeId'], value: (q) => q.storeId },
  category: { path: ['defect', 'category'], value: (q) => q.category },
  region: { path: ['purchase', 'region'], value: (q) => q.region },
  clockState: { path: ['clockState'], value: (q) => q.clockState },
};
const SERVED_BY: Record<string, string[]> = {
  byLot: ['sku', 'lot'],
  byProduct: ['sku'],
  byStore: ['storeId'],
  byCategory: ['category'],
  byRegion: ['region'],
  byClockState: ['clockState'],
  byKind: [],
};

/** At most this many index pages are read to fill one page of filtered results. */
const MAX_READS_PER_PAGE = 10;

/**
 * Lists reports newest first. The most selective index for the given filters serves the
 * query; the received-between range is a key condition; remaining filters are filter
 * expressions. Never a Scan. The cursor is opaque and bound to the filters it came from.
 */
export async function listReports(query: ReportListQuery): Promise<{ items: (Report & { clockState: ReportClockState })[]; cursor?: string }> {
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
    if (value === undefined || SERVED_BY[index.name]!.includes(name)) continue;
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
    ...(startKey ? { cursor: encodeCursor(index.name, filterFingerprint, startKey) } : {}),
  };
}

function encodeCursor(index: string, fingerprint: string, key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ i: index, f: fingerprint, k: key })).toString('base64url');
}

function decodeCursor(cursor: string, index: string, fingerprint: string): Record<string, unknown> {
  const invalid = () => new ValidationError([{ field: 'query.cursor', message: 'not a cursor from this list (filters changed?)' }]);
  let parsed: { i?: unknown; f?: unknown; k?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (parsed.i !== index || parsed.f !== fingerprint || !parsed.k || typeof parsed.k !== 'object') throw invalid();
  const key = parsed.k as Record<string, unknown>;
  const allowed = new Set(['pk', 'sk', `${index}Pk`, `${index}Sk`]);
  if (!Object.entries(key).every(([k, v]) => allowed.has(k) && typeof v === 'string')) throw invalid();
  return key;
}

/** Reports with a clock due by `now` in one shard, earliest first (watchdog). */
export async function dueReports(shard: number, now: Date, limit = 100): Promise<(Report & { clockState: ReportClockState })[]> {
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

export type { ClockRecord };
