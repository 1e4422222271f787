/**
 * Request bodies as raw bytes, read into one buffer as they arrive. With a Content-Length the
 * buffer is allocated once at that size and every chunk is copied in on arrival, so a large
 * body costs its own size (not chunks plus a concatenated copy) and no single copy of the whole
 * body blocks the event loop. Without one (chunked uploads), chunks are collected and joined.
 * Limits and errors are fastify's own, so the error routes answer 413 / 400 as before. A body
 * refused as too large is still being sent: the rest is read and discarded first (lingering
 * close, http/linger.ts), so the client sees the 413 rather than a reset. A body that does not
 * arrive in time (a client that stalls after its headers) is refused with 408.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes } from 'fastify';
import { ServeError } from '../errors.js';
import { drainRequestBody } from './linger.js';

type Done = (err: Error | null, body?: Buffer) => void;

/**
 * The time limit on receiving request bodies. Node times out requests whose headers are slow, but
 * not a client that sends its headers and then stalls in the body: without this, such a request
 * holds its socket (and its body buffer) for as long as the client likes. One timer for all
 * bodies being read, checked on a period of a tenth of the limit (at least 50 ms, at most 1 s),
 * so a body costs a set insertion, not a timer; a late body is refused within ~10 % of the limit.
 */
export class BodyDeadlines {
  readonly #reading = new Map<() => void, number>();
  #timer: NodeJS.Timeout | null = null;

  constructor(readonly limitMs: number) {}

  /** Watch one body read; `expire` runs once if it is still being read after the limit. Returns the function that stops watching. */
  watch(expire: () => void): () => void {
    this.#reading.set(expire, performance.now());
    this.#timer ??= setInterval(() => this.#check(), Math.min(1000, Math.max(50, Math.round(this.limitMs / 10)))).unref();
    return () => {
      this.#reading.delete(expire);
    };
  }

  /** Stop the timer (the server is closing). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#reading.clear();
  }

  #check(): void {
    const now = performance.now();
    for (const [expire, started] of this.#reading) {
      if (now - started < this.limitMs) continue;
      this.#reading.delete(expire);
      expire();
    }
    if (this.#reading.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

/** 408 for a body that was not received in time; the connection closes after it (the rest of the body will never be read). */
export function bodyTimeoutError(limitMs: number): ServeError {
  const s = Math.round(limitMs / 100) / 10;
  return new ServeError(`Request timeout: the request body was not received within ${s} s.`, 408, {
    errorCode: 'DEADLINE_EXCEEDED',
    headers: { connection: 'close' },
  });
}

/** Read the whole body of `req` (at most `limit` bytes) and hand it to `done`; with `deadlines`, a body not received in time gets a 408. */
export function readBody(req: IncomingMessage, limit: number, done: Done, deadlines?: BodyDeadlines): void {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? NaN : Number(declared);
  if (length > limit) {
    void drainRequestBody(req).then(() => done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()));
    return;
  }
  const known = Number.isSafeInteger(length) && length >= 0;
  const into = known ? Buffer.allocUnsafe(length) : null;
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  let unwatch: (() => void) | null = null;
  const finish = (err: Error | null, body?: Buffer, drainFirst = false): void => {
    if (finished) return;
    finished = true;
    unwatch?.();
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    if (drainFirst) void drainRequestBody(req).then(() => done(err));
    else done(err, body);
  };
  const onData = (chunk: Buffer): void => {
    if (received + chunk.length > (into ? into.length : limit)) {
      if (into) finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      else finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined, true);
      return;
    }
    if (into) chunk.copy(into, received);
    else chunks.push(chunk);
    received += chunk.length;
  };
  const onEnd = (): void => {
    if (into) finish(received === into.length ? null : new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), into);
    // always a copy: a body never views the socket's read buffers
    else finish(null, Buffer.concat(chunks, received));
  };
  const onError = (err: Error & { statusCode?: number }): void => {
    if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
    finish(err);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  if (deadlines) unwatch = deadlines.watch(() => finish(bodyTimeoutError(deadlines.limitMs)));
  req.resume();
}
