/**
 * Parquet decoding in a worker thread. parquet-wasm decodes inside a WebAssembly instance whose
 * memory is capped at 4 GiB; a file whose dictionary pages expand beyond that (a 1 MB body can)
 * makes the instance trap with `RuntimeError: unreachable`, and the trap escapes as an uncaught
 * exception — in the main thread that would end the whole server. In a worker it only ends the
 * worker: the request gets a 413, the next request a fresh worker (and a fresh wasm memory).
 * Decoding off the main thread also keeps the event loop free, and a stuck decode is stopped by
 * a timeout.
 *
 * The worker receives the body (transferred), reads the footer, checks the row count, reads the
 * rows in slices of about 128 MiB (estimated from the footer, corrected from what each slice
 * really took) while summing their decoded size, and sends back Arrow IPC streams (transferred).
 * A file that expands more within one slice than the 4 GiB wasm memory can hold ends the worker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What the worker answers. */
export type DecodeResult =
  | { readonly ok: true; readonly schema: Uint8Array; readonly batches: readonly Uint8Array[] }
  | { readonly ok: false; readonly kind: 'parse' | 'rows' | 'size'; readonly message: string; readonly numRows?: number };

export interface DecodeLimits {
  readonly maxRows: number;
  readonly maxDecodedBytes: number;
  readonly timeoutMs: number;
}

/** Why a decode did not produce a result: the worker died (out of memory) or took too long. */
export class DecoderFailure extends Error {
  constructor(
    message: string,
    readonly reason: 'crashed' | 'timeout',
  ) {
    super(message);
    this.name = 'DecoderFailure';
  }
}

// The worker body, as a CommonJS script (eval workers run CommonJS); parquet-wasm is imported by URL.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const pwReady = import(workerData.parquetWasm);
const READ_BUDGET = 128 * 1024 * 1024;
const MAX_READ_ROWS = 262144;
const MIN_READ_ROWS = 1024;

/** Rows per read so that one read takes about READ_BUDGET bytes, from the column chunks' average value sizes. */
function rowsPerRead(pf) {
  const md = pf.metadata();
  const perColumn = new Map();
  for (const rg of md.rowGroups()) {
    for (const cc of rg.columns()) {
      const key = cc.columnPath().join('.');
      const perValue = cc.uncompressedSize() / Math.max(1, cc.numValues());
      perColumn.set(key, Math.max(perColumn.get(key) || 0, perValue + 8));
    }
  }
  let perRow = 0;
  for (const v of perColumn.values()) perRow += v;
  return Math.max(MIN_READ_ROWS, Math.min(MAX_READ_ROWS, Math.floor(READ_BUDGET / Math.max(1, perRow))));
}

// Reads use the synchronous reader with offset/limit: it only materialises the rows asked for
// (parquet-wasm's async stream decodes a whole page first, which a dictionary page can blow up),
// and the running total of decoded bytes stops a file that expands too much.
async function decode(msg) {
  const pw = await pwReady;
  let pf;
  try {
    pf = await pw.ParquetFile.fromFile(new Blob([msg.bytes]));
    const numRows = pf.metadata().fileMetadata().numRows();
    if (!(numRows >= 0) || numRows > msg.maxRows) return { ok: false, kind: 'rows', message: 'too many rows', numRows };
    const schema = pf.schema().intoIPCStream();
    let step = rowsPerRead(pf);
    const batches = [];
    let decoded = 0;
    for (let offset = 0; offset < numRows; ) {
      const rows = Math.min(step, numRows - offset);
      const table = pw.readParquet(msg.bytes, { batchSize: Math.min(rows, 65536), offset, limit: rows });
      const size = table.getArrayMemorySize();
      decoded += size;
      if (decoded > msg.maxDecodedBytes) {
        table.free();
        return { ok: false, kind: 'size', message: 'decoded size over the limit' };
      }
      batches.push(table.intoIPCStream());
      offset += rows;
      // Rows larger than the footer suggested (dictionary pages expand): read fewer at a time.
      const perRow = size / Math.max(1, rows);
      if (perRow * step > 2 * READ_BUDGET) step = Math.max(1, Math.floor(READ_BUDGET / perRow));
    }
    return { ok: true, schema, batches };
  } catch (e) {
    // A wasm trap (out of memory) leaves the instance unusable: let it end this worker.
    if (e instanceof WebAssembly.RuntimeError) throw e;
    return { ok: false, kind: 'parse', message: e instanceof Error ? e.message : String(e) };
  } finally {
    try {
      if (pf) pf.free();
    } catch {
      // Freeing after a trap may fail too; the worker is ending anyway.
    }
  }
}

parentPort.on('message', (msg) => {
  decode(msg).then((result) => {
    // Transfer the IPC buffers when each is exclusively owned by its view; otherwise they are copied.
    const transfer = [];
    if (result.ok) {
      for (const b of [result.schema, ...result.batches]) {
        if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !transfer.includes(b.buffer)) transfer.push(b.buffer);
      }
    }
    parentPort.postMessage({ id: msg.id, result }, transfer);
  });
});
`;

interface Job {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly limits: DecodeLimits;
  readonly resolve: (r: DecodeResult) => void;
  readonly reject: (e: unknown) => void;
}

/** One worker, one decode at a time; a crashed or timed-out worker is replaced for the next job. */
class ParquetDecoder {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private current: (Job & { timer: NodeJS.Timeout }) | undefined;
  private nextId = 1;

  decode(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodeResult> {
    return new Promise<DecodeResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes, limits, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const parquetWasm = pathToFileURL(createRequire(import.meta.url).resolve('parquet-wasm')).href;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm } });
    w.on('message', (msg: { id: number; result: DecodeResult }) => {
      if (this.worker !== w) return;
      const job = this.current;
      if (!job || job.id !== msg.id) return;
      clearTimeout(job.timer);
      this.current = undefined;
      w.unref();
      job.resolve(msg.result);
      this.pump();
    });
    const fail = (err: unknown): void => {
      // A replaced worker (after a timeout) no longer owns the current job.
      if (this.worker !== w) return;
      this.worker = undefined;
      const job = this.current;
      if (!job) return;
      clearTimeout(job.timer);
      this.current = undefined;
      job.reject(new DecoderFailure(err instanceof Error ? `${err.name}: ${err.message}` : String(err), 'crashed'));
      this.pump();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the decoder exited with code ${code}`)));
    // Referenced only while decoding: an idle decoder must not keep the process alive. (Unref after
    // adding the listeners: adding a 'message' listener references the worker's port again.)
    w.unref();
    return w;
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    const worker = (this.worker ??= this.spawn());
    const timer = setTimeout(() => {
      if (this.current?.id !== job.id) return;
      this.current = undefined;
      this.worker = undefined;
      void worker.terminate();
      job.reject(new DecoderFailure(`decoding took longer than ${job.limits.timeoutMs} ms`, 'timeout'));
      this.pump();
    }, job.limits.timeoutMs);
    timer.unref();
    this.current = { ...job, timer };
    worker.ref();
    // A private copy is transferred: the caller's buffer stays usable.
    const copy = job.bytes.slice();
    worker.postMessage(
      { id: job.id, bytes: copy, maxRows: job.limits.maxRows, maxDecodedBytes: job.limits.maxDecodedBytes },
      [copy.buffer],
    );
  }
}

let decoder: ParquetDecoder | undefined;

/** Decode a Parquet body in the shared decoder worker. Rejects with `DecoderFailure` when the worker dies or times out. */
export function decodeParquetInWorker(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodeResult> {
  decoder ??= new ParquetDecoder();
  return decoder.decode(bytes, limits);
}
