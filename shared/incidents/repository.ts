import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../platform/aws.js';
import { ValidationError } from '../platform/errors.js';
import { outboxItem, type OutboxMessage } from '../platform/outbox.js';
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
function tableName(): string {
  const name = process.env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set');
  return name;
}

const incidentKey = (id: string) => ({ pk: `INCIDENT#${id}`, sk: 'INCIDENT' });
const openKey = (clusterKey: string) => ({ pk: `OPEN#${clusterKey}`, sk: 'OPEN' });
const linkKey = (id: string, reportId: string) => ({ pk: `INCIDENT#${id}`, sk: `REPORT#${reportId}` });

function incidentItem(incident: Incident) {
  return {
    ...incidentKey(incident.id),
    kind: 'incident',
    record: incident,
    version: incident.version,
    byKindPk: `INCIDENT#${incident.status}`,
    byKindSk: `${incident.openedAt}#${incident.id}`,
  };
}

/** The open candidates of these cluster keys, by key (one batch read). */
export async function openCandidates(clusterKeys: readonly string[]): Promise<Map<string, string>> {
  const result = await dynamo().send(
    new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: clusterKeys.map(openKey), ConsistentRead: true } } }),
  );
  const open = new Map<string, string>();
  for (const item of result.Responses?.[tableName()] ?? []) open.set(String(item.pk).slice('OPEN#'.length), String(item.incidentId));
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

export async function getIncident(id: string): Promise<Incident | undefined> {
  const result = await dynamo().send(new GetCommand({ TableName: tableName(), Key: incidentKey(id), ConsistentRead: true }));
  return result.Item ? { ...(result.Item.record as Incident), version: Number(result.Item.version) } : undefined;
}

export type AttachResult = 'attached' | 'already-linked' | 'conflict';

/**
 * Links a report to an incident and saves the updated incident, in one transaction: the link
 * is conditional on absence (a redelivered report is not counted twice) and the incident on
 * its version (two reports attaching at once: one retries).
 */
export async function attachReport(updated: Incident, expectedVersion: number, reportId: string, at: string): Promise<AttachResult> {
  const TableName = tableName();
  try {
    await dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName, Item: { ...linkKey(updated.id, reportId), kind: 'incident-link', at }, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Put: {
              TableName,
              Item: incidentItem(updated),
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': expectedVersion },
            },
          },
        ],
      }),
    );
    return 'attached';
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const [link, incident] = error.CancellationReasons ?? [];
    if (link?.Code === 'ConditionalCheckFailed') return 'already-linked';
    if (incident?.Code === 'ConditionalCheckFailed') return 'conflict';
    throw error;
  }
}

export async function listIncidents(status: string, limit: number, cursor?: string): Promise<{ items: Incident[]; cursor?: string }> {
  const startKey = cursor ? decodeCursor(cursor) : undefined;
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
  return {
    items: (page.Items ?? []).map((i) => i.record as Incident),
    ...(page.LastEvaluatedKey ? { cursor: Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') } : {}),
  };
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (Object.keys(key).every((k) => ['pk', 'sk', 'byKindPk', 'byKindSk'].includes(k) && typeof key[k] === 'string')) return key;
  } catch {
    // fall through
  }
  throw new ValidationError([{ field: 'query.cursor', message: 'not a cursor from this list' }]);
}

/** Saves a cluster's latest picture unless a later report already did (redeliveries). */
export async function saveClusterSummary(summary: ClusterSummary): Promise<void> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          pk: `CLUSTER#${summary.key.id}`,
          sk: 'SUMMARY',
          kind: 'cluster',
          record: summary,
          lastReportAt: summary.lastReportAt,
          byKindPk: 'CLUSTER',
          byKindSk: `${summary.lastReportAt}#${summary.key.id}`,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR lastReportAt <= :at',
        ExpressionAttributeValues: { ':at': summary.lastReportAt },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
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
