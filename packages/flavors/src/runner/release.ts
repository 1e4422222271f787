/**
 * Giving memory back at once. A large request leaves ArrayBuffers of hundreds of MB (the body, a
 * decoded input, a prediction, the encoded answer) that only the garbage collector would free, and
 * an idle thread may not collect for a long time. `releaseBuffers` frees them now: moving a buffer
 * into a closed message port detaches it (it becomes empty here) and drops its memory. Only for
 * buffers nothing else uses any more.
 */
import { MessageChannel } from 'node:worker_threads';

const { port1: sink, port2 } = new MessageChannel();
port2.close();
sink.close();

function release(b: ArrayBufferLike): void {
  if (!(b instanceof ArrayBuffer) || b.byteLength === 0) return;
  try {
    sink.postMessage(null, [b]);
  } catch {
    // Node refuses to move some buffers (pooled Buffer memory): the collector frees them
  }
}

/** Free these buffers' memory now; each becomes detached (length 0). Shared, already detached or untransferable buffers are left alone. */
export function releaseBuffers(buffers: Iterable<ArrayBufferLike>): void {
  for (const b of new Set(buffers)) release(b);
}

/**
 * `releaseBuffers`, one buffer per turn of the event loop: unmapping hundreds of MB at once takes
 * tens of ms on a VM whose page operations are slow, and a server thread should not stall that long.
 */
export function releaseBuffersGradually(buffers: Iterable<ArrayBufferLike>): void {
  const queue = [...new Set(buffers)];
  const next = (): void => {
    const b = queue.pop();
    if (b === undefined) return;
    release(b);
    setImmediate(next);
  };
  next();
}
