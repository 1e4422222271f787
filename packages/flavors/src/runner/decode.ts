/**
 * Request bytes → model input and params: the MLflow scoring protocol's one parser
 * (`parseScoringRequest`), called from here only. Every front end that takes a request body (the
 * server's /invocations, `mlmodel predict`, `build`'s input-example check) decodes through it.
 */
import { parseScoringRequest, type ModelSignature, type ModelInput, type ScoringFormat } from '@mlmodel/format';

/** Limits on one request body; every field defaults to the parser's own default. */
export interface DecodeLimits {
  /** Largest body in bytes (default 100 MiB); more is a 413. */
  readonly maxBytes?: number | undefined;
  /** Deepest JSON nesting (default 64). */
  readonly maxDepth?: number | undefined;
  /** Most bytes Parquet/Arrow columns may take once decoded (default 1 GiB). */
  readonly maxDecodedBytes?: number | undefined;
  /** Most rows a Parquet body may declare (default 50 million). */
  readonly maxParquetRows?: number | undefined;
  /** Longest a Parquet decode may take in ms (default 60 000). */
  readonly parquetTimeoutMs?: number | undefined;
}

/** A decoded request: the input before enforcement, the request's params, and the form it came in. */
export interface DecodedRequest {
  readonly input: ModelInput;
  readonly params: Record<string, unknown> | null;
  readonly format: ScoringFormat;
}

/** What decoding needs to know of a model: its signature and whether that came from type hints. */
export interface DecodeTarget {
  readonly signature: ModelSignature | null;
  readonly signatureFromTypeHint: boolean;
}

/** Decode a scoring request body for a model (or for a signature, before any model exists). */
export async function decodeRequest(
  target: DecodeTarget,
  body: Uint8Array,
  contentType: string | undefined | null,
  limits: DecodeLimits = {},
): Promise<DecodedRequest> {
  const sig = target.signature;
  const req = await parseScoringRequest(body, contentType, sig?.inputs ?? null, {
    paramSpecs: sig?.params ?? null,
    signatureFromTypeHint: target.signatureFromTypeHint,
    // unset limits stay undefined: the parser applies its defaults
    maxBytes: limits.maxBytes,
    maxDepth: limits.maxDepth,
    maxDecodedBytes: limits.maxDecodedBytes,
    maxParquetRows: limits.maxParquetRows,
    parquetTimeoutMs: limits.parquetTimeoutMs,
  });
  return { input: req.batch, params: req.params, format: req.format };
}
