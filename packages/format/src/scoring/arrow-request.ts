/**
 * Arrow IPC scoring requests (`application/vnd.apache.arrow.stream` / `.file`, our extension of
 * MLflow's protocol) and the Arrow → batch step shared with Parquet requests.
 *
 * Columns are taken as they are, like MLflow's `pd.read_parquet`: no cast to the schema here,
 * enforcement judges them (an int64 column for a `double` spec is refused there unless it only
 * holds 0/1, as in MLflow). pandas index columns recorded in the `pandas` schema metadata
 * (`__index_level_0__`, …) are dropped, as `pd.read_parquet` turns them into the index.
 *
 * Untrusted input: IPC framing is validated by `arrowTableFromIPC`; dictionary-encoded columns,
 * which can expand enormously when decoded, are measured first and refused (413) beyond
 * `maxDecodedBytes`; timezone-aware timestamps for a `datetime` spec are refused like MLflow's
 * enforcement does (our batch has no timezone to carry them).
 */
import * as arrow from 'apache-arrow';
import { ModelFormatError } from '../errors.js';
import { batchFromArrow } from '../batch/arrow-to-batch.js';
import { arrowTableFromIPC } from '../batch/arrow-ipc.js';
import type { Batch } from '../batch/types.js';
import type { Schema } from '../signature/types.js';
import { ScoringRequestError, tabularParseError } from './errors.js';
import type { ScoringRequest } from './types.js';

export interface TabularOptions {
  /** Most bytes the decoded columns may take (default 1 GiB); more is a 413. */
  readonly maxDecodedBytes?: number;
}

export const DEFAULT_MAX_DECODED_BYTES = 1024 * 1024 * 1024;

export function tooLarge(what: string, limit: number): ScoringRequestError {
  return new ScoringRequestError(`The request is too large: ${what} exceeds the limit of ${limit} bytes.`, { httpStatus: 413 });
}

function message(e: unknown): string {
  if (e instanceof Error) return e.message.replace(/^malformed Arrow IPC data: /, '');
  return String(e);
}

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

function checkDecodedSize(table: arrow.Table, limit: number): void {
  let total = 0;
  for (const rb of table.batches) {
    const visit = (d: arrow.Data): void => {
      if (arrow.DataType.isDictionary(d.type)) total += dictionaryDecodedBytes(d);
      else total += d.byteLength;
      for (const c of d.children) visit(c);
    };
    for (const child of rb.data.children) visit(child);
    if (total > limit) throw tooLarge('the decoded data', limit);
  }
}

/** Names of pandas index columns stored as data columns (`index_columns` of the `pandas` metadata). */
function pandasIndexColumns(metadata: ReadonlyMap<string, string>): Set<string> {
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

function checkTimezones(table: arrow.Table, schema: Schema | null): void {
  if (schema === null || schema.kind !== 'columns') return;
  const datetimeCols = new Set(schema.specs.filter((s) => s.type === 'datetime' && s.name !== null).map((s) => s.name!));
  const unnamed = schema.specs.every((s) => s.name === null);
  table.schema.fields.forEach((f, j) => {
    if (!arrow.DataType.isTimestamp(f.type) || !f.type.timezone) return;
    const isDatetime = unnamed ? schema.specs[j]?.type === 'datetime' : datetimeCols.has(f.name);
    if (!isDatetime) return;
    throw new ScoringRequestError(
      `Column '${f.name}' holds timezone-aware timestamps (timezone ${f.type.timezone}), but the model signature's datetime columns only ` +
        'accept timezone-naive values. Please ensure that the input data of datetime column only contains timezone-naive datetime objects.',
      { errorCode: 'INVALID_PARAMETER_VALUE' },
    );
  });
}

/**
 * An Arrow table (from an IPC body or a Parquet file) → the request's batch. `metadata` is the
 * schema metadata when the table's own was lost (Parquet record batches do not carry it).
 */
export function tableToBatch(
  table: arrow.Table,
  schema: Schema | null,
  kind: 'arrow' | 'parquet',
  opts: TabularOptions,
  metadata: ReadonlyMap<string, string> = table.schema.metadata,
): Batch {
  checkDecodedSize(table, opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES);
  checkTimezones(table, schema);
  let batch: Batch;
  try {
    batch = batchFromArrow(table);
  } catch (e) {
    if (e instanceof ScoringRequestError) throw e;
    throw tabularParseError(kind, message(e), e);
  }
  const index = pandasIndexColumns(metadata);
  if (batch.kind === 'columns' && index.size > 0) batch = { ...batch, columns: batch.columns.filter((c) => !index.has(c.name)) };
  return batch;
}

/** Parse an Arrow IPC (stream or file format) scoring request body. */
export function parseArrowRequest(body: Uint8Array, schema: Schema | null, opts: TabularOptions = {}): ScoringRequest {
  let table: arrow.Table;
  try {
    table = arrowTableFromIPC(body);
  } catch (e) {
    throw tabularParseError('arrow', e instanceof ModelFormatError ? message(e) : `unreadable Arrow IPC data: ${message(e)}`, e);
  }
  if (table.numRows > body.byteLength * 8 + 65536) {
    throw tabularParseError('arrow', `${table.numRows} rows claimed in ${body.byteLength} bytes`);
  }
  return { batch: tableToBatch(table, schema, 'arrow', opts), params: null, format: 'arrow' };
}
