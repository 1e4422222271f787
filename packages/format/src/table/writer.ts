/**
 * `openTableWriter`: batches → a Parquet, Arrow IPC (file or stream), CSV or JSON-lines file,
 * written in bounded memory to a temporary file next to the destination and renamed into place
 * only when `close()` succeeds, so readers never see half a file.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TableWriteError } from '../errors.js';
import { fsMessage } from '../fs-utils.js';
import { isTableFormat, tableFormatForFile, type TableFormat } from './formats.js';
import { tableRowCount } from './table-parts.js';
import type { TableRows, TableWriter, TableWriterOptions } from './types.js';

/** Where an encoder sends its bytes. */
export type WriteChunks = (chunks: readonly Uint8Array[]) => Promise<void>;

/** One format's encoder, as the writer drives it. */
export interface TableEncoder {
  write(rows: TableRows): Promise<void>;
  /** Complete the output (footer, end of stream); false when nothing was written and the format cannot be empty. */
  finish(): Promise<boolean>;
  /** Stop after a failure or an abort. */
  abort(): Promise<void>;
  /** Check the finished temporary file (e.g. its row count). */
  verify?(tmpPath: string, rows: number): Promise<void>;
}

async function encoderFor(format: TableFormat, path: string, out: WriteChunks, opts: TableWriterOptions): Promise<TableEncoder> {
  if (format !== 'parquet' && opts.compression !== undefined && opts.compression !== 'none') {
    throw new TableWriteError(path, `compression ${JSON.stringify(opts.compression)} is only supported for Parquet; ${format} files are written uncompressed`);
  }
  switch (format) {
    case 'parquet': {
      const rowGroupRows = opts.rowGroupRows ?? (await import('./parquet-writer.js')).DEFAULT_ROW_GROUP_ROWS;
      if (!(Number.isInteger(rowGroupRows) && rowGroupRows > 0))
        throw new TableWriteError(path, `rowGroupRows must be a positive whole number, got ${rowGroupRows}`);
      if (opts.dictionary !== undefined && typeof opts.dictionary !== 'boolean' && opts.dictionary !== 'auto')
        throw new TableWriteError(path, `dictionary must be true, false or 'auto', got ${JSON.stringify(opts.dictionary)}`);
      return (await import('./parquet-writer.js')).parquetEncoder(path, out, {
        compression: opts.compression ?? 'snappy',
        rowGroupRows,
        dictionary: opts.dictionary ?? true,
      });
    }
    case 'arrow':
    case 'arrow-stream':
      return (await import('./arrow-writer.js')).arrowEncoder(path, format, out);
    case 'csv': {
      const { CsvEncoder } = await import('./text-writers.js');
      const csv = new CsvEncoder(path);
      return { write: (b) => out([csv.encode(b)]), finish: async () => true, abort: async () => undefined };
    }
    case 'jsonl': {
      const { encodeJsonLines } = await import('./text-writers.js');
      return { write: (b) => out([encodeJsonLines(b, path)]), finish: async () => true, abort: async () => undefined };
    }
  }
}

class TableFileWriter implements TableWriter {
  private state: 'open' | 'closing' | 'closed' | 'aborted' | 'failed' = 'open';
  private rows = 0;
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown;
  encoder!: TableEncoder;

  constructor(
    readonly path: string,
    readonly format: TableFormat,
    private readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  get rowsWritten(): number {
    return this.rows;
  }

  /** The encoders' sink: the temporary file. */
  readonly out: WriteChunks = async (chunks) => {
    if (chunks.length === 0) return;
    try {
      const { bytesWritten } = await this.fh.writev(chunks as Uint8Array[]);
      let total = 0;
      for (const c of chunks) total += c.byteLength;
      if (bytesWritten < total) {
        // A short write: the rest, in order.
        const rest = Buffer.concat(chunks as Uint8Array[]).subarray(bytesWritten);
        for (let off = 0; off < rest.length;) off += (await this.fh.write(rest, off)).bytesWritten;
      }
    } catch (e) {
      throw new TableWriteError(this.path, `cannot write ${this.tmp}: ${fsMessage(e)}`, { cause: e });
    }
  };

  write(batch: TableRows): Promise<void> {
    if (this.state !== 'open')
      return Promise.reject(new TableWriteError(this.path, `the writer is ${this.state === 'failed' ? 'broken by an earlier error' : this.state}`));
    // Writes run one after another, in call order, even when not awaited.
    const next = this.tail.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        const rows = tableRowCount(batch, this.path);
        await this.encoder.write(batch);
        this.rows += rows;
      } catch (e) {
        this.failure = e;
        this.state = 'failed';
        throw e;
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.state !== 'open')
      throw new TableWriteError(this.path, `cannot close a writer that is ${this.state === 'failed' ? 'broken by an earlier error (abort it)' : this.state}`);
    this.state = 'closing';
    try {
      await this.tail;
      if (this.failure !== undefined) throw this.failure;
      const wrote = await this.encoder.finish();
      if (!wrote)
        throw new TableWriteError(this.path, `no batch was written: a ${this.format} file needs at least one batch (it may have 0 rows) to know its columns`);
      await this.fh.close();
      await this.encoder.verify?.(this.tmp, this.rows);
      await rename(this.tmp, this.path).catch((e: unknown) => {
        throw new TableWriteError(this.path, `cannot move ${this.tmp} into place: ${fsMessage(e)}`, { cause: e });
      });
      this.state = 'closed';
    } catch (e) {
      this.state = 'failed';
      await this.discard();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'closed' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.tail;
    await this.encoder.abort().catch(() => undefined);
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

/**
 * Open a table file for writing. The format comes from `opts.format`, else the extension
 * (`.parquet`/`.pq`, `.arrow`/`.feather` (IPC file), `.arrows` (IPC stream), `.csv`, `.jsonl`/`.ndjson`).
 * See `TableWriter` for the temporary-file contract, and the encoders for each format's output.
 */
export async function openTableWriter(path: string, opts: TableWriterOptions = {}): Promise<TableWriter> {
  const format = opts.format ?? tableFormatForFile(path);
  if (format === undefined || !isTableFormat(format)) {
    throw new TableWriteError(path, `cannot tell the table format from the file name: pass format (parquet, arrow, arrow-stream, csv or jsonl)`);
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx');
  } catch (e) {
    throw new TableWriteError(path, `cannot create ${tmp}: ${fsMessage(e)}`, { cause: e });
  }
  const writer = new TableFileWriter(path, format, tmp, fh);
  try {
    writer.encoder = await encoderFor(format, path, writer.out, opts);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return writer;
}
