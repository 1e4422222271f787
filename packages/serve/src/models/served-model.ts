/**
 * One model as the server runs it: its runner (the model, its directory, its capabilities) and —
 * when batching is on — the adaptive batcher in front of it. `predict` is the server's single path
 * to a model; every route (MLflow, Open Inference Protocol, Arrow) goes through it after decoding.
 */
import type { ModelRunner, PreparedInput } from '@mlmodel/flavors';
import { batchRows, type ModelInput, type ModelSignature, type Prediction } from '@mlmodel/format';
import { AdaptiveBatcher, type BatchReport, type BatchingConfig, type Cancellation } from '../adaptive-batching/adaptive-batcher.js';

/** Receives one report per model call (metrics). */
export type BatchObserver = (model: string, report: BatchReport) => void;

export class ServedModel {
  #batcher: AdaptiveBatcher | null = null;
  /** Resolves once it is settled whether the model is batched (at once unless automatic batching is being decided). */
  readonly batchingSettled: Promise<void>;

  constructor(
    readonly name: string,
    /** The version served, when the user gave one (`--model name:version=PATH`). */
    readonly version: string | null,
    readonly runner: ModelRunner,
    /** The batching to use, or a decision still being made (automatic batching) that turns it on when it resolves to a config. */
    batching: BatchingConfig | null | Promise<BatchingConfig | null>,
    private readonly observe: BatchObserver = () => undefined,
  ) {
    if (batching instanceof Promise) this.batchingSettled = batching.then((b) => this.#batchWith(b));
    else {
      this.#batchWith(batching);
      this.batchingSettled = Promise.resolve();
    }
  }

  /** The adaptive batcher in front of the model, or null when each request is its own model call. */
  get batcher(): AdaptiveBatcher | null {
    return this.#batcher;
  }

  #batchWith(batching: BatchingConfig | null): void {
    if (!batching || batching.maxBatchSize <= 1) return;
    this.#batcher = new AdaptiveBatcher(
      // the batcher starts calls when their requests are gathered: the model may compute at once
      (b, p) => this.runner.predict({ input: b, params: p }, undefined, { now: true }),
      { ...batching, maxConcurrency: batching.maxConcurrency ?? this.runner.capabilities.maxConcurrency },
      (r) => this.observe(this.name, r),
    );
  }

  get signature(): ModelSignature | null {
    return this.runner.signature;
  }

  get flavor(): string {
    return this.runner.flavor;
  }

  /** Model calls worth running at once: the batcher's setting, else the model's own (Python workers). */
  get maxConcurrency(): number {
    return this.batcher?.options.maxConcurrency ?? this.runner.capabilities.maxConcurrency;
  }

  /**
   * Enforce the signature and params, then predict (through the batcher when there is one).
   * Input errors are thrown before the request joins a batch, so they never affect others.
   * `cancel` (the request's deadline, or an AbortSignal) drops the request if it is given up
   * before its model call starts.
   */
  async predict(input: ModelInput, params: Readonly<Record<string, unknown>> | null, cancel?: Cancellation): Promise<Prediction> {
    return this.run(this.runner.prepare(input, params), cancel);
  }

  /**
   * Predict an input the runner has prepared (`decodeAndPrepare`), through the batcher when there
   * is one — except inputs the runner moves to a worker thread, which run alone there and can be
   * stopped by `cancel`.
   */
  async run(prepared: PreparedInput, cancel?: Cancellation): Promise<Prediction> {
    if (this.batcher && prepared.input.kind !== 'json' && !this.runner.runsOffThread(prepared.input)) {
      return this.batcher.submit(prepared.input, prepared.params, cancel);
    }
    const rows = prepared.input.kind === 'json' ? 1 : batchRows(prepared.input);
    const started = performance.now();
    const out = await this.runner.predict(prepared, cancel);
    const seconds = (performance.now() - started) / 1000;
    this.observe(this.name, { requests: 1, rows, queueWaitSeconds: [0], computeSeconds: seconds });
    return out;
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
