import { RequestTimeoutError } from '../errors.js';

/**
 * A request's deadline. `aborted` is a plain flag; the AbortSignal is only created when something
 * asks for it (the batcher, to drop a queued request), because creating one costs several µs —
 * a noticeable share of a small request's whole cost — and most requests never need it.
 */
export class Deadline {
  #expired = false;
  #controller: AbortController | null = null;

  /** True once the deadline has passed. */
  get aborted(): boolean {
    return this.#expired;
  }

  /** An AbortSignal that aborts when the deadline passes (created on first use). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#expired) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** @internal */
  expire(): void {
    this.#expired = true;
    this.#controller?.abort();
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
