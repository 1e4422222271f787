/**
 * Typed errors of the tracking client. MLflow's own error codes (`RESOURCE_DOES_NOT_EXIST`,
 * `RESOURCE_ALREADY_EXISTS`, `INVALID_PARAMETER_VALUE`, …) come back as subclasses of
 * {@link MlflowApiError} with the server's message, from the REST client and from the local
 * file store alike, so callers handle "not found" the same way whichever store answered.
 * Messages are one line (servers send multi-line SQL errors; they are folded).
 */
import { MlmodelError, type MlflowErrorCode } from '@mlmodel/format';

/** Base class: anything the tracking client reports. */
export class TrackingError extends MlmodelError {}

/** A tracking URI, environment variable or option that cannot be used (unsupported scheme, conflicting TLS settings, …). */
export class TrackingConfigError extends TrackingError {}

/** The server could not be reached (refused, reset, DNS, TLS, timeout), after the retries. */
export class TrackingConnectionError extends TrackingError {
  constructor(message: string, cause?: unknown) {
    super(message, 'TEMPORARILY_UNAVAILABLE', { cause });
  }
}

/** Where a request went, for messages: `GET /api/2.0/mlflow/runs/get`. */
export interface ApiErrorContext {
  /** HTTP status (0 for the file store, which has none). */
  readonly status: number;
  /** `METHOD path`, or the file store's operation. */
  readonly endpoint: string;
  /** Who answered: the tracking server's base URL or the file store's root. */
  readonly source: string;
}

/** Fold a server message onto one line and keep it readable. */
export function oneLine(text: string, max = 600): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' | ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The MlmodelError code closest to an MLflow error code (MlmodelError's set is smaller). */
function baseCode(serverCode: string, status: number): MlflowErrorCode {
  switch (serverCode) {
    case 'RESOURCE_DOES_NOT_EXIST':
    case 'NOT_FOUND':
      return 'RESOURCE_DOES_NOT_EXIST';
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return 'UNAUTHENTICATED';
    case 'INTERNAL_ERROR':
      return 'INTERNAL_ERROR';
    case 'TEMPORARILY_UNAVAILABLE':
    case 'REQUEST_LIMIT_EXCEEDED':
      return 'TEMPORARILY_UNAVAILABLE';
    case 'BAD_REQUEST':
      return 'BAD_REQUEST';
    default:
      if (status === 401 || status === 403) return 'UNAUTHENTICATED';
      if (status >= 500) return 'INTERNAL_ERROR';
      return 'INVALID_PARAMETER_VALUE';
  }
}

/**
 * An error answered by MLflow (its `{"error_code", "message"}` body, or the file store's
 * equivalent). `serverErrorCode` is MLflow's code exactly as sent; `serverMessage` its message unchanged.
 */
export class MlflowApiError extends TrackingError {
  readonly serverErrorCode: string;
  readonly serverMessage: string;
  readonly status: number;
  readonly endpoint: string;
  readonly source: string;

  constructor(serverErrorCode: string, serverMessage: string, ctx: ApiErrorContext) {
    const where = ctx.status ? `${ctx.endpoint} → HTTP ${ctx.status}` : ctx.endpoint;
    super(`${oneLine(serverMessage) || '(no message)'} (${serverErrorCode} from ${ctx.source}, ${where})`, baseCode(serverErrorCode, ctx.status));
    this.serverErrorCode = serverErrorCode;
    this.serverMessage = serverMessage;
    this.status = ctx.status;
    this.endpoint = ctx.endpoint;
    this.source = ctx.source;
  }
}

/** `RESOURCE_DOES_NOT_EXIST`: no such experiment, run, logged model, registered model or version. */
export class ResourceNotFoundError extends MlflowApiError {}
/** `RESOURCE_ALREADY_EXISTS`: an experiment or registered model of that name exists. */
export class ResourceAlreadyExistsError extends MlflowApiError {}
/** `INVALID_PARAMETER_VALUE` / `BAD_REQUEST`: the request was refused as given (including an unknown alias, which MLflow answers with 400). */
export class InvalidParameterError extends MlflowApiError {}
/** 401/403, `UNAUTHENTICATED` / `PERMISSION_DENIED`: credentials missing or refused. */
export class TrackingAuthError extends MlflowApiError {}
/** A 5xx answer (`INTERNAL_ERROR`, or a proxy's error page), after the retries. */
export class TrackingServerError extends MlflowApiError {}

/** The typed error for an MLflow error code. */
export function apiError(serverErrorCode: string, serverMessage: string, ctx: ApiErrorContext): MlflowApiError {
  if (ctx.status === 401 || ctx.status === 403 || serverErrorCode === 'UNAUTHENTICATED' || serverErrorCode === 'PERMISSION_DENIED') {
    return new TrackingAuthError(serverErrorCode, serverMessage, ctx);
  }
  switch (serverErrorCode) {
    case 'RESOURCE_DOES_NOT_EXIST':
    case 'NOT_FOUND':
      return new ResourceNotFoundError(serverErrorCode, serverMessage, ctx);
    case 'RESOURCE_ALREADY_EXISTS':
      return new ResourceAlreadyExistsError(serverErrorCode, serverMessage, ctx);
    case 'INVALID_PARAMETER_VALUE':
    case 'BAD_REQUEST':
    case 'INVALID_STATE':
      return new InvalidParameterError(serverErrorCode, serverMessage, ctx);
    default:
      return ctx.status >= 500 ? new TrackingServerError(serverErrorCode, serverMessage, ctx) : new MlflowApiError(serverErrorCode, serverMessage, ctx);
  }
}

/** An artifact listing or path that would escape the destination: `..`, absolute paths, symlinks, duplicates. Never retried. */
export class UnsafeArtifactPathError extends TrackingError {
  constructor(message: string) {
    super(message, 'INVALID_PARAMETER_VALUE');
  }
}

/** A downloaded artifact that does not match what the listing promised (size), or a model directory without an MLmodel file. */
export class ArtifactIntegrityError extends TrackingError {
  constructor(message: string) {
    super(message, 'INVALID_PARAMETER_VALUE');
  }
}
