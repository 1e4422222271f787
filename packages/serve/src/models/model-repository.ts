/**
 * The models a server holds, by name, each in a slot that says where its loading stands. The
 * server listens before models finish loading (so liveness answers at once); readiness and
 * predictions wait for `ready`.
 */
import { ModelRunner, type FlavorLogger, type FlavorRegistry, type WorkerPool } from '@mlmodel/flavors';
import type { ModelUriResolver } from '@mlmodel/format';
import { automaticBatching, configuredBatching, type BatchingSetting } from '../adaptive-batching/batching-choice.js';
import { ModelNotFoundError, ModelNotReadyError, ShuttingDownError } from '../errors.js';
import { ServedModel, type BatchObserver } from './served-model.js';

/** A model to serve, as the user configured it. */
export interface ServedModelConfig {
  /** Name in URLs (`/v2/models/{name}`); `/invocations` serves the first model. */
  readonly name: string;
  /** Version to answer to; when absent, versioned URLs are refused (the OIP rule for unversioned servers). */
  readonly version?: string;
  /** Model directory, its MLmodel file, a file:// URI, or a URI the server's resolver knows. */
  readonly path: string;
  /** Load with this flavor instead of the first native one that can. */
  readonly flavor?: string;
  /** Flavor load options (python interpreter, workers, env manager, onnx session options…); flavors check their own. */
  readonly options?: Readonly<Record<string, unknown>>;
  /**
   * Adaptive batching for this model: null or a maxBatchSize ≤ 1: off; a larger maxBatchSize: on;
   * no maxBatchSize (or no setting): on only when the model's rows are found to merge without
   * changing answers (adaptive-batching/batching-choice.ts).
   */
  readonly batching?: BatchingSetting;
}

export type ModelState = 'loading' | 'ready' | 'failed';

/** Where one model's loading stands. */
export type ModelSlot =
  | { readonly config: ServedModelConfig; readonly state: 'loading' }
  | { readonly config: ServedModelConfig; readonly state: 'ready'; readonly model: ServedModel }
  | { readonly config: ServedModelConfig; readonly state: 'failed'; readonly error: Error };

export type ReadySlot = Extract<ModelSlot, { state: 'ready' }>;

export interface LoadAllOptions {
  readonly logger: FlavorLogger;
  readonly observe?: BatchObserver;
  readonly resolver?: ModelUriResolver;
  /** Worker threads the models' runners use for large requests. */
  readonly workers?: WorkerPool;
}

export class ModelRepository {
  #slots: ModelSlot[];
  /** Set by closeAll: a model that finishes loading afterwards (shutdown during start-up) is closed at once. */
  #closed = false;

  constructor(configs: readonly ServedModelConfig[]) {
    if (configs.length === 0) throw new RangeError('a server needs at least one model');
    const names = new Set<string>();
    for (const c of configs) {
      if (names.has(c.name)) throw new RangeError(`model name '${c.name}' is given twice`);
      names.add(c.name);
    }
    this.#slots = configs.map((config) => ({ config, state: 'loading' }));
  }

  get slots(): readonly ModelSlot[] {
    return this.#slots;
  }

  /** The model `/invocations` serves: the first one given. */
  get defaultSlot(): ModelSlot {
    return this.#slots[0]!;
  }

  get allReady(): boolean {
    return this.#slots.every((s) => s.state === 'ready');
  }

  /** The slot for a name (and version, when the URL has one), or a 404 error. */
  find(name: string, version?: string): ModelSlot {
    const s = this.#slots.find((x) => x.config.name === name);
    if (!s) throw new ModelNotFoundError(name);
    if (version !== undefined && s.config.version !== version) throw new ModelNotFoundError(name, version);
    return s;
  }

  /** The loaded model of a slot, or a 503 error while it loads (or after it failed). */
  static ready(s: ModelSlot): ServedModel {
    if (s.state === 'ready') return s.model;
    throw new ModelNotReadyError(s.config.name, s.state === 'failed' ? 'failed to load' : 'is still loading');
  }

  /** Record that a model failed to load (its slot then answers 503). */
  markFailed(name: string, error: Error): void {
    this.#replace(name, (config) => ({ config, state: 'failed', error }));
  }

  #replace(name: string, next: (config: ServedModelConfig) => ModelSlot): void {
    this.#slots = this.#slots.map((s) => (s.config.name === name ? next(s.config) : s));
  }

  /** Load every model (in parallel) through the runner; rejects with the first load error after all settled. */
  async loadAll(registry: FlavorRegistry, opts: LoadAllOptions): Promise<void> {
    const results = await Promise.allSettled(
      this.#slots.map(async ({ config }) => {
        try {
          const runner = await ModelRunner.open(config.path, {
            registry,
            flavor: config.flavor,
            options: config.options,
            logger: opts.logger,
            resolver: opts.resolver,
            workers: opts.workers,
          });
          if (this.#closed) {
            await runner.close();
            throw new ShuttingDownError();
          }
          const configured = configuredBatching(config.batching);
          // automatic batching is decided once the model serves (its probe never delays readiness); never rejects
          const batching = configured === 'auto' ? automaticBatching(config.batching, runner, config.name, opts.logger, () => !this.#closed) : configured;
          const model = new ServedModel(config.name, config.version ?? null, runner, batching, opts.observe);
          this.#replace(config.name, (c) => ({ config: c, state: 'ready', model }));
        } catch (err) {
          this.markFailed(config.name, err as Error);
          throw err;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Close every loaded model. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#slots.flatMap((s) => (s.state === 'ready' ? [s.model.close()] : [])));
  }
}
