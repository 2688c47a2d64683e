import type { Role } from '../shared/platform/roles.js';
import type { TopicId } from '../shared/platform/topics.js';

/**
 * THE list of functions. The CDK service stack builds Lambdas, HTTP routes, stream event
 * sources, schedules and least-privilege grants from it; the local runtime wires the very
 * same entries; `test/infra` holds the synthesized template against it.
 *
 * Pure data: no AWS or CDK imports, so handlers (the 404/405 fallback) may read it too.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpTrigger {
  readonly kind: 'http';
  readonly method: HttpMethod;
  /** API Gateway path syntax: `/reports/{id}`; `$default` catches every unmatched route. */
  readonly path: string;
  /** Roles allowed (checked in the handler; the authorizer only authenticates), or public. */
  readonly roles: readonly Role[] | 'public';
}

/**
 * A Lambda event filter pattern over DynamoDB stream records, exactly as AWS takes it
 * (`FilterCriteria.Filters[].Pattern`). Leaves are arrays of allowed values.
 */
export type StreamFilterRule =
  | string
  | number
  | { readonly prefix: string }
  | { readonly exists: boolean }
  | { readonly 'anything-but': readonly (string | number)[] };
export type StreamFilterPattern = { readonly [key: string]: readonly StreamFilterRule[] | StreamFilterPattern };

export interface StreamTrigger {
  readonly kind: 'stream';
  readonly filter: StreamFilterPattern;
  readonly batchSize: number;
  /** How often a failing batch is retried before it goes to the on-failure queue. */
  readonly retryAttempts: number;
}

export interface ScheduleTrigger {
  readonly kind: 'schedule';
  readonly rateMinutes: number;
}

export type Trigger = HttpTrigger | StreamTrigger | ScheduleTrigger;

export interface FunctionSpec {
  /** Stable id: the CDK construct id, the FUNCTION_ID variable and the local log name. */
  readonly id: string;
  /** Handler file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly trigger: Trigger;
  /** Access to the table: none, read-only, or read and write. */
  readonly table: 'none' | 'read' | 'readWrite';
  /** Topics the function may publish to. */
  readonly publishes: readonly TopicId[];
  /**
   * Its code deletes items (DeleteItem, or a Delete in a transaction): releasing a cluster
   * key's marker when an incident is dismissed or closed, or healing a stale one. Only these
   * roles get `dynamodb:DeleteItem`.
   */
  readonly deletes?: boolean;
  /**
   * A read-only function's partitions, as IAM `dynamodb:LeadingKeys` patterns (`*` matches any
   * run of characters): on the table, and per index (the index's own partition key). Its role
   * then reads nothing else. Unset: any partition (the report readers, which need report items
   * and decide per caller's role what to show; IAM sees the function's role, not the caller's).
   */
  readonly partitions?: PartitionGrants;
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
}

export interface PartitionGrants {
  /** Partitions read on the table itself (GetItem, BatchGetItem, Query). Empty: none. */
  readonly table: readonly string[];
  /** Partitions read per index, by index name. An index not named is not readable. */
  readonly indexes: { readonly [index: string]: readonly string[] };
  /**
   * Partitions read only through a projection (BatchGetItem/GetItem with a
   * ProjectionExpression) of these top-level attributes (`dynamodb:Attributes`).
   */
  readonly projected?: { readonly table: readonly string[]; readonly attributes: readonly string[] };
}

/**
 * What the incident views read (`load` in shared/incidents/use-cases.ts): the incident, its
 * timeline and report links (INCIDENT#), the stores in scope and their acknowledgements;
 * of each linked report only `record` (its reply clock, `replyClocks`).
 */
const INCIDENT_READER: PartitionGrants = {
  table: ['INCIDENT#*', 'STORE#*', 'NOTICE#*'],
  indexes: { byKind: ['STORES#*'] },
  projected: { table: ['REPORT#*'], attributes: ['pk', 'sk', 'record'] },
};

