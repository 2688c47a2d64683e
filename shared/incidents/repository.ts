import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type BatchGetCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from '../platform/aws.js';
import { decodeCursor, encodeCursor } from '../platform/cursor.js';
import { outboxItem, type OutboxMessage } from '../platform/outbox.js';
import type { Signal } from '../detection/engine.js';
import type { ClusterSummary, Incident } from './model.js';

/**
 * Incidents and cluster summaries in the single table.
 *
 * | access pattern                       | key / index                                               |
 * |--------------------------------------|-----------------------------------------------------------|
 * | incident by id                       | pk=INCIDENT#<id>        sk=INCIDENT                       |
 * | reports linked to an incident        | pk=INCIDENT#<id>        sk=REPORT#<reportId>              |
 * | the open candidate of a cluster key  | pk=OPEN#<clusterKey>    sk=OPEN  → incidentId             |
 * | incidents by status, newest first    | byKind pk=INCIDENT#<status>  sk=<openedAt>#<id>           |
 * | a cluster key's summary              | pk=CLUSTER#<clusterKey> sk=SUMMARY                        |
 * | clusters seen lately                 | byKind pk=CLUSTER            sk=<lastReportAt>#<key>      |
 */
const incidentKey = (id: string) => ({ pk: `INCIDENT#${id}`, sk: 'INCIDENT' });
const openKey = (clusterKey: string) => ({ pk: `OPEN#${clusterKey}`, sk: 'OPEN' });
const linkKey = (id: string, reportId: string) => ({ pk: `INCIDENT#${id}`, sk: `REPORT#${reportId}` });

function incidentItem(incident: Incident) {
  const { recentReportIds: _derived, ...record } = incident;
  return {
    ...incidentKey(incident.id),
    kind: 'incident',
    record,
    byKindPk: `INCIDENT#${incident.status}`,
    byKindSk: `${incident.openedAt}#${incident.id}`,
  };
}

/** The open candidates of these cluster keys, by key (one batch read). */
export async function openCandidates(clusterKeys: readonly string[]): Promise<Map<string, string>> {
  const open = new Map<string, string>();
  let request: BatchGetCommandInput['RequestItems'] = { [tableName()]: { Keys: clusterKeys.map(openKey), ConsistentRead: true } };
  // Unprocessed keys (throttling) are read again: a missed open candidate would lose a link.
  for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));
    const result: { Responses?: Record<string, Record<string, unknown>[]>; UnprocessedKeys?: BatchGetCommandInput['RequestItems'] } = await dynamo().send(new BatchGetCommand({ RequestItems: request }));
    for (const item of result.Responses?.[tableName()] ?? []) open.set(String(item.pk).slice('OPEN#'.length), String(item.incidentId));
    request = result.UnprocessedKeys;
  }
  return open;
}

/**
 * Opens a candidate: the open-key marker (conditional on absence), the incident, its first
 * report link and its alert, in one transaction. Returns false when another report opened
 * one for this key first; the caller then attaches to that one.
 */
export async function createCandidate(incident: Incident, alert: OutboxMessage, now: Date): Promise<boolean> {
  const TableName = tableName();
  try {
    await dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName,
              Item: { ...openKey(incident.key.id), kind: 'open-candidate', incidentId: incident.id },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Put: { TableName, Item: incidentItem(incident), ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName, Item: { ...linkKey(incident.id, incident.openedBy.reportId), kind: 'incident-link', at: incident.openedBy.at } } },
          { Put: { TableName, Item: outboxItem(alert, now), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
    throw error;
  }
}

export type AttachResult = 'attached' | 'already-linked';

/**
 * Links a report to an incident. No read-modify-write, so reports on a busy key never race:
 * the link (conditional on absence, so a redelivered report counts once) and the count go in
 * one transaction; the latest time and each rule's latest evidence are set by conditional
 * path updates that only move forward. A transaction conflict is retried a few times.
 */
export async function attachReport(incidentId: string, reportId: string, at: string, signals: readonly Signal[]): Promise<AttachResult> {
  const TableName = tableName();
  let result: AttachResult = 'attached';
  for (let attempt = 0; ; attempt++) {
    try {
      await dynamo().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { ...linkKey(incidentId, reportId), kind: 'incident-link', at }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName,
                Key: incidentKey(incidentId),
                UpdateExpression: 'ADD #record.reportCount :one',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#record': 'record' },
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      );
      break;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [link, incident] = error.CancellationReasons ?? [];
      if (link?.Code === 'ConditionalCheckFailed') {
        // A redelivery: the count stands, but the updates below may not have happened yet.
        result = 'already-linked';
        break;
      }
      if (incident?.Code === 'ConditionalCheckFailed') throw new Error(`Incident ${incidentId} does not exist`);
      if (attempt >= 4) throw error;
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt + Math.random() * 20));
    }
  }
  await moveForward(incidentId, '#record.lastReportAt', at, at);
  for (const signal of signals) await moveForward(incidentId, `#record.evidence.${ruleName(signal.rule)}`, signal, signal.at, `#record.evidence.${ruleName(signal.rule)}.#at`);
  return result;
}

