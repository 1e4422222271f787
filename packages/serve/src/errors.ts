/**
 * Server-side errors. Each carries the HTTP status it is answered with; the MLflow routes render
 * them as `{"error_code", "message"}`, the Open Inference Protocol routes as `{"error"}`.
 */
import { MlmodelError } from '@mlmodel/format';

/** An error with a fixed HTTP status and, optionally, extra response headers. */
export class ServeError extends MlmodelError {
  readonly httpStatus: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, httpStatus: number, opts: { errorCode?: ConstructorParameters<typeof MlmodelError>[1]; headers?: Record<string, string> } = {}) {
    super(message, opts.errorCode ?? 'BAD_REQUEST');
    this.httpStatus = httpStatus;
    this.headers = opts.headers ?? {};
  }
}

/** The model's queue is full: try again shortly (503 + Retry-After). */
export class QueueFullError extends ServeError {
  constructor(queued: number) {
    super(`The model is overloaded: ${queued} requests are already waiting. Retry shortly.`, 503, {
      errorCode: 'TEMPORARILY_UNAVAILABLE',
      headers: { 'retry-after': '1' },
    });
  }
}

/** Large requests already in progress hold the server's memory budget: try again later (503 + Retry-After). */
export class MemoryBudgetError extends ServeError {
  constructor(needMb: number, inUseMb: number, budgetMb: number, retryAfterS: number) {
    super(
      `The server is busy with other large requests: this one needs about ${needMb} MB of its ${budgetMb} MB memory budget, ` +
        `and ${inUseMb} MB are in use. Retry in ${retryAfterS} s, or send smaller requests.`,
      503,
      { errorCode: 'TEMPORARILY_UNAVAILABLE', headers: { 'retry-after': String(retryAfterS) } },
    );
  }
}

/** The model is still loading, or failed to load (503). */
export class ModelNotReadyError extends ServeError {
  constructor(name: string, detail = 'is still loading') {
    super(`Model '${name}' ${detail}.`, 503, { errorCode: 'TEMPORARILY_UNAVAILABLE', headers: { 'retry-after': '1' } });
  }
}

/** No model with that name (or version) is served (404). */
export class ModelNotFoundError extends ServeError {
  constructor(name: string, version?: string) {
    super(version === undefined ? `Model '${name}' is not served here.` : `Model '${name}' version '${version}' is not served here.`, 404, {
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
  }
}

/** The request took longer than the server's request timeout (504, MLflow's body). */
export class RequestTimeoutError extends ServeError {
  constructor() {
    super('Request processing time exceeded limit', 504, { errorCode: 'DEADLINE_EXCEEDED' });
  }
}

/** The client went away (or the deadline passed) before the request reached the model. */
export class RequestAbortedError extends ServeError {
  constructor() {
    super('The request was cancelled before it reached the model.', 499, { errorCode: 'CANCELLED' });
  }
}

/** The server is shutting down and takes no new work (503). */
export class ShuttingDownError extends ServeError {
  constructor() {
    super('The server is shutting down.', 503, { errorCode: 'TEMPORARILY_UNAVAILABLE', headers: { connection: 'close', 'retry-after': '1' } });
  }
}
