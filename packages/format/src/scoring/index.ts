/**
 * MLflow's scoring protocol (reference §4.2–§4.5): request bytes → model input and params,
 * predictions → response JSON, errors → responses. Shared by the CLI, the HTTP server and the
 * batch scorer.
 */
export { parseScoringRequest, DEFAULT_MAX_BODY_BYTES, type ScoringRequestOptions } from './parse.js';
export type { ScoringFormat, ScoringRequest } from './types.js';
export {
  parseContentType,
  SCORING_CONTENT_TYPES,
  CONTENT_TYPE_SHORT_NAMES,
  contentTypeForFile,
  CONTENT_TYPE_JSON,
  CONTENT_TYPE_CSV,
  CONTENT_TYPE_PARQUET,
  CONTENT_TYPE_ARROW_STREAM,
  CONTENT_TYPE_ARROW_FILE,
  type ContentType,
  type ScoringContentType,
} from './content-type.js';
export { parseJsonRequest, type JsonRequestOptions } from './json-request.js';
export { DEFAULT_MAX_DEPTH as DEFAULT_JSON_MAX_DEPTH } from './json-text.js';
export { parseCsvRequest } from './csv-request.js';
export type { ParquetOptions } from './parquet-request.js';
export type { TabularOptions } from './arrow-request.js';
export { encodePredictions, encodeJsonValue, type EncodeOptions } from './encode.js';
export { encodeError, httpStatusForErrorCode, UNEXPECTED_ERROR_MESSAGE, type ErrorResponse, type EncodeErrorOptions } from './error-response.js';
export { ScoringRequestError, SCORING_PROTOCOL_CHANGE_INFO, type ScoringHttpStatus } from './errors.js';
