/**
 * `application/vnd.apache.parquet` scoring requests (MLflow 3.11: `pd.read_parquet(body)`, no
 * params, no cast to the schema), decoded by parquet-wasm in a worker thread, then converted
 * like an Arrow request.
 *
 * Untrusted input: the PAR1 magic is checked first; the worker reads the footer and refuses more
 * than `maxRows` rows (413), stops once `maxDecodedBytes` have been decoded (413), and is
 * replaced if the decoder runs out of its 4 GiB wasm memory or exceeds `timeoutMs` (413).
 * parquet-wasm's own errors (corrupt footer, bad pages, unsupported codecs) become 400s.
 *
 * The body is read by the chunked Parquet reader (`table/parquet-reader.ts`) on the decoder the
 * request parsers share, and its slices concatenated.
 */
import { concatBatches } from '../batch/combine.js';
import type { Batch } from '../batch/types.js';
import { TableReadError } from '../errors.js';
import type { Schema } from '../signature/types.js';
import { DecoderFailure, sharedParquetDecoder } from '../table/parquet-decoder.js';
import { openParquet } from '../table/parquet-reader.js';
import { readContext } from '../table/read-context.js';
import { DEFAULT_MAX_DECODED_BYTES, tableReadErrorToRequestError, type TabularOptions } from './arrow-request.js';
import { ScoringRequestError } from './errors.js';
import type { ScoringRequest } from './types.js';

export interface ParquetOptions extends TabularOptions {
  /** Most rows a Parquet body may declare (default 50 million). */
  readonly maxRows?: number;
  /** Longest a decode may take, in ms (default 60 000, MLflow's request timeout). */
  readonly timeoutMs?: number;
}

export const DEFAULT_MAX_PARQUET_ROWS = 50_000_000;
export const DEFAULT_PARQUET_TIMEOUT_MS = 60_000;

function requestError(e: TableReadError, maxRows: number): ScoringRequestError {
  if (e.problem === 'decoder' && e.cause instanceof DecoderFailure) {
    // `the decoder failed (RuntimeError: unreachable), most likely because …` or `decoding took longer than … ms`
    const why = e.cause.reason === 'timeout' ? e.cause.message : e.detail;
    return new ScoringRequestError(`The request is too large: the Parquet data could not be decoded: ${why}.`, { httpStatus: 413, cause: e.cause });
  }
  if (e.problem === 'too-large' && e.what === 'rows') {
    return new ScoringRequestError(`The request is too large: the Parquet file declares ${e.numRows} rows, more than the limit of ${maxRows}.`, {
      httpStatus: 413,
    });
  }
  return tableReadErrorToRequestError(e, 'parquet');
}

/** Parse a Parquet scoring request body into a column batch. */
export async function parseParquetRequest(body: Uint8Array, schema: Schema | null, opts: ParquetOptions = {}): Promise<ScoringRequest> {
  const maxRows = opts.maxRows ?? DEFAULT_MAX_PARQUET_ROWS;
  const ctx = readContext('Parquet data', {
    batchRows: Infinity,
    maxChunkBytes: Infinity,
    maxDecodedBytes: opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES,
    maxRows,
    schema,
    timeoutMs: opts.timeoutMs ?? DEFAULT_PARQUET_TIMEOUT_MS,
    stepTimeoutMs: Infinity,
  });
  const parts: Batch[] = [];
  try {
    const reader = await openParquet({ bytes: body }, ctx, { decoder: sharedParquetDecoder(), request: true });
    const it = reader.batches();
    for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value);
  } catch (e) {
    if (e instanceof TableReadError) throw requestError(e, maxRows);
    throw e;
  }
  return { batch: concatBatches(parts), params: null, format: 'parquet' };
}
