/**
 * Errors → HTTP responses as MLflow's scoring server sends them: `MlflowException` bodies are
 * `json.dumps({"error_code": …, "message": …[, "stack_trace": …]})` with the status of
 * `ERROR_CODE_TO_HTTP_STATUS`; content-type problems are a `text/plain` 415 holding just the
 * message; any other exception is MLflow's generic 400 `BAD_REQUEST`.
 */
import { MlmodelError } from '../errors.js';
import { ScoringRequestError } from './errors.js';
import { pyJsonStringFast } from './encode.js';

/** MLflow's `ERROR_CODE_TO_HTTP_STATUS` (unknown codes: 500). */
const HTTP_STATUS: Readonly<Record<string, number>> = {
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  RESOURCE_DOES_NOT_EXIST: 404,
  PERMISSION_DENIED: 403,
  CUSTOMER_UNAUTHORIZED: 401,
  UNAUTHENTICATED: 401,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  INVALID_PARAMETER_VALUE: 400,
};

/** The HTTP status MLflow uses for an error code. */
export function httpStatusForErrorCode(code: string): number {
  return HTTP_STATUS[code] ?? 500;
}

export const UNEXPECTED_ERROR_MESSAGE =
  'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.';

export interface ErrorResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface EncodeErrorOptions {
  /**
   * Add a `stack_trace` field for errors that are not `MlmodelError`s, as MLflow does with the
   * Python traceback. Off by default: a server facing the internet should not reveal its internals.
   */
  readonly includeStackTrace?: boolean;
}

function errorJson(code: string, message: string, stackTrace?: string): string {
  let s = `{"error_code": ${pyJsonStringFast(code)}, "message": ${pyJsonStringFast(message)}`;
  if (stackTrace !== undefined) s += `, "stack_trace": ${pyJsonStringFast(stackTrace)}`;
  return `${s}}`;
}

/** The status, content type and body to answer an error with. */
export function encodeError(err: unknown, opts: EncodeErrorOptions = {}): ErrorResponse {
  if (err instanceof ScoringRequestError && err.httpStatus === 415) {
    return { status: 415, contentType: 'text/plain; charset=utf-8', body: err.message };
  }
  if (err instanceof ScoringRequestError) {
    return { status: err.httpStatus, contentType: 'application/json', body: errorJson(err.errorCode, err.message) };
  }
  if (err instanceof MlmodelError) {
    return { status: httpStatusForErrorCode(err.errorCode), contentType: 'application/json', body: errorJson(err.errorCode, err.message) };
  }
  const stack = opts.includeStackTrace ? (err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)) : undefined;
  return { status: 400, contentType: 'application/json', body: errorJson('BAD_REQUEST', UNEXPECTED_ERROR_MESSAGE, stack) };
}
