/**
 * Arrow IPC output (file or stream format) with apache-arrow's RecordBatchFileWriter /
 * RecordBatchStreamWriter. Their output queue is replaced by one that hands over each batch's
 * bytes synchronously (views on the batch's own buffers, not copies), which go to the file before
 * the next batch is taken: memory holds one batch.
 */
import * as arrow from 'apache-arrow';
import { ArrowBatchEncoder } from './arrow-encoding.js';
import type { TableRows } from './types.js';
import type { TableEncoder, WriteChunks } from './writer.js';

/** Collects what the writer emits instead of queueing it for an async reader. */
class CollectingSink extends arrow.AsyncByteQueue {
  chunks: Uint8Array[] = [];

  override write(value: ArrayBufferView | ArrayBufferLike): void {
    const u = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    if (u.byteLength > 0) this.chunks.push(u);
  }

  take(): Uint8Array[] {
    const out = this.chunks;
    this.chunks = [];
    return out;
  }
}

export function arrowEncoder(path: string, format: 'arrow' | 'arrow-stream', out: WriteChunks): TableEncoder {
  const batches = new ArrowBatchEncoder(path);
  const sink = new CollectingSink();
  const writer = format === 'arrow' ? new arrow.RecordBatchFileWriter() : new arrow.RecordBatchStreamWriter();
  let started = false;
  return {
    async write(batch: TableRows): Promise<void> {
      const rbs = batches.encode(batch);
      if (!started) {
        started = true;
        writer.reset(sink, batches.schema!);
      }
      for (const rb of rbs) writer.write(rb);
      await out(sink.take());
    },
    async finish(): Promise<boolean> {
      if (!started) return false;
      void writer.close();
      await out(sink.take());
      return true;
    },
    async abort(): Promise<void> {
      sink.take();
    },
  };
}
