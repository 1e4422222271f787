/**
 * A small pool of worker threads for the runner's heavy steps (piscina-like, without the
 * dependency): a task names a module and one of its exported functions; a free worker imports the
 * module once, calls the function with the task's arguments and posts the value back, moving the
 * ArrayBuffers the function lists instead of copying them (both ways).
 *
 * One task runs at a time per worker; tasks wait in order when every worker is busy. A task whose
 * cancellation fires while it waits is dropped; one that is running has its worker terminated (the
 * only way to stop synchronous work), and a fresh worker is started when the next task needs one —
 * unless the task is not `interruptible` (a native model call: terminating a thread inside
 * onnxruntime's `run` aborts the whole process). Such a task's caller is answered at once; the
 * worker finishes the call, its result is dropped, and the worker serves the next task.
 * Workers start on first use, and idle workers do not keep the process alive.
 *
 * Errors thrown in a worker come back as the same kind of error: `MlmodelError`s (and
 * `ScoringRequestError`s with their HTTP status) keep their code, message and name.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MlmodelError, ScoringRequestError, type MlflowErrorCode, type ScoringHttpStatus } from '@mlmodel/format';
import type { Cancellation } from './cancellation.js';

/** A function a worker can run: it gets the task's arguments and returns a value and the buffers to move with it. */
export type PoolTaskFunction = (args: never) => Promise<PoolTaskResult> | PoolTaskResult;

export interface PoolTaskResult {
  readonly value: unknown;
  /** ArrayBuffers inside `value` to move to the caller (they become unusable in the worker). */
  readonly transfer?: readonly ArrayBuffer[];
  /** ArrayBuffers the task is done with (its input), freed once the value has been posted. */
  readonly release?: readonly ArrayBuffer[];
}

export interface PoolTask {
  /** The module that exports `fn`, as a file URL (a `.ts` source path is mapped to the package's built `dist/` file). */
  readonly module: string | URL;
  readonly fn: string;
  readonly args: unknown;
  /** ArrayBuffers inside `args` to move to the worker (they become unusable here). */
  readonly transfer?: readonly ArrayBuffer[];
  /**
   * Whether a cancelled run may stop the worker thread (default true). False for native calls that
   * must not be torn down mid-way (onnxruntime aborts the process): the caller gets its
   * cancellation at once and the worker finishes the call first.
   */
  readonly interruptible?: boolean;
}

/** A task was cancelled (its deadline passed or its caller gave up) before it finished. */
export class TaskCancelledError extends MlmodelError {
  constructor() {
    super('The request was cancelled (its deadline passed or its client gave up) while it was being processed.', 'CANCELLED');
  }
}

/** The pool was closed: no more tasks. */
export class PoolClosedError extends MlmodelError {
  constructor() {
    super('The worker pool is closed (the server is shutting down).', 'TEMPORARILY_UNAVAILABLE');
  }
}

/** A worker thread died while running a task (out of memory, a crash in native code). */
export class WorkerCrashedError extends MlmodelError {
  constructor(detail: string) {
    super(`A worker thread stopped while processing the request: ${detail}`, 'INTERNAL_ERROR', { userError: false });
  }
}

/** An error as it crosses threads. */
interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
  readonly errorCode?: MlflowErrorCode | undefined;
  readonly userError?: boolean | undefined;
  readonly httpStatus?: number | undefined;
}

/** Messages a worker posts back. */
export type WorkerReply =
  { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: WireError };

/** What the main thread posts to a worker. */
export interface WorkerRequest {
  /** 0 for a broadcast that expects no reply. */
  readonly id: number;
  readonly module: string;
  readonly fn: string;
  readonly args: unknown;
}

/** An error as plain data, for postMessage. */
export function errorToWire(e: unknown): WireError {
  if (e instanceof Error) {
    const x = e as Error & { errorCode?: MlflowErrorCode; userError?: boolean; httpStatus?: number };
    return { name: e.name, message: e.message, stack: e.stack, errorCode: x.errorCode, userError: x.userError, httpStatus: x.httpStatus };
  }
  return { name: 'Error', message: String(e) };
}

