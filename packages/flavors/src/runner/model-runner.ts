/**
 * The model runner: the one way every front end (CLI predict, build's example check, the server's
 * routes, the batch scorer, images) reaches a model. Open a source (a directory, its MLmodel file,
 * a `file:` URI, or a remote URI through a resolver), load it with the registry, then
 *
 *   decode (bytes → input, params) → prepare (signature, params) → predict → encode → close.
 *
 * Protocol-neutral like MLServer's data plane: HTTP routes, files and the CLI call the same steps.
 * Facts a front end needs about the model (`capabilities`) are read once, here.
 *
 * Given a `WorkerPool` (`workers`), large work leaves the calling thread: `decodeAndPrepare` of a
 * body of at least `pool.minBodyBytes` runs the same decode and prepare in a worker, `predict` of an
 * input of at least `pool.minPredictElements` elements runs on a worker's copy of the model (for
 * flavors whose models allow copies, `LoadedModel.offThreadCopies`), and `encodeChunked` encodes
 * large JSON answers in pieces that yield to the event loop. Small requests take none of these hops.
 */
import {
  CONTENT_TYPE_JSON,
  MlmodelError,
  openModelDir,
  type ModelDir,
  type ModelInput,
  type ModelSignature,
  type ModelUriResolver,
  type Prediction,
  type ScoringFormat,
} from '@mlmodel/format';
import type { FlavorLogger, LoadedModel, ModelCapabilities, PredictOptions } from '../flavor.js';
import type { FlavorRegistry } from '../registry.js';
import { PredictCancelledError, type Cancellation } from './cancellation.js';
import { decodeRequest, type DecodeLimits, type DecodedRequest } from './decode.js';
import {
  encodePrediction,
  encodePredictionChunked,
  isLargeJsonAnswer,
  type ChunkedEncodeOptions,
  type ChunkedPrediction,
  type EncodedPrediction,
  type EncodeOptions,
} from './encode.js';
import type { DecodedWire, DecodeTaskArgs, EncodeTaskArgs, ModelSource, PredictTaskArgs } from './off-thread-tasks.js';
import { prepareInput, type PreparedInput } from './prepare.js';
import { fromWire, inputElements, modelKey, ownedBytes, toWire, type WireValue } from './wire.js';
import type { WorkerPool } from './worker-pool.js';

export type { Cancellation } from './cancellation.js';

/** The module whose functions the pool's workers run for the runner. */
const TASKS = new URL(import.meta.url.endsWith('.ts') ? './off-thread-tasks.ts' : './off-thread-tasks.js', import.meta.url);

/** Where a model comes from and how to load it. */
export interface OpenModelOptions {
  /** The registry whose flavors load the model (`createRegistry()` for the built-in ones and plugins). */
  readonly registry: FlavorRegistry;
  /** Load with this flavor instead of the first one that can (`--flavor`). */
  readonly flavor?: string | undefined;
  /** Flavor load options (onnx session options, Python workers…); flavors check their own. */
  readonly options?: Readonly<Record<string, unknown>> | undefined;
  readonly logger?: FlavorLogger | undefined;
  /** Turns `runs:/`, `models:/` and other remote URIs into local directories (the tracking client's). */
  readonly resolver?: ModelUriResolver | undefined;
  /** Worker threads for large requests (shared by the runners of a server); none: everything runs on the calling thread. */
  readonly workers?: WorkerPool | undefined;
}

/** A decoded, predicted and encoded request. */
export interface ScoredRequest extends EncodedPrediction {
  readonly prediction: Prediction;
  readonly request: DecodedRequest;
}

export interface ScoreOptions extends EncodeOptions {
  readonly limits?: DecodeLimits | undefined;
  readonly cancel?: Cancellation | undefined;
}

export interface DecodeAndPrepareOptions {
  readonly limits?: DecodeLimits | undefined;
  /** Stop when this fires (a body in a worker: the worker is stopped at once). */
  readonly cancel?: Cancellation | undefined;
  /** A large body may move to the worker instead of being copied: the caller's `body` is then unusable (default false). */
  readonly transferBody?: boolean | undefined;
}

/** A request decoded and prepared: ready for `predict` (or a batcher). */
export interface PreparedRequest {
  readonly prepared: PreparedInput;
  readonly format: ScoringFormat;
}

