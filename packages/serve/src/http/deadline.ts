import { RequestTimeoutError } from '../errors.js';

/**
 * A request's deadline: a plain `aborted` flag the batcher checks before a queued request joins a
 * model call. Not an AbortSignal: creating one (and a listener) per request costs several µs, a
 * noticeable share of a small request's whole cost.
 */
export class Deadline {
  #expired = false;

  /** True once the deadline has passed. */
  get aborted(): boolean {
    return this.#expired;
  }

  /** @internal */
  expire(): void {
    this.#expired = true;
  }
}

/**
 * Run `work` under a deadline: after `ms` the returned promise rejects with a 504 error and the
 * deadline aborts (queued work is dropped; a model call already running finishes in the
 * background, as in MLflow, and its result is discarded).
 */
export function withDeadline<T>(ms: number, work: (deadline: Deadline) => Promise<T>): Promise<T> {
  const deadline = new Deadline();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      deadline.expire();
      reject(new RequestTimeoutError());
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
