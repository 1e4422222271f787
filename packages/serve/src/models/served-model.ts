/**
 * One model as the server runs it: the loaded model, its directory, and — when batching is on —
 * the adaptive batcher in front of it. `predict` is the server's single path to a model; every
 * route (MLflow, Open Inference Protocol, Arrow) goes through it after parsing.
 */
import { prepareInput, type LoadedModel } from '@mlmodel/flavors';
import { batchRows, type ModelDir, type ModelInput, type Prediction } from '@mlmodel/format';
import { AdaptiveBatcher, type BatchReport, type BatchingOptions, type Cancellation } from '../batching/adaptive-batcher.js';
import { RequestAbortedError } from '../errors.js';

/** Receives one report per model call (metrics). */
export type BatchObserver = (model: string, report: BatchReport) => void;

export class ServedModel {
  readonly batcher: AdaptiveBatcher | null;

  constructor(
    readonly name: string,
    /** The version served, when the user gave one (`--model name:version=PATH`). */
    readonly version: string | null,
    readonly dir: ModelDir,
    readonly model: LoadedModel,
    batching: BatchingOptions | null,
    private readonly observe: BatchObserver = () => undefined,
  ) {
    this.batcher = batching && batching.maxBatchSize > 1 ? new AdaptiveBatcher((b, p) => model.predict(b, p), batching, (r) => observe(name, r)) : null;
  }

  /**
   * Enforce the signature and params, then predict (through the batcher when there is one).
   * Input errors are thrown before the request joins a batch, so they never affect others.
   * `cancel` (the request's deadline, or an AbortSignal) drops the request if it is given up
   * before its model call starts.
   */
  async predict(input: ModelInput, params: Readonly<Record<string, unknown>> | null, cancel?: Cancellation): Promise<Prediction> {
    const prepared = prepareInput(this.model, input, params);
    if (this.batcher && prepared.input.kind !== 'json') return this.batcher.submit(prepared.input, prepared.params, cancel);
    if (cancel?.aborted) throw new RequestAbortedError();
    const started = performance.now();
    const out = await this.model.predict(prepared.input, prepared.params);
    const seconds = (performance.now() - started) / 1000;
    this.observe(this.name, { requests: 1, rows: prepared.input.kind === 'json' ? 1 : batchRows(prepared.input), queueWaitSeconds: [0], computeSeconds: seconds });
    return out;
  }

  /** True when the MLmodel says the signature came from type hints (JSON `inputs` passes raw). */
  get signatureFromTypeHint(): boolean {
    return this.dir.mlmodel.is_signature_from_type_hint === true;
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
