/**
 * The output thread (text formats): it holds the `TableWriter` (format's: temporary file, renamed
 * into place on close) and encodes what the main thread sends, so building CSV or JSON-lines text
 * — the slowest step of a run that writes text — runs beside the reading and the scoring. Parts
 * arrive moved, not copied. One request at a time, in order; every request is answered.
 */
import { parentPort } from 'node:worker_threads';
import { fromWire, type WireValue } from '@mlmodel/flavors';
import type { Batch, ParquetCompression, TableFormat, TablePart, TableWriter } from '@mlmodel/format';
import { openTableWriter } from '@mlmodel/format/table';
import { errorInfo, type ErrorInfo } from './errors.js';
import { outputOptions } from './output.js';

export interface WirePart {
  readonly batch: WireValue;
  readonly rowValidity?: Uint8Array | undefined;
}

export type WriteRequest =
  | { readonly type: 'open'; readonly path: string; readonly format: TableFormat; readonly compression?: ParquetCompression | undefined }
  | { readonly type: 'write'; readonly parts: readonly WirePart[] }
  | { readonly type: 'close' }
  | { readonly type: 'abort' };

export type WriteReply = { readonly ok: true } | { readonly ok: false; readonly error: ErrorInfo; readonly tableWriteError: boolean };

const port = parentPort;
if (!port) throw new Error('write-worker.js runs as a worker thread of the batch scorer');

let writer: TableWriter | null = null;

async function handle(req: WriteRequest): Promise<void> {
  switch (req.type) {
    case 'open':
      writer = await openTableWriter(req.path, outputOptions(req.format, req.compression));
      return;
    case 'write': {
      const parts: TablePart[] = req.parts.map((p) => ({ batch: fromWire(p.batch) as Batch, rowValidity: p.rowValidity }));
      return writer!.write(parts);
    }
    case 'close':
      return writer!.close();
    case 'abort':
      return writer?.abort();
  }
}

let chain: Promise<void> = Promise.resolve();
port.on('message', (req: WriteRequest) => {
  chain = chain.then(async () => {
    let reply: WriteReply;
    try {
      await handle(req);
      reply = { ok: true };
    } catch (e) {
      reply = { ok: false, error: errorInfo(e), tableWriteError: e instanceof Error && e.name === 'TableWriteError' };
    }
    port.postMessage(reply);
  });
});
