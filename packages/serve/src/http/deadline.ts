import { RequestTimeoutError } from '../errors.js';

/**
 * A request's deadline: a plain `aborted` flag the batcher and the runner check between steps.
 * Not an AbortSignal: creating one (and a listener) per request costs several µs, a noticeable
 * share of a small request's whole cost. Work handed to a worker thread registers an `abort`
 * listener (the runner's `Cancellation`), so that the worker is stopped the moment the deadline
 * passes; small requests never register one.
 */
export class Deadline {
  #expired = false;
  #listeners: (() => void)[] | null = null;

  /** True once the deadline has passed. */
  get aborted(): boolean {
    return this.#expired;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.#listeners!.splice(at, 1);
  }

  /** @internal */
  expire(): void {
    this.#expired = true;
    const listeners = this.#listeners;
    this.#listeners = null;
    for (const l of listeners ?? []) l();
  }
}

/**
 * Run `work` under a deadline: after `ms` the returned promise rejects with a 504 error and the
 * deadline aborts: queued work is dropped, work in a worker thread (decoding, a large model call)
 * is stopped, encoding stops at its next piece; a model call already running on this thread
 * finishes in the background, as in MLflow, and its result is discarded.
 */
export function withDeadline<T>(ms: number, work: (deadline: Deadline) => Promise<T>): Promise<T> {
  const deadline = new Deadline();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RequestTimeoutError());
      deadline.expire();
    }, ms);
    const done = (): void => clearTimeout(timer);
    let running: Promise<T>;
    try {
      running = work(deadline);
    } catch (e) {
      done();
      reject(e);
      return;
    }
    running.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
