import { MlmodelError, UNEXPECTED_ERROR_MESSAGE, type MlflowErrorCode } from '@mlmodel/format';

/** A Python exception as the worker reports it (LOAD_ERR and ERROR payloads). */
export interface PythonException {
  readonly type: string;
  readonly module?: string;
  readonly message: string;
  readonly traceback: readonly { file: string; line: number | null; name: string; code: string }[];
  /** True for load failures the user fixes in the environment or model (no traceback is useful). */
  readonly user_error?: boolean;
}

/** How many traceback frames a summary shows (the innermost ones). */
const SUMMARY_FRAMES = 3;

/** `Type: message` plus the last traceback frames, as one readable block. */
export function summarizePythonException(e: PythonException): string {
  const head = e.message ? `${e.type}: ${e.message}` : e.type;
  const frames = e.traceback.slice(-SUMMARY_FRAMES);
  if (frames.length === 0) return head;
  const lines = frames.map((f) => `  File "${f.file}", line ${f.line ?? '?'}, in ${f.name}${f.code ? `\n    ${f.code}` : ''}`);
  return `${head}\n${lines.join('\n')}`;
}

/** The model could not be loaded in the Python worker (or the worker could not start). */
export class PythonLoadError extends MlmodelError {
  readonly python: PythonException | undefined;

  constructor(message: string, python?: PythonException, cause?: unknown) {
    super(message, 'INVALID_PARAMETER_VALUE', { cause });
    this.python = python;
  }
}

/** The model's predict raised: answered like MLflow's scoring server (BAD_REQUEST + the Python message). */
export class PythonPredictError extends MlmodelError {
  readonly python: PythonException;

  constructor(python: PythonException) {
    super(`${UNEXPECTED_ERROR_MESSAGE} Python raised ${summarizePythonException(python)}`, 'BAD_REQUEST');
    this.python = python;
  }
}

/** The worker process died or broke the protocol; the request is lost and the worker replaced. */
export class PythonWorkerError extends MlmodelError {
  constructor(message: string, cause?: unknown, errorCode: MlflowErrorCode = 'INTERNAL_ERROR') {
    super(message, errorCode, { cause, userError: false });
  }
}

/**
 * The worker died (crashed, was killed, ran out of memory) while it held the request. The request
 * itself may be fine: the worker is being restarted, so the same request can be sent again
 * (TEMPORARILY_UNAVAILABLE, which servers answer with 503 and Retry-After). The message names the
 * worker by its number only; its pid is in the pool's log line about the exit.
 */
export class PythonWorkerDiedError extends PythonWorkerError {
  /** Sending the same request again may succeed. */
  readonly retryable = true;

  constructor(message: string) {
    super(message, undefined, 'TEMPORARILY_UNAVAILABLE');
  }
}

/** A request took longer than the per-request timeout; the worker is killed and replaced. */
export class PythonTimeoutError extends MlmodelError {
  constructor(message: string) {
    super(message, 'DEADLINE_EXCEEDED', { userError: false });
  }
}

/** Malformed data from the worker. */
export class PythonProtocolError extends PythonWorkerError {}