/** The capabilities of a loaded model: the flavor's, completed with defaults and the MLmodel's facts. */
function capabilitiesOf(dir: ModelDir, model: LoadedModel): ModelCapabilities {
  const c = model.capabilities ?? {};
  const maxConcurrency = typeof c.maxConcurrency === 'number' && Number.isInteger(c.maxConcurrency) && c.maxConcurrency >= 1 ? c.maxConcurrency : 1;
  return {
    maxConcurrency,
    acceptsJson: c.acceptsJson ?? false,
    signatureFromTypeHint: c.signatureFromTypeHint ?? dir.mlmodel.is_signature_from_type_hint === true,
    batchable: c.batchable ?? false,
  };
}

export class ModelRunner {
  readonly capabilities: ModelCapabilities;
  #closing: Promise<void> | null = null;
  readonly #workers: WorkerPool | null;
  /** Where a worker loads its own copy from, when the model allows copies and the runner knows how it was loaded. */
  readonly #source: ModelSource | null;

  private constructor(
    /** The model directory on disk and its MLmodel. */
    readonly dir: ModelDir,
    /** The flavor's loaded model. */
    readonly model: LoadedModel,
    workers: WorkerPool | null = null,
    options?: Readonly<Record<string, unknown>>,
  ) {
    this.capabilities = capabilitiesOf(dir, model);
    this.#workers = workers;
    const copies = model.offThreadCopies;
    this.#source = workers && copies && options !== undefined ? { dir: dir.dir, flavor: model.flavor, options: { ...options, ...copies.options } } : null;
  }

