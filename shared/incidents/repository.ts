import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from '../platform/aws.js';
import { batchGetAll, queryPages } from '../platform/query.js';
import { cancellationReasons, retryingConflicts } from '../platform/retry.js';
import { decodeCursor, encodeCursor } from '../platform/cursor.js';
import { ConflictError, UnprocessableError } from '../platform/errors.js';
import { outboxItem, type OutboxMessage } from '../platform/outbox.js';
import type { Signal } from '../detection/engine.js';
import type { ClusterKey } from '../detection/keys.js';
import { nextDeadline } from './actions.js';
import type { PublicNotice } from '../notices/model.js';
import { publicNoticeItem } from '../notices/repository.js';
import { LIFECYCLE_FIELDS, OPEN_STATUSES, type ClusterSummary, type Incident, type IncidentEvent, type KeyEntry } from './model.js';

/**
 * Incidents, their timelines, key markers and cluster summaries in the single table.
 *
 * | access pattern                          | key / index                                               |
 * |-----------------------------------------|-----------------------------------------------------------|
 * | incident by id                          | pk=INCIDENT#<id>        sk=INCIDENT                       |
 * | reports linked to an incident           | pk=INCIDENT#<id>        sk=REPORT#<reportId>              |
 * | an incident's timeline, in order        | pk=INCIDENT#<id>        sk=EVENT#<version, 8 digits>      |
 * | the open incident of a cluster key      | pk=OPEN#<clusterKey>    sk=OPEN  → incidentId             |
 * | a key's dismissed evidence              | pk=OPEN#<clusterKey>    sk=DISMISSED → count, incidentId  |
 * | incidents by status, newest first       | byKind pk=INCIDENT#<status>  sk=<openedAt>#<id>           |
 * | incident deadlines due (watchdog)       | dueWork pk=DUE#INCIDENT      sk=<due>#<id>                |
 * | a cluster key's summary                 | pk=CLUSTER#<clusterKey> sk=SUMMARY                        |
 * | clusters seen lately                    | byKind pk=CLUSTER            sk=<lastReportAt>#<key>      |
 *
 * The timeline event's sort key is the version it created, written on the condition that it
 * does not exist, in the same transaction as the version check: one event per version, ever.
 */
const incidentKey = (id: string) => ({ pk: `INCIDENT#${id}`, sk: 'INCIDENT' });
const openKey = (clusterKey: string) => ({ pk: `OPEN#${clusterKey}`, sk: 'OPEN' });
const dismissedKey = (clusterKey: string) => ({ pk: `OPEN#${clusterKey}`, sk: 'DISMISSED' });
const linkKey = (id: string, reportId: string) => ({ pk: `INCIDENT#${id}`, sk: `REPORT#${reportId}` });
const eventKey = (id: string, version: number) => ({ pk: `INCIDENT#${id}`, sk: `EVENT#${String(version).padStart(8, '0')}` });
const DUE_PK = 'DUE#INCIDENT';
/**
 * At most this many cluster keys per incident: dismissing one releases every marker and
 * records its evidence in one transaction (2 items a key, 100 items at most).
 */
export const MAX_KEYS = 40;

/** The condition "the incident is open" (holds its keys), from the one list of open states. */
const OPEN_VALUES = Object.fromEntries(OPEN_STATUSES.map((s, i) => [`:open${i}`, s]));
const IS_OPEN = `#record.#status IN (${Object.keys(OPEN_VALUES).join(', ')})`;

/** Index keys that follow the lifecycle: status list and the watchdog's due work. */
function indexKeys(incident: Incident) {
  const due = nextDeadline(incident);
  return {
    byKindPk: `INCIDENT#${incident.status}`,
    byKindSk: `${incident.openedAt}#${incident.id}`,
    ...(due ? { dueWorkPk: DUE_PK, dueWorkSk: `${due}#${incident.id}` } : {}),
  };
}

function incidentItem(incident: Incident) {
  return { ...incidentKey(incident.id), kind: 'incident', record: incident, version: incident.version, ...indexKeys(incident) };
}

