/**
 * Adaptive (dynamic) batching, in the style of Triton's dynamic batcher: requests for one model
 * wait in a queue; whenever an execution slot is free the oldest request and every queued
 * request compatible with it (same layout, same params) are merged, up to `maxBatchSize` rows,
 * run as one model call and split back. Under light load a request waits at most `maxDelayMs`
 * for company (at 0, until the end of the current event-loop turn, so requests read together are
 * merged); under heavy load batches form while the model is busy, without added delay.
 *
 * A merged call that fails is retried request by request, so one bad request never fails its
 * neighbours. Predictions that are not row-aligned with their input are never split: such a
 * model is then run one request at a time.
 */
import { batchLayoutKey, batchRows, concatBatches, slicePrediction, type Batch, type Prediction } from '@mlmodel/format';
import type { Cancellation } from '@mlmodel/flavors';
import { QueueFullError, RequestAbortedError } from '../errors.js';

export interface BatchingOptions {
  /** Most rows merged into one model call (a single larger request still runs, alone). */
  readonly maxBatchSize: number;
  /** Longest a request waits for others when the model is idle, in ms (0: no wait beyond the current event-loop turn). */
  readonly maxBatchDelayMs: number;
  /** Most requests waiting; more get a 503 with Retry-After. */
  readonly maxQueueSize: number;
  /** Model calls run at once (e.g. the number of Python workers). */
  readonly maxConcurrency: number;
}

/** Batching as configured: the model's own `capabilities.maxConcurrency` fills a missing `maxConcurrency`. */
export type BatchingConfig = Omit<BatchingOptions, 'maxConcurrency'> & { readonly maxConcurrency?: number | undefined };

/** What the batcher reports after each model call (for metrics). */
export interface BatchReport {
  /** Requests merged into the call. */
  readonly requests: number;
  /** Rows in the call. */
  readonly rows: number;
  /** Time each request spent queued, in seconds. */
  readonly queueWaitSeconds: readonly number[];
  /** Model time, in seconds. */
  readonly computeSeconds: number;
}

export type RunBatch = (input: Batch, params: Readonly<Record<string, unknown>>) => Promise<Prediction>;

interface Pending {
  readonly input: Batch;
  readonly rows: number;
  readonly params: Readonly<Record<string, unknown>>;
  /** Requests with equal keys can share a model call; null: never merged. */
  readonly key: string | null;
  readonly enqueuedAt: number;
  readonly resolve: (p: Prediction) => void;
  readonly reject: (e: unknown) => void;
  readonly cancel: Cancellation | undefined;
}

/**
 * What tells the batcher a request was given up (its deadline passed): an AbortSignal or anything
 * with an `aborted` flag. Checked when the request would join a model call, so no listener is
 * registered per request (that costs more than a small request's model call).
 */
export type { Cancellation };

