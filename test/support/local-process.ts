import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../infra/local/emulators.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface LocalProcess {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly dynamoPid: number;
  readonly startupMs: number;
  /** Bearer tokens by demo username, as printed in the start banner. */
  readonly tokens: Record<string, string>;
  readonly output: () => string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGINT, as Ctrl-C does, and resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

/** Runs the real `npm start` entry point (`infra/local/start.ts`) as a child process. */
export async function startLocalProcess(args: string[] = []): Promise<LocalProcess> {
  const port = await freePort();
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', '--port', String(port), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = pattern.exec(output);
      if (match) return match[0];
      if (child.exitCode !== null) throw new Error(`local stack exited (${child.exitCode}):\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${pattern}:\n${output.slice(-3000)}`);
  };

  await waitForOutput(/Press Ctrl-C to stop/);
  const startupMs = Date.now() - started;
  const tokens: Record<string, string> = {};
  for (const m of output.matchAll(/^ {2}(\S+)\s+\S+.*\n\s+export RECALL_TOKEN=(\S+)$/gm)) tokens[m[1]!] = m[2]!;
  const dynamo = /DynamoDB Local\s+(http:\/\/\S+) \(pid (\d+)/.exec(output)!;
  return {
    url: `http://localhost:${port}`,
    dynamoEndpoint: dynamo[1]!,
    dynamoPid: Number(dynamo[2]),
    startupMs,
    tokens,
    output: () => output,
    waitForOutput,
    interrupt: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
