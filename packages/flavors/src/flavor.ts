import type { FlavorConfig, ModelDir, ModelInput, ModelSignature, Prediction } from '@mlmodel/format';

/** Where a flavor's log lines go; defaults to nowhere. */
export interface FlavorLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** The logger used when none is given. */
export const silentLogger: FlavorLogger = { info: () => undefined, warn: () => undefined };

export interface LoadOptions {
  /** Flavor-specific options, e.g. onnx session options or the tfjs backend. */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly logger?: FlavorLogger;
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
  /** Facts worth showing to users (`mlmodel info`, logs): backend, providers, input/output names… */
  readonly details: Readonly<Record<string, unknown>>;
  /** True when predict accepts raw JSON input (`{kind: 'json'}`), e.g. js_function models. */
  readonly acceptsJson?: boolean;
  predict(input: ModelInput, params?: Readonly<Record<string, unknown>>): Promise<Prediction>;
  /** Release native resources. Idempotent. */
  close(): Promise<void>;
}

/** What a flavor's `save` produced inside the model directory. */
export interface SavedFlavor {
  /** Flavor blocks to put under `flavors:` (e.g. `onnx` and `python_function`). */
  readonly flavors: Record<string, FlavorConfig>;
  /** A signature inferred from the model, used when the user gave none. */
  readonly inferredSignature?: ModelSignature | null;
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
  /** Copy the model's files into `dir` (which exists and is empty) and describe them. */
  save?(input: SaveInput, dir: string): Promise<SavedFlavor>;
}
