/**
 * The batch scorer's errors, and errors as plain data for crossing threads (a failed chunk's
 * error comes back from a worker as data, and is reported with its file and row range).
 */
import { MlmodelError, type MlflowErrorCode } from '@mlmodel/format';

/** A run that cannot start or cannot go on: bad options, inputs that do not exist, a chunk that failed under `onError: 'fail'`. */
export class BatchScoringError extends MlmodelError {}

/** The run was cancelled (`cancel()`, the signal, SIGINT/SIGTERM in the CLI) before it finished; nothing was written at the destination. */
export class BatchCancelledError extends MlmodelError {
  constructor(readonly reason: unknown = undefined) {
    super(`the batch run was cancelled${typeof reason === 'string' ? ` (${reason})` : ''}; no output was written`, 'CANCELLED');
  }
}

/** An error as plain data. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  /** The part of a schema-enforcement message after MLflow's "Failed to enforce schema of data …" preamble, when there is one. */
  readonly detail?: string | undefined;
  readonly errorCode?: MlflowErrorCode | undefined;
  readonly userError?: boolean | undefined;
}

export function errorInfo(e: unknown): ErrorInfo {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & { errorCode?: MlflowErrorCode; userError?: boolean; detail?: unknown };
  return {
    name: e.name,
    message: e.message,
    detail: typeof x.detail === 'string' ? x.detail : undefined,
    errorCode: x.errorCode,
    userError: x.userError,
  };
}

/** The short form of an error for a one-line report: a schema error's own detail (the data preview left out), else its message. */
export function shortMessage(info: ErrorInfo): string {
  return info.detail ?? info.message;
}

/** Whether an error means a model process or thread died (not the rows' fault): the rows are not searched for a culprit. */
export function isCrash(info: ErrorInfo): boolean {
  return info.name === 'PythonWorkerDiedError' || info.name === 'WorkerCrashedError' || info.errorCode === 'TEMPORARILY_UNAVAILABLE';
}

/** A chunk that failed: its file, its rows (0-based data rows, end exclusive) and why. */
export interface ChunkFailure {
  readonly file: string;
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly error: ErrorInfo;
}

/** `file rows a–b: message` (rows 0-based, end inclusive). */
export function describeFailure(f: ChunkFailure): string {
  const rows = f.rowEnd - f.rowStart === 1 ? `row ${f.rowStart}` : `rows ${f.rowStart}–${f.rowEnd - 1}`;
  return `${f.file} ${rows}: ${shortMessage(f.error)}`;
}

/** A chunk failed under `onError: 'fail'`: the run stops and names the file and rows. */
export class ChunkScoringError extends BatchScoringError {
  constructor(readonly failure: ChunkFailure) {
    // one line whatever failed (the rows, the model, a crashed worker): the run's report names the chunk, not a stack
    super(describeFailure(failure), failure.error.errorCode ?? 'INVALID_PARAMETER_VALUE', { userError: true });
  }
}
