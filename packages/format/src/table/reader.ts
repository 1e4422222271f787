/**
 * `openTableReader`: a Parquet, Arrow IPC (file or stream) or CSV table — a file path or bytes —
 * read as an async iterable of chunks of at most `batchRows` rows, in bounded memory.
 */
import type { Batch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import { openArrowFile, readArrowBytes } from './arrow-reader.js';
import { batchRows } from '../batch/values.js';
import { batchByteSize } from './batch-rows.js';
import { openCsv } from './csv-reader.js';
import { openForReading, readAt } from './file-io.js';
import { sniffTableFormat, tableFormatForFile, type ReadableTableFormat } from './formats.js';
import { ParquetDecoder } from './parquet-decoder.js';
import { openParquet } from './parquet-reader.js';
import { abortedError, checkAborted, readContext, type FormatReader, type ReadContext } from './read-context.js';
import type { TableChunk, TableReader, TableReaderOptions, TableSchemaInfo, TableSource } from './types.js';

const BYTES_LABEL: Record<ReadableTableFormat, string> = {
  parquet: 'Parquet data',
  arrow: 'Arrow IPC data',
  'arrow-stream': 'Arrow IPC data',
  csv: 'CSV data',
};

/** The format of a source: its magic bytes, else its file extension. */
async function detectFormat(source: TableSource): Promise<ReadableTableFormat> {
  let head: Uint8Array;
  if (typeof source === 'string') {
    const { fh, size } = await openForReading(source);
    try {
      head = await readAt(fh, 0, Math.min(8, size), () => new Error('short read'));
    } finally {
      await fh.close();
    }
  } else head = source.subarray(0, 8);
  const sniffed = sniffTableFormat(head);
  if (sniffed) return sniffed;
  if (typeof source === 'string') {
    const byName = tableFormatForFile(source);
    if (byName === 'jsonl')
      throw new TableReadError(source, 'JSON lines files can be written but not read as tables; convert it to CSV, Parquet or Arrow', { format: byName });
    if (byName) return byName;
  }
  throw new TableReadError(
    typeof source === 'string' ? source : 'the data',
    'cannot tell the table format from the first bytes or the file name: pass format (parquet, arrow, arrow-stream or csv)',
  );
}

/** Bytes already validated and split: an in-memory reader. */
function arrowBytesReader(bytes: Uint8Array, ctx: ReadContext, format: 'arrow' | 'arrow-stream'): FormatReader {
  const table = readArrowBytes(bytes, ctx, format);
  const schema = table.schema;
  return {
    format,
    schema: { columns: schema.fields.map((f) => f.name), arrow: schema },
    numRows: table.numRows,
    batches: async function* () {
      yield* table.batches();
    },
    close: async () => undefined,
  };
}

class ChunkedTableReader implements TableReader {
  private iterated = false;

  constructor(
    readonly source: string,
    private readonly impl: FormatReader,
    private readonly ctx: ReadContext,
  ) {}

  get format(): ReadableTableFormat {
    return this.impl.format;
  }

  get schema(): TableSchemaInfo {
    return this.impl.schema;
  }

  get numRows(): number | undefined {
    return this.impl.numRows;
  }

  close(): Promise<void> {
    return this.impl.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TableChunk> {
    if (this.iterated) throw new Error(`${this.source}: a TableReader can be iterated only once`);
    this.iterated = true;
    const { ctx, impl } = this;
    const it = impl.batches();
    let rowOffset = 0;
    let decoded = 0;
    try {
      for (;;) {
        checkAborted(ctx, impl.format);
        const r = await it.next();
        if (r.done) break;
        const batch: Batch = r.value;
        const numRows = batchRows(batch);
        if (rowOffset + numRows > ctx.maxRows) {
          throw new TableReadError(ctx.source, `the table has more than ${ctx.maxRows} rows, the limit`, {
            problem: 'too-large',
            format: impl.format,
            what: 'rows',
            limit: ctx.maxRows,
          });
        }
        // Arrow and Parquet count decoded bytes as they decode; CSV chunks are counted here.
        if (impl.format === 'csv' && ctx.maxDecodedBytes !== Infinity) {
          decoded += batchByteSize(batch);
          if (decoded > ctx.maxDecodedBytes) {
            throw new TableReadError(ctx.source, `the decoded data exceeds the limit of ${ctx.maxDecodedBytes} bytes`, {
              problem: 'too-large',
              format: impl.format,
              what: 'the decoded data',
              limit: ctx.maxDecodedBytes,
            });
          }
        }
        yield { batch, rowOffset, numRows };
        rowOffset += numRows;
      }
    } finally {
      await it.return?.(undefined);
      await impl.close();
    }
  }
}

/**
 * Open a table for chunked reading. `source` is a file path or the bytes of a whole file; the
 * format is taken from `opts.format`, else the magic bytes, else the file extension. Opening reads
 * what the format keeps up front — the Parquet footer (in the decoder worker), the Arrow schema and
 * (file format) footer, the CSV header — so `schema` and `numRows` are known before iterating.
 *
 * Memory stays bounded whatever the file size: about two slices of `maxChunkBytes` for Parquet
 * (one being consumed, one being decoded), the largest record batch for Arrow, a chunk's rows and
 * a 1 MiB piece for CSV. Chunks read from files own their buffers (transferable to workers
 * independently); chunks of Arrow bytes are views on those bytes. Every failure is a
 * `TableReadError` naming the source.
 */
export async function openTableReader(source: TableSource, opts: TableReaderOptions = {}): Promise<TableReader> {
  const format = opts.format ?? (await detectFormat(source));
  const label = typeof source === 'string' ? source : BYTES_LABEL[format];
  const ctx = readContext(label, opts);
  if (ctx.signal?.aborted) throw abortedError(ctx, format);
  const src = typeof source === 'string' ? { path: source } : { bytes: source };
  let impl: FormatReader;
  switch (format) {
    case 'parquet':
      impl = await openParquet(src, ctx, { decoder: new ParquetDecoder(true) });
      break;
    case 'arrow':
    case 'arrow-stream':
      impl = typeof source === 'string' ? await openArrowFile(source, ctx, format) : arrowBytesReader(source, ctx, format);
      break;
    case 'csv':
      impl = await openCsv(src, ctx);
      break;
    default:
      throw new TableReadError(label, `unknown table format ${JSON.stringify(format)}: pass parquet, arrow, arrow-stream or csv`);
  }
  return new ChunkedTableReader(label, impl, ctx);
}