function eventPut(TableName: string, incidentId: string, event: IncidentEvent) {
  return { Put: { TableName, Item: { ...eventKey(incidentId, event.version), kind: 'incident-event', event }, ConditionExpression: 'attribute_not_exists(pk)' } };
}

const outboxPut = (TableName: string, message: OutboxMessage, now: Date) => ({
  Put: { TableName, Item: outboxItem(message, now), ConditionExpression: 'attribute_not_exists(pk)' },
});

export async function getIncident(id: string): Promise<Incident | undefined> {
  const result = await dynamo().send(new GetCommand({ TableName: tableName(), Key: incidentKey(id), ConsistentRead: true }));
  return result.Item ? ({ ...(result.Item.record as Incident), version: Number(result.Item.version) }) : undefined;
}

export interface KeyMarkers {
  /** Key id → the incident that holds it. */
  readonly open: Map<string, string>;
  /** Key id → the evidence size at dismissal. */
  readonly dismissed: Map<string, { count: number; incidentId: string }>;
}

/** The open incident and the dismissal, if any, of each of these cluster keys (one batch read). */
export async function keyMarkers(clusterKeys: readonly string[]): Promise<KeyMarkers> {
  const open = new Map<string, string>();
  const dismissed = new Map<string, { count: number; incidentId: string }>();
  const keys = clusterKeys.flatMap((k) => [openKey(k), dismissedKey(k)]);
  // Unprocessed keys (throttling) are read again: a missed open incident would lose a link.
  for (const item of await batchGetAll(tableName(), keys, { ConsistentRead: true })) {
    const key = String(item.pk).slice('OPEN#'.length);
    if (item.sk === 'OPEN') open.set(key, String(item.incidentId));
    else dismissed.set(key, { count: Number(item.count), incidentId: String(item.incidentId) });
  }
  return { open, dismissed };
}

/** The open-key marker of a key held by an incident, written only where no incident holds it yet. */
const openMarkerPut = (TableName: string, keyId: string, incidentId: string) => ({
  Put: { TableName, Item: { ...openKey(keyId), kind: 'open-incident', incidentId }, ConditionExpression: 'attribute_not_exists(pk)' },
});

/**
 * Opens a candidate for every key it names: an open-key marker per key (conditional on
 * absence), the incident, its first report link, timeline event 1 and its alert, in one
 * transaction. Returns false when another report claimed one of the keys first; the caller
 * then reads the markers again and joins that incident.
 */
export async function createCandidate(incident: Incident, event: IncidentEvent, alert: OutboxMessage, now: Date): Promise<boolean> {
  const TableName = tableName();
  try {
    await retryingConflicts(() =>
      dynamo().send(
        new TransactWriteCommand({
          TransactItems: [
            ...Object.keys(incident.keys).map((k) => openMarkerPut(TableName, k, incident.id)),
            { Put: { TableName, Item: incidentItem(incident), ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName, Item: { ...linkKey(incident.id, incident.openedBy!.reportId), kind: 'incident-link', at: incident.openedBy!.at } } },
            eventPut(TableName, incident.id, event),
            outboxPut(TableName, alert, now),
          ],
        }),
      ),
    );
    return true;
  } catch (error) {
    if (cancellationReasons(error)?.includes('ConditionalCheckFailed')) return false;
    throw error;
  }
}

/**
 * Opens an incident by hand, claiming the keys its scope names. A key another open
 * incident holds is a 409 that names it: declare or merge that one instead.
 */
