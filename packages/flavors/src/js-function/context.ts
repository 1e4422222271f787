import { stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import {
  BinaryArray,
  Utf8Array,
  batchToRecords,
  columnBatch,
  columnFromValues,
  columnValue,
  findColumn,
  tensor,
  tensorBatch,
  tensorFromNested,
  tensorToNested,
  valueAt,
} from '@mlmodel/format';
import { silentLogger, type FlavorLogger, type InnerModelLoader, type LoadedModel, type LoadOptions } from '../flavor.js';
import { JsFunctionError, thrownMessage } from './errors.js';

/** The loader for one load: the `loadModel` the registry (or the caller) put in the load options. */
export function innerLoaderFor(options: LoadOptions | undefined): InnerModelLoader | null {
  const loader = options?.loadModel;
  if (loader === undefined) return null;
  if (typeof loader !== 'function') {
    throw new JsFunctionError(`load option 'loadModel' must be a function (path, options) => Promise<LoadedModel>, got a ${typeof loader}`);
  }
  return loader;
}

/**
 * Builders and readers for the in-memory batch, from `@mlmodel/format`. A saved model's code runs
 * from the model directory, where `@mlmodel/format` usually cannot be imported, so the context
 * hands them over.
 */
export const batchHelpers = Object.freeze({
  columnFromValues,
  columnBatch,
  columnValue,
  findColumn,
  batchToRecords,
  tensor,
  tensorBatch,
  tensorFromNested,
  tensorToNested,
  valueAt,
  Utf8Array,
  BinaryArray,
});

/** What a model module's `load(context)` receives. */
export interface JsModelContext {
  /** Absolute paths of the model's artifacts (files or directories) by name. */
  readonly artifacts: Readonly<Record<string, string>>;
  /** Absolute path of the model directory. */
  readonly modelDir: string;
  /** The flavor's `config` (MLflow's model_config), merged with `options.modelConfig` at load; `{}` when none. */
  readonly modelConfig: Readonly<Record<string, unknown>>;
  readonly logger: FlavorLogger;
  /** Batch builders and readers (`columnFromValues`, `columnBatch`, `tensorFromNested`, `batchToRecords`, …). */
  readonly batch: typeof batchHelpers;
  /**
   * Load an inner model: an artifact name, or a path (relative paths resolve against the model
   * directory). The inner model is closed when the outer model is closed.
   */
  loadModel(artifactOrPath: string, options?: LoadOptions): Promise<LoadedModel>;
}

/** Inner models loaded through a context; closed together with the model that loaded them. */
export class InnerModels {
  readonly #models: LoadedModel[] = [];

  add(model: LoadedModel): void {
    this.#models.push(model);
  }

  /** Close every inner model (most recent first); the first failure is rethrown after all were tried. */
  async closeAll(): Promise<void> {
    let failure: unknown;
    for (const m of this.#models.splice(0).reverse()) {
      try {
        await m.close();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

export interface ContextInit {
  readonly modelDir: string;
  readonly artifacts: Record<string, string>;
  readonly modelConfig: Record<string, unknown>;
  readonly logger: FlavorLogger | undefined;
  readonly loader: InnerModelLoader | null;
  readonly inner: InnerModels;
  /** Names the model in error messages. */
  readonly label: string;
}

export function createContext(init: ContextInit): JsModelContext {
  const logger = init.logger ?? silentLogger;
  const artifacts = Object.freeze({ ...init.artifacts });
  const loadModel = async (artifactOrPath: string, options?: LoadOptions): Promise<LoadedModel> => {
    if (typeof artifactOrPath !== 'string' || !artifactOrPath) {
      throw new JsFunctionError(`context.loadModel in ${init.label} needs an artifact name or a path, got ${String(artifactOrPath)}`);
    }
    if (!init.loader) {
      throw new JsFunctionError(
        `context.loadModel(${JSON.stringify(artifactOrPath)}) in ${init.label}: no inner model loader is set; ` +
          "load models through a FlavorRegistry (createRegistry() from '@mlmodel/flavors') or pass LoadOptions.loadModel",
      );
    }
    const path = Object.hasOwn(artifacts, artifactOrPath) ? artifacts[artifactOrPath]! : innerPath(init.modelDir, artifactOrPath, init.label, artifacts);
    if (!(await isDirectory(path))) {
      throw new JsFunctionError(
        `context.loadModel(${JSON.stringify(artifactOrPath)}) in ${init.label}: ${path} is not a model directory ` +
          `(artifacts: ${Object.keys(artifacts).join(', ') || 'none'})`,
        'RESOURCE_DOES_NOT_EXIST',
      );
    }
    let model: LoadedModel;
    try {
      model = await init.loader(path, { logger, ...options });
    } catch (e) {
      throw new JsFunctionError(`context.loadModel(${JSON.stringify(artifactOrPath)}) in ${init.label}: ${thrownMessage(e)}`, 'INVALID_PARAMETER_VALUE', {
        cause: e,
      });
    }
    init.inner.add(model);
    return model;
  };
  return Object.freeze({
    artifacts,
    modelDir: init.modelDir,
    modelConfig: Object.freeze({ ...init.modelConfig }),
    logger,
    batch: batchHelpers,
    loadModel,
  });
}

function innerPath(modelDir: string, p: string, label: string, artifacts: Readonly<Record<string, string>>): string {
  if (isAbsolute(p)) return p;
  const abs = resolve(modelDir, p);
  if (abs !== modelDir && !abs.startsWith(modelDir + sep)) {
    throw new JsFunctionError(
      `context.loadModel(${JSON.stringify(p)}) in ${label}: not an artifact name (artifacts: ${Object.keys(artifacts).join(', ') || 'none'}) ` +
        'and the relative path points outside the model directory',
    );
  }
  return abs;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
