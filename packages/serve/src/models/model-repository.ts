/**
 * The models a server holds, by name, with their load state. The server listens before models
 * finish loading (so liveness answers at once); readiness and predictions wait for `ready`.
 */
import { type FlavorLogger, type FlavorRegistry } from '@mlmodel/flavors';
import { openModelDir } from '@mlmodel/format';
import type { BatchingOptions } from '../batching/adaptive-batcher.js';
import { ModelNotFoundError, ModelNotReadyError, ShuttingDownError } from '../errors.js';
import { ServedModel, type BatchObserver } from './served-model.js';

export interface ModelSpec {
  /** Name in URLs (`/v2/models/{name}`, `/models/{name}/invocations`). */
  readonly name: string;
  /** Version to answer to; when absent, versioned URLs are refused (the OIP rule for unversioned servers). */
  readonly version?: string;
  /** Model directory, its MLmodel file, or a file:// URI. */
  readonly path: string;
  /** Load with this flavor instead of the first native one that can. */
  readonly flavor?: string;
  /** Flavor options (python interpreter, workers, env manager, onnx session options…). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Adaptive batching for this model; null or maxBatchSize ≤ 1: off. */
  readonly batching?: BatchingOptions | null;
}

export type ModelState = 'loading' | 'ready' | 'failed';

export interface ModelEntry {
  readonly spec: ModelSpec;
  state: ModelState;
  model: ServedModel | null;
  error: Error | null;
}

export class ModelRepository {
  readonly entries: readonly ModelEntry[];
  /** Set by closeAll: a model that finishes loading afterwards (shutdown during start-up) is closed at once. */
  private closed = false;

  constructor(specs: readonly ModelSpec[]) {
    if (specs.length === 0) throw new RangeError('a server needs at least one model');
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new RangeError(`model name '${s.name}' is given twice`);
      names.add(s.name);
    }
    this.entries = specs.map((spec) => ({ spec, state: 'loading', model: null, error: null }));
  }

  /** The model `/invocations` serves: the first one given. */
  get defaultEntry(): ModelEntry {
    return this.entries[0]!;
  }

  get allReady(): boolean {
    return this.entries.every((e) => e.state === 'ready');
  }

  /** The entry for a name (and version, when the URL has one), or a 404 error. */
  find(name: string, version?: string): ModelEntry {
    const e = this.entries.find((x) => x.spec.name === name);
    if (!e) throw new ModelNotFoundError(name);
    if (version !== undefined && e.spec.version !== version) throw new ModelNotFoundError(name, version);
    return e;
  }

  /** The loaded model of an entry, or a 503 error while it loads (or after it failed). */
  static ready(e: ModelEntry): ServedModel {
    if (e.model) return e.model;
    throw new ModelNotReadyError(e.spec.name, e.state === 'failed' ? 'failed to load' : 'is still loading');
  }

  /** Load every model (in parallel); rejects with the first load error after all settled. */
  async loadAll(registry: FlavorRegistry, logger: FlavorLogger, observe?: BatchObserver): Promise<void> {
    const results = await Promise.allSettled(
      this.entries.map(async (e) => {
        try {
          const dir = await openModelDir(e.spec.path);
          const loaded = await registry.load(dir, { logger, ...(e.spec.options ? { options: e.spec.options } : {}), ...(e.spec.flavor ? { flavor: e.spec.flavor } : {}) });
          if (this.closed) {
            await loaded.close();
            throw new ShuttingDownError();
          }
          e.model = new ServedModel(e.spec.name, e.spec.version ?? null, dir, loaded, e.spec.batching ?? null, observe);
          e.state = 'ready';
        } catch (err) {
          e.state = 'failed';
          e.error = err as Error;
          throw err;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Close every loaded model. */
  async closeAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.entries.map((e) => e.model?.close()));
  }
}
