/**
 * Where chunks are scored:
 *
 * - `ThreadScorer` — flavors that predict in process (onnx, tfjs, js_function): a piscina pool of
 *   worker threads, each with its own copy of the model, one chunk at a time per thread. onnx gets
 *   one intra-op thread per worker unless the user or the MLmodel says otherwise.
 * - `MainScorer` — every other flavor (python_function owns a pool of Python processes): the model
 *   is loaded once, here, and called with as many chunks in flight as it can run at once
 *   (`capabilities.maxConcurrency`: the Python worker count).
 */
import { ModelRunner, fromWire, type FlavorLogger, type FlavorRegistry, type ModelCapabilities } from '@mlmodel/flavors';
import { batchRows, batchToTransferable, batchTransferList, type Batch, type ModelDir, type ModelSignature, type TransferableBatch } from '@mlmodel/format';
import { Piscina } from 'piscina';
import { BatchCancelledError, BatchScoringError, type ErrorInfo } from './errors.js';
import { scoreChunk, type ChunkSettings, type RangeOutcome } from './score-chunk.js';
import { workerFile } from './worker-file.js';
import type { DescribeReply, ScoreReply, ScoreTask, WorkerSetup } from './worker.js';

export interface Scorer {
  readonly mode: 'threads' | 'main';
  /** Model calls that can run at once. */
  readonly parallelism: number;
  readonly flavor: string;
  readonly signature: ModelSignature | null;
  readonly capabilities: ModelCapabilities;
  /** Calls running now. */
  readonly busy: number;
  /**
   * Score a chunk (`input`: the model's columns). `kept` are the columns the caller keeps for the
   * output: their buffers stay usable here (copied to a worker, not moved). Resolves with the
   * chunk's ranges; rejects only when the run cannot go on (the model cannot be loaded, the run
   * was cancelled).
   */
  score(input: Batch, kept: Batch | null, settings: ChunkSettings, signal: AbortSignal): Promise<RangeOutcome[]>;
  close(): Promise<void>;
}

/** The error that stops a run when a model cannot be loaded (one line for users, as the loader worded it). */
function loadError(info: ErrorInfo): BatchScoringError {
  return new BatchScoringError(info.message, info.errorCode ?? 'INVALID_PARAMETER_VALUE', { userError: info.userError ?? true });
}

/** Each thread's describe (answered once its model is loaded). */
function allLoaded(pool: Piscina, threads: number): Promise<DescribeReply[]> {
  return Promise.all(Array.from({ length: threads }, () => pool.run(undefined, { name: 'describe' }) as Promise<DescribeReply>));
}

export interface ThreadScorerOptions {
  readonly dir: ModelDir;
  readonly flavor: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly plugins: readonly string[];
  readonly workers: number;
  readonly logger: FlavorLogger;
}

export class ThreadScorer implements Scorer {
  readonly mode = 'threads';
  /** Chunks handed to piscina: at most one per thread, so piscina never queues one (see `close`). */
  #running = 0;
  /** Chunks waiting for a thread, in order. */
  readonly #waiting: { resolve: () => void; reject: () => void }[] = [];
  /** The model calls handed to piscina and not yet settled. */
  readonly #calls = new Set<Promise<unknown>>();
  #closing = false;
  #crashes = 0;

  private constructor(
    private readonly pool: Piscina,
    readonly parallelism: number,
    readonly flavor: string,
    readonly signature: ModelSignature | null,
    readonly capabilities: ModelCapabilities,
  ) {}

  get busy(): number {
    return this.#running;
  }

