/**
 * The access log: one line per response, the line pino writes for
 * `req.log.info({ method, url, status, ms }, 'request completed')`.
 *
 * On the server's own stdout destination (`BufferedLines`) a response only records its fields;
 * they become text in a batch, just before any other line is logged (so lines keep their order),
 * when the buffer is flushed (at most `flushMs` later), at exit, or once 64 are waiting. Building
 * a line between two requests costs several times what it costs in a loop over many (the code
 * and data are no longer in the CPU's caches): measured on 2 cores, about 3 µs of a 1-row
 * request's ~45, against ~0.2 µs in a batch. Every other destination (a stream given in the
 * options) gets the line from pino at once.
 */
import { hostname } from 'node:os';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { BufferedLines, type DeferredLines } from './buffered-lines.js';

/** The access log of one server. */
export interface AccessLogger {
  /** Log one finished request. */
  readonly record: (req: FastifyRequest, status: number, ms: number) => void;
  /** The server is closing: write what waits. */
  close(): void;
}

/** The access line through pino, at once (any destination). */
export const pinoAccessLog: AccessLogger = {
  record: (req, status, ms) => {
    req.log.info({ method: req.method, url: req.url, status, ms: Math.round(ms * 100) / 100 }, 'request completed');
  },
  close: () => undefined,
};

/** Waiting lines beyond which the next record turns them into text. */
const MAX_WAITING = 64;
/** Fields recorded per line, in `#fields`. */
const FIELDS = 6;

/**
 * Access lines recorded now and written in batches into `out`, byte for byte the lines pino
 * writes with fastify's default logger options (numeric level, epoch-ms time, pid and hostname,
 * the request id binding, then the fields and msg).
 */
export class DeferredAccessLog implements DeferredLines, AccessLogger {
  readonly #out: BufferedLines;
  readonly #base: string;
  #fields: (string | number)[] = [];
  /** After close (the destination no longer asks): lines go out at once. */
  #closed = false;

  constructor(out: BufferedLines, pid = process.pid, host = hostname()) {
    this.#out = out;
    this.#base = `,"pid":${pid},"hostname":${JSON.stringify(host)},"reqId":`;
    out.defer(this);
  }

  get waiting(): boolean {
    return this.#fields.length > 0;
  }

  readonly record = (req: FastifyRequest, status: number, ms: number): void => {
    const f = this.#fields;
    f.push(Date.now(), String(req.id), req.method, req.url, status, Math.round(ms * 100) / 100);
    if (this.#closed || f.length >= MAX_WAITING * FIELDS) this.drain((line) => this.#out.write(line));
    else if (f.length === FIELDS) this.#out.wake();
  };

  close(): void {
    this.#closed = true;
    this.#out.undefer(this);
  }

  drain(write: (line: string) => void): void {
    // taken first: a write that fills the buffer flushes, and the flush asks again
    const f = this.#fields;
    this.#fields = [];
    for (let i = 0; i < f.length; i += FIELDS) {
      write(
        `{"level":30,"time":${f[i]}${this.#base}${JSON.stringify(f[i + 1])},"method":${JSON.stringify(f[i + 2])},"url":${JSON.stringify(f[i + 3])},"status":${f[i + 4]},"ms":${f[i + 5]},"msg":"request completed"}\n`,
      );
    }
  }
}

/** The access logger for a server whose logs go to `dest` through `log`; null when info lines are not written. */
export function accessLogger(log: FastifyBaseLogger, dest: unknown): AccessLogger | null {
  // the level is fixed for the server's life
  const enabled = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') ?? true;
  if (!enabled) return null;
  return dest instanceof BufferedLines ? new DeferredAccessLog(dest) : pinoAccessLog;
}
