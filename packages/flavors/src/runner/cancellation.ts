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