  /** Wait for a free thread (at once when there is one); rejects when the scorer closes first. */
  #takeThread(): Promise<void> {
    if (this.#running < this.parallelism) {
      this.#running++;
      return Promise.resolve();
    }
    // the thread is handed over by `#freeThread`, already counted
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #freeThread(): void {
    const next = this.#waiting.shift();
    if (next) next.resolve();
    else this.#running--;
  }

  /** Start the threads (each loads the model as it starts) and wait until every one has loaded it. */
  static async start(o: ThreadScorerOptions): Promise<ThreadScorer> {
    const setup: WorkerSetup = { modelDir: o.dir.dir, flavor: o.flavor, options: o.options, plugins: o.plugins, cwd: process.cwd() };
    const pool = new Piscina({
      filename: workerFile('worker'),
      minThreads: o.workers,
      maxThreads: o.workers,
      idleTimeout: 60_000,
      // close() waits this long for the running chunks (see close)
      closeTimeout: 600_000,
      concurrentTasksPerWorker: 1,
      // tasks are large and few: no busy-waiting threads between them
      atomics: 'disabled',
      workerData: setup,
    });
    pool.on('error', (e: unknown) => o.logger.warn(`batch worker thread error: ${e instanceof Error ? e.message : String(e)}`));
    // one describe per thread (each takes one task at a time): it answers once that thread has
    // loaded the model, so no thread is still loading when the pool is closed (see `close`)
    let replies: DescribeReply[];
    try {
      replies = await allLoaded(pool, o.workers);
    } catch (e) {
      await pool.close({ force: true });
      const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? ' (the workers run the built packages: run npm run build)' : '';
      throw new BatchScoringError(`a batch worker thread failed to start: ${(e as Error).message}${missing}`, 'INTERNAL_ERROR', { userError: false });
    }
    const failed = replies.find((r) => !r.ok);
    if (failed && !failed.ok) {
      await pool.close({ force: true });
      throw loadError(failed.loadError);
    }
    const reply = replies[0] as Extract<DescribeReply, { ok: true }>;
    for (const line of reply.log) o.logger.info(line);
    return new ThreadScorer(pool, o.workers, reply.flavor, reply.signature, reply.capabilities);
  }

  async score(input: Batch, kept: Batch | null, settings: ChunkSettings, signal: AbortSignal): Promise<RangeOutcome[]> {
    if (signal.aborted) throw new BatchCancelledError(signal.reason);
    const wire: TransferableBatch = batchToTransferable(input);
    // buffers the kept columns use stay here (the worker gets a copy of them); the others move
    const keep = new Set(kept ? batchTransferList(kept) : []);
    const transferList = batchTransferList(wire).filter((b) => !keep.has(b));
    const rows = batchRows(input);
    const task: ScoreTask = { input: wire, settings };
    try {
      await this.#takeThread();
    } catch {
      throw new BatchCancelledError(signal.reason);
    }
    let reply: ScoreReply;
    try {
      if (signal.aborted || this.#closing) throw new BatchCancelledError(signal.reason);
      // no abort signal for piscina: it would terminate a thread in the middle of a model call (see `close`)
      const call = this.pool.run(task, { transferList });
      this.#calls.add(call);
      const settled = (): boolean => this.#calls.delete(call);
      call.then(settled, settled);
      reply = (await call) as ScoreReply;
    } catch (e) {
      if (signal.aborted || this.#closing) throw new BatchCancelledError(signal.reason);
      // the thread died (out of memory, process.exit, a crash in native code): these rows fail; piscina starts a new thread
      this.#crashes++;
      const message = `a worker thread stopped while scoring these rows: ${(e as Error).message}`;
      return [{ start: 0, end: rows, error: { name: 'WorkerCrashedError', message, errorCode: 'TEMPORARILY_UNAVAILABLE' } }];
    } finally {
      this.#freeThread();
    }
    if (!reply.ok) throw loadError(reply.loadError);
    return reply.outcomes.map((o) => ('prediction' in o ? { start: o.start, end: o.end, prediction: fromWire(o.prediction) as Batch } : o));
  }

  /**
   * Drop the chunks not started, let the running ones finish, then stop the threads. A thread is
   * never terminated in the middle of a model call: onnxruntime-node aborts the whole process
   * (`terminate called after throwing an instance of 'Napi::Error'`) when a run it started in a
   * terminated thread completes (or fails at once with `FATAL ERROR: Error::Error
   * napi_define_properties`). A chunk is one model call, so this waits for seconds at most. The
   * waiting is done here: piscina 5.3's `close` counts a worker as done once per task-done
   * listener, so with every thread busy it stops them all as soon as one chunk ends.
   */
  async close(): Promise<void> {
    this.#closing = true;
    for (const w of this.#waiting.splice(0)) w.reject();
    await Promise.allSettled([...this.#calls]);
    // a thread started in place of one that died may still be loading the model
    if (this.#crashes > 0) await allLoaded(this.pool, this.parallelism).catch(() => undefined);
    await this.pool.close({ force: true });
  }
}

export interface MainScorerOptions {
  readonly dir: ModelDir;
  readonly registry: FlavorRegistry;
  readonly flavor: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly logger: FlavorLogger;
}

export class MainScorer implements Scorer {
  readonly mode = 'main';
  #busy = 0;

  private constructor(private readonly runner: ModelRunner) {}

  static async start(o: MainScorerOptions): Promise<MainScorer> {
    return new MainScorer(await ModelRunner.open(o.dir, { registry: o.registry, flavor: o.flavor, options: o.options, logger: o.logger }));
  }

  get parallelism(): number {
    return this.runner.capabilities.maxConcurrency;
  }

  get flavor(): string {
    return this.runner.flavor;
  }

  get signature(): ModelSignature | null {
    return this.runner.signature;
  }

  get capabilities(): ModelCapabilities {
    return this.runner.capabilities;
  }

  get busy(): number {
    return Math.min(this.#busy, this.parallelism);
  }

  async score(input: Batch, _kept: Batch | null, settings: ChunkSettings, signal: AbortSignal): Promise<RangeOutcome[]> {
    if (signal.aborted) throw new BatchCancelledError(signal.reason);
    this.#busy++;
    try {
      return await scoreChunk(this.runner, input, settings);
    } finally {
      this.#busy--;
    }
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
