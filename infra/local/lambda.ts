import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FunctionSpec } from '../../functions/catalog.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;

export class FunctionTimeoutError extends Error {
  constructor(readonly functionId: string, readonly seconds: number) {
    super(`Function ${functionId} timed out after ${seconds} s`);
    this.name = 'FunctionTimeoutError';
  }
}

/** Imports a catalog entry's handler once, as a warm Lambda container would keep it. */
export async function loadHandler(spec: FunctionSpec): Promise<AnyHandler> {
  const module = (await import(pathToFileURL(path.join(REPO_ROOT, spec.entry)).href)) as { handler?: AnyHandler };
  if (typeof module.handler !== 'function') {
    throw new Error(`${spec.entry} (catalog id ${spec.id}) does not export a handler function`);
  }
  return module.handler;
}

/** Invokes a handler with a Lambda-shaped context and the catalog's timeout. */
export async function invoke(spec: FunctionSpec, handler: AnyHandler, event: unknown): Promise<unknown> {
  const timeoutMs = (spec.timeoutSeconds ?? 10) * 1000;
  const started = Date.now();
  const context: Context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName: spec.id,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${spec.id}`,
    memoryLimitInMB: String(spec.memoryMb ?? 512),
    awsRequestId: randomUUID(),
    logGroupName: `/local/recall/${spec.id}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeoutError(spec.id, timeoutMs / 1000)), timeoutMs);
  });
  try {
    return await Promise.race([handler(event, context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
