/**
 * The `Content-Type` header of a scoring request, checked like MLflow's `invocations()`:
 * split on `;`, strip each part, compare the MIME type case-sensitively, accept only a
 * `charset` parameter and only `utf-8` (any case). Deliberate leniencies: parameter names are
 * matched case-insensitively, quoted values are unquoted, and empty segments
 * (`application/json;`) are ignored — MLflow refuses all three with a 415.
 */
import { tableFormatForFile } from '../table/formats.js';
import { SCORING_PROTOCOL_CHANGE_INFO, ScoringRequestError } from './errors.js';

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_CSV = 'text/csv';
export const CONTENT_TYPE_PARQUET = 'application/vnd.apache.parquet';
export const CONTENT_TYPE_ARROW_STREAM = 'application/vnd.apache.arrow.stream';
export const CONTENT_TYPE_ARROW_FILE = 'application/vnd.apache.arrow.file';

/** Every MIME type `parseScoringRequest` accepts (MLflow 3.11 accepts the first three). */
export const SCORING_CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET, CONTENT_TYPE_ARROW_STREAM, CONTENT_TYPE_ARROW_FILE] as const;

export type ScoringContentType = (typeof SCORING_CONTENT_TYPES)[number];

/** Short names for content types (the CLI's `--content-type`); `arrow` is the stream format, as in the protocol. */
export const CONTENT_TYPE_SHORT_NAMES: Readonly<Record<string, ScoringContentType>> = Object.freeze({
  json: CONTENT_TYPE_JSON,
  csv: CONTENT_TYPE_CSV,
  parquet: CONTENT_TYPE_PARQUET,
  arrow: CONTENT_TYPE_ARROW_STREAM,
  'arrow-file': CONTENT_TYPE_ARROW_FILE,
});

/**
 * The content type to send a file as: `explicit` (a short name from `CONTENT_TYPE_SHORT_NAMES` or
 * a MIME type, passed through) when given, else from the file's extension (`TABLE_FILE_EXTENSIONS`:
 * .csv, .parquet/.pq, .arrows (stream), .arrow/.feather (file)); anything else is sent as JSON.
 */
export function contentTypeForFile(path: string, explicit?: string): string {
  if (explicit) return Object.hasOwn(CONTENT_TYPE_SHORT_NAMES, explicit) ? CONTENT_TYPE_SHORT_NAMES[explicit]! : explicit;
  switch (tableFormatForFile(path)) {
    case 'csv':
      return CONTENT_TYPE_CSV;
    case 'parquet':
      return CONTENT_TYPE_PARQUET;
    case 'arrow-stream':
      return CONTENT_TYPE_ARROW_STREAM;
    case 'arrow':
      return CONTENT_TYPE_ARROW_FILE;
    default:
      return CONTENT_TYPE_JSON;
  }
}

export interface ContentType {
  /** The MIME type as sent (trimmed, case preserved). */
  readonly mime: string;
  /** Parameters with lower-cased names. */
  readonly params: Readonly<Record<string, string>>;
}

function unsupported(header: string): ScoringRequestError {
  const list = SCORING_CONTENT_TYPES.map((t) => `'${t}'`).join(', ');
  return new ScoringRequestError(`This predictor only supports the following content types: Types: [${list}]. Got '${header}'.`, {
    httpStatus: 415,
  });
}

/**
 * Parse and validate a `Content-Type` header. Throws a 415 `ScoringRequestError` for a missing
 * header (MLflow fails with a bare 500 there), a charset other than UTF-8, unknown parameters, or
 * a MIME type not in `SCORING_CONTENT_TYPES`.
 */
export function parseContentType(header: string | undefined | null): ContentType & { mime: ScoringContentType } {
  if (header === undefined || header === null || header.trim() === '') {
    throw new ScoringRequestError(
      `The request has no Content-Type header. Send one of: ${SCORING_CONTENT_TYPES.join(', ')} (e.g. 'Content-Type: application/json').`,
      { httpStatus: 415 },
    );
  }
  // the common case, a bare supported type (`application/json`), without splitting (per request)
  if ((SCORING_CONTENT_TYPES as readonly string[]).includes(header)) return { mime: header as ScoringContentType, params: {} };
  const parts = header.split(';').map((p) => p.trim());
  const mime = parts[0]!;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    let value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params[key] = value;
  }
  const charset = (params.charset ?? 'utf-8').toLowerCase();
  if (charset !== 'utf-8') throw new ScoringRequestError('The scoring server only supports UTF-8', { httpStatus: 415 });
  const unexpected = Object.keys(params).filter((k) => k !== 'charset');
  if (unexpected.length > 0) {
    throw new ScoringRequestError(`Unrecognized content type parameters: ${unexpected.join(', ')}. ${SCORING_PROTOCOL_CHANGE_INFO}`, {
      httpStatus: 415,
    });
  }
  if (!(SCORING_CONTENT_TYPES as readonly string[]).includes(mime)) throw unsupported(header);
  return { mime: mime as ScoringContentType, params: { ...params } };
}
