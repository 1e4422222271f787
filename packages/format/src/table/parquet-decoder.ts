/**
 * Parquet decoding in a worker thread. parquet-wasm decodes inside a WebAssembly instance whose
 * memory is capped at 4 GiB; a file whose dictionary pages expand beyond that (a 1 MB body can)
 * makes the instance trap with `RuntimeError: unreachable`, and the trap escapes as an uncaught
 * exception — in the main thread that would end the whole process. In a worker it only ends the
 * worker: the read fails with a `DecoderFailure`, the next read gets a fresh worker (and a fresh
 * wasm memory). Decoding off the main thread also keeps the event loop free and overlaps decoding
 * with the consumer's work, and a stuck decode is stopped by a timeout.
 *
 * A read is a session: the worker opens the file (bytes transferred to it, or a path it opens as
 * a lazy file-backed Blob with `fs.openAsBlob`, so only the footer and the row groups being read
 * are ever in memory), reads the footer, refuses more than `maxRows` rows, then on each request
 * decodes the next slice of rows and sends it back as Arrow IPC streams (transferred, not copied).
 * Slices hold about `readBudget` decoded bytes (estimated from the footer, corrected from what
 * each slice really took) and end at a row-group boundary when they cover whole groups, so no
 * group is fetched twice; the running total stops at `maxDecodedBytes`.
 *
 * Bytes are decoded with parquet-wasm's synchronous reader (offset/limit: it materialises only the
 * rows asked for, and reports corrupt pages as errors). Files use its asynchronous reader over the
 * Blob, which fetches just the row groups a slice touches — but aborts the instance on corrupt
 * pages instead of reporting them, so for files a corrupt page also shows as a `DecoderFailure`.
 *
 * A decoder runs one session at a time; others wait for it. The request parsers share one
 * decoder (as before: one decode at a time, queued); each file reader gets its own (`dedicated`),
 * ended when the reader closes.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What the worker answers to `open` and `next`. */
export type DecoderReply =
  | { readonly type: 'opened'; readonly schema: Uint8Array; readonly numRows: number; readonly numRowGroups: number }
  | { readonly type: 'slice'; readonly buffers: readonly Uint8Array[]; readonly rowOffset: number; readonly rows: number; readonly bytes: number }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly kind: 'parse' | 'rows' | 'size'; readonly message: string; readonly numRows?: number };

export interface SessionLimits {
  readonly maxRows: number;
  readonly maxDecodedBytes: number;
  /** Decoded bytes one slice should take. */
  readonly readBudget: number;
  /** Most rows per slice. */
  readonly maxReadRows: number;
  /** Fewest rows per slice before the first one shows the real row size. */
  readonly minReadRows: number;
  /** Rows per record batch inside a slice. */
  readonly batchRows: number;
  /** One IPC stream per record batch (each chunk owns its buffer), instead of one per slice. */
  readonly split: boolean;
  /** Longest the whole session may take (ms; Infinity: no limit). */
  readonly timeoutMs: number;
  /** Longest one open or slice may take (ms). */
  readonly stepTimeoutMs: number;
}

/** Why a session ended without an answer: the worker died (out of memory, a corrupt page in a file) or took too long. */
export class DecoderFailure extends Error {
  constructor(
    message: string,
    readonly reason: 'crashed' | 'timeout' | 'aborted',
  ) {
    super(message);
    this.name = 'DecoderFailure';
  }
}

// The worker body, as a CommonJS script (eval workers run CommonJS); parquet-wasm is imported by URL.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { openAsBlob } = require('node:fs');
const pwReady = import(workerData.parquetWasm);
const sessions = new Map();

/** Decoded bytes per row, from the column chunks' average value sizes. */
function perRowEstimate(md) {
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
  return Math.max(1, perRow);
}

function closeSession(sid) {
  const s = sessions.get(sid);
  if (!s) return;
  sessions.delete(sid);
  try {
    s.pf.free();
  } catch {
    // Freeing after a failure may fail too.
  }
}

async function open(msg) {
  const pw = await pwReady;
  const blob = msg.path !== undefined ? await openAsBlob(msg.path) : new Blob([msg.bytes]);
  const pf = await pw.ParquetFile.fromFile(blob);
  const md = pf.metadata();
  const numRows = md.fileMetadata().numRows();
  if (!(numRows >= 0) || numRows > msg.limits.maxRows) {
    pf.free();
    return { type: 'error', kind: 'rows', message: 'too many rows', numRows };
  }
  const groupEnds = [];
  let end = 0;
  for (const rg of md.rowGroups()) groupEnds.push((end += rg.numRows()));
  const l = msg.limits;
  const step = Math.max(l.minReadRows, Math.min(l.maxReadRows, Math.floor(l.readBudget / perRowEstimate(md))));
  sessions.set(msg.sid, { pf, bytes: msg.bytes, numRows, groupEnds, offset: 0, step, decoded: 0, limits: l });
  return { type: 'opened', schema: pf.schema().intoIPCStream(), numRows, numRowGroups: groupEnds.length };
}

