import { MlmodelError } from '@mlmodel/format';

/**
 * A js_function model that cannot be saved or loaded: a module that cannot be imported or does not
 * follow the `load(context) → { predict }` contract, a missing artifact, a code path outside the
 * module's directory, a symlink that escapes what is copied.
 */
export class JsFunctionError extends MlmodelError {}

/**
 * The model's own code failed while predicting. Like MLflow's scoring server, which answers any
 * non-MLflow exception from `predict` with BAD_REQUEST (400), the code is `BAD_REQUEST`. The
 * original error is kept as `cause`; its stack is `stackTrace` (for a response's `stack_trace`).
 */
export class ModelPredictError extends MlmodelError {
  /** The stack of the error the model threw, when it threw an Error. */
  readonly stackTrace: string | undefined;

  constructor(message: string, cause: unknown) {
    super(message, 'BAD_REQUEST', { cause });
    this.stackTrace = cause instanceof Error ? cause.stack : undefined;
  }
}

/** The message of anything thrown (`throw 'text'` included). */
export function thrownMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}
