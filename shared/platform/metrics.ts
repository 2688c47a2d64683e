import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

/**
 * The product's business metrics (CloudWatch embedded metric format, through Powertools):
 * one namespace, the `service` dimension, and these names. The CDK stack builds its alarms
 * and the recall desk's dashboard from the same list, so a renamed metric cannot leave an
 * alarm watching nothing.
 */
export const METRICS_NAMESPACE = 'Recall';
export const METRICS_SERVICE = 'recall';
/**
 * The `service` dimension of one stage (`recall-dev`, `recall-prod`): two stages in one
 * account must not page each other. The stack sets it as POWERTOOLS_SERVICE_NAME.
 */
export const metricsServiceOf = (stage: string) => `${METRICS_SERVICE}-${stage}`;

export const METRIC = {
  reportsFiled: 'ReportsFiled',
  signals: 'Signals',
  candidatesOpened: 'CandidatesOpened',
  clockBreaches: 'ClockBreaches',
  incidentTransitions: 'IncidentTransitions',
  noticesPublished: 'NoticesPublished',
  noticesFailed: 'NoticesFailed',
  acknowledgements: 'Acknowledgements',
  /** Outbox items the sweeper found still unpublished after the stream's grace period. */
  outboxPendingTooLong: 'OutboxPendingTooLong',
  /** Stream records (reports, outbox items) that failed and went back to the event source. */
  streamRecordsFailed: 'StreamRecordsFailed',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

let metrics: Metrics | undefined;
/** One Metrics instance per process; flushed by the `logMetrics` middleware of each handler. */
export function appMetrics(): Metrics {
  return (metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME || METRICS_SERVICE }));
}

/** Counts `n` of a business event (no personal data: names and counts only). */
export function countMetric(name: MetricName, n = 1): void {
  if (n > 0) appMetrics().addMetric(name, MetricUnit.Count, n);
}

/**
 * Middy middleware: publishes what the invocation counted, after it succeeds or fails. An
 * invocation that counted nothing publishes nothing (Powertools' own middleware would log a
 * warning on every such request). `POWERTOOLS_METRICS_DISABLED=true` (tests, the local
 * stack) keeps the output quiet.
 */
export function flushMetrics(): MiddlewareObj {
  const flush = async () => {
    const m = appMetrics();
    if (m.hasStoredMetrics()) m.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
