/**
 * Arrow record batches → our batches, the step shared by the Arrow IPC and Parquet readers (and
 * `tableToBatch`): decoded-size accounting (dictionary columns counted as they will expand),
 * MLflow's refusal of timezone-aware timestamps for `datetime` columns, pandas index columns
 * dropped (as `pd.read_parquet` makes them the index), and cutting into chunks.
 */
import * as arrow from 'apache-arrow';
import { batchFromArrow } from '../batch/arrow-to-batch.js';
import type { Batch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import type { Schema } from '../signature/types.js';
import { splitBatch } from './batch-rows.js';

/** Bytes a dictionary-encoded chunk takes once decoded (an upper bound for non-string values). */
function dictionaryDecodedBytes(data: arrow.Data): number {
  const dict = data.dictionary;
  if (!dict || dict.length === 0) return 0;
  const indices = data.values as ArrayLike<number | bigint> | undefined;
  if (!indices) return 0;
  const entryBytes = new Float64Array(dict.length);
  let k = 0;
  let maxEntry = 0;
  for (const chunk of dict.data) {
    const offsets = chunk.valueOffsets as ArrayLike<number | bigint> | undefined;
    const per = chunk.length > 0 ? chunk.byteLength / chunk.length : 0;
    for (let i = 0; i < chunk.length; i++, k++) {
      const len = offsets ? Number(offsets[chunk.offset + i + 1]!) - Number(offsets[chunk.offset + i]!) : per;
      entryBytes[k] = Math.max(0, len);
      if (entryBytes[k]! > maxEntry) maxEntry = entryBytes[k]!;
    }
  }
  if (maxEntry * data.length < 64 * 1024 * 1024) return maxEntry * data.length;
  const base = indices.length >= data.offset + data.length ? data.offset : 0;
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const idx = Number(indices[base + i]!);
    total += idx >= 0 && idx < entryBytes.length ? entryBytes[idx]! : 0;
  }
  return total;
}

/** Bytes a record batch's columns take once decoded (dictionary columns as they will expand). */
export function decodedBytes(rb: arrow.RecordBatch): number {
  let total = 0;
  const visit = (d: arrow.Data): void => {
    if (arrow.DataType.isDictionary(d.type)) total += dictionaryDecodedBytes(d);
    else total += d.byteLength;
    for (const c of d.children) visit(c);
  };
  for (const child of rb.data.children) visit(child);
  return total;
}

/** Names of pandas index columns stored as data columns (`index_columns` of the `pandas` metadata). */
export function pandasIndexColumns(metadata: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  const meta = metadata.get('pandas');
  if (!meta) return out;
  try {
    const parsed = JSON.parse(meta) as { index_columns?: unknown };
    if (Array.isArray(parsed.index_columns)) for (const c of parsed.index_columns) if (typeof c === 'string') out.add(c);
  } catch {
    // Not pandas metadata after all: keep every column.
  }
  return out;
}

/**
 * MLflow's message for a timezone-aware timestamp column that the model schema types as
 * `datetime` (our batch has no timezone to carry), or undefined when there is none.
 */
export function timezoneProblem(fields: readonly arrow.Field[], schema: Schema | null): string | undefined {
  if (schema === null || schema.kind !== 'columns') return undefined;
  const datetimeCols = new Set(schema.specs.filter((s) => s.type === 'datetime' && s.name !== null).map((s) => s.name!));
  const unnamed = schema.specs.every((s) => s.name === null);
  for (let j = 0; j < fields.length; j++) {
    const f = fields[j]!;
    if (!arrow.DataType.isTimestamp(f.type) || !f.type.timezone) continue;
    const isDatetime = unnamed ? schema.specs[j]?.type === 'datetime' : datetimeCols.has(f.name);
    if (!isDatetime) continue;
    return (
      `Column '${f.name}' holds timezone-aware timestamps (timezone ${f.type.timezone}), but the model signature's datetime columns only ` +
      'accept timezone-naive values. Please ensure that the input data of datetime column only contains timezone-naive datetime objects.'
    );
  }
  return undefined;
}

/** Convert an Arrow table or record batch; pandas index columns named in `metadata` are dropped. Conversion errors propagate as thrown. */
export function arrowToBatch(input: arrow.Table | arrow.RecordBatch, metadata: ReadonlyMap<string, string>): Batch {
  let batch = batchFromArrow(input);
  const index = pandasIndexColumns(metadata);
  if (batch.kind === 'columns' && index.size > 0) batch = { ...batch, columns: batch.columns.filter((c) => !index.has(c.name)) };
  return batch;
}

export interface ArrowChunkOptions {
  /** Names the input in errors. */
  readonly source: string;
  readonly format: 'arrow' | 'arrow-stream' | 'parquet';
  /** The file's schema metadata (Parquet slices lose it; it says which columns are a pandas index, and marks tensor tables). */
  readonly metadata: ReadonlyMap<string, string>;
  readonly batchRows: number;
  readonly maxChunkBytes: number;
  /** Refuse (`too-large`) once the decoded bytes of all record batches so far exceed this. */
  readonly maxDecodedBytes: number;
  /** Copy re-sliced pieces so each chunk owns its buffers (file readers); views otherwise. */
  readonly copySlices: boolean;
}

/** Record batches of one table → chunks, keeping the running decoded size. */
export class ArrowChunker {
  private decoded = 0;

  constructor(private readonly opts: ArrowChunkOptions) {}

  /** Refuse the table's schema when a model schema types a timezone-aware column as `datetime`. */
  checkSchema(schema: arrow.Schema, modelSchema: Schema | null): void {
    const problem = timezoneProblem(schema.fields, modelSchema);
    if (problem !== undefined) {
      throw new TableReadError(this.opts.source, problem, { problem: 'schema', format: this.opts.format });
    }
  }

  /** Count a record batch's decoded size towards `maxDecodedBytes` (before decoding it). */
  account(rb: arrow.RecordBatch): void {
    this.decoded += decodedBytes(rb);
    if (this.decoded > this.opts.maxDecodedBytes) {
      throw new TableReadError(this.opts.source, `the decoded data exceeds the limit of ${this.opts.maxDecodedBytes} bytes`, {
        problem: 'too-large',
        format: this.opts.format,
        what: 'the decoded data',
        limit: this.opts.maxDecodedBytes,
      });
    }
  }

  private withMetadata(schema: arrow.Schema): arrow.Schema {
    return this.opts.metadata.size > 0 && schema.metadata.size === 0 ? new arrow.Schema(schema.fields, new Map(this.opts.metadata)) : schema;
  }

  private convert(input: arrow.Table | arrow.RecordBatch): Batch {
    try {
      return arrowToBatch(input, this.opts.metadata);
    } catch (e) {
      throw new TableReadError(this.opts.source, e instanceof Error ? e.message : String(e), {
        format: this.opts.format,
        cause: e,
      });
    }
  }

  /** Convert a record batch (already counted) and cut it into chunks. */
  chunks(rb: arrow.RecordBatch): Iterable<Batch> {
    const schema = this.withMetadata(rb.schema);
    const batch = this.convert(schema === rb.schema ? rb : new arrow.RecordBatch(schema, rb.data));
    return splitBatch(batch, this.opts.batchRows, this.opts.maxChunkBytes, this.opts.copySlices);
  }

  /** The single 0-row chunk of a table without rows (its columns and dtypes). */
  empty(schema: arrow.Schema): Batch {
    return this.convert(new arrow.Table(this.withMetadata(schema)));
  }
}