export async function createIncident(incident: Incident, event: IncidentEvent, now: Date, healed = false): Promise<void> {
  const TableName = tableName();
  const keys = Object.keys(incident.keys);
  if (keys.length > MAX_KEYS) throw new UnprocessableError(`A scope of more than ${MAX_KEYS} product and lot keys is too large for one incident: split it.`, { rule: 'scope-size' });
  try {
    await dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          ...keys.map((k) => openMarkerPut(TableName, k, incident.id)),
          { Put: { TableName, Item: incidentItem(incident), ConditionExpression: 'attribute_not_exists(pk)' } },
          eventPut(TableName, incident.id, event),
        ],
      }),
    );
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (!reasons) throw error;
    const held = keys.filter((_, i) => reasons[i] === 'ConditionalCheckFailed');
    if (held.length) {
      const markers = await keyMarkers(held);
      // A marker left on an incident no longer open is healed, and the open tried again once.
      const holders = await Promise.all(held.map(async (k) => ({ key: k, holder: markers.open.get(k), incident: markers.open.get(k) ? await getIncident(markers.open.get(k)!) : undefined })));
      const live = holders.filter((h) => h.incident && OPEN_STATUSES.includes(h.incident.status));
      if (live.length === 0 && !healed) {
        for (const h of holders) if (h.holder) await releaseStaleKey(h.key, h.holder);
        return createIncident(incident, event, now, true);
      }
      throw new ConflictError(`Another open incident already holds ${live.map((h) => `${h.key} (incident ${h.holder})`).join(', ')}: declare or merge that one instead.`);
    }
    if (reasons.includes('TransactionConflict')) throw new ConflictError('A concurrent change touched the same keys: retry.');
    throw error;
  }
}

/** Adds a key to an open incident: claims its marker and adds its entry, or returns false when taken. */
export async function claimKey(incidentId: string, key: ClusterKey, entry: KeyEntry): Promise<boolean> {
  const TableName = tableName();
  try {
    await retryingConflicts(() =>
      dynamo().send(
        new TransactWriteCommand({
          TransactItems: [
            openMarkerPut(TableName, key.id, incidentId),
            {
              Update: {
                TableName,
                Key: incidentKey(incidentId),
                UpdateExpression: 'SET #record.#keys.#k = :entry',
                // Only an open incident takes keys (a dismissed or merged one would strand the
                // marker), and only up to the cap its release transaction can hold.
                ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(#record.#keys.#k) AND ${IS_OPEN} AND size(#record.#keys) < :max`,
                ExpressionAttributeNames: { '#record': 'record', '#keys': 'keys', '#k': key.id, '#status': 'status' },
                ExpressionAttributeValues: { ':entry': entry, ...OPEN_VALUES, ':max': MAX_KEYS },
              },
            },
          ],
        }),
      ),
    );
    return true;
  } catch (error) {
    if (cancellationReasons(error)?.includes('ConditionalCheckFailed')) return false;
    throw error;
  }
}

/** `not-open`: the incident was dismissed or closed after its marker was read; nothing was written. */
export type AttachResult = { result: 'attached' | 'already-linked' | 'not-open'; incidentId: string };

/**
 * Links a report to an incident. No read-modify-write, so reports on a busy key never race:
 * the link (conditional on absence, so a redelivered report counts once), the count and an
 * optional alert go in one transaction; each key's latest evidence is set by conditional
 * path updates that only move forward. An incident merged meanwhile passes the report on
 * to the one it was merged into; one dismissed or closed meanwhile takes nothing
 * (`not-open`). A transaction conflict is retried with jittered backoff (platform/retry.ts).
 */
export async function attachReport(
  incidentId: string,
  reportId: string,
  at: string,
  signals: readonly Signal[],
  alert?: OutboxMessage,
  now: Date = new Date(),
): Promise<AttachResult> {
  const TableName = tableName();
  let result: AttachResult['result'] = 'attached';
  try {
    // Pure conflicts are retried; a cancellation that failed a condition is an answer, below.
    await retryingConflicts(() =>
      dynamo().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { ...linkKey(incidentId, reportId), kind: 'incident-link', at }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName,
                Key: incidentKey(incidentId),
                UpdateExpression: 'ADD #record.reportCount :one',
                ConditionExpression: `attribute_exists(pk) AND ${IS_OPEN}`,
                ExpressionAttributeNames: { '#record': 'record', '#status': 'status' },
                ExpressionAttributeValues: { ':one': 1, ...OPEN_VALUES },
              },
            },
            ...(alert ? [outboxPut(TableName, alert, now)] : []),
          ],
        }),
      ),
    );
  } catch (error) {
    const [link, incident, outbox] = cancellationReasons(error) ?? [];
    if (link === 'ConditionalCheckFailed' || outbox === 'ConditionalCheckFailed') {
      // A redelivery: the count stands, but the updates below may not have happened yet.
      result = 'already-linked';
    } else if (incident === 'ConditionalCheckFailed') {
      const target = await getIncident(incidentId);
      if (target?.status === 'merged' && target.mergedInto) return attachReport(target.mergedInto, reportId, at, signals, alert && { ...alert, id: alert.id.replace(incidentId, target.mergedInto) }, now);
      if (target) return { result: 'not-open', incidentId };
      throw new Error(`Incident ${incidentId} does not exist`);
    } else throw error;
  }
  await moveForward(incidentId, ['lastReportAt'], at, at);
  for (const signal of signals) await moveForward(incidentId, ['keys', signal.key.id, 'evidence', signal.rule], signal, signal.at, true);
  return { result, incidentId };
}

