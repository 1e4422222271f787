/**
 * Arrow IPC tables (stream and file format) read in chunks.
 *
 * apache-arrow's reader trusts its input (see `batch/arrow-ipc.ts`), so every message is checked
 * before it gets there:
 * - bytes in memory are validated whole (`checkIpcBytes`) and read with apache-arrow's
 *   synchronous reader; chunks are views on the bytes;
 * - a stream-format file is read a message at a time with positional reads: each message's
 *   framing and metadata are validated (its body must end inside the file) and the message is
 *   copied into a buffer of its own, then handed to apache-arrow's stream reader;
 * - a file-format file has its footer and the metadata of every block it lists validated (and
 *   the record batches' row counts summed) when it opens; apache-arrow's file reader then reads
 *   one block at a time from the file handle (apache-arrow's own writer puts the schema only in
 *   the footer, so the blocks cannot be replayed as a stream).
 * Memory is bounded by the largest record batch, and a chunk's arrays never share a buffer with
 * another chunk's (record batches larger than a chunk are cut into copies), so chunks can be
 * transferred to worker threads independently.
 */ import * as arrow from 'apache-arrow';
import type { FileHandle } from 'node:fs/promises';
import { checkIpcBytes, hasArrowMagicAt, inspectIpcMessage, readIpcFileFooter, type IpcFileBlock, type IpcMessageInfo } from '../batch/arrow-ipc.js';
import type { Batch } from '../batch/types.js';
import { ModelFormatError, TableReadError } from '../errors.js';
import { ArrowChunker } from './arrow-batches.js';
import { openForReading, readAt, readFully } from './file-io.js';
import { checkAborted, type FormatReader, type ReadContext } from './read-context.js';

type ArrowFormat = 'arrow' | 'arrow-stream';

const SCHEMA = 1;
const DICTIONARY_BATCH = 2;
const RECORD_BATCH = 3;
const END_OF_STREAM = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

/** Any failure while reading Arrow data as a TableReadError (apache-arrow's own errors are prefixed `malformed Arrow IPC data:`). */
function readError(e: unknown, ctx: ReadContext, format: ArrowFormat): TableReadError {
  if (e instanceof TableReadError) return e;
  if (e instanceof ModelFormatError) return new TableReadError(ctx.source, e.message, { format, cause: e });
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new TableReadError(ctx.source, (e as Error).message, { problem: 'io', format, cause: e });
  return new TableReadError(ctx.source, `malformed Arrow IPC data: ${e instanceof Error ? e.message : String(e)}`, { format, cause: e });
}

function chunker(ctx: ReadContext, format: ArrowFormat, schema: arrow.Schema, copySlices: boolean): ArrowChunker {
  return new ArrowChunker({
    source: ctx.source,
    format,
    metadata: schema.metadata,
    batchRows: ctx.batchRows,
    maxChunkBytes: ctx.maxChunkBytes,
    maxDecodedBytes: ctx.maxDecodedBytes,
    copySlices,
  });
}

/** An Arrow IPC table in memory, validated and ready to convert. */
export interface ArrowBytesTable {
  readonly schema: arrow.Schema;
  readonly numRows: number;
  /** Batches of 1..batchRows rows (views on the bytes), or one 0-row batch for a table without rows. */
  batches(): Generator<Batch>;
}

/**
 * Read Arrow IPC bytes (either format). Validation, the row count (no more than 8 per body byte,
 * plus slack for Null columns), the decoded size of every record batch (`maxDecodedBytes`) and the
 * model schema's datetime columns are checked here, before anything is converted.
 */
export function readArrowBytes(bytes: Uint8Array, ctx: ReadContext, format: ArrowFormat): ArrowBytesTable {
  try {
    checkIpcBytes(bytes);
  } catch (e) {
    throw readError(e, ctx, format);
  }
  let schema: arrow.Schema;
  const rbs: arrow.RecordBatch[] = [];
  try {
    const reader = arrow.RecordBatchReader.from(bytes);
    reader.open();
    schema = reader.schema;
    for (const rb of reader) rbs.push(rb);
  } catch (e) {
    throw readError(e, ctx, format);
  }
  let numRows = 0;
  for (const rb of rbs) numRows += rb.numRows;
  // Every column type but Null needs at least a bit per row, so a larger row count is a corrupted length.
  if (numRows > bytes.byteLength * 8 + 65536) throw new TableReadError(ctx.source, `${numRows} rows claimed in ${bytes.byteLength} bytes`, { format });
  const conv = chunker(ctx, format, schema, false);
  for (const rb of rbs) conv.account(rb);
  conv.checkSchema(schema, ctx.schema);
  return {
    schema,
    numRows,
    *batches() {
      let rows = 0;
      for (const rb of rbs) {
        if (rb.numRows === 0) continue;
        rows += rb.numRows;
        yield* conv.chunks(rb);
      }
      if (rows === 0) yield conv.empty(schema);
    },
  };
}

