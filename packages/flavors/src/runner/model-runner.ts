/**
 * The model runner: the one way every front end (CLI predict, build's example check, the server's
 * routes, the batch scorer, images) reaches a model. Open a source (a directory, its MLmodel file,
 * a `file:` URI, or a remote URI through a resolver), load it with the registry, then
 *
 *   decode (bytes → input, params) → prepare (signature, params) → predict → encode → close.
 *
 * Protocol-neutral like MLServer's data plane: HTTP routes, files and the CLI call the same steps.
 * Facts a front end needs about the model (`capabilities`) are read once, here.
 */
import { MlmodelError, openModelDir, type ModelDir, type ModelInput, type ModelSignature, type ModelUriResolver, type Prediction } from '@mlmodel/format';
import type { FlavorLogger, LoadedModel, ModelCapabilities } from '../flavor.js';
import type { FlavorRegistry } from '../registry.js';
import { decodeRequest, type DecodeLimits, type DecodedRequest } from './decode.js';
import { encodePrediction, type EncodedPrediction, type EncodeOptions } from './encode.js';
import { prepareInput, type PreparedInput } from './prepare.js';

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
}

/** Something that says a caller gave up: an AbortSignal, or anything with an `aborted` flag. */
export interface Cancellation {
  readonly aborted: boolean;
}

/** The caller gave up (its deadline passed, its client left) before the model was called. */
export class PredictCancelledError extends MlmodelError {
  constructor() {
    super('The request was cancelled before it reached the model.', 'CANCELLED');
  }
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

const DEFAULT_CAPABILITIES: ModelCapabilities = { maxConcurrency: 1, acceptsJson: false, signatureFromTypeHint: false };

/** The capabilities of a loaded model: the flavor's, completed with defaults and the MLmodel's facts. */
function capabilitiesOf(dir: ModelDir, model: LoadedModel): ModelCapabilities {
  const c = model.capabilities ?? {};
  const maxConcurrency = typeof c.maxConcurrency === 'number' && Number.isInteger(c.maxConcurrency) && c.maxConcurrency >= 1 ? c.maxConcurrency : 1;
  return {
    maxConcurrency,
    acceptsJson: c.acceptsJson ?? DEFAULT_CAPABILITIES.acceptsJson,
    signatureFromTypeHint: c.signatureFromTypeHint ?? dir.mlmodel.is_signature_from_type_hint === true,
  };
}

export class ModelRunner {
  readonly capabilities: ModelCapabilities;
  #closing: Promise<void> | null = null;

  private constructor(
    /** The model directory on disk and its MLmodel. */
    readonly dir: ModelDir,
    /** The flavor's loaded model. */
    readonly model: LoadedModel,
  ) {
    this.capabilities = capabilitiesOf(dir, model);
  }

  /** Open and load a model. `source` is a path, an MLmodel file, a `file:` URI, a URI the resolver knows, or an opened directory. */
  static async open(source: string | ModelDir, opts: OpenModelOptions): Promise<ModelRunner> {
    const dir = typeof source === 'string' ? await openModelDir(source, { resolver: opts.resolver }) : source;
    const model = await opts.registry.load(dir, {
      ...(opts.flavor ? { flavor: opts.flavor } : {}),
      ...(opts.options ? { options: opts.options } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    return new ModelRunner(dir, model);
  }

  /** A runner over a model that is already loaded (tests, benchmarks, embedders with their own loading). */
  static fromLoaded(dir: ModelDir, model: LoadedModel): ModelRunner {
    return new ModelRunner(dir, model);
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

  /** Enforce the signature and complete the params. Throws the user's error; call before queueing, so a bad input never reaches a shared model call. */
  prepare(input: ModelInput, params: Readonly<Record<string, unknown>> | null | undefined): PreparedInput {
    return prepareInput({ flavor: this.flavor, signature: this.signature, acceptsJson: this.capabilities.acceptsJson }, input, params);
  }

  /** Call the model with a prepared input; refused if `cancel` says the caller already gave up. */
  async predict(prepared: PreparedInput, cancel?: Cancellation): Promise<Prediction> {
    if (cancel?.aborted) throw new PredictCancelledError();
    if (this.#closing) throw new MlmodelError(`the ${this.flavor} model at ${this.dir.dir} is closed`, 'INTERNAL_ERROR', { userError: false });
    return this.model.predict(prepared.input, prepared.params);
  }

  /** Prediction → response bytes (JSON, or Arrow IPC when `accept` prefers it). */
  encode(prediction: Prediction, opts: EncodeOptions = {}): Promise<EncodedPrediction> {
    return encodePrediction(prediction, opts);
  }

  /** decode → prepare → predict → encode, for front ends that need no step in between (CLI predict). */
  async score(body: Uint8Array, contentType: string | undefined | null, opts: ScoreOptions = {}): Promise<ScoredRequest> {
    const request = await this.decode(body, contentType, opts.limits);
    const prediction = await this.predict(this.prepare(request.input, request.params), opts.cancel);
    const encoded = await this.encode(prediction, { accept: opts.accept, unwrapped: opts.unwrapped ?? request.format === 'llm' });
    return { ...encoded, prediction, request };
  }

  /** Release the model (native sessions, Python workers). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.model.close();
    return this.#closing;
  }
}