/**
 * Drops a key's marker that still points to an incident no longer open. A key claimed by a
 * report at the moment the incident was dismissed or closed can be left behind that way;
 * detection heals it when it meets it, so the key can open a new candidate.
 */
export async function releaseStaleKey(keyId: string, incidentId: string): Promise<void> {
  try {
    await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: openKey(keyId), ConditionExpression: 'incidentId = :id', ExpressionAttributeValues: { ':id': incidentId } }));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Sets the record path to `value` unless what is there is newer (compared on its `at` when `byAt`). */
async function moveForward(incidentId: string, path: readonly string[], value: unknown, at: string, byAt = false): Promise<void> {
  const names: Record<string, string> = { '#record': 'record' };
  const target = ['#record', ...path.map((segment, i) => ((names[`#p${i}`] = segment), `#p${i}`))].join('.');
  const compare = byAt ? ((names['#at'] = 'at'), `${target}.#at`) : target;
  // A nested path needs its parent map: a key the incident does not hold is skipped, not a
  // ValidationException that would fail the stream record.
  const parent = path.length > 2 ? `attribute_exists(${['#record', ...path.slice(0, -2).map((_, i) => `#p${i}`)].join('.')}) AND ` : '';
  try {
    await retryingConflicts(() =>
      dynamo().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: incidentKey(incidentId),
          UpdateExpression: `SET ${target} = :value`,
          ConditionExpression: `${parent}(attribute_not_exists(${compare}) OR ${compare} < :at)`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':value': value, ':at': at },
        }),
      ),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** What one action writes: the incident, its event, its messages and its key markers. */
export interface IncidentWrite {
  readonly incident: Incident;
  readonly expectedVersion: number;
  readonly event: IncidentEvent;
  readonly outbox?: readonly OutboxMessage[];
  /** Let go of these keys' open markers (dismissed or closed). */
  readonly releaseKeys?: readonly string[];
  /** Per key, the evidence size a later signal must exceed (dismissal). */
  readonly dismissedEvidence?: Record<string, number>;
  /** Keys moved to this incident from merged candidates: their markers point here after. */
  readonly adoptKeys?: Record<string, { entry: KeyEntry; from: string }>;
  /** The public notice the action published (for the public page). */
  readonly publicNotice?: PublicNotice;
  /** Reports that come with merged candidates, added to the count (which detection also moves). */
  readonly addReports?: number;
  /**
   * How many keys the incident had when the action was decided: detection may add a key
   * without a new version, and an action that releases or moves keys must not miss it.
   */
  readonly expectedKeys: number;
}

