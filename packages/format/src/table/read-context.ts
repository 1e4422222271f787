/**
 * What every format reader gets: resolved options with defaults, a label for errors, and the
 * interface the generic reader (`reader.ts`) drives.
 */
import type { Batch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import type { Schema } from '../signature/types.js';
import type { ReadableTableFormat } from './formats.js';
import type { TableReaderOptions, TableSchemaInfo } from './types.js';

export const DEFAULT_BATCH_ROWS = 65_536;
export const DEFAULT_MAX_CHUNK_BYTES = 64 * 1024 * 1024;
export const DEFAULT_STEP_TIMEOUT_MS = 120_000;
/** Longest CSV record of a file before it is refused (an unterminated quote would otherwise buffer the whole file). */
export const DEFAULT_MAX_CSV_RECORD_CHARS = 256 * 1024 * 1024;

export interface ReadContext {
  /** Names the source in errors: the file path, or e.g. `Parquet data`. */
  readonly source: string;
  readonly batchRows: number;
  readonly maxChunkBytes: number;
  readonly maxDecodedBytes: number;
  readonly maxRows: number;
  readonly schema: Schema | null;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly stepTimeoutMs: number;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(v > 0)) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return v;
}

export function readContext(source: string, opts: TableReaderOptions): ReadContext {
  const batchRows = positive('batchRows', opts.batchRows, DEFAULT_BATCH_ROWS);
  if (batchRows !== Infinity && !Number.isInteger(batchRows)) throw new RangeError(`batchRows must be a whole number, got ${batchRows}`);
  return {
    source,
    batchRows,
    maxChunkBytes: positive('maxChunkBytes', opts.maxChunkBytes, DEFAULT_MAX_CHUNK_BYTES),
    maxDecodedBytes: positive('maxDecodedBytes', opts.maxDecodedBytes, Infinity),
    maxRows: opts.maxRows ?? Infinity,
    schema: opts.schema ?? null,
    signal: opts.signal,
    timeoutMs: positive('timeoutMs', opts.timeoutMs, Infinity),
    stepTimeoutMs: positive('stepTimeoutMs', opts.stepTimeoutMs, DEFAULT_STEP_TIMEOUT_MS),
  };
}

/** Throw a TableReadError (`aborted`) when the signal has fired. */
export function checkAborted(ctx: ReadContext, format: ReadableTableFormat): void {
  if (ctx.signal?.aborted) throw abortedError(ctx, format);
}

export function abortedError(ctx: ReadContext, format: ReadableTableFormat): TableReadError {
  return new TableReadError(ctx.source, 'the read was aborted', { problem: 'aborted', format, cause: ctx.signal?.reason });
}

/** One format's reader, as `openTableReader` drives it. */
export interface FormatReader {
  readonly format: ReadableTableFormat;
  readonly schema: TableSchemaInfo;
  readonly numRows: number | undefined;
  /** Batches of 1..batchRows rows, or exactly one 0-row batch for a table without rows. */
  batches(): AsyncIterator<Batch>;
  /** Release files, workers and buffers; idempotent. */
  close(): Promise<void>;
}