// Bytes use the synchronous reader with offset/limit: it only materialises the rows asked for
// (parquet-wasm's stream decodes a whole row group first, which a dictionary page can blow up) and
// reports bad pages as errors. Files use the asynchronous reader over the Blob, which reads only
// the row groups the slice touches.
async function next(msg) {
  const pw = await pwReady;
  const s = sessions.get(msg.sid);
  if (!s) return { type: 'error', kind: 'parse', message: 'the Parquet reader is closed' };
  if (s.offset >= s.numRows) return { type: 'end' };
  const l = s.limits;
  const end = Math.min(s.numRows, s.offset + s.step);
  // End at a row-group boundary when the slice covers whole groups, so no group is read twice.
  let cut = end;
  for (const g of s.groupEnds) {
    if (g > end) break;
    if (g > s.offset) cut = g;
  }
  const rows = cut - s.offset;
  const opts = { offset: s.offset, limit: rows, batchSize: Math.min(rows, l.batchRows) };
  const table = s.bytes ? pw.readParquet(s.bytes, opts) : await s.pf.read(opts);
  const size = table.getArrayMemorySize();
  s.decoded += size;
  if (s.decoded > l.maxDecodedBytes) {
    table.free();
    return { type: 'error', kind: 'size', message: 'decoded size over the limit' };
  }
  let buffers;
  if (l.split) {
    const rbs = table.recordBatches();
    table.free();
    buffers = rbs.map((rb) => rb.intoIPCStream());
  } else {
    buffers = [table.intoIPCStream()];
  }
  const rowOffset = s.offset;
  s.offset = cut;
  // Rows larger than the footer suggested (dictionary pages expand): read fewer at a time.
  const perRow = size / Math.max(1, rows);
  if (perRow * s.step > 2 * l.readBudget) s.step = Math.max(1, Math.floor(l.readBudget / perRow));
  return { type: 'slice', buffers, rowOffset, rows, bytes: size };
}

async function handle(msg) {
  if (msg.op === 'close') {
    closeSession(msg.sid);
    return;
  }
  let result;
  try {
    result = msg.op === 'open' ? await open(msg) : await next(msg);
  } catch (e) {
    // A wasm trap (out of memory) leaves the instance unusable: let it end this worker.
    if (e instanceof WebAssembly.RuntimeError) throw e;
    closeSession(msg.sid);
    result = { type: 'error', kind: 'parse', message: e instanceof Error ? e.message : String(e) };
  }
  if (result.type === 'error') closeSession(msg.sid);
  // Transfer the IPC buffers when each is exclusively owned by its view; otherwise they are copied.
  const transfer = [];
  const owned = result.type === 'opened' ? [result.schema] : result.type === 'slice' ? result.buffers : [];
  for (const b of owned) {
    if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !transfer.includes(b.buffer)) transfer.push(b.buffer);
  }
  parentPort.postMessage({ sid: msg.sid, seq: msg.seq, result }, transfer);
}

let chain = Promise.resolve();
parentPort.on('message', (msg) => {
  chain = chain.then(() => handle(msg));
});
`;

type Source = { readonly path: string } | { readonly bytes: Uint8Array };

interface Pending {
  readonly seq: number;
  readonly resolve: (r: DecoderReply) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

let nextSid = 1;

/** One worker running one session at a time. */
export class ParquetDecoder {
  private worker: Worker | undefined;
  /** The session holding the worker. */
  active: ParquetSession | undefined;
  /** The worker has been handed to a waiting `open` that has not resumed yet. */
  private handedOver = false;
  private readonly waiting: (() => void)[] = [];

  /** `dedicated`: the worker ends with its session (file readers); otherwise it stays for the next one. */
  constructor(readonly dedicated: boolean) {}

  /** Open a session once the decoder is free: the worker reads the footer. */
  async open(source: Source, limits: SessionLimits, signal?: AbortSignal): Promise<ParquetSession> {
    if (this.active || this.handedOver || this.waiting.length > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.handedOver = false;
    const session = new ParquetSession(this, limits, signal);
    this.active = session;
    try {
      await session.start(source);
    } catch (e) {
      session.close();
      throw e;
    }
    return session;
  }

  /** The worker, started on first use. */
  workerFor(): Worker {
    if (this.worker) return this.worker;
    const parquetWasm = pathToFileURL(createRequire(import.meta.url).resolve('parquet-wasm')).href;
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm } });
    w.on('message', (msg: { sid: number; seq: number; result: DecoderReply }) => {
      if (this.worker === w && this.active?.sid === msg.sid) this.active.receive(msg.seq, msg.result);
    });
    const fail = (err: unknown): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.active?.fail(new DecoderFailure(err instanceof Error ? `${err.name}: ${err.message}` : String(err), 'crashed'));
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the decoder exited with code ${code}`)));
    // Referenced only while decoding: an idle decoder must not keep the process alive. (Unref after
    // adding the listeners: adding a 'message' listener references the worker's port again.)
    w.unref();
    this.worker = w;
    return w;
  }

  /** Let an idle worker not keep the process alive. */
  unrefWorker(): void {
    this.worker?.unref();
  }

  /** End the worker (a timeout, an abort, or a dedicated decoder's session closing). */
  stopWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
  }

  release(session: ParquetSession): void {
    if (this.active !== session) return;
    this.active = undefined;
    if (this.dedicated) this.stopWorker();
    else this.worker?.postMessage({ op: 'close', sid: session.sid });
    const next = this.waiting.shift();
    if (next) {
      // Reserved for the next in line until it resumes, so no newcomer slips in between.
      this.handedOver = true;
      next();
    }
  }
}