function paramsKey(params: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(params);
  if (keys.length === 0) return '';
  return JSON.stringify(
    keys.sort().map((k) => [k, params[k]]),
    (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
  );
}

export class AdaptiveBatcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  /** A call is set to start at the end of this event-loop turn (delay 0). */
  private gathering = false;
  readonly #endOfTurn = (): void => {
    this.gathering = false;
    if (this.running === 0 && this.queue.length > 0) {
      const group = this.takeGroup();
      if (group.length > 0) void this.dispatch(group);
    }
    this.schedule();
  };
  private rowsQueued = 0;
  /** Layout keys whose predictions turned out not to be row-aligned. */
  private readonly unsplittable = new Set<string>();

  constructor(
    private readonly run: RunBatch,
    readonly options: BatchingOptions,
    private readonly report: (r: BatchReport) => void = () => undefined,
  ) {}

  /** Predict one request's batch (already schema-enforced), possibly merged with others. */
  submit(input: Batch, params: Readonly<Record<string, unknown>>, cancel?: Cancellation): Promise<Prediction> {
    if (cancel?.aborted) return Promise.reject(new RequestAbortedError());
    if (this.queue.length >= this.options.maxQueueSize) return Promise.reject(new QueueFullError(this.queue.length));
    const layout = batchLayoutKey(input);
    const key = layout === null || this.unsplittable.has(layout) ? null : `${layout}\u0002${paramsKey(params)}`;
    return new Promise<Prediction>((resolve, reject) => {
      const entry: Pending = { input, rows: batchRows(input), params, key, enqueuedAt: performance.now(), resolve, reject, cancel };
      this.queue.push(entry);
      this.rowsQueued += entry.rows;
      this.schedule();
    });
  }

  /** Take a request out of the queue; false (and rejected) if it was given up meanwhile. */
  private remove(i: number): Pending | null {
    const [p] = this.queue.splice(i, 1);
    this.rowsQueued -= p!.rows;
    if (!p!.cancel?.aborted) return p!;
    p!.reject(new RequestAbortedError());
    return null;
  }

  private schedule(): void {
    while (this.running < this.options.maxConcurrency && this.queue.length > 0) {
      const oldest = this.queue[0]!;
      const waited = performance.now() - oldest.enqueuedAt;
      // wait for company only while the model is idle and the batch is not yet full
      const full = this.rowsQueued >= this.options.maxBatchSize;
      if (this.running === 0 && !full && this.options.maxBatchDelayMs === 0) {
        // no delay: still take every request of this event-loop turn (their bodies were read
        // from the same poll), by starting the call in the check phase right after it
        if (!this.gathering) {
          this.gathering = true;
          setImmediate(this.#endOfTurn);
        }
        return;
      }
      if (this.running === 0 && !full && waited < this.options.maxBatchDelayMs) {
        if (!this.timer) {
          this.timer = setTimeout(
            () => {
              this.timer = null;
              this.schedule();
            },
            Math.max(0, this.options.maxBatchDelayMs - waited),
          );
        }
        return;
      }
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      const group = this.takeGroup();
      if (group.length > 0) void this.dispatch(group);
    }
  }

  /** The oldest live request and the compatible live requests behind it, up to maxBatchSize rows (empty if all were given up). */
  private takeGroup(): Pending[] {
    let first: Pending | null = null;
    while (!first && this.queue.length > 0) first = this.remove(0);
    if (!first) return [];
    const group = [first];
    if (first.key === null) return group;
    let rows = first.rows;
    for (let i = 0; i < this.queue.length && rows < this.options.maxBatchSize;) {
      const p = this.queue[i]!;
      if (p.key === first.key && rows + p.rows <= this.options.maxBatchSize) {
        const taken = this.remove(i);
        if (taken) {
          group.push(taken);
          rows += taken.rows;
        }
      } else i++;
    }
    return group;
  }

  private async dispatch(group: Pending[]): Promise<void> {
    this.running++;
    const started = performance.now();
    try {
      if (group.length === 1) await this.runOne(group[0]!, started);
      else await this.runMerged(group, started);
    } finally {
      this.running--;
      this.schedule();
    }
  }

  private async runOne(p: Pending, started: number): Promise<void> {
    try {
      const out = await this.run(p.input, p.params);
      this.emit([p], p.rows, started);
      p.resolve(out);
    } catch (e) {
      p.reject(e);
    }
  }

  private async runMerged(group: Pending[], started: number): Promise<void> {
    let total = 0;
    for (const p of group) total += p.rows;
    let out: Prediction;
    try {
      out = await this.run(concatBatches(group.map((p) => p.input)), group[0]!.params);
    } catch {
      // isolate the failure: each request gets its own outcome
      for (const p of group) await this.runOne(p, performance.now());
      return;
    }
    const parts: Prediction[] = [];
    let start = 0;
    for (const p of group) {
      const part = slicePrediction(out, total, start, start + p.rows);
      if (!part) {
        this.unsplittable.add(batchLayoutKey(group[0]!.input)!);
        for (const q of group) await this.runOne(q, performance.now());
        return;
      }
      parts.push(part);
      start += p.rows;
    }
    this.emit(group, total, started);
    group.forEach((p, i) => p.resolve(parts[i]!));
  }

  private emit(group: readonly Pending[], rows: number, started: number): void {
    const now = performance.now();
    this.report({
      requests: group.length,
      rows,
      queueWaitSeconds: group.map((p) => (started - p.enqueuedAt) / 1000),
      computeSeconds: (now - started) / 1000,
    });
  }
}