  /** Open and load a model. `source` is a path, an MLmodel file, a `file:` URI, a URI the resolver knows, or an opened directory. */
  static async open(source: string | ModelDir, opts: OpenModelOptions): Promise<ModelRunner> {
    const dir = typeof source === 'string' ? await openModelDir(source, { resolver: opts.resolver }) : source;
    const model = await opts.registry.load(dir, {
      ...(opts.flavor ? { flavor: opts.flavor } : {}),
      ...(opts.options ? { options: opts.options } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    return new ModelRunner(dir, model, opts.workers ?? null, opts.options ?? {});
  }

  /** A runner over a model that is already loaded (tests, benchmarks, embedders with their own loading); `workers` decode and encode large requests, never predict. */
  static fromLoaded(dir: ModelDir, model: LoadedModel, workers?: WorkerPool): ModelRunner {
    return new ModelRunner(dir, model, workers ?? null);
  }

  get flavor(): string {
    return this.model.flavor;
  }

  get signature(): ModelSignature | null {
    return this.model.signature;
  }

  /** Request bytes → input and params (MLflow's scoring protocol: JSON forms, CSV, Parquet, Arrow). */
  decode(body: Uint8Array, contentType: string | undefined | null, limits: DecodeLimits = {}): Promise<DecodedRequest> {
    return decodeRequest({ signature: this.signature, signatureFromTypeHint: this.capabilities.signatureFromTypeHint }, body, contentType, limits);
  }

  /**
   * `decode` then `prepare`, in a worker thread when the runner has workers and the body is large
   * (the same code either way): the user's errors come back the same.
   */
  async decodeAndPrepare(body: Uint8Array, contentType: string | undefined | null, opts: DecodeAndPrepareOptions = {}): Promise<PreparedRequest> {
    const pool = this.#workers;
    if (pool === null || body.byteLength < pool.minBodyBytes) {
      const request = await this.decode(body, contentType, opts.limits);
      return { prepared: this.prepare(request.input, request.params), format: request.format };
    }
    const bytes = opts.transferBody ? ownedBytes(body) : body.slice();
    const args: DecodeTaskArgs = {
      body: bytes,
      contentType,
      limits: opts.limits ?? {},
      target: {
        flavor: this.flavor,
        signature: this.signature,
        signatureFromTypeHint: this.capabilities.signatureFromTypeHint,
        acceptsJson: this.capabilities.acceptsJson,
      },
    };
    const out = await pool.run<DecodedWire>({ module: TASKS, fn: 'decodeAndPrepare', args, transfer: [bytes.buffer as ArrayBuffer] }, opts.cancel);
    return { prepared: { input: fromWire(out.input), params: out.params }, format: out.format };
  }

  /** Whether `predict` would run this input on a worker's copy of the model (a large input, a model that allows copies). */
  runsOffThread(input: ModelInput): boolean {
    return this.#source !== null && input.kind !== 'json' && inputElements(input) >= this.#workers!.minPredictElements;
  }

  /** Enforce the signature and complete the params. Throws the user's error; call before queueing, so a bad input never reaches a shared model call. */
  prepare(input: ModelInput, params: Readonly<Record<string, unknown>> | null | undefined): PreparedInput {
    return prepareInput({ flavor: this.flavor, signature: this.signature, acceptsJson: this.capabilities.acceptsJson }, input, params);
  }

  /**
   * Call the model with a prepared input; refused if `cancel` says the caller already gave up. A
   * large input runs on a worker's copy of the model (`runsOffThread`): its buffers move there, so
   * the caller's input is unusable afterwards, and `cancel` stops that worker at once.
   */
  async predict(prepared: PreparedInput, cancel?: Cancellation, opts?: Omit<PredictOptions, 'cancel'>): Promise<Prediction> {
    if (cancel?.aborted) throw new PredictCancelledError();
    if (this.#closing) throw new MlmodelError(`the ${this.flavor} model at ${this.dir.dir} is closed`, 'INTERNAL_ERROR', { userError: false });
    if (this.runsOffThread(prepared.input)) {
      const { value, transfer } = toWire(prepared.input);
      const args: PredictTaskArgs = { model: this.#source!, input: value, params: prepared.params };
      // a model call in onnxruntime cannot be torn down (terminating its thread aborts the process): it finishes, its result is dropped
      return fromWire(await this.#workers!.run<WireValue>({ module: TASKS, fn: 'predict', args, transfer, interruptible: false }, cancel)) as Prediction;
    }
    // the model may drop the call while it waits for a free worker (python_function's process pool)
    return cancel || opts?.now
      ? this.model.predict(prepared.input, prepared.params, { cancel, now: opts?.now })
      : this.model.predict(prepared.input, prepared.params);
  }

  /** Prediction → response bytes (JSON, or Arrow IPC when `accept` prefers it). */
  encode(prediction: Prediction, opts: EncodeOptions = {}): Promise<EncodedPrediction> {
    return encodePrediction(prediction, opts);
  }

  /**
   * Like `encode`, for answers that may be large: a large JSON prediction comes in a few large
   * Buffers, encoded in a worker thread (its buffers move there: the prediction is unusable
   * afterwards), or here in slices that let the event loop run when the runner has no workers.
   */
  async encodeChunked(prediction: Prediction, opts: ChunkedEncodeOptions = {}): Promise<ChunkedPrediction> {
    if (this.#workers === null || !isLargeJsonAnswer(prediction, opts)) return encodePredictionChunked(prediction, opts);
    const { value, transfer } = toWire(prediction);
    const args: EncodeTaskArgs = { prediction: value, unwrapped: opts.unwrapped ?? false };
    const chunks = await this.#workers.run<Uint8Array[]>({ module: TASKS, fn: 'encode', args, transfer }, opts.cancel);
    return { chunks, contentType: CONTENT_TYPE_JSON };
  }

  /** decode → prepare → predict → encode, for front ends that need no step in between (CLI predict). */
  async score(body: Uint8Array, contentType: string | undefined | null, opts: ScoreOptions = {}): Promise<ScoredRequest> {
    const request = await this.decode(body, contentType, opts.limits);
    const prediction = await this.predict(this.prepare(request.input, request.params), opts.cancel);
    const encoded = await this.encode(prediction, { accept: opts.accept, unwrapped: opts.unwrapped ?? request.format === 'llm' });
    return { ...encoded, prediction, request };
  }

  /** Release the model (native sessions, Python workers, the workers' copies). Idempotent. */
  close(): Promise<void> {
    if (this.#closing === null && this.#source !== null) {
      this.#workers!.broadcast({ module: TASKS, fn: 'closeModel', args: { key: modelKey(this.#source) } });
    }
    this.#closing ??= this.model.close();
    return this.#closing;
  }
}
