/**
 * The one request parser every front end shares: bytes + Content-Type → model input and params.
 * Schema enforcement is the caller's next step (`enforceSchema` / `enforceParams`).
 */
import type { ParamSpec, Schema, TensorSpec } from '../signature/types.js';
import {
  CONTENT_TYPE_ARROW_FILE,
  CONTENT_TYPE_ARROW_STREAM,
  CONTENT_TYPE_CSV,
  CONTENT_TYPE_JSON,
  CONTENT_TYPE_PARQUET,
  parseContentType,
} from './content-type.js';
import { parseCsvRequest } from './csv-request.js';
import { ScoringRequestError } from './errors.js';
import { parseJsonRequest } from './json-request.js';
import type { ScoringRequest } from './types.js';

export interface ScoringRequestOptions {
  /** The model's ParamSchema (MLflow moves top-level keys it names into params for LLM requests). */
  readonly paramSpecs?: readonly ParamSpec[] | null;
  /** The signature came from type hints (`is_signature_from_type_hint`): JSON `inputs` is passed through raw. */
  readonly signatureFromTypeHint?: boolean;
  /** Largest accepted body in bytes (default 100 MiB, nginx's limit for /invocations in MLflow's image); more is a 413. */
  readonly maxBytes?: number;
  /** Deepest JSON nesting of arrays and objects (default 64). */
  readonly maxDepth?: number;
  /** Most bytes Parquet/Arrow columns may take once decoded (default 1 GiB); more is a 413. */
  readonly maxDecodedBytes?: number;
  /** Most rows a Parquet body may declare (default 50 million); more is a 413. */
  readonly maxParquetRows?: number;
  /** Longest a Parquet decode may take in ms (default 60 000); longer is a 413. */
  readonly parquetTimeoutMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

/** What to send a tensor-signature model instead of CSV: the `inputs` JSON form, with each input's dtype and shape. */
function tensorJsonHint(schema: Extract<Schema, { kind: 'tensors' }>): string {
  const shape = (s: TensorSpec): string => `(${s.shape.join(', ')}${s.shape.length === 1 ? ',' : ''})`;
  const specs = schema.specs;
  if (specs.length === 1 && specs[0]!.name === null) {
    return `This model takes a tensor: send it as JSON, e.g. {"inputs": [[...], ...]} with ${specs[0]!.dtype} values of shape ${shape(specs[0]!)}.`;
  }
  const parts = specs.map((s) => `${JSON.stringify(s.name ?? '')}: ${s.dtype} ${shape(s)}`);
  return `This model takes tensors: send them as JSON, e.g. {"inputs": {${specs.map((s) => `${JSON.stringify(s.name ?? '')}: [...]`).join(', ')}}} (${parts.join('; ')}).`;
}

/**
 * Parse a scoring request body. `schema` is the model's input schema (null: dtypes are
 * inferred). Every failure is a `ScoringRequestError` (400, 413 or 415).
 */
export async function parseScoringRequest(
  body: Uint8Array,
  contentType: string | undefined | null,
  schema: Schema | null,
  opts: ScoringRequestOptions = {},
): Promise<ScoringRequest> {
  const { mime } = parseContentType(contentType);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (body.byteLength > maxBytes) {
    throw new ScoringRequestError(`The request is too large: the body has ${body.byteLength} bytes, more than the limit of ${maxBytes}.`, {
      httpStatus: 413,
    });
  }
  switch (mime) {
    case CONTENT_TYPE_JSON:
      return parseJsonRequest(body, {
        schema,
        paramSpecs: opts.paramSpecs,
        signatureFromTypeHint: opts.signatureFromTypeHint,
        maxDepth: opts.maxDepth,
      });
    case CONTENT_TYPE_CSV:
      if (schema?.kind === 'tensors') {
        try {
          return parseCsvRequest(body, schema);
        } catch (e) {
          // MLflow's status and text (pandas has no dtype for a TensorSpec), then what to send instead
          if (e instanceof ScoringRequestError)
            throw new ScoringRequestError(`${e.message} ${tensorJsonHint(schema)}`, { httpStatus: e.httpStatus, errorCode: e.errorCode, cause: e });
          throw e;
        }
      }
      return parseCsvRequest(body, schema);
    case CONTENT_TYPE_PARQUET:
      // Arrow and Parquet code loads on first use: apache-arrow alone takes ~270 ms to import
      return (await import('./parquet-request.js')).parseParquetRequest(body, schema, {
        maxDecodedBytes: opts.maxDecodedBytes,
        maxRows: opts.maxParquetRows,
        timeoutMs: opts.parquetTimeoutMs,
      });
    case CONTENT_TYPE_ARROW_STREAM:
    case CONTENT_TYPE_ARROW_FILE:
      return (await import('./arrow-request.js')).parseArrowRequest(body, schema, { maxDecodedBytes: opts.maxDecodedBytes });
  }
}
