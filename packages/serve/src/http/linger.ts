import type { IncomingMessage } from 'node:http';

/** Most bytes of a refused body read and discarded before the answer (beyond that: close at once). */
export const LINGER_MAX_BYTES = 64 * 1024 * 1024;
/** Longest the server waits for the rest of a refused body. */
export const LINGER_MAX_MS = 5_000;

/**
 * Lingering close for refused uploads (as nginx does). A body over the limit is refused before it
 * has been read, while the client is still sending it; answering and closing the connection then
 * makes the kernel reset it, and clients (fetch, curl, Python requests) report a broken pipe or a
 * reset instead of the 413. Read and discard the rest of the body first — at most `maxBytes`
 * (nothing when the declared length says there is more), for at most `maxMs` — so the client has
 * finished writing when the answer arrives. Resolves when the body ended or a bound was hit.
 */
export function drainRequestBody(req: IncomingMessage, maxBytes = LINGER_MAX_BYTES, maxMs = LINGER_MAX_MS): Promise<void> {
  if (req.complete || req.destroyed || req.readableEnded) return Promise.resolve();
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let seen = 0;
    const finish = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', finish);
      req.off('close', finish);
      req.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    req.on('data', onData);
    req.once('end', finish);
    req.once('close', finish);
    req.once('error', finish);
    req.resume();
  });
}
