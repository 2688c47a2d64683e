import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../infra/demo/story.js';
import type { LocalStack } from '../../infra/local/stack.js';

/**
 * The newcomer's story (`npm run demo`) as a test, on a shorter year: every step checks the
 * API's answer as it goes (the story stops on the first unexpected one); here the end state
 * is checked again through the API and the store queues.
 */
let stack: LocalStack;
let deps: Awaited<ReturnType<typeof load>>;
const load = async () => ({
  ...(await import('../../shared/incidents/use-cases.js')),
  ...(await import('../../shared/incidents/wiring.js')),
  ...(await import('../../shared/platform/clock.js')),
  ...(await import('../../infra/local/provision.js')),
  ...(await import('@aws-sdk/client-sqs')),
});

beforeAll(async () => {
  process.env.INCIDENT_POLICY = JSON.stringify({ deadlines: { II: { storesNotifiedHours: 0.0005 } }, storeResponse: { renotifyAfterHours: 0.0005, escalateAfterHours: 1 } });
  const { startLocalStack } = await import('../../infra/local/stack.js');
  stack = await startLocalStack({ port: 0, log: () => undefined, schedules: false });
  deps = await load();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe('the demo story', () => {
  it('takes one recall from a year of complaints to a closed incident and its status report', async () => {
    const incidentDeps = deps.incidentDeps();
    const sqs = new deps.SQSClient(deps.localClientConfig(stack.endpoints.snsSqs));
    const seen: Record<string, any[]> = { 'store-0101': [], 'store-0201': [] };
    const lines: string[] = [];
    const tokens = Object.fromEntries(stack.users.map((u) => [u.username, u.token]));
    const result = await runDemo({
      apiUrl: stack.url,
      tokens,
      seed: 1,
      background: 300,
      fast: true,
      log: (line) => lines.push(line),
      local: {
        runWatchdog: () => deps.runIncidentWatchdog(incidentDeps),
        streamIdle: () => stack.streamIdle(1500),
        verifyInAMonth: (id, version) =>
          deps.runAction({ ...incidentDeps, clock: deps.fixedClock(new Date(Date.now() + 31 * 86_400_000)) }, id, { action: 'verify', expectedVersion: version }, { userId: 'local-qa.tanaka', username: 'qa.tanaka', roles: ['qa'] }),
        async readStoreQueue(storeId) {
          const url = stack.queues.stores[storeId]!.url;
          const page = await sqs.send(new deps.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
          const messages = (page.Messages ?? []).map((m) => JSON.parse(JSON.parse(m.Body!).Message));
          if (page.Messages?.length) await sqs.send(new deps.DeleteMessageBatchCommand({ QueueUrl: url, Entries: page.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
          seen[storeId]!.push(...messages);
          return messages;
        },
      },
    });

    const get = async (path: string, who = 'qa.tanaka') => (await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${tokens[who]}` } })).json() as Promise<any>;
    const incident = await get(`/incidents/${result.incidentId}`);
    expect(incident).toMatchObject({ status: 'closed', hazardClass: 'II', sponsor: { by: 'local-exec.suzuki' }, approval: { by: 'local-exec.suzuki' } });
    expect(incident.checklist.every((i: any) => i.status === 'done')).toBe(true);
    expect(incident.repliesOwed).toEqual([]);
    expect(incident.linkedReports).toBeGreaterThanOrEqual(result.reportIds.length - 2);
    expect(incident.deadlines.find((d: any) => d.id === 'stores-notified')).toMatchObject({ state: 'met-late', acknowledged: { by: 'local-exec.suzuki' } });
    expect(incident.timeline.map((e: any) => e.action)).toEqual(expect.arrayContaining(['detected', 'declare', 'record-hold', 'issue-withdrawal', 'contain', 'deadline-breached', 'accept-sponsorship', 'draft-disclosure', 'approve-disclosure', 'disclose', 'acknowledge-breach', 'verify', 'close']));
    expect((await get(`/incidents/${result.dismissedId}`)).status).toBe('dismissed');
    // The stores' queues: each its region's notice; the silent one its reminder, addressed to it.
    expect(seen['store-0101']!.filter((m) => m.incidentId === result.incidentId).map((m) => m.type)).toEqual(['store-withdrawal']);
    expect(seen['store-0201']!.filter((m) => m.incidentId === result.incidentId).map((m) => [m.type, !!m.reminder])).toEqual([['store-withdrawal', false], ['store-withdrawal', true]]);
    expect(await get(`/incidents/${result.incidentId}/effectiveness`)).toMatchObject({ acknowledged: 2, met: true, unitsRemoved: 33 });
    const published = (await (await fetch(`${stack.url}/public/notices`)).json()) as any;
    expect(published.items.map((n: any) => n.incidentId)).toContain(result.incidentId);
    for (const id of result.reportIds.slice(-3)) {
      const report = await get(`/reports/${id}`, 'agent.sato');
      expect(report.clocks.find((c: any) => c.id === 'reply').completedAt).toBeDefined();
    }
    expect(result.report).toContain('# Recall status report: Plastic film in almond chocolate');
    expect(lines.join('\n')).toContain('tries to approve: refused (403');
  }, 180_000);
});
