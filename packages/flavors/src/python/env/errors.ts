import { MlmodelError } from '@mlmodel/format';

/**
 * The Python environment a model needs could not be found or made: no interpreter, a missing
 * tool (venv, uv, conda), or a command that failed while creating the environment. Raised before
 * serving starts, never per request.
 */
export class PythonEnvError extends MlmodelError {
  /** The command that failed, when one did. */
  readonly command: readonly string[] | undefined;
  /** The last lines the failing command wrote (stderr, else stdout). */
  readonly outputTail: string | undefined;

  constructor(message: string, opts: { command?: readonly string[]; outputTail?: string; cause?: unknown; userError?: boolean } = {}) {
    super(message, 'INTERNAL_ERROR', { cause: opts.cause, userError: opts.userError ?? true });
    this.command = opts.command;
    this.outputTail = opts.outputTail;
  }
}

/** A command that could not start, exited non-zero, or ran past its timeout. */
export class CommandFailedError extends PythonEnvError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;

  constructor(
    message: string,
    opts: { command: readonly string[]; outputTail: string; exitCode: number | null; signal: string | null; timedOut: boolean; cause?: unknown },
  ) {
    super(message, { command: opts.command, outputTail: opts.outputTail, cause: opts.cause });
    this.exitCode = opts.exitCode;
    this.signal = opts.signal;
    this.timedOut = opts.timedOut;
  }
}