export const catalog = [
  {
    id: 'health',
    entry: 'functions/health.ts',
    description: 'Liveness: answers 200 without touching any dependency',
    trigger: { kind: 'http', method: 'GET', path: '/health', roles: 'public' },
    table: 'none',
    publishes: [],
  },
  {
    id: 'fallback',
    entry: 'functions/fallback.ts',
    description: 'Unmatched routes: problem+json 404, or 405 with Allow when the path exists',
    trigger: { kind: 'http', method: 'GET', path: '$default', roles: 'public' },
    table: 'none',
    publishes: [],
  },
  {
    id: 'openapi',
    entry: 'functions/openapi.ts',
    description: 'The OpenAPI 3.1 description of this API, generated from the handlers and the catalog',
    trigger: { kind: 'http', method: 'GET', path: '/openapi.json', roles: 'public' },
    table: 'none',
    publishes: [],
  },
  {
    id: 'get-taxonomy',
    entry: 'functions/get-taxonomy.ts',
    description: 'The defect taxonomy of this deployment: category codes, labels and which categories are harm',
    trigger: { kind: 'http', method: 'GET', path: '/taxonomy', roles: ['agent', 'qa', 'executive', 'store', 'admin'] },
    table: 'none',
    publishes: [],
  },
  {
    id: 'submit-report',
    entry: 'functions/submit-report.ts',
    description: 'Files a case record and starts its clocks (idempotent by Idempotency-Key)',
    trigger: { kind: 'http', method: 'POST', path: '/reports', roles: ['agent', 'store', 'admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'list-reports',
    entry: 'functions/list-reports.ts',
    description: 'Lists case records by product, lot, category, store, region, time and clock state',
    trigger: { kind: 'http', method: 'GET', path: '/reports', roles: ['agent', 'qa', 'executive', 'store', 'admin'] },
    table: 'read',
    publishes: [],
  },
  {
    id: 'get-report',
    entry: 'functions/get-report.ts',
    description: 'Reads one case record with its clocks and timeline',
    trigger: { kind: 'http', method: 'GET', path: '/reports/{id}', roles: ['agent', 'qa', 'executive', 'store', 'admin'] },
    table: 'read',
    publishes: [],
  },
  {
    id: 'record-milestone',
    entry: 'functions/record-milestone.ts',
    description: 'Records a milestone (handoff, QA reached, reply sent, landing point kept)',
    trigger: { kind: 'http', method: 'POST', path: '/reports/{id}/milestones', roles: ['agent', 'qa', 'admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'add-landing-point',
    entry: 'functions/add-landing-point.ts',
    description: 'Adds a landing point: a promise with owner and due date, watched as a clock',
    trigger: { kind: 'http', method: 'POST', path: '/reports/{id}/landing-points', roles: ['agent', 'qa', 'admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'record-survey',
    entry: 'functions/record-survey.ts',
    description: "Records the customer's satisfaction survey after the written reply",
    trigger: { kind: 'http', method: 'POST', path: '/reports/{id}/survey', roles: ['agent', 'admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'list-clusters',
    entry: 'functions/list-clusters.ts',
    description: 'The busiest cluster keys over a window, with counts and the latest statistic',
    trigger: { kind: 'http', method: 'GET', path: '/clusters', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    // Cluster summaries only: counts and statistics, never a report.
    partitions: { table: [], indexes: { byKind: ['CLUSTER'] } },
  },
  {
    id: 'list-track-records',
    entry: 'functions/list-track-records.ts',
    description: "What detection has learnt of each defect category: signal episodes judged, hits, misses, and whether its signals are held back",
    trigger: { kind: 'http', method: 'GET', path: '/track-records', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    // The categories' track records only: counts and product codes, never a report.
    partitions: { table: ['TRACK#*'], indexes: {} },
  },
  {
    id: 'list-incidents',
    entry: 'functions/list-incidents.ts',
    description: 'Incidents by status and hazard class, newest first, with their keys and evidence',
    trigger: { kind: 'http', method: 'GET', path: '/incidents', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    // Incidents by status and their linked report ids (keys under INCIDENT#), never a report.
    partitions: { table: ['INCIDENT#*'], indexes: { byKind: ['INCIDENT#*'] } },
  },
  {
    id: 'open-incident',
    entry: 'functions/open-incident.ts',
    description: 'QA opens a declared recall incident by hand (no candidate), claiming its keys',
    trigger: { kind: 'http', method: 'POST', path: '/incidents', roles: ['qa', 'admin'] },
    table: 'readWrite',
    publishes: [],
    deletes: true,
  },
  {
    id: 'get-incident',
    entry: 'functions/get-incident.ts',
    description: 'One incident: checklists with evidence, deadlines, timeline; or its state as of a version',
    trigger: { kind: 'http', method: 'GET', path: '/incidents/{id}', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    // Of a linked report only its case record (the reply clock), never its narrative or the contact.
    partitions: INCIDENT_READER,
  },
  {
    id: 'incident-action',
    entry: 'functions/incident-action.ts',
    description: 'One lifecycle action: role, state, gate, then version + timeline + notices in one transaction',
    trigger: { kind: 'http', method: 'POST', path: '/incidents/{id}/actions', roles: ['qa', 'executive', 'admin'] },
    table: 'readWrite',
    publishes: [],
    deletes: true,
  },
  {
    id: 'incident-report',
    entry: 'functions/incident-report.ts',
    description: 'The recall status report of one incident (21 CFR 7.53 spirit), JSON or Markdown',
    trigger: { kind: 'http', method: 'GET', path: '/incidents/{id}/report', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    partitions: INCIDENT_READER,
  },
  {
    id: 'incident-effectiveness',
    entry: 'functions/incident-effectiveness.ts',
    description: 'Recall effectiveness: stores in scope, acknowledged, silent, units removed, the FDA level',
    trigger: { kind: 'http', method: 'GET', path: '/incidents/{id}/effectiveness', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    // The incident, the stores in scope and their acknowledgements: no report at all.
    partitions: { table: ['INCIDENT#*', 'STORE#*', 'NOTICE#*'], indexes: { byKind: ['STORES#*'] } },
  },
  {
    id: 'incident-replies',
    entry: 'functions/incident-replies.ts',
    description: 'The 14-day written reply to every linked customer still owed one',
    trigger: { kind: 'http', method: 'POST', path: '/incidents/{id}/replies', roles: ['qa', 'admin'] },
    table: 'readWrite',
    publishes: [],
    timeoutSeconds: 60,
  },
  {
    id: 'send-reply',
    entry: 'functions/send-reply.ts',
    description: 'The written reply to one complaint; stops its 14-day clock',
    trigger: { kind: 'http', method: 'POST', path: '/reports/{id}/reply', roles: ['agent', 'qa', 'admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'acknowledge-notice',
    entry: 'functions/acknowledge-notice.ts',
    description: 'A store acknowledges a withdrawal notice with quantities on hand and removed',
    trigger: { kind: 'http', method: 'POST', path: '/notices/{id}/acks', roles: ['store'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'correct-acknowledgement',
    entry: 'functions/correct-acknowledgement.ts',
    description: "QA corrects a store's acknowledged quantities, with the reason; the figures before stay in the record",
    trigger: { kind: 'http', method: 'PUT', path: '/notices/{id}/acks/{storeId}', roles: ['qa', 'admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'store-notices',
    entry: 'functions/store-notices.ts',
    description: "A store's open withdrawal notices, for when its queue lost a message",
    trigger: { kind: 'http', method: 'GET', path: '/stores/{id}/notices', roles: ['store', 'qa', 'admin'] },
    table: 'read',
    publishes: [],
    // The store, its region's notices and their acknowledgements.
    partitions: { table: ['STORE#*', 'NOTICE#*'], indexes: { byKind: ['NOTICES#*'] } },
  },
  {
    id: 'put-store',
    entry: 'functions/put-store.ts',
    description: 'Registers or updates a store in the store directory',
    trigger: { kind: 'http', method: 'PUT', path: '/stores/{id}', roles: ['admin'] },
    table: 'readWrite',
    publishes: [],
  },
  {
    id: 'list-stores',
    entry: 'functions/list-stores.ts',
    description: 'The stores of a region in the store directory',
    trigger: { kind: 'http', method: 'GET', path: '/stores', roles: ['qa', 'executive', 'admin'] },
    table: 'read',
    publishes: [],
    partitions: { table: [], indexes: { byKind: ['STORES#*'] } },
  },
  {
    id: 'public-notices',
    entry: 'functions/public-notices.ts',
    description: 'Published recall notices for the public, HTML or JSON, without sign-in',
    trigger: { kind: 'http', method: 'GET', path: '/public/notices', roles: 'public' },
    table: 'read',
    publishes: [],
    // Public, published notices only (and no sign-in): nothing else in the table.
    partitions: { table: [], indexes: { byKind: ['PUBLIC_NOTICES'] } },
  },
  {
    id: 'outbox-sweeper',
    entry: 'functions/outbox-sweeper.ts',
    description: 'Every minute: publishes any notice or alert still pending after the stream gave up',
    trigger: { kind: 'schedule', rateMinutes: 1 },
    table: 'readWrite',
    publishes: ['incidentAlerts', 'storeNotices', 'publicNotices', 'customerReplies'],
    timeoutSeconds: 50,
  },
  {
    id: 'watchdog',
    entry: 'functions/watchdog.ts',
    description: 'Every minute: breached clocks and missed incident deadlines, each escalated once; weekly, the held categories to review',
    trigger: { kind: 'schedule', rateMinutes: 1 },
    table: 'readWrite',
    publishes: [],
    timeoutSeconds: 50,
  },
  {
    id: 'on-table-change',
    entry: 'functions/on-table-change.ts',
    description: 'Table stream (new items): detection and escalation for reports; publishes the outbox',
    trigger: {
      kind: 'stream',
      // Only what it acts on: new reports and new outbox items (counters, links, summaries and
      // markers are written by detection itself and must not wake it again).
      filter: { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['report', 'outbox'] } } } },
      batchSize: 100,
      retryAttempts: 5,
    },
    table: 'readWrite',
    publishes: ['incidentAlerts', 'storeNotices', 'publicNotices', 'customerReplies'],
    deletes: true,
    timeoutSeconds: 30,
  },
] as const satisfies readonly FunctionSpec[];

/** One catalog entry by id (functions read their own grants, e.g. the topics they publish to). */
export function specOf(id: (typeof catalog)[number]['id']): FunctionSpec {
  return (catalog as readonly FunctionSpec[]).find((f) => f.id === id)!;
}

export function httpRoutes(): (FunctionSpec & { trigger: HttpTrigger })[] {
  return (catalog as readonly FunctionSpec[]).filter(
    (f): f is FunctionSpec & { trigger: HttpTrigger } => f.trigger.kind === 'http',
  );
}

/** True when a concrete request path matches an API Gateway route path like `/reports/{id}`. */
export function matchPath(routePath: string, requestPath: string): Record<string, string> | undefined {
  if (routePath === '$default') return undefined;
  const want = routePath.split('/').filter(Boolean);
  const got = requestPath.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    const param = /^\{(\w+)\}$/.exec(w);
    if (param) {
      try {
        params[param[1]!] = decodeURIComponent(g);
      } catch {
        return undefined; // a malformed escape matches no route: 404, not a crash
      }
    }
    else if (w !== g) return undefined;
  }
  return params;
}
