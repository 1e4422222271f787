/**
 * `application/vnd.apache.parquet` scoring requests (MLflow 3.11: `pd.read_parquet(body)`, no
 * params, no cast to the schema), decoded by parquet-wasm in a worker thread, then converted
 * like an Arrow request.
 *
 * Untrusted input: the PAR1 magic is checked first; the worker reads the footer and refuses more
 * than `maxRows` rows (413), stops once `maxDecodedBytes` have been decoded (413), and is
 * replaced if the decoder runs out of its 4 GiB wasm memory or exceeds `timeoutMs` (413).
 * parquet-wasm's own errors (corrupt footer, bad pages, unsupported codecs) become 400s.
 */
import * as arrow from 'apache-arrow';
import type { Schema } from '../signature/types.js';
import { ScoringRequestError, tabularParseError } from './errors.js';
import { DEFAULT_MAX_DECODED_BYTES, tableToBatch, tooLarge, type TabularOptions } from './arrow-request.js';
import { decodeParquetInWorker, DecoderFailure, type DecodeResult } from './parquet-worker.js';
import type { ScoringRequest } from './types.js';

export interface ParquetOptions extends TabularOptions {
  /** Most rows a Parquet body may declare (default 50 million). */
  readonly maxRows?: number;
  /** Longest a decode may take, in ms (default 60 000, MLflow's request timeout). */
  readonly timeoutMs?: number;
}

export const DEFAULT_MAX_PARQUET_ROWS = 50_000_000;
export const DEFAULT_PARQUET_TIMEOUT_MS = 60_000;

function hasMagic(b: Uint8Array): boolean {
  const m = [0x50, 0x41, 0x52, 0x31]; // PAR1
  const n = b.length;
  return n >= 12 && m.every((c, i) => b[i] === c && b[n - 4 + i] === c);
}

/** Parse a Parquet scoring request body into a column batch. */
export async function parseParquetRequest(body: Uint8Array, schema: Schema | null, opts: ParquetOptions = {}): Promise<ScoringRequest> {
  if (!hasMagic(body)) {
    throw tabularParseError('parquet', 'not a Parquet file: it must start and end with the 4 bytes "PAR1" and hold a footer');
  }
  const maxDecodedBytes = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const maxRows = opts.maxRows ?? DEFAULT_MAX_PARQUET_ROWS;
  let result: DecodeResult;
  try {
    result = await decodeParquetInWorker(body, { maxRows, maxDecodedBytes, timeoutMs: opts.timeoutMs ?? DEFAULT_PARQUET_TIMEOUT_MS });
  } catch (e) {
    if (!(e instanceof DecoderFailure)) throw e;
    const why = e.reason === 'timeout' ? e.message : `the decoder failed (${e.message}), most likely because the data expands beyond its memory`;
    throw new ScoringRequestError(`The request is too large: the Parquet data could not be decoded: ${why}.`, { httpStatus: 413, cause: e });
  }
  if (!result.ok) {
    if (result.kind === 'rows') {
      throw new ScoringRequestError(`The request is too large: the Parquet file declares ${result.numRows} rows, more than the limit of ${maxRows}.`, {
        httpStatus: 413,
      });
    }
    if (result.kind === 'size') throw tooLarge('the decoded Parquet data', maxDecodedBytes);
    throw tabularParseError('parquet', result.message);
  }
  let table: arrow.Table;
  let fileSchema: arrow.Schema;
  try {
    fileSchema = arrow.tableFromIPC(result.schema).schema;
    const parts = result.batches.map((b) => arrow.tableFromIPC(b));
    table = parts.length === 0 ? new arrow.Table(fileSchema) : parts.length === 1 ? parts[0]! : parts[0]!.concat(...parts.slice(1));
  } catch (e) {
    throw tabularParseError('parquet', e instanceof Error ? e.message : String(e), e);
  }
  return { batch: tableToBatch(table, schema, 'parquet', opts, fileSchema.metadata), params: null, format: 'parquet' };
}
