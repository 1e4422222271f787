/**
 * Parquet output with parquet-wasm 0.8's streaming writer (`transformParquetStream`: Arrow record
 * batches in, Parquet bytes out, a row group flushed whenever `rowGroupRows` rows are buffered),
 * so memory holds about one row group, however many rows are written. It runs in the calling
 * thread: the data is ours (no hostile input to decode), and batches reach it without a copy.
 *
 * Back-pressure: `write` resolves once the encoder has taken the batch and the bytes produced so
 * far are on their way to the file. parquet-wasm's stream writer drops errors silently, so the
 * file is checked when it is finished: its footer must count every row written.
 */
import { openAsBlob } from 'node:fs';
import type * as PW from 'parquet-wasm';
import { TableWriteError } from '../errors.js';
import { ArrowBatchEncoder } from './arrow-encoding.js';
import * as arrow from 'apache-arrow';
import type { ParquetCompression, TableRows } from './types.js';
import type { TableEncoder, WriteChunks } from './writer.js';

export const DEFAULT_ROW_GROUP_ROWS = 131_072;

/** Whether `dictionary: 'auto'` dictionary-encodes a column of this type (top-level values that are not floating point). */
function autoDictionary(type: arrow.DataType): boolean {
  return (
    !arrow.DataType.isFloat(type) &&
    !arrow.DataType.isList(type) &&
    !arrow.DataType.isFixedSizeList(type) &&
    !arrow.DataType.isStruct(type) &&
    !arrow.DataType.isMap(type)
  );
}

export async function parquetEncoder(
  path: string,
  out: WriteChunks,
  opts: { compression: ParquetCompression; rowGroupRows: number; dictionary: boolean | 'auto' },
): Promise<TableEncoder> {
  const pw: typeof PW = await import('parquet-wasm');
  const codec = { zstd: pw.Compression.ZSTD, snappy: pw.Compression.SNAPPY, none: pw.Compression.UNCOMPRESSED }[opts.compression];
  if (codec === undefined) throw new TableWriteError(path, `unknown Parquet compression ${JSON.stringify(opts.compression)}: use zstd, snappy or none`);
  const batches = new ArrowBatchEncoder(path);
  let controller!: ReadableStreamDefaultController<PW.RecordBatch>;
  let pulled: (() => void) | undefined;
  const input = new ReadableStream<PW.RecordBatch>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        pulled?.();
        pulled = undefined;
      },
    },
    { highWaterMark: 1 },
  );
  let pump: Promise<void> | undefined;
  let failure: unknown;
  let ended = false;

  const startPump = async (): Promise<void> => {
    let builder = new pw.WriterPropertiesBuilder().setCompression(codec).setMaxRowGroupSize(opts.rowGroupRows).setCreatedBy('mlmodel (parquet-wasm)');
    if (opts.dictionary !== true) {
      builder = builder.setDictionaryEnabled(false);
      // (a top-level column's path is its name)
      if (opts.dictionary === 'auto')
        for (const f of batches.schema!.fields) if (autoDictionary(f.type)) builder = builder.setColumnDictionaryEnabled(f.name, true);
    }
    const props = builder.build();
    const output = await pw.transformParquetStream(input, props);
    const reader = (output as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      await out([value]);
    }
  };

  /** Wait until the encoder wants another batch (or the output failed). */
  const taken = async (): Promise<void> => {
    while ((controller.desiredSize ?? 0) <= 0 && failure === undefined && !ended) {
      await Promise.race([new Promise<void>((r) => (pulled = r)), pump]);
    }
    if (failure !== undefined) throw failure;
    if (ended) throw new TableWriteError(path, 'the Parquet encoder stopped before the last batch', { userError: false });
  };

  return {
    async write(batch: TableRows): Promise<void> {
      if (failure !== undefined) throw failure;
      const rbs = batches.encode(batch);
      const wasm = pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(batches.schema!, rbs), 'stream'));
      const parts = wasm.recordBatches();
      wasm.free();
      for (const rb of parts) {
        controller.enqueue(rb);
        if (pump === undefined) {
          pump = startPump().then(
            () => {
              ended = true;
            },
            (e: unknown) => {
              failure = new TableWriteError(path, `the Parquet encoder failed: ${(e as Error).message}`, { cause: e, userError: false });
            },
          );
        }
        await taken();
      }
    },
    async finish(): Promise<boolean> {
      if (pump === undefined) return false;
      controller.close();
      await pump;
      if (failure !== undefined) throw failure;
      return true;
    },
    async abort(): Promise<void> {
      // Ending the input lets the encoder finish; the caller removes the file.
      try {
        controller.close();
      } catch {
        // already closed
      }
      await pump;
    },
    async verify(tmpPath: string, rows: number): Promise<void> {
      const pf = await pw.ParquetFile.fromFile(await openAsBlob(tmpPath));
      try {
        const got = pf.metadata().fileMetadata().numRows();
        if (got !== rows)
          throw new TableWriteError(path, `the Parquet encoder lost rows: the file holds ${got} of the ${rows} rows written`, { userError: false });
      } finally {
        pf.free();
      }
    },
  };
}
