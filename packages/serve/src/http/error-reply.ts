/**
 * Errors → responses. `toServeFailure` classifies any thrown value (our typed errors, fastify's
 * body-parsing errors, bugs) once; each protocol renders the result in its own body format:
 * MLflow `{"error_code", "message"}`, Open Inference Protocol `{"error"}`.
 */
import type { FastifyReply } from 'fastify';
import { MlmodelError, ScoringRequestError, UNEXPECTED_ERROR_MESSAGE, encodeError, parseContentType } from '@mlmodel/format';
import { ModelNotReadyError, ServeError } from '../errors.js';

export interface ServeFailure {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The typed error, or null for an unexpected one (a bug, or a model crashing on valid input). */
  readonly error: MlmodelError | null;
  readonly cause: unknown;
}

interface HttpishError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Fastify's own client errors (body too large, bad content length, the auth hook…) as typed errors.
 * `contentType` is the request's header, for the 415 fastify gives a syntactically invalid one.
 */
function fromFastify(err: HttpishError, contentType: string | undefined): MlmodelError | null {
  const status = err.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return null;
  const message = err.message ?? 'bad request';
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    // every type fastify cannot parse is one the scoring parser refuses too: its 415 says why
    try {
      parseContentType(contentType);
    } catch (e) {
      if (e instanceof ScoringRequestError) return e;
    }
    return new ScoringRequestError(`Unsupported Content-Type '${contentType ?? ''}'.`, { httpStatus: 415 });
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ScoringRequestError(`The request is too large: the body is over the server's limit (${message}).`, { httpStatus: 413 });
  }
  if (err.code === 'UNAUTHENTICATED') return new ServeError(message, 401, { errorCode: 'UNAUTHENTICATED' });
  return new ServeError(message, status, { errorCode: 'BAD_REQUEST' });
}

/** Headers of a retryable refusal that carries none of its own (a model's TEMPORARILY_UNAVAILABLE, e.g. a Python worker that died). */
const RETRY_LATER: Readonly<Record<string, string>> = { 'retry-after': '1' };

export function toServeFailure(err: unknown, contentType?: string): ServeFailure {
  const error = err instanceof MlmodelError ? err : fromFastify(err as HttpishError, contentType);
  if (error instanceof ServeError) return { status: error.httpStatus, headers: error.headers, error, cause: err };
  if (error) return { status: encodeError(error).status, headers: error.errorCode === 'TEMPORARILY_UNAVAILABLE' ? RETRY_LATER : {}, error, cause: err };
  return { status: encodeError(err).status, headers: {}, error: null, cause: err };
}

function logFailure(reply: FastifyReply, f: ServeFailure): void {
  if (!f.error) reply.log.error({ err: f.cause }, 'request failed');
  else if (f.status >= 500 && !(f.error instanceof ModelNotReadyError)) reply.log.warn({ status: f.status, error: f.error.message }, 'request failed');
  else reply.log.info({ status: f.status, error: f.error.message }, 'request refused');
}

/** Send an error in MLflow's scoring-server format (415 as text/plain, like MLflow). */
export function sendMlflowError(reply: FastifyReply, err: unknown, includeStackTrace: boolean): FastifyReply {
  const f = toServeFailure(err, reply.request.headers['content-type']);
  logFailure(reply, f);
  const r = f.error ? encodeError(f.error) : encodeError(err, { includeStackTrace });
  return reply.code(f.status).headers(f.headers).type(r.contentType).send(r.body);
}

/** Send an error in the Open Inference Protocol format `{"error": "..."}`; unexpected errors are 500s, as in KServe. */
export function sendOipError(reply: FastifyReply, err: unknown): FastifyReply {
  const f = toServeFailure(err, reply.request.headers['content-type']);
  logFailure(reply, f);
  const message = f.error ? f.error.message : UNEXPECTED_ERROR_MESSAGE;
  return reply
    .code(f.error ? f.status : 500)
    .headers(f.headers)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ error: message }));
}