/** The error again, as the kind of error it was in the worker. */
export function errorFromWire(w: WireError): Error {
  let e: Error;
  if (w.name === 'ScoringRequestError') e = new ScoringRequestError(w.message, { httpStatus: w.httpStatus as ScoringHttpStatus, errorCode: w.errorCode });
  else if (w.errorCode !== undefined) e = new MlmodelError(w.message, w.errorCode, { userError: w.userError ?? true });
  else e = new Error(w.message);
  e.name = w.name;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

/**
 * Where a task module's code runs from: the URL as given, except that a TypeScript source file
 * (tests run the sources) maps to the package's compiled file under `dist/`.
 */
export function runnableModule(module: string | URL): string {
  const href = typeof module === 'string' ? module : module.href;
  if (!href.startsWith('file:') || !href.endsWith('.ts')) return href;
  const path = fileURLToPath(href);
  const at = path.lastIndexOf('/src/');
  if (at < 0) return href;
  return pathToFileURL(`${path.slice(0, at)}/dist/${path.slice(at + 5, -3)}.js`).href;
}

/** The worker's entry module (from sources, its compiled file: tests need `npm run build` first). */
const WORKER_SCRIPT = runnableModule(new URL(import.meta.url.endsWith('.ts') ? './pool-worker.ts' : './pool-worker.js', import.meta.url));

interface Job {
  readonly id: number;
  readonly request: WorkerRequest;
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly cancel: Cancellation | undefined;
  readonly interruptible: boolean;
  onAbort: (() => void) | null;
  worker: Worker | null;
  /** Settled already (cancelled, or refused at close) while its worker still runs it: its reply is dropped. */
  abandoned: boolean;
}

export interface WorkerPoolOptions {
  /** Worker threads (default: the cores beyond the first, at least 1, at most 4). */
  readonly size?: number;
  /** Request bodies of at least this many bytes are decoded and prepared in a worker (default 1 MiB). */
  readonly minBodyBytes?: number;
  /** Model calls on inputs of at least this many elements run on a worker's copy of the model (default 1 Mi). */
  readonly minPredictElements?: number;
}

export const DEFAULT_MIN_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MIN_PREDICT_ELEMENTS = 1024 * 1024;

export class WorkerPool {
  readonly size: number;
  readonly minBodyBytes: number;
  readonly minPredictElements: number;
  readonly #idle: Worker[] = [];
  readonly #running = new Map<Worker, Job>();
  readonly #queue: Job[] = [];
  #workers = 0;
  #nextId = 1;
  #closed = false;

  constructor(opts: WorkerPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? Math.min(4, Math.max(1, availableParallelism() - 1))));
    this.minBodyBytes = opts.minBodyBytes ?? DEFAULT_MIN_BODY_BYTES;
    this.minPredictElements = opts.minPredictElements ?? DEFAULT_MIN_PREDICT_ELEMENTS;
  }

  /** Workers currently started (busy or idle). */
  get threads(): number {
    return this.#workers;
  }

  /** Run a task in a worker. Rejects with `TaskCancelledError` when `cancel` fires first (the worker is then stopped). */
  run<T>(task: PoolTask, cancel?: Cancellation): Promise<T> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (cancel?.aborted) return Promise.reject(new TaskCancelledError());
    return new Promise<T>((resolve, reject) => {
      const id = this.#nextId++;
      const job: Job = {
        id,
        request: { id, module: runnableModule(task.module), fn: task.fn, args: task.args },
        transfer: task.transfer ?? [],
        resolve: resolve as (v: unknown) => void,
        reject,
        cancel,
        interruptible: task.interruptible ?? true,
        onAbort: null,
        worker: null,
        abandoned: false,
      };
      if (cancel?.addEventListener) {
        job.onAbort = () => this.#abort(job);
        cancel.addEventListener('abort', job.onAbort);
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Post a task to every started worker, without waiting for replies (e.g. dropping a closed model's copies). */
  broadcast(task: Omit<PoolTask, 'transfer'>): void {
    const request: WorkerRequest = { id: 0, module: runnableModule(task.module), fn: task.fn, args: task.args };
    for (const w of [...this.#idle, ...this.#running.keys()]) w.postMessage(request);
  }

  /**
   * Stop every worker; waiting and running tasks are refused. A worker inside a task that is not
   * interruptible is stopped once that task returns. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#settle(job, new PoolClosedError());
    const stopNow = [...this.#idle.splice(0)];
    const finishing: Promise<unknown>[] = [];
    for (const [worker, job] of this.#running) {
      if (!job.abandoned) this.#settle(job, new PoolClosedError());
      if (job.interruptible) {
        this.#running.delete(worker);
        stopNow.push(worker);
      } else {
        // its reply (or its exit) releases it, and a closed pool terminates what it releases
        job.abandoned = true;
        finishing.push(new Promise((resolve) => worker.once('exit', resolve)));
      }
    }
    this.#workers = 0;
    await Promise.all([...stopNow.map((w) => w.terminate()), ...finishing]);
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (!worker) {
        if (this.#workers >= this.size) return;
        worker = this.#spawn();
      }
      const job = this.#queue.shift()!;
      job.worker = worker;
      this.#running.set(worker, job);
      worker.ref();
      try {
        worker.postMessage(job.request, job.transfer as ArrayBuffer[]);
      } catch (e) {
        this.#running.delete(worker);
        this.#release(worker);
        this.#settle(job, e);
      }
    }
  }

  #spawn(): Worker {
    const worker = new Worker(new URL(WORKER_SCRIPT));
    this.#workers++;
    worker.on('message', (reply: WorkerReply) => {
      const job = this.#running.get(worker);
      if (!job || job.id !== reply.id) return;
      this.#running.delete(worker);
      this.#release(worker);
      if (job.abandoned) return;
      if (reply.ok) this.#settle(job, undefined, reply.value);
      else this.#settle(job, errorFromWire(reply.error));
    });
    const gone = (detail: string): void => {
      const wasIdle = this.#idle.indexOf(worker);
      if (wasIdle >= 0) this.#idle.splice(wasIdle, 1);
      const job = this.#running.get(worker);
      if ((job || wasIdle >= 0) && !this.#closed) this.#workers--;
      if (job) {
        this.#running.delete(worker);
        if (!job.abandoned) this.#settle(job, new WorkerCrashedError(detail));
      }
      this.#pump();
    };
    worker.on('error', (e: Error & { code?: string }) =>
      gone(e.code === 'ERR_MODULE_NOT_FOUND' ? `${e.message} (the worker runs the built packages: run npm run build)` : e.message),
    );
    worker.on('exit', (code) => gone(`it exited with code ${code}`));
    return worker;
  }

  #release(worker: Worker): void {
    worker.unref();
    if (this.#closed) {
      void worker.terminate();
      return;
    }
    this.#idle.push(worker);
    this.#pump();
  }

  #abort(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const worker = job.worker;
    if (worker && this.#running.get(worker) === job) {
      if (job.interruptible) {
        // synchronous work cannot be interrupted: stop the thread; the next task starts a new one
        this.#running.delete(worker);
        this.#workers--;
        void worker.terminate();
      } else {
        // a native call must finish: answer the caller now, drop the result when it comes
        job.abandoned = true;
      }
    }
    this.#settle(job, new TaskCancelledError());
    this.#pump();
  }

  #settle(job: Job, error: unknown, value?: unknown): void {
    if (job.onAbort) {
      job.cancel?.removeEventListener?.('abort', job.onAbort);
      job.onAbort = null;
    }
    if (error !== undefined) job.reject(error);
    else job.resolve(value);
  }
}