/** Read and validate the message at `pos` (undefined at an end-of-stream marker): the whole message in a buffer of its own. */
async function readMessageAt(fh: FileHandle, pos: number, end: number, truncated: string): Promise<{ info: IpcMessageInfo; bytes: Uint8Array } | undefined> {
  const short = (): Error => new ModelFormatError(`${truncated}: the file ends at byte ${end}`);
  const head = await readAt(fh, pos, Math.min(8, end - pos), short);
  const view = new DataView(head.buffer);
  let prefix = 4;
  let metaLength = head.length >= 4 ? view.getInt32(0, true) : 0;
  if (metaLength === -1 && head.length >= 8) {
    prefix = 8;
    metaLength = view.getInt32(4, true);
  }
  // Malformed or cut-short prefixes and lengths past the end are reported from the header alone.
  const meta = metaLength > 0 && prefix + metaLength <= end - pos ? await readAt(fh, pos, prefix + metaLength, short) : head;
  const info = inspectIpcMessage(meta, 0, truncated, end - pos);
  if (info === undefined) return undefined;
  const bytes = new Uint8Array(info.end);
  bytes.set(meta.subarray(0, info.bodyStart));
  await readFully(fh, bytes.subarray(info.bodyStart), pos + info.bodyStart, short);
  return { info, bytes };
}

/** The messages of an IPC stream in `[start, end)` of the file, the first of which must be a schema. */
async function* streamMessages(fh: FileHandle, start: number, end: number): AsyncGenerator<Uint8Array> {
  let pos = start;
  let count = 0;
  while (pos < end) {
    const msg = await readMessageAt(fh, pos, end, count === 0 ? 'not Arrow IPC data, or truncated' : 'Arrow IPC stream is truncated');
    if (msg === undefined) break;
    if (count === 0 && msg.info.headerType !== SCHEMA) throw new ModelFormatError('not Arrow IPC data: the stream does not start with a schema message');
    count++;
    pos += msg.info.end;
    yield msg.bytes;
  }
  if (count === 0) throw new ModelFormatError('not Arrow IPC data: no schema message');
  yield END_OF_STREAM;
}

interface FileLayout {
  readonly numRows: number;
}

/** Validate the file format's footer and every block's message metadata; count the record batches' rows. */
async function checkFileLayout(fh: FileHandle, size: number): Promise<FileLayout> {
  const noMagic = (): Error => new ModelFormatError('Arrow IPC file is truncated (no trailing ARROW1 magic)');
  if (size < 18) throw noMagic();
  const tail = await readAt(fh, size - 10, 10, noMagic);
  if (!hasArrowMagicAt(tail, 4)) throw noMagic();
  const footerLength = new DataView(tail.buffer).getInt32(0, true);
  const footerStart = size - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) throw new ModelFormatError('malformed Arrow IPC data: invalid file footer length');
  const footer = await readAt(fh, footerStart, footerLength, noMagic);
  const { dictionaries, records } = readIpcFileFooter(footer, footerStart);
  let numRows = 0;
  for (const [blocks, type] of [
    [dictionaries, DICTIONARY_BATCH],
    [records, RECORD_BATCH],
  ] as const) {
    for (let k = 0; k < blocks.length; k++) {
      const b: IpcFileBlock = blocks[k]!;
      const meta = await readAt(fh, b.offset, Math.min(Math.max(b.metaDataLength, 8), footerStart - b.offset), noMagic);
      const info = inspectIpcMessage(meta, 0, 'Arrow IPC file block is truncated', footerStart - b.offset);
      if (info === undefined || info.headerType !== type) {
        throw new ModelFormatError(
          `malformed Arrow IPC data: block ${k} of the file footer is not a ${type === DICTIONARY_BATCH ? 'dictionary' : 'record'} batch`,
        );
      }
      numRows += info.rows;
    }
  }
  return { numRows };
}

/** Open an Arrow IPC file (either format, told apart by the `ARROW1` magic) for chunked reading. */
export async function openArrowFile(path: string, ctx: ReadContext, format: ArrowFormat): Promise<FormatReader> {
  const { fh, size } = await openForReading(path, format);
  let reader: arrow.AsyncRecordBatchFileReader | arrow.AsyncRecordBatchStreamReader | undefined;
  try {
    if (size === 0) throw new ModelFormatError('Arrow IPC data is empty');
    const head = await readAt(fh, 0, Math.min(8, size), () => new ModelFormatError('Arrow IPC data is truncated'));
    let numRows: number | undefined;
    if (hasArrowMagicAt(head, 0)) {
      numRows = (await checkFileLayout(fh, size)).numRows;
      reader = (await arrow.RecordBatchReader.from(fh)) as arrow.AsyncRecordBatchFileReader;
    } else {
      reader = (await arrow.RecordBatchReader.from(streamMessages(fh, 0, size))) as arrow.AsyncRecordBatchStreamReader;
    }
    await reader.open();
    const schema = reader.schema;
    const conv = chunker(ctx, format, schema, true);
    conv.checkSchema(schema, ctx.schema);
    const opened = reader;
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await opened.cancel().catch(() => undefined);
      await fh.close().catch(() => undefined);
    };
    async function* batches(): AsyncGenerator<Batch> {
      let rows = 0;
      try {
        for (;;) {
          let next: IteratorResult<arrow.RecordBatch>;
          try {
            next = await opened.next();
          } catch (e) {
            throw readError(e, ctx, format);
          }
          if (next.done) break;
          checkAborted(ctx, format);
          const rb = next.value;
          if (rb.numRows === 0) continue;
          conv.account(rb);
          rows += rb.numRows;
          yield* conv.chunks(rb);
        }
        if (rows === 0) yield conv.empty(schema);
      } finally {
        await close();
      }
    }
    return { format, schema: { columns: schema.fields.map((f) => f.name), arrow: schema }, numRows, batches, close };
  } catch (e) {
    await reader?.cancel().catch(() => undefined);
    await fh.close().catch(() => undefined);
    throw readError(e, ctx, format);
  }
}