function versionedUpdate(TableName: string, write: IncidentWrite) {
  const { incident } = write;
  const names: Record<string, string> = { '#record': 'record', '#version': 'version', '#keys': 'keys' };
  const values: Record<string, unknown> = { ':version': incident.version, ':expected': write.expectedVersion, ':nkeys': write.expectedKeys };
  const sets = ['#version = :version', '#record.#version = :version'];
  const removes: string[] = [];
  LIFECYCLE_FIELDS.forEach((field, i) => {
    names[`#f${i}`] = field;
    const value = incident[field];
    if (value === undefined) removes.push(`#record.#f${i}`);
    else {
      sets.push(`#record.#f${i} = :f${i}`);
      values[`:f${i}`] = value;
    }
  });
  for (const [name, value] of Object.entries(indexKeys(incident))) {
    sets.push(`${name} = :${name}`);
    values[`:${name}`] = value;
  }
  if (!nextDeadline(incident)) removes.push('dueWorkPk', 'dueWorkSk');
  Object.entries(write.adoptKeys ?? {}).forEach(([keyId, { entry }], i) => {
    names[`#a${i}`] = keyId;
    sets.push(`#record.#keys.#a${i} = :a${i}`);
    values[`:a${i}`] = entry;
  });
  if (write.addReports) values[':addReports'] = write.addReports;
  return {
    Update: {
      TableName,
      Key: incidentKey(incident.id),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}${write.addReports ? ' ADD #record.reportCount :addReports' : ''}`,
      ConditionExpression: '#version = :expected AND size(#record.#keys) = :nkeys',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * Writes actions in one transaction: each incident's new version (conditioned on the one the
 * action was decided on), its timeline event, its outgoing messages and key markers. Several
 * writes go together when one action changes several incidents (a merge). A lost race, on
 * the version or against a concurrent transaction, is 409; nothing is half-written.
 */
export async function saveIncidents(writes: readonly IncidentWrite[], now: Date): Promise<void> {
  const TableName = tableName();
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
  for (const write of writes) {
    const id = write.incident.id;
    items.push(versionedUpdate(TableName, write), eventPut(TableName, id, write.event));
    for (const message of write.outbox ?? []) items.push(outboxPut(TableName, message, now));
    for (const key of write.releaseKeys ?? []) {
      items.push({ Delete: { TableName, Key: openKey(key), ConditionExpression: 'incidentId = :id', ExpressionAttributeValues: { ':id': id } } });
    }
    for (const [key, count] of Object.entries(write.dismissedEvidence ?? {})) {
      items.push({ Put: { TableName, Item: { ...dismissedKey(key), kind: 'dismissed-key', incidentId: id, count, at: now.toISOString() } } });
    }
    if (write.publicNotice) items.push({ Put: { TableName, Item: publicNoticeItem(write.publicNotice), ConditionExpression: 'attribute_not_exists(pk)' } });
    for (const [key, { from }] of Object.entries(write.adoptKeys ?? {})) {
      items.push({
        Put: { TableName, Item: { ...openKey(key), kind: 'open-incident', incidentId: id }, ConditionExpression: 'incidentId = :from', ExpressionAttributeValues: { ':from': from } },
      });
    }
  }
  if (items.length > 100) throw new UnprocessableError(`This change touches ${items.length} items; one transaction holds 100. Merge fewer candidates at once.`, { rule: 'transaction-size' });
  try {
    await dynamo().send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.some((r) => r === 'ConditionalCheckFailed' || r === 'TransactionConflict')) {
      throw new ConflictError('The incident changed while this request was processed. Read it again and retry.');
    }
    throw error;
  }
}

/** The incident's timeline, oldest first. */
export async function timeline(id: string): Promise<IncidentEvent[]> {
  return (await queryAll(`INCIDENT#${id}`, 'EVENT#')).map((i) => i.event as IncidentEvent);
}

/** Every report linked to the incident and to the candidates merged into it, without repeats. */
export async function linkedReportIds(incident: Incident): Promise<string[]> {
  const partitions = [incident.id, ...(incident.mergedFrom ?? [])];
  const all = await Promise.all(partitions.map((id) => queryAll(`INCIDENT#${id}`, 'REPORT#')));
  return [...new Set(all.flat().map((i) => String(i.sk).slice('REPORT#'.length)))].sort();
}

async function queryAll(pk: string, prefix: string): Promise<Record<string, unknown>[]> {
  const { items } = await queryPages({ TableName: tableName(), KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix }, ConsistentRead: true });
  return items;
}

/** The newest report ids linked to an incident, newest first (report ids sort by time). */
async function recentReportIds(incidentId: string, limit = 20): Promise<string[]> {
  const page = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :report)',
      ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':report': 'REPORT#' },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (page.Items ?? []).map((i) => String(i.sk).slice('REPORT#'.length));
}

