import { parentPort, workerData } from 'node:worker_threads';
import { CsvError } from '../platform/csv.js';
import { Categories } from '../reports/taxonomy.js';
import type { ReaderData, ReaderMessage } from './backtest.js';
import { readReplay, readRows } from './replay.js';

/**
 * A backtest's reading thread (`runBacktestFile`): reads the file into batches of complaints
 * to replay and sends them, their typed arrays moved, not copied. At most `AHEAD` batches are
 * ahead of the engine: it waits for the engine's 'next' before reading more. Sixteen (a few MB)
 * carry the engine through the reading's own pauses (its id set rebuilt, its collector): with
 * four the engine waited 0.5 s per million rows, with sixteen 0.2 s (CPU profiles).
 */
const AHEAD = 16;
const port = parentPort!;
const data = workerData as ReaderData;
let ahead = 0;
let resume: (() => void) | undefined;
port.on('message', () => {
  ahead--;
  resume?.();
  resume = undefined;
});
const send = (m: ReaderMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
try {
  const summary = await readReplay(readRows(data.path, data.format, data.csv), data.settings, new Categories(data.taxonomy), async (batch) => {
    send({ type: 'batch', batch }, [batch.time.buffer, batch.product.buffer, batch.lot.buffer, batch.plant.buffer, batch.bits.buffer] as ArrayBuffer[]);
    if (++ahead >= AHEAD) await new Promise<void>((r) => (resume = r));
  });
  send({ type: 'done', summary });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  send({ type: 'error', name: e.name, message: e.message, ...(e instanceof CsvError ? { line: e.line } : {}) });
}
