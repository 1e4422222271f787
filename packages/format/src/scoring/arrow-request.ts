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
 *
 * A body is read by the chunked Arrow reader (`table/arrow-reader.ts`, `table/arrow-batches.ts`)
 * without a row limit per chunk, and its record batches concatenated.
 */
import type * as arrow from 'apache-arrow';
import { concatBatches } from '../batch/combine.js';
import type { Batch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import type { Schema } from '../signature/types.js';
import { arrowToBatch, decodedBytes, timezoneProblem } from '../table/arrow-batches.js';
import { readArrowBytes } from '../table/arrow-reader.js';
import { readContext } from '../table/read-context.js';
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

/** A table reader's error as the scoring protocol's 400 / 413 for an Arrow or Parquet body. */
export function tableReadErrorToRequestError(e: TableReadError, kind: 'arrow' | 'parquet'): ScoringRequestError {
  switch (e.problem) {
    case 'too-large':
      return tooLarge(e.what ?? 'the decoded data', e.limit ?? DEFAULT_MAX_DECODED_BYTES);
    case 'schema':
      return new ScoringRequestError(e.detail, { errorCode: 'INVALID_PARAMETER_VALUE', cause: e });
    default:
      return tabularParseError(kind, e.detail.replace(/^malformed Arrow IPC data: /, ''), e.cause ?? e);
  }
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
  const limit = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  let total = 0;
  for (const rb of table.batches) {
    total += decodedBytes(rb);
    if (total > limit) throw tooLarge('the decoded data', limit);
  }
  const tz = timezoneProblem(table.schema.fields, schema);
  if (tz !== undefined) throw new ScoringRequestError(tz, { errorCode: 'INVALID_PARAMETER_VALUE' });
  try {
    return arrowToBatch(table, metadata);
  } catch (e) {
    if (e instanceof ScoringRequestError) throw e;
    throw tabularParseError(kind, message(e), e);
  }
}

/** Parse an Arrow IPC (stream or file format) scoring request body. */
export function parseArrowRequest(body: Uint8Array, schema: Schema | null, opts: TabularOptions = {}): ScoringRequest {
  const ctx = readContext('Arrow IPC data', {
    batchRows: Infinity,
    maxChunkBytes: Infinity,
    maxDecodedBytes: opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES,
    schema,
  });
  try {
    const batches = [...readArrowBytes(body, ctx, 'arrow').batches()];
    return { batch: concatBatches(batches), params: null, format: 'arrow' };
  } catch (e) {
    if (e instanceof TableReadError) throw tableReadErrorToRequestError(e, 'arrow');
    throw e;
  }
}
