import type { ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { FunctionSpec, ScheduleTrigger } from '../../functions/catalog.js';
import { invoke, type AnyHandler } from './lambda.js';

export type ScheduledFunction = { spec: FunctionSpec & { trigger: ScheduleTrigger }; handler: AnyHandler };

/**
 * The local EventBridge schedule: invokes each scheduled function at its rate with a
 * `Scheduled Event`, never overlapping two runs of one function.
 */
export function startScheduler(functions: ScheduledFunction[], log: (line: string) => void): { stop(): void } {
  const timers = functions.map((fn) => {
    let busy = false;
    return setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        await invoke(fn.spec, fn.handler, scheduledEvent(fn.spec.id));
      } catch (error) {
        log(`${fn.spec.id}: scheduled run failed: ${(error as Error).message}`);
      } finally {
        busy = false;
      }
    }, fn.spec.trigger.rateMinutes * 60_000);
  });
  return { stop: () => timers.forEach(clearInterval) };
}

export function scheduledEvent(functionId: string, at = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: at.toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/local-${functionId}`],
    detail: {},
  };
}
