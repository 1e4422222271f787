/**
 * The chunked table API: readers yield bounded column batches, writers take them.
 * (Types only: importing this module loads no Arrow or Parquet code.)
 */
import type * as arrow from 'apache-arrow';
import type { Batch } from '../batch/types.js';
import type { Schema } from '../signature/types.js';
import type { ReadableTableFormat, TableFormat } from './formats.js';

/** A file path, or the bytes of a whole file (e.g. a request body). */
export type TableSource = string | Uint8Array;

export interface TableReaderOptions {
  /** The format; default: from the magic bytes (Parquet, Arrow file/stream), else the file extension. `arrow` and `arrow-stream` both read either IPC format. */
  readonly format?: ReadableTableFormat;
  /** Most rows per chunk (default 65 536). */
  readonly batchRows?: number;
  /** About the most bytes one chunk takes decoded (default 64 MiB): wide rows give chunks of fewer than `batchRows` rows. */
  readonly maxChunkBytes?: number;
  /** Refuse (`too-large`) once all chunks so far take more than this many bytes decoded (default: no limit). */
  readonly maxDecodedBytes?: number;
  /** Refuse (`too-large`) a table of more rows (Parquet: from its footer, before decoding; default: no limit). */
  readonly maxRows?: number;
  /**
   * The model's input schema. CSV: types the columns it names (others are inferred from the first
   * chunk). Arrow/Parquet: columns are not cast, but timezone-aware timestamps for `datetime`
   * columns are refused as MLflow does.
   */
  readonly schema?: Schema | null;
  /** Cancels the read: the iteration throws a TableReadError (`aborted`) and the reader's resources are released. */
  readonly signal?: AbortSignal;
  /** Parquet: longest the whole read may take, in ms (default: no limit). */
  readonly timeoutMs?: number;
  /** Parquet: longest opening the file or decoding one slice may take, in ms (default 120 000). */
  readonly stepTimeoutMs?: number;
}

/** One chunk of a table: at most `batchRows` rows (exactly one 0-row chunk for a table without rows). */
export interface TableChunk {
  readonly batch: Batch;
  /** Index of the chunk's first row in the table. */
  readonly rowOffset: number;
  readonly numRows: number;
}

export interface TableSchemaInfo {
  /** Column names (Arrow/Parquet: field names, which are tensor names for tensor tables). */
  readonly columns: readonly string[];
  /** The Arrow schema of Arrow and Parquet files (with their metadata); undefined for CSV. */
  readonly arrow: arrow.Schema | undefined;
}

/**
 * A table being read in chunks. Iterate it once (`for await`); leaving the loop early, an error
 * or the abort signal closes it. Call `close()` when not iterating to the end.
 */
export interface TableReader extends AsyncIterable<TableChunk> {
  /** The file path, or a description of in-memory bytes. */
  readonly source: string;
  readonly format: ReadableTableFormat;
  readonly schema: TableSchemaInfo;
  /** Rows in the table when the format says so up front (Parquet footer, Arrow file); undefined for CSV and Arrow streams. */
  readonly numRows: number | undefined;
  close(): Promise<void>;
}

/** Parquet column compression. */
export type ParquetCompression = 'zstd' | 'snappy' | 'none';

export interface TableWriterOptions {
  /** The format; default: from the destination's extension. */
  readonly format?: TableFormat;
  /** Parquet compression (default `snappy`, pandas' default). Arrow, CSV and JSON lines are written uncompressed. */
  readonly compression?: ParquetCompression;
  /** Parquet: most rows per row group (default 131 072): the unit a reader decodes at once. */
  readonly rowGroupRows?: number;
  /**
   * Parquet dictionary encoding: `true` (default, as pandas writes) for every column; `'auto'` for
   * every top-level column except floating-point ones and nested values (floats rarely repeat, and
   * building their dictionary before falling back to plain encoding costs several times the rest of
   * the write); `false` for none.
   */
  readonly dictionary?: boolean | 'auto';
}

/**
 * One part of a table written as side-by-side batches (`TableWriter.write([...parts])`): the
 * batches cover the same rows and their columns are placed one after the other. A named tensor of
 * shape [rows, ...] becomes a fixed-size list column (nested for more dimensions).
 */
export interface TablePart {
  readonly batch: Batch;
  /** One byte per row; 0: the row is missing (null) in every column of this part, whatever its values there. */
  readonly rowValidity?: Uint8Array | undefined;
}

/** What `TableWriter.write` takes: a batch, or parts of the same rows side by side. */
export type TableRows = Batch | readonly TablePart[];

/**
 * A table being written: the file appears at its path only when `close()` succeeds; until then
 * the data goes to a temporary file next to it, which `abort()` (or a failed `close()`) removes.
 */
export interface TableWriter {
  readonly path: string;
  readonly format: TableFormat;
  /** Rows written so far. */
  readonly rowsWritten: number;
  /**
   * Append a batch, or several batches of the same rows side by side (`TablePart`s: e.g. input
   * columns next to prediction tensors). Every write must have the first one's columns and dtypes
   * (tensor names and trailing shape).
   */
  write(rows: TableRows): Promise<void>;
  /** Finish the file and move it into place. */
  close(): Promise<void>;
  /** Give up: remove the temporary file. Safe to call more than once, and after a failed write. */
  abort(): Promise<void>;
}
