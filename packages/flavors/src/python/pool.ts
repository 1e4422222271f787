/**
 * N Python workers serving one model. Each slot runs one request at a time; `predict` picks the
 * least busy slot. A worker that dies (crash, SIGKILL, timeout) is replaced and the model loaded
 * again; the request it was running fails, the ones queued behind it run on the replacement.
 */
import type { Prediction } from '@mlmodel/format';
import type { FlavorLogger } from '../flavor.js';
import { PredictCancelledError, type Cancellation } from '../runner/cancellation.js';
import { decodeResultPayload } from './codec.js';
import { PythonPredictError, PythonWorkerError, type PythonException } from './errors.js';
import { MessageType, parseJsonPayload } from './protocol.js';
import { bridgeTrace } from './trace.js';
import { PythonWorker, type LoadInfo, type LoadRequest } from './worker.js';

export interface PoolOptions {
  readonly python: string;
  readonly workers: number;
  readonly timeoutMs: number;
  readonly loadTimeoutMs: number;
  /** Busy-wait bounds in µs (PROTOCOL.md, "Waiting"): Node for an answer, an idle worker for a request; 0 never. */
  readonly replySpinUs: number;
  readonly idleSpinUs: number;
  readonly logger: FlavorLogger;
  readonly script?: string;
  readonly env?: NodeJS.ProcessEnv;
}

class WorkerSlot {
  readonly index: number;
  /** Requests queued or running here. */
  load = 0;
  #worker: PythonWorker | null = null;
  #starting: Promise<PythonWorker> | null = null;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #pool: PythonPool;

  constructor(pool: PythonPool, index: number) {
    this.#pool = pool;
    this.index = index;
  }

  get worker(): PythonWorker | null {
    return this.#worker;
  }

  /** Start a worker and load the model in it. */
  start(): Promise<PythonWorker> {
    if (this.#starting) return this.#starting;
    if (this.#closed) return Promise.reject(new PythonWorkerError('the python_function model was closed; load it again to predict'));
    const starting = (async () => {
      const w = this.#pool.spawnWorker(this.index);
      try {
        const info = await w.load(this.#pool.loadRequest, this.#pool.options.loadTimeoutMs);
        this.#pool.noteLoaded(info);
      } catch (e) {
        await w.shutdown();
        throw e;
      }
      if (this.#closed) {
        await w.shutdown();
        throw new PythonWorkerError('the model was closed');
      }
      this.#worker = w;
      void w.exited.then((exit) => this.#onExit(w, exit.signal ?? `exit code ${exit.code}`));
      return w;
    })();
    this.#starting = starting;
    void starting.then(
      () => (this.#starting = null),
      () => (this.#starting = null),
    );
    return starting;
  }

  #onExit(w: PythonWorker, how: string): void {
    if (this.#worker !== w) return;
    this.#worker = null;
    if (this.#closed) return;
    this.#pool.options.logger.warn(`python_function: worker #${this.index} (pid ${w.pid ?? '?'}) exited (${how}); restarting it`);
    this.start().catch((e: unknown) => {
      this.#pool.options.logger.warn(`python_function: could not restart worker #${this.index}: ${(e as Error).message}`);
    });
  }

  /** Run one call after the ones queued here; a call whose caller gave up while it waited (`cancel`) is dropped. */
  async run(parts: readonly Uint8Array[], cancel?: Cancellation): Promise<Prediction> {
    this.load++;
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    try {
      await prev;
      if (cancel?.aborted) throw new PredictCancelledError();
      if (this.#closed) throw new PythonWorkerError('the python_function model was closed; load it again to predict');
      const w = this.#worker?.alive ? this.#worker : await this.start();
      const frame = await w.request(MessageType.PREDICT, parts, 'predict', this.#pool.options.timeoutMs);
      if (frame.type === MessageType.RESULT) {
        const prediction = decodeResultPayload(frame.payload);
        bridgeTrace?.mark(w.pid, frame.id, 'decoded');
        return prediction;
      }
      if (frame.type === MessageType.ERROR) throw new PythonPredictError(parseJsonPayload(frame.payload) as PythonException);
      throw new PythonWorkerError(`the Python worker answered PREDICT with message type ${frame.type}`);
    } finally {
      this.load--;
      release();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#starting) await this.#starting.catch(() => undefined);
    const w = this.#worker;
    this.#worker = null;
    if (w) await w.shutdown();
  }
}

export class PythonPool {
  readonly options: PoolOptions;
  readonly loadRequest: LoadRequest;
  readonly #slots: WorkerSlot[];
  #nextWorkerId = 1;
  #next = 0;
  #info: LoadInfo | null = null;
  /** Every process this pool started, to be sure all are reaped on close. */
  readonly #spawned = new Set<PythonWorker>();

  constructor(loadRequest: LoadRequest, options: PoolOptions) {
    this.options = options;
    this.loadRequest = loadRequest;
    this.#slots = Array.from({ length: options.workers }, (_, i) => new WorkerSlot(this, i + 1));
  }

  /** Start every worker; fails (and stops the ones that started) when any cannot load the model. */
  async start(): Promise<LoadInfo> {
    const results = await Promise.allSettled(this.#slots.map((s) => s.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    return this.#info!;
  }

  spawnWorker(slot: number): PythonWorker {
    const w = new PythonWorker({
      id: this.#nextWorkerId++,
      python: this.options.python,
      logger: this.options.logger,
      replySpinUs: this.options.replySpinUs,
      idleSpinUs: this.options.idleSpinUs,
      ...(this.options.script ? { script: this.options.script } : {}),
      ...(this.options.env ? { env: this.options.env } : {}),
    });
    this.#spawned.add(w);
    void w.exited.then(() => this.#spawned.delete(w));
    this.options.logger.info(`python_function: started worker #${slot} (pid ${w.pid ?? '?'}) with ${this.options.python}`);
    return w;
  }

  noteLoaded(info: LoadInfo): void {
    this.#info ??= info;
  }

  get info(): LoadInfo | null {
    return this.#info;
  }

  /** Process ids of the live workers. */
  pids(): number[] {
    return this.#slots.map((s) => s.worker?.pid).filter((p): p is number => p !== undefined);
  }

  predict(parts: readonly Uint8Array[], cancel?: Cancellation): Promise<Prediction> {
    // least busy slot; ties go round-robin
    const n = this.#slots.length;
    let best = this.#slots[this.#next % n]!;
    for (let k = 1; k < n; k++) {
      const s = this.#slots[(this.#next + k) % n]!;
      if (s.load < best.load) best = s;
    }
    this.#next = best.index % n;
    return best.run(parts, cancel);
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.close()));
    // stragglers: anything still running (a restart racing close) is killed and reaped
    await Promise.all([...this.#spawned].map((w) => w.shutdown(0)));
  }
}
