/**
 * CSV tables read in chunks: the file (or bytes) is fed to `CsvChunker` in 1 MiB pieces, so
 * memory holds one piece, the rows of the chunk being built, and at most one record longer than a
 * piece. The header is read when the reader opens (so `schema.columns` is known up front).
 */
import type { FileHandle } from 'node:fs/promises';
import type { ColumnBatch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import { fsMessage } from '../fs-utils.js';
import { CsvChunker } from './csv-chunker.js';
import { openForReading } from './file-io.js';
import { checkAborted, DEFAULT_MAX_CSV_RECORD_CHARS, type FormatReader, type ReadContext } from './read-context.js';

const PIECE_BYTES = 1024 * 1024;

/** Pieces of the input, the last one flagged. */
async function* pieces(source: { path: string; fh: FileHandle; size: number } | { bytes: Uint8Array }): AsyncGenerator<{ bytes: Uint8Array; final: boolean }> {
  if ('bytes' in source) {
    const b = source.bytes;
    if (b.length === 0) yield { bytes: b, final: true };
    for (let pos = 0; pos < b.length; pos += PIECE_BYTES) yield { bytes: b.subarray(pos, pos + PIECE_BYTES), final: pos + PIECE_BYTES >= b.length };
    return;
  }
  // One buffer, reused: the chunker decodes each piece to text before the next read.
  const buf = new Uint8Array(PIECE_BYTES);
  for (let pos = 0; ;) {
    let n: number;
    try {
      n = (await source.fh.read(buf, 0, buf.length, pos)).bytesRead;
    } catch (e) {
      throw new TableReadError(source.path, fsMessage(e), { problem: 'io', format: 'csv', cause: e });
    }
    pos += n;
    if (n === 0) {
      yield { bytes: buf.subarray(0, 0), final: true };
      return;
    }
    yield { bytes: buf.subarray(0, n), final: false };
  }
}

/** Open a CSV file (path) or bytes for chunked reading. */
export async function openCsv(source: { path: string } | { bytes: Uint8Array }, ctx: ReadContext): Promise<FormatReader> {
  const file = 'path' in source ? { path: source.path, ...(await openForReading(source.path, 'csv')) } : undefined;
  const chunker = new CsvChunker({
    schema: ctx.schema,
    batchRows: ctx.batchRows,
    maxChunkBytes: ctx.maxChunkBytes,
    maxRecordBytes: file ? DEFAULT_MAX_CSV_RECORD_CHARS : Infinity,
    source: ctx.source,
  });
  const input = pieces(file ?? (source as { bytes: Uint8Array }));
  const ready: ColumnBatch[] = [];
  let ended = false;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await input.return(undefined);
    await file?.fh.close();
  };
  /** Feed one more piece; false once the input has ended. */
  const feed = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await input.next();
    if (r.done) {
      ended = true;
      return false;
    }
    ready.push(...chunker.push(r.value.bytes, r.value.final));
    if (r.value.final) ended = true;
    return true;
  };
  try {
    while (chunker.columnNames === undefined && (await feed()));
  } catch (e) {
    await close();
    throw e;
  }
  async function* batches(): AsyncGenerator<ColumnBatch> {
    try {
      for (;;) {
        while (ready.length > 0) yield ready.shift()!;
        checkAborted(ctx, 'csv');
        if (!(await feed())) break;
      }
    } finally {
      await close();
    }
  }
  return { format: 'csv', schema: { columns: chunker.columnNames ?? [], arrow: undefined }, numRows: undefined, batches, close };
}