export async function listIncidents(query: { status: string; hazardClass?: string; limit: number; cursor?: string }): Promise<{ items: (Incident & { recentReportIds: string[] })[]; cursor?: string }> {
  const binding = `${query.status}|${query.hazardClass ?? ''}`;
  const startKey = query.cursor ? decodeCursor(query.cursor, 'byKind', binding) : undefined;
  const page = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'byKind',
      KeyConditionExpression: 'byKindPk = :pk',
      ExpressionAttributeValues: { ':pk': `INCIDENT#${query.status}`, ...(query.hazardClass ? { ':class': query.hazardClass } : {}) },
      ...(query.hazardClass ? { FilterExpression: '#record.hazardClass = :class', ExpressionAttributeNames: { '#record': 'record' } } : {}),
      ScanIndexForward: false,
      Limit: query.limit,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }),
  );
  const incidents = (page.Items ?? []).map((i) => i.record as Incident);
  return {
    items: await Promise.all(incidents.map(async (i) => ({ ...i, recentReportIds: await recentReportIds(i.id) }))),
    ...(page.LastEvaluatedKey ? { cursor: encodeCursor('byKind', page.LastEvaluatedKey, binding) } : {}),
  };
}

/** Incidents with a deadline due by `now`, earliest first (watchdog). */
export async function dueIncidents(now: Date, limit = 100): Promise<Incident[]> {
  const result = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'dueWork',
      KeyConditionExpression: 'dueWorkPk = :pk AND dueWorkSk <= :now',
      ExpressionAttributeValues: { ':pk': DUE_PK, ':now': `${now.toISOString()}#\uffff` },
      Limit: limit,
    }),
  );
  return (result.Items ?? []).map((i) => ({ ...(i.record as Incident), version: Number(i.version) }));
}

/**
 * Saves a cluster's picture as of one report, unless a fresher one is stored: a later day, or
 * the same day with more reports counted. (Reports of one key are judged concurrently, so
 * the latest report is not always the one that saw the most.) A report that raised no
 * signal keeps the key's latest signal: it updates the counts only.
 */
export async function saveClusterSummary(summary: ClusterSummary): Promise<void> {
  const TableName = tableName();
  const key = { pk: `CLUSTER#${summary.key.id}`, sk: 'SUMMARY' };
  const sortKey = `${summary.lastReportAt}#${summary.key.id}`;
  const day = summary.lastReportAt.slice(0, 10);
  const seen = summary.counts['365'] ?? 0;
  const fresher = 'summaryDay < :day OR (summaryDay = :day AND seen <= :seen)';
  const values = { ':day': day, ':seen': seen };
  const ignoreStale = (error: unknown) => {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  };
  if (!summary.latestSignal) {
    try {
      await retryingConflicts(() =>
        dynamo().send(
          new UpdateCommand({
            TableName,
            Key: key,
            UpdateExpression: 'SET #record.lastReportAt = :at, #record.counts = :counts, summaryDay = :day, seen = :seen, byKindSk = :sk',
            ConditionExpression: `attribute_exists(pk) AND (${fresher})`,
            ExpressionAttributeNames: { '#record': 'record' },
            ExpressionAttributeValues: { ...values, ':at': summary.lastReportAt, ':counts': summary.counts, ':sk': sortKey },
          }),
        ),
      );
      return;
    } catch (error) {
      ignoreStale(error);
    }
  }
  try {
    await retryingConflicts(() =>
      dynamo().send(
        new PutCommand({
          TableName,
          Item: { ...key, kind: 'cluster', record: summary, summaryDay: day, seen, byKindPk: 'CLUSTER', byKindSk: sortKey },
          ConditionExpression: summary.latestSignal ? `attribute_not_exists(pk) OR ${fresher}` : 'attribute_not_exists(pk)',
          ...(summary.latestSignal ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
  } catch (error) {
    ignoreStale(error);
  }
}

/** Cluster summaries whose latest report is at or after `since`, at most `cap` of them. */
export async function clustersSince(since: string, cap: number): Promise<{ items: ClusterSummary[]; truncated: boolean }> {
  const { items, truncated } = await queryPages(
    { TableName: tableName(), IndexName: 'byKind', KeyConditionExpression: 'byKindPk = :pk AND byKindSk >= :since', ExpressionAttributeValues: { ':pk': 'CLUSTER', ':since': since }, ScanIndexForward: false },
    cap,
  );
  return { items: items.map((i) => i.record as ClusterSummary), truncated };
}
