/**
 * Parquet tables read in chunks, decoded in a worker thread (see `parquet-decoder.ts` for why and
 * how). A file is decoded one chunk's worth at a time (at most `batchRows` rows and about
 * `maxChunkBytes` bytes; several small row groups are read together, a row group larger than a
 * chunk is read in parts), and while the consumer works on one chunk the worker already decodes
 * the next: two chunks in memory, plus what the decoder holds. Each chunk's record batches arrive
 * as Arrow IPC buffers transferred from the worker, so chunks never share a buffer.
 */
import * as arrow from 'apache-arrow';
import type { Batch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import { ArrowChunker } from './arrow-batches.js';
import { openForReading, readAt } from './file-io.js';
import { DecoderFailure, type DecoderReply, type ParquetDecoder, type ParquetSession, type SessionLimits } from './parquet-decoder.js';
import { abortedError, type FormatReader, type ReadContext } from './read-context.js';

/** Slice sizes for scoring requests (the whole body is wanted at once): as before the chunked reader existed. */
const REQUEST_READ_BUDGET = 128 * 1024 * 1024;
const REQUEST_MAX_READ_ROWS = 262_144;
const REQUEST_BATCH_ROWS = 65_536;
const MIN_READ_ROWS = 1024;
/** Largest slice a file reader decodes at once, whatever maxChunkBytes says. */
const MAX_FILE_READ_BUDGET = 128 * 1024 * 1024;

export const NOT_PARQUET = 'not a Parquet file: it must start and end with the 4 bytes "PAR1" and hold a footer';

const PAR1 = [0x50, 0x41, 0x52, 0x31];

function hasMagic(head: Uint8Array, tail: Uint8Array): boolean {
  return PAR1.every((c, i) => head[i] === c && tail[tail.length - 4 + i] === c);
}

export interface ParquetOpenOptions {
  readonly decoder: ParquetDecoder;
  /** Read like a scoring request: big slices, one IPC stream each (chunks may share it), no chunk size limit. */
  readonly request?: boolean;
}

/** A refusal from the worker or a DecoderFailure → TableReadError. `rows` says from which row the failed slice started, when known. */
function decodeError(e: unknown, ctx: ReadContext, isFile: boolean, rows?: string): TableReadError {
  if (e instanceof TableReadError) return e;
  const src = ctx.source;
  if (e instanceof DecoderFailure) {
    if (e.reason === 'aborted') return abortedError(ctx, 'parquet');
    if (e.reason === 'timeout') return new TableReadError(src, e.message, { problem: 'decoder', format: 'parquet', cause: e, errorCode: 'DEADLINE_EXCEEDED' });
    const detail = isFile
      ? `the Parquet decoder failed (${e.message})${rows ? ` while decoding the rows from ${rows} on` : ''}: the file is corrupt, or those rows expand beyond the decoder's 4 GiB memory (a smaller batchRows or maxChunkBytes may help)`
      : `the decoder failed (${e.message}), most likely because the data expands beyond its memory`;
    return new TableReadError(src, detail, { problem: 'decoder', format: 'parquet', cause: e });
  }
  const reply = e as DecoderReply;
  if (reply && typeof reply === 'object' && reply.type === 'error') {
    if (reply.kind === 'rows') {
      return new TableReadError(src, `the Parquet file declares ${reply.numRows} rows, more than the limit of ${ctx.maxRows}`, {
        problem: 'too-large',
        format: 'parquet',
        what: 'rows',
        limit: ctx.maxRows,
        numRows: reply.numRows,
      });
    }
    if (reply.kind === 'size') {
      return new TableReadError(src, `the decoded Parquet data exceeds the limit of ${ctx.maxDecodedBytes} bytes`, {
        problem: 'too-large',
        format: 'parquet',
        what: 'the decoded Parquet data',
        limit: ctx.maxDecodedBytes,
      });
    }
    return new TableReadError(src, reply.message, { format: 'parquet' });
  }
  throw e;
}

/** Check the `PAR1` magic at both ends of a file before starting a decoder. */
async function checkFileMagic(path: string, ctx: ReadContext): Promise<void> {
  const { fh, size } = await openForReading(path, 'parquet');
  try {
    const notParquet = (): TableReadError => new TableReadError(ctx.source, NOT_PARQUET, { format: 'parquet' });
    if (size < 12) throw notParquet();
    const head = await readAt(fh, 0, 4, notParquet);
    const tail = await readAt(fh, size - 4, 4, notParquet);
    if (!hasMagic(head, tail)) throw notParquet();
  } finally {
    await fh.close();
  }
}

/** Open a Parquet file (path) or bytes for chunked reading. */
export async function openParquet(source: { path: string } | { bytes: Uint8Array }, ctx: ReadContext, opts: ParquetOpenOptions): Promise<FormatReader> {
  const isFile = 'path' in source;
  if (isFile) await checkFileMagic(source.path, ctx);
  else if (source.bytes.length < 12 || !hasMagic(source.bytes, source.bytes)) throw new TableReadError(ctx.source, NOT_PARQUET, { format: 'parquet' });
  const limits: SessionLimits = opts.request
    ? {
        maxRows: ctx.maxRows,
        maxDecodedBytes: ctx.maxDecodedBytes,
        readBudget: REQUEST_READ_BUDGET,
        maxReadRows: REQUEST_MAX_READ_ROWS,
        minReadRows: MIN_READ_ROWS,
        batchRows: REQUEST_BATCH_ROWS,
        split: false,
        timeoutMs: ctx.timeoutMs,
        stepTimeoutMs: ctx.stepTimeoutMs,
      }
    : {
        maxRows: ctx.maxRows,
        maxDecodedBytes: ctx.maxDecodedBytes,
        readBudget: Math.min(ctx.maxChunkBytes, MAX_FILE_READ_BUDGET),
        maxReadRows: ctx.batchRows,
        minReadRows: Math.min(MIN_READ_ROWS, ctx.batchRows),
        batchRows: ctx.batchRows,
        split: true,
        timeoutMs: ctx.timeoutMs,
        stepTimeoutMs: ctx.stepTimeoutMs,
      };
  let session: ParquetSession;
  try {
    session = await opts.decoder.open(source, limits, ctx.signal);
  } catch (e) {
    throw decodeError(e, ctx, isFile);
  }
  let schema: arrow.Schema;
  let conv: ArrowChunker;
  try {
    schema = arrow.tableFromIPC(session.schema).schema;
    conv = new ArrowChunker({
      source: ctx.source,
      format: 'parquet',
      metadata: schema.metadata,
      batchRows: ctx.batchRows,
      maxChunkBytes: ctx.maxChunkBytes,
      maxDecodedBytes: ctx.maxDecodedBytes,
      copySlices: isFile,
    });
    conv.checkSchema(schema, ctx.schema);
  } catch (e) {
    session.close();
    if (e instanceof TableReadError) throw e;
    throw new TableReadError(ctx.source, (e as Error).message, { format: 'parquet', cause: e });
  }
  const numRows = session.numRows;
  const close = async (): Promise<void> => session.close();

  async function* batches(): AsyncGenerator<Batch> {
    let rows = 0;
    let decoding = '0';
    const ask = (): Promise<Awaited<ReturnType<ParquetSession['next']>>> => {
      const p = session.next();
      p.catch(() => undefined); // read-ahead that may be abandoned when the consumer stops
      return p;
    };
    try {
      let ahead = ask();
      for (;;) {
        let slice;
        try {
          slice = await ahead;
        } catch (e) {
          throw decodeError(e, ctx, isFile, decoding);
        }
        if (slice === null) break;
        ahead = ask();
        decoding = String(slice.rowOffset + slice.rows);
        for (const buffer of slice.buffers) {
          let table: arrow.Table;
          try {
            table = arrow.tableFromIPC(buffer);
          } catch (e) {
            throw new TableReadError(ctx.source, (e as Error).message, { format: 'parquet', cause: e });
          }
          for (const rb of table.batches) {
            if (rb.numRows === 0) continue;
            conv.account(rb);
            rows += rb.numRows;
            yield* conv.chunks(rb);
          }
        }
      }
      if (rows === 0) yield conv.empty(schema);
    } finally {
      session.close();
    }
  }

  return { format: 'parquet', schema: { columns: schema.fields.map((f) => f.name), arrow: schema }, numRows, batches, close };
}
