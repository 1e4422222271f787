/**
 * Where the server's log lines go by default: stdout, in writes of whole lines of at most 4 KiB
 * (64 KiB when stdout is a regular file).
 *
 * pino's default destination makes one write(2) per line, and the access log has a line per
 * request: on small requests that syscall (and, on kernels with page-table isolation, the TLB
 * refill after it) cost about as much as the rest of the logging. Lines are collected here and
 * written when the next one would pass 4 KiB, at most `flushMs` after the first one waiting, and
 * at process exit. A write is never larger than PIPE_BUF (4 KiB) unless a single line is, so on a
 * pipe shared by `--workers` processes each write stays atomic: lines never interleave.
 *
 * Sources of deferred lines (`defer`: the access logs of the servers writing here) are asked for
 * their lines just before any other line is added and at every flush, so the output keeps the
 * order in which lines were logged.
 */
import { fstatSync, writeSync } from 'node:fs';

/** Linux's PIPE_BUF: writes up to this size to a pipe are atomic. */
export const MAX_WRITE_BYTES = 4096;
/**
 * Writes to a regular file may be larger: each write(2) to a file is placed whole (the processes
 * share the file offset, and Linux writes under its lock), so lines of several processes still
 * never interleave, and 16× fewer writes cost ~1 µs less per access line on small requests.
 */
export const MAX_FILE_WRITE_BYTES = 64 * 1024;
/** Longest a line waits for company before it is written. */
export const DEFAULT_FLUSH_MS = 100;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export interface BufferedLinesOptions {
  readonly maxBytes?: number;
  readonly flushMs?: number;
  /** Writes bytes, returns how many were written (default `fs.writeSync` to `fd`); for tests. */
  readonly write?: (bytes: Uint8Array) => number;
}

/** Lines recorded now and turned into text later, in a batch (see access-log.ts). */
export interface DeferredLines {
  /** Whether any line is waiting. */
  readonly waiting: boolean;
  /** Hand every waiting line to `write`, in order. */
  drain(write: (line: string) => void): void;
}

/** A pino destination (anything with `write(line)`) that batches lines into few writes. */
export class BufferedLines {
  readonly #flushMs: number;
  readonly #write: (bytes: Uint8Array) => number;
  /**
   * Lines are encoded straight into this one buffer, reused for the process's life: a fresh
   * buffer per write would fault in new pages, which on some VMs costs more than the write.
   */
  readonly #buffer: Buffer;
  #length = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Set after EPIPE (the reader went away): lines are dropped from then on, as pino does. */
  #broken = false;
  readonly #deferred: DeferredLines[] = [];
  readonly #add = (line: string): void => this.#append(line);

  constructor(
    readonly fd = 1,
    opts: BufferedLinesOptions = {},
  ) {
    this.#buffer = Buffer.alloc(opts.maxBytes ?? MAX_WRITE_BYTES);
    this.#flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
    this.#write = opts.write ?? ((b) => writeSync(this.fd, b));
  }

  /** Bytes waiting to be written. */
  get pending(): number {
    return this.#length;
  }

  /** Take lines from `source` before every other line and at every flush. */
  defer(source: DeferredLines): void {
    this.#deferred.push(source);
  }

  /** Take `source`'s waiting lines now, and no more after. */
  undefer(source: DeferredLines): void {
    const at = this.#deferred.indexOf(source);
    if (at < 0) return;
    if (source.waiting) source.drain(this.#add);
    this.#deferred.splice(at, 1);
  }

  #drainDeferred(): void {
    for (const d of this.#deferred) if (d.waiting) d.drain(this.#add);
  }

  /** A deferred line is waiting: make sure it is written within `flushMs`. */
  wake(): void {
    this.#armTimer();
  }

  write(line: string): boolean {
    if (this.#deferred.length > 0) this.#drainDeferred();
    this.#append(line);
    return true;
  }

  #append(line: string): void {
    if (this.#broken) return;
    const n = Buffer.byteLength(line);
    // only what is in the buffer: a deferred source being drained is in the middle of handing over its lines
    if (this.#length + n > this.#buffer.length) this.#writeBuffer();
    if (n > this.#buffer.length) {
      // a line longer than the buffer goes out alone
      this.#writeAll(Buffer.from(line, 'utf8'));
      return;
    }
    this.#length += this.#buffer.write(line, this.#length, n, 'utf8');
    this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer === null) {
      this.#timer = setTimeout(() => this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Write everything waiting, now (synchronously). */
  flush(): void {
    if (this.#deferred.length > 0) this.#drainDeferred();
    this.#writeBuffer();
  }

  #writeBuffer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#length === 0) return;
    const n = this.#length;
    this.#length = 0;
    this.#writeAll(this.#buffer.subarray(0, n));
  }

  /** pino calls this on `logger.flush()` (and for fatal errors); same as flush. */
  flushSync(): void {
    this.flush();
  }

  #writeAll(chunk: Uint8Array): void {
    let at = 0;
    let busy = 0;
    while (at < chunk.length && !this.#broken) {
      try {
        at += this.#write(chunk.subarray(at));
        busy = 0;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') this.#broken = true;
        // a non-blocking stdout that is full: wait for the reader a little (up to ~1 s), like pino's sonic-boom
        else if ((code === 'EAGAIN' || code === 'EBUSY') && busy++ < 100) Atomics.wait(sleeper, 0, 0, 10);
        else throw e;
      }
    }
  }
}

/** The largest write for lines to `fd`: MAX_FILE_WRITE_BYTES for a regular file, else PIPE_BUF (pipes, terminals, sockets, unknown). */
export function writeLimitFor(fd: number): number {
  try {
    return fstatSync(fd).isFile() ? MAX_FILE_WRITE_BYTES : MAX_WRITE_BYTES;
  } catch {
    return MAX_WRITE_BYTES;
  }
}

let stdoutLines: BufferedLines | null = null;

/** The process's one buffered stdout destination (flushed at exit), shared by every server in the process. */
export function bufferedStdout(): BufferedLines {
  if (stdoutLines === null) {
    const lines = new BufferedLines(1, { maxBytes: writeLimitFor(1) });
    process.on('exit', () => lines.flush());
    stdoutLines = lines;
  }
  return stdoutLines;
}
