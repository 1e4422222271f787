import type { Socket } from 'node:net';
import { RequestTimeoutError } from '../errors.js';

/**
 * A request's deadline: a plain `aborted` flag the batcher and the runner check between steps,
 * true once the time is up or the client has gone (its connection closed or half-closed: nobody
 * will read the answer). Not an AbortSignal: creating one (and a listener) per request costs
 * several µs, a noticeable share of a small request's whole cost. Work handed to a worker thread
 * registers an `abort` listener (the runner's `Cancellation`), so that the worker is stopped the
 * moment the deadline passes or the client leaves; only then does the deadline listen to the
 * socket, so small requests never register a listener.
 */
export class Deadline {
  #expired = false;
  #listeners: (() => void)[] | null = null;
  readonly #client: Socket | null;
  #watching = false;

  constructor(client: Socket | null = null) {
    this.#client = client;
  }

  /** True once the deadline has passed or the client has gone. */
  get aborted(): boolean {
    return this.#expired || clientGone(this.#client);
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.#listeners ??= []).push(listener);
    const client = this.#client;
    if (client && !this.#watching && !this.#expired) {
      this.#watching = true;
      client.on('close', this.#onClientGone);
      client.on('end', this.#onClientGone);
    }
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.#listeners!.splice(at, 1);
  }

  /** @internal */
  expire(): void {
    this.#expired = true;
    this.settle();
    const listeners = this.#listeners;
    this.#listeners = null;
    for (const l of listeners ?? []) l();
  }

  /** @internal The request is over: stop listening to its socket (a keep-alive connection outlives it). */
  settle(): void {
    if (!this.#watching) return;
    this.#watching = false;
    this.#client!.off('close', this.#onClientGone);
    this.#client!.off('end', this.#onClientGone);
  }

  readonly #onClientGone = (): void => {
    if (!this.#expired) this.expire();
  };
}

/** Whether the client has closed its connection, or its sending side (an HTTP/1 client waiting for an answer keeps sending open). */
function clientGone(socket: Socket | null): boolean {
  return socket !== null && (socket.destroyed || socket.readableEnded);
}

/**
 * Run `work` under a deadline: after `ms` the returned promise rejects with a 504 error and the
 * deadline aborts: queued work is dropped, work in a worker thread (decoding, a large model call)
 * is stopped, encoding stops at its next piece; a model call already running on this thread
 * finishes in the background, as in MLflow, and its result is discarded.
 */
export function withDeadline<T>(ms: number, work: (deadline: Deadline) => Promise<T>, client: Socket | null = null): Promise<T> {
  const deadline = new Deadline(client);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RequestTimeoutError());
      deadline.expire();
    }, ms);
    const done = (): void => {
      clearTimeout(timer);
      deadline.settle();
    };
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