/** One file being decoded: `next()` returns its slices in order, then null. */
export class ParquetSession {
  readonly sid = nextSid++;
  private seq = 0;
  private pending: Pending | undefined;
  private failure: unknown;
  private closed = false;
  private readonly deadline: number;
  private readonly onAbort: (() => void) | undefined;
  schema: Uint8Array = new Uint8Array(0);
  numRows = 0;

  constructor(
    private readonly decoder: ParquetDecoder,
    private readonly limits: SessionLimits,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.deadline = performance.now() + limits.timeoutMs;
    if (signal) {
      this.onAbort = () => {
        this.decoder.stopWorker();
        this.fail(new DecoderFailure('the read was aborted', 'aborted'));
      };
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  async start(source: Source): Promise<void> {
    if (this.signal?.aborted) throw new DecoderFailure('the read was aborted', 'aborted');
    // A private copy of bytes is transferred: the caller's buffer stays usable.
    const bytes = 'bytes' in source ? source.bytes.slice() : undefined;
    const reply = await this.request({ op: 'open', path: 'path' in source ? source.path : undefined, bytes, limits: this.limits }, bytes ? [bytes.buffer] : []);
    if (reply.type === 'opened') {
      this.schema = reply.schema;
      this.numRows = reply.numRows;
      return;
    }
    throw reply;
  }

  /** The next slice, null at the end; a refusal from the worker (`{type: 'error'}`) or a DecoderFailure is thrown. */
  async next(): Promise<{ buffers: readonly Uint8Array[]; rowOffset: number; rows: number } | null> {
    const reply = await this.request({ op: 'next' }, []);
    if (reply.type === 'slice') return reply;
    if (reply.type === 'end') return null;
    throw reply;
  }

  private request(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<DecoderReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new DecoderFailure('the Parquet reader is closed', 'aborted'));
    if (this.pending) return Promise.reject(new Error('ParquetSession: one request at a time'));
    const worker = this.decoder.workerFor();
    const seq = ++this.seq;
    const remaining = this.deadline - performance.now();
    const stepLimited = this.limits.stepTimeoutMs < remaining;
    const ms = Math.max(0, Math.min(this.limits.stepTimeoutMs, remaining));
    return new Promise<DecoderReply>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          if (this.pending?.seq !== seq) return;
          this.decoder.stopWorker();
          const what = stepLimited
            ? `decoding one slice took longer than ${this.limits.stepTimeoutMs} ms`
            : `decoding took longer than ${this.limits.timeoutMs} ms`;
          this.fail(new DecoderFailure(what, 'timeout'));
        },
        Math.min(ms, 2 ** 31 - 1),
      );
      timer.unref();
      this.pending = { seq, resolve, reject, timer };
      worker.ref();
      worker.postMessage({ ...msg, sid: this.sid, seq }, transfer);
    });
  }

  receive(seq: number, result: DecoderReply): void {
    const p = this.pending;
    if (!p || p.seq !== seq) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    this.decoder.unrefWorker();
    p.resolve(result);
  }

  /** End the session with an error: the pending request and every later one reject with it. */
  fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.close();
  }

  /** Release the decoder (idempotent). A dedicated decoder's worker ends here. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    const p = this.pending;
    if (p) {
      // The reply to this request will be dropped; don't let the worker keep the process alive for it.
      clearTimeout(p.timer);
      this.pending = undefined;
      this.decoder.unrefWorker();
      p.reject(this.failure ?? new DecoderFailure('the Parquet reader is closed', 'aborted'));
    }
    this.decoder.release(this);
  }
}

let shared: ParquetDecoder | undefined;

/** The decoder the scoring-request parsers share (one decode at a time). */
export function sharedParquetDecoder(): ParquetDecoder {
  return (shared ??= new ParquetDecoder(false));
}
