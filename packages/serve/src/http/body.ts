/**
 * Request bodies as raw bytes, read into one buffer as they arrive. With a Content-Length the
 * buffer is allocated once at that size and every chunk is copied in on arrival, so a large
 * body costs its own size (not chunks plus a concatenated copy) and no single copy of the whole
 * body blocks the event loop. Without one (chunked uploads), chunks are collected and joined.
 * Limits and errors are fastify's own, so the error routes answer 413 / 400 as before.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes } from 'fastify';

type Done = (err: Error | null, body?: Buffer) => void;

/** Read the whole body of `req` (at most `limit` bytes) and hand it to `done`. */
export function readBody(req: IncomingMessage, limit: number, done: Done): void {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? NaN : Number(declared);
  if (length > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const known = Number.isSafeInteger(length) && length >= 0;
  const into = known ? Buffer.allocUnsafe(length) : null;
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    done(err, body);
  };
  const onData = (chunk: Buffer): void => {
    if (received + chunk.length > (into ? into.length : limit)) {
      finish(into ? new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH() : new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
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
  req.resume();
}