const RULE_NAMES: Record<Signal['rule'], string> = { harm: '#harm', 'lot-burst': '#burst', 'slow-burn': '#slow' };
const ruleName = (rule: Signal['rule']) => RULE_NAMES[rule];

/** Sets `path` to `value` unless what is there is newer (`compareAt` holds its time). */
async function moveForward(incidentId: string, path: string, value: unknown, at: string, compareAt = path): Promise<void> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: incidentKey(incidentId),
        UpdateExpression: `SET ${path} = :value`,
        ConditionExpression: `attribute_not_exists(${compareAt}) OR ${compareAt} < :at`,
        ExpressionAttributeNames: {
          '#record': 'record',
          ...(path.includes('#harm') ? { '#harm': 'harm' } : {}),
          ...(path.includes('#burst') ? { '#burst': 'lot-burst' } : {}),
          ...(path.includes('#slow') ? { '#slow': 'slow-burn' } : {}),
          ...(compareAt.endsWith('.#at') ? { '#at': 'at' } : {}),
        },
        ExpressionAttributeValues: { ':value': value, ':at': at },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
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

export async function listIncidents(status: string, limit: number, cursor?: string): Promise<{ items: Incident[]; cursor?: string }> {
  const startKey = cursor ? decodeCursor(cursor, 'byKind', status) : undefined;
  const page = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'byKind',
      KeyConditionExpression: 'byKindPk = :pk',
      ExpressionAttributeValues: { ':pk': `INCIDENT#${status}` },
      ScanIndexForward: false,
      Limit: limit,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }),
  );
  const incidents = (page.Items ?? []).map((i) => i.record as Omit<Incident, 'recentReportIds'>);
  return {
    items: await Promise.all(incidents.map(async (i) => ({ ...i, recentReportIds: await recentReportIds(i.id) }))),
    ...(page.LastEvaluatedKey ? { cursor: encodeCursor('byKind', page.LastEvaluatedKey, status) } : {}),
  };
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
      await dynamo().send(
        new UpdateCommand({
          TableName,
          Key: key,
          UpdateExpression: 'SET #record.lastReportAt = :at, #record.counts = :counts, summaryDay = :day, seen = :seen, byKindSk = :sk',
          ConditionExpression: `attribute_exists(pk) AND (${fresher})`,
          ExpressionAttributeNames: { '#record': 'record' },
          ExpressionAttributeValues: { ...values, ':at': summary.lastReportAt, ':counts': summary.counts, ':sk': sortKey },
        }),
      );
      return;
    } catch (error) {
      ignoreStale(error);
    }
  }
  try {
    await dynamo().send(
      new PutCommand({
        TableName,
        Item: { ...key, kind: 'cluster', record: summary, summaryDay: day, seen, byKindPk: 'CLUSTER', byKindSk: sortKey },
        ConditionExpression: summary.latestSignal ? `attribute_not_exists(pk) OR ${fresher}` : 'attribute_not_exists(pk)',
        ...(summary.latestSignal ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  } catch (error) {
    ignoreStale(error);
  }
}

/** Cluster summaries whose latest report is at or after `since`, at most `cap` of them. */
export async function clustersSince(since: string, cap: number): Promise<{ items: ClusterSummary[]; truncated: boolean }> {
  const items: ClusterSummary[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'byKind',
        KeyConditionExpression: 'byKindPk = :pk AND byKindSk >= :since',
        ExpressionAttributeValues: { ':pk': 'CLUSTER', ':since': since },
        ScanIndexForward: false,
        Limit: Math.min(500, cap - items.length),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []).map((i) => i.record as ClusterSummary));
    start = page.LastEvaluatedKey;
  } while (start && items.length < cap);
  return { items, truncated: !!start };
}
