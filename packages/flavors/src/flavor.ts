import type { FlavorConfig, ModelDir, ModelInput, ModelSignature, Prediction } from '@mlmodel/format';
import type { Cancellation } from './runner/cancellation.js';

/** Where a flavor's log lines go; defaults to nowhere. */
export interface FlavorLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** The logger used when none is given. */
export const silentLogger: FlavorLogger = { info: () => undefined, warn: () => undefined };

/**
 * Loads another model directory with the same registry and options (a js_function model's inner
 * ONNX or tfjs model). The registry puts one in every `LoadOptions` it passes to a flavor.
 */
export type InnerModelLoader = (path: string, options?: LoadOptions) => Promise<LoadedModel>;

export interface LoadOptions {
  /** Flavor-specific options, e.g. onnx session options or the Python worker count; each flavor checks its own (`Flavor.checkOptions`). */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly logger?: FlavorLogger;
  /** How to load inner models; set by `FlavorRegistry.load` (a flavor loaded directly has none unless given). */
  readonly loadModel?: InnerModelLoader;
}

/**
 * What a front end needs to know about a loaded model to call it well, typed (rather than read
 * out of `details`). A flavor states what differs from the defaults; the runner fills the rest.
 */
export interface ModelCapabilities {
  /**
   * How many predict calls the model runs at the same time to advantage: a python_function
   * model's worker-process count; 1 for in-process flavors (their calls share one thread).
   */
  readonly maxConcurrency: number;
  /** Whether predict takes raw JSON input (`{kind: 'json'}`): js_function models, type-hint Python models. */
  readonly acceptsJson: boolean;
  /** The signature came from Python type hints (`is_signature_from_type_hint`): JSON `inputs` is passed through raw. */
  readonly signatureFromTypeHint: boolean;
  /**
   * The model takes any number of rows along a first dimension shared by all its inputs and
   * outputs, so a server may merge requests into one call: the flavor's claim from the model's
   * declared shapes (onnx: every input and output has a variable first dimension, the rule by which
   * Triton turns on its dynamic batcher for ONNX models). A claim about shapes only: whether a
   * row's answer also stays the same in company is for the server to check (serve's batch probe).
   */
  readonly batchable: boolean;
}

/**
 * A model ready to predict (MLServer's runtime: load → predict → unload). `predict` receives a batch
 * that has already passed schema enforcement and params with defaults applied.
 */
export interface LoadedModel {
  /** The flavor that loaded it (its MLmodel key). */
  readonly flavor: string;
  /** The signature from the MLmodel file, or one inferred from the model itself. */
  readonly signature: ModelSignature | null;
  /** Facts worth showing to users (`mlmodel info`, logs): backend, providers, input/output names… Not read by code. */
  readonly details: Readonly<Record<string, unknown>>;
  /** What differs from the default capabilities (1 call at a time, no JSON input, no type hints). */
  readonly capabilities?: Partial<ModelCapabilities>;
  /**
   * Loading the model again in a worker thread (same directory, flavor and load options, plus
   * `options` here on top) gives an independent copy that predicts the same: the runner then runs
   * large calls on such a copy, off the calling thread (onnx). Leave unset for models with shared
   * or external state.
   */
  readonly offThreadCopies?: { readonly options?: Readonly<Record<string, unknown>> } | undefined;
  /**
   * Predict. `opts.cancel` says the caller gave up: a model that queues calls (python_function's
   * process pool) drops a call whose caller left before it started, with `PredictCancelledError`.
   */
  predict(input: ModelInput, params?: Readonly<Record<string, unknown>>, opts?: PredictOptions): Promise<Prediction>;
  /** Release native resources. Idempotent. */
  close(): Promise<void>;
}

/** Per-call options of `LoadedModel.predict`. */
export interface PredictOptions {
  readonly cancel?: Cancellation | undefined;
  /**
   * The caller has already waited for its turn (a batcher starting a call at the end of an
   * event-loop turn): an in-process model may compute within this call rather than defer it to a
   * later turn. A hint; flavors that always defer ignore it.
   */
  readonly now?: boolean | undefined;
}

/** What a flavor's `save` produced inside the model directory. */
export interface SavedFlavor {
  /** Flavor blocks to put under `flavors:` (e.g. `onnx` and `python_function`). */
  readonly flavors: Record<string, FlavorConfig>;
  /** A signature inferred from the model, used when the user gave none. */
  readonly inferredSignature?: ModelSignature | null;
}

/** What a flavor's `save` may use besides its input: a loader for the inner models it validates. */
export interface SaveContext {
  readonly loadModel?: InnerModelLoader;
}

/**
 * A command-line flag that sets one of a flavor's load options (`--python-workers 2` sets
 * `workers`). The CLI adds the flags the registry's flavors declare, so it knows no flavor's options.
 */
export interface LoadOptionFlag {
  /** The flag with its argument, as commander takes it: `--python-workers <n>`. */
  readonly flag: string;
  /** The `LoadOptions.options` key it sets. */
  readonly option: string;
  /** Help text; `{when}` is replaced by what the command does ("serving", "predicting"). */
  readonly description: string;
}

/**
 * A flavor plugin. Third-party flavors are npm packages whose default export (or `flavor` export)
 * is an object of this shape.
 */
export interface Flavor<SaveInput = never> {
  /** The key under `flavors:` in MLmodel this flavor reads and writes (e.g. `onnx`). */
  readonly name: string;
  /** Whether this flavor can load the model (usually: the MLmodel has a `flavors.<name>` block). */
  canLoad(model: ModelDir): boolean;
  load(model: ModelDir, options?: LoadOptions): Promise<LoadedModel>;
  /**
   * Check the load options this flavor reads before any model loads, so a typo fails at once
   * (values may be strings, as typed on a command line). Throws a `FlavorOptionError` naming the
   * option; keys it does not read belong to other flavors and are ignored.
   */
  checkOptions?(options: Readonly<Record<string, unknown>>): void;
  /** Command-line flags for some of its load options. */
  readonly optionFlags?: readonly LoadOptionFlag[];
  /**
   * True when its models predict inside the loading process (onnx, tfjs, js_function), with no
   * worker processes of their own: a server may then run one process per core, each with its own
   * copy. Unset: not known (python_function runs in Python workers; plugins may do anything).
   */
  readonly runsInProcess?: boolean;
  /** Copy the model's files into `dir` (which exists and is empty) and describe them. */
  save?(input: SaveInput, dir: string, context?: SaveContext): Promise<SavedFlavor>;
}
