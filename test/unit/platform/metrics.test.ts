import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../support/events.js';

/** The metrics singleton reads its switch at construction: each test imports it afresh. */
async function freshMetrics() {
  vi.resetModules();
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  return import('../../../shared/platform/metrics.js');
}
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const emfLines = (write: { mock: { calls: unknown[][] } }) =>
  write.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));

describe('business metrics', () => {
  it('publishes what an invocation counted as CloudWatch EMF in the Recall namespace, with the service dimension', async () => {
    const { countMetric, flushMetrics, METRIC } = await freshMetrics();
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = middy(async () => {
      countMetric(METRIC.reportsFiled);
      countMetric(METRIC.signals, 3);
      return 'ok';
    }).use(flushMetrics());
    await handler({}, lambdaContext);
    const [emf] = emfLines(write);
    write.mockRestore();
    expect(emf).toMatchObject({ service: 'recall', ReportsFiled: 1, Signals: 3 });
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Recall', Dimensions: [['service']] });
  });

  it('publishes on failure too, and nothing (not even a warning) when nothing was counted', async () => {
    const { countMetric, flushMetrics, METRIC } = await freshMetrics();
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const warn = vi.spyOn(console, 'warn');
    const failing = middy(async () => {
      countMetric(METRIC.noticesFailed);
      throw new Error('SNS down');
    }).use(flushMetrics());
    await expect(failing({}, lambdaContext)).rejects.toThrow('SNS down');
    const quiet = middy(async () => 'nothing to count').use(flushMetrics());
    await quiet({}, lambdaContext);
    const lines = emfLines(write);
    write.mockRestore();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ NoticesFailed: 1 });
    expect(warn).not.toHaveBeenCalled();
  });
});
