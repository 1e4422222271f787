import { MlmodelError } from '@mlmodel/format';

/**
 * Something that says a caller gave up: an AbortSignal, or anything with an `aborted` flag (the
 * server's request deadline). Steps check the flag between stages; work running in a worker thread
 * is stopped at once when the cancellation can also announce itself (`addEventListener('abort')`,
 * as AbortSignal and the server's deadline do).
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener?(type: 'abort', listener: () => void): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** The caller gave up (its deadline passed, its client left) before the model was called. */
export class PredictCancelledError extends MlmodelError {
  constructor() {
    super('The request was cancelled before it reached the model.', 'CANCELLED');
  }
}
