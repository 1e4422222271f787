import { randomBytes } from 'node:crypto';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { MLMODEL_FILE_NAME, MlmodelError, ModelFormatError, type ModelDir, type ModelInput, type ModelSignature, type Prediction } from '@mlmodel/format';
import type { Flavor, LoadedModel, LoadOptions, SaveContext, SavedFlavor } from '../flavor.js';
import { hasFlavor } from '../registry.js';
import { InnerModels, createContext, innerLoaderFor } from './context.js';
import { callLoad, importModelModule, type JsModelPredictor } from './contract.js';
import { copyArtifacts, copyCode } from './copy-code.js';
import { JsFunctionError, ModelPredictError, thrownMessage } from './errors.js';
import { toPrediction } from './prediction.js';

/** The flavor's key under `flavors:` in MLmodel. */
export const JS_FUNCTION_FLAVOR = 'js_function';

/** What `jsFunctionFlavor.save` takes. Relative paths resolve against the current directory. */
export interface JsFunctionSaveInput {
  /** The model module: an ES module file (`.mjs`, or `.js` in a `"type": "module"` package). */
  readonly modulePath: string;
  /**
   * Files or directories the module imports, inside the module's directory. Each is copied to
   * `code/` at its path relative to that directory, so relative imports keep working.
   */
  readonly codePaths?: readonly string[];
  /** Files or directories the model reads at load, by name; copied to `artifacts/<name>`. */
  readonly artifacts?: Readonly<Record<string, string>>;
  /** JSON-able settings stored as the flavor's `config` and given to `load` as `context.modelConfig`. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Import the saved module and call its `load(context)` (then `close()`) before returning. Default true. */
  readonly validate?: boolean;
}

/** The `flavors.js_function` block of an MLmodel file. */
export type JsFunctionFlavorConfig = {
  /** The module file, relative to the model directory (`code/<module file>`). */
  entry: string;
  /** The directory holding the module and its code paths. */
  code: string;
  /** Artifacts by name, each `{path: 'artifacts/<name>'}`; null when there are none. */
  artifacts: Record<string, { path: string }> | null;
  /** The model config (MLflow's model_config); null when none was given. */
  config: Record<string, unknown> | null;
  /** `process.versions.node` of the process that saved the model. */
  node_version: string;
};

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

function checkModulePath(modulePath: unknown): string {
  if (typeof modulePath !== 'string' || !modulePath) {
    throw new JsFunctionError(`modulePath must be the path of the model module (an .mjs or .js file), got ${JSON.stringify(modulePath)}`);
  }
  const ext = extname(modulePath).toLowerCase();
  if (TS_EXTENSIONS.has(ext)) {
    throw new JsFunctionError(
      `model module ${modulePath} is TypeScript, which Node cannot import without a loader; compile it to JavaScript (tsc, esbuild) and save the .mjs/.js output`,
    );
  }
  if (ext !== '.mjs' && ext !== '.js') {
    throw new JsFunctionError(`model module ${modulePath} must be an ES module file ending in .mjs or .js, got '${ext || 'no extension'}'`);
  }
  return modulePath;
}

function isJsonValue(v: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJsonValue(x, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.values(v as object).every((x) => isJsonValue(x, depth + 1));
  }
  return false;
}

function checkConfig(config: unknown): Record<string, unknown> | null {
  if (config === undefined || config === null) return null;
  if (typeof config !== 'object' || Array.isArray(config) || !isJsonValue(config)) {
    throw new JsFunctionError(
      'config must be a plain object of JSON values (strings, finite numbers, booleans, null, arrays, objects): it is written to MLmodel',
    );
  }
  return structuredClone(config as Record<string, unknown>);
}

/** A model module loaded and ready, with the inner models its `load` opened. */
interface Instance {
  readonly predictor: JsModelPredictor;
  readonly inner: InnerModels;
}

async function instantiate(args: {
  entryFile: string;
  label: string;
  version: string;
  modelDir: string;
  artifacts: Record<string, string>;
  modelConfig: Record<string, unknown>;
  options: LoadOptions | undefined;
}): Promise<Instance> {
  const loader = innerLoaderFor(args.options);
  const load = await importModelModule(args.entryFile, args.label, args.version);
  const inner = new InnerModels();
  const context = createContext({
    modelDir: args.modelDir,
    artifacts: args.artifacts,
    modelConfig: args.modelConfig,
    logger: args.options?.logger,
    loader,
    inner,
    label: args.label,
  });
  try {
    return { predictor: await callLoad(load, context, args.label), inner };
  } catch (e) {
    await inner.closeAll().catch(() => undefined);
    throw e;
  }
}

async function closeInstance(instance: Instance, label: string): Promise<void> {
  let failure: unknown;
  try {
    await instance.predictor.close?.();
  } catch (e) {
    failure = e;
  }
  try {
    await instance.inner.closeAll();
  } catch (e) {
    failure ??= e;
  }
  if (failure !== undefined) {
    throw new JsFunctionError(`close() of model module ${label} failed: ${thrownMessage(failure)}`, 'INTERNAL_ERROR', { cause: failure });
  }
}

async function save(input: JsFunctionSaveInput, dir: string, context: SaveContext = {}): Promise<SavedFlavor> {
  const cwd = process.cwd();
  const modulePath = checkModulePath(input?.modulePath);
  const codePaths = input.codePaths ?? [];
  if (!Array.isArray(codePaths)) throw new JsFunctionError('codePaths must be an array of paths');
  const artifactsIn = input.artifacts ?? {};
  if (typeof artifactsIn !== 'object' || artifactsIn === null || Array.isArray(artifactsIn)) {
    throw new JsFunctionError('artifacts must be an object mapping names to file or directory paths');
  }
  const config = checkConfig(input.config);

  const outDir = resolve(dir);
  await mkdir(outDir, { recursive: true });
  const skip = [await realpath(outDir)];
  const codeDir = join(outDir, 'code');
  const artifactsDir = join(outDir, 'artifacts');
  for (const p of [codeDir, artifactsDir]) {
    const there = await stat(p).then(
      () => true,
      () => false,
    );
    if (there) throw new JsFunctionError(`refusing to overwrite ${p}: save a js_function model into an empty directory`);
  }
  try {
    const { entry } = await copyCode(modulePath, codePaths, codeDir, cwd, skip);
    const artifacts = await copyArtifacts(artifactsIn, artifactsDir, cwd, skip);
    const block: JsFunctionFlavorConfig = {
      entry: `code/${entry}`,
      code: 'code',
      artifacts: Object.keys(artifacts).length ? artifacts : null,
      config,
      node_version: process.versions.node,
    };
    if (input.validate !== false) await validateSaved(outDir, block, modulePath, codeDir, context);
    return { flavors: { [JS_FUNCTION_FLAVOR]: { ...block } } };
  } catch (e) {
    await rm(codeDir, { recursive: true, force: true });
    await rm(artifactsDir, { recursive: true, force: true });
    throw e;
  }
}

/** Import the saved copy and run its `load`, so a model that cannot load is never written. */
async function validateSaved(outDir: string, block: JsFunctionFlavorConfig, modulePath: string, codeDir: string, context: SaveContext): Promise<void> {
  const artifacts = Object.fromEntries(Object.entries(block.artifacts ?? {}).map(([k, v]) => [k, join(outDir, v.path)]));
  let instance: Instance;
  try {
    instance = await instantiate({
      entryFile: join(outDir, block.entry),
      label: modulePath,
      version: `save-${randomBytes(6).toString('hex')}`,
      modelDir: outDir,
      artifacts,
      modelConfig: block.config ?? {},
      options: context.loadModel ? { loadModel: context.loadModel } : undefined,
    });
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined;
    if (cause?.code === 'ERR_MODULE_NOT_FOUND' && cause.message.includes(codeDir)) {
      throw new JsFunctionError(
        `${(e as Error).message} — the saved copy holds only the module and its code paths: add the imported file or its directory to codePaths`,
        'INVALID_PARAMETER_VALUE',
        { cause: e },
      );
    }
    throw e;
  }
  await closeInstance(instance, modulePath);
}

interface ParsedBlock {
  readonly entryFile: string;
  readonly entry: string;
  readonly artifacts: Record<string, string>;
  readonly config: Record<string, unknown>;
  readonly nodeVersion: string | undefined;
}

async function parseBlock(model: ModelDir): Promise<ParsedBlock> {
  const file = join(model.dir, MLMODEL_FILE_NAME);
  const key = `flavors.${JS_FUNCTION_FLAVOR}`;
  const block = model.mlmodel.flavors[JS_FUNCTION_FLAVOR];
  if (!block) throw new ModelFormatError(`the model has no ${JS_FUNCTION_FLAVOR} flavor`, { file });
  const entry = block.entry;
  if (typeof entry !== 'string' || !entry) {
    throw new ModelFormatError('expected the path of the model module (e.g. code/model.mjs)', { file, keyPath: `${key}.entry` });
  }
  const entryFile = model.resolve(entry);
  if (!(await isFile(entryFile))) {
    throw new ModelFormatError(`the model module ${entry} is missing from the model directory`, {
      file,
      keyPath: `${key}.entry`,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
  }
  const artifacts: Record<string, string> = {};
  const rawArtifacts = block.artifacts ?? null;
  if (rawArtifacts !== null) {
    if (typeof rawArtifacts !== 'object' || Array.isArray(rawArtifacts)) {
      throw new ModelFormatError('expected a mapping of artifact names to {path: ...}', { file, keyPath: `${key}.artifacts` });
    }
    for (const [name, spec] of Object.entries(rawArtifacts as Record<string, unknown>)) {
      const rel = (spec as { path?: unknown } | null)?.path;
      if (typeof rel !== 'string' || !rel) {
        throw new ModelFormatError('expected {path: artifacts/<name>}', { file, keyPath: `${key}.artifacts.${name}` });
      }
      const abs = model.resolve(rel);
      if (!(await exists(abs))) {
        throw new ModelFormatError(`artifact '${name}' (${rel}) is missing from the model directory`, {
          file,
          keyPath: `${key}.artifacts.${name}.path`,
          errorCode: 'RESOURCE_DOES_NOT_EXIST',
        });
      }
      artifacts[name] = abs;
    }
  }
  const config = block.config ?? null;
  if (config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    throw new ModelFormatError('expected a mapping or null', { file, keyPath: `${key}.config` });
  }
  const nodeVersion = typeof block.node_version === 'string' ? block.node_version : undefined;
  return { entryFile, entry, artifacts, config: (config as Record<string, unknown> | null) ?? {}, nodeVersion };
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function configOverride(options: LoadOptions | undefined): Record<string, unknown> {
  const o = options?.options?.modelConfig;
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new JsFunctionError('load option modelConfig must be an object');
  return o as Record<string, unknown>;
}

async function load(model: ModelDir, options?: LoadOptions): Promise<LoadedModel> {
  const parsed = await parseBlock(model);
  const saved = parsed.nodeVersion?.split('.')[0];
  const running = process.versions.node.split('.')[0];
  if (saved && saved !== running) {
    options?.logger?.warn(`js_function model ${model.dir} was saved with Node ${parsed.nodeVersion}; running on Node ${process.versions.node}`);
  }
  const mtime = (await stat(parsed.entryFile)).mtimeMs;
  const instance = await instantiate({
    entryFile: parsed.entryFile,
    label: parsed.entryFile,
    version: `${model.mlmodel.model_uuid ?? 'none'}-${Math.round(mtime)}`,
    modelDir: model.dir,
    artifacts: parsed.artifacts,
    modelConfig: { ...parsed.config, ...configOverride(options) },
    options,
  });
  return new JsFunctionModel(instance, parsed, model.mlmodel.signature ?? null);
}

/** A loaded js_function model: the module's predictor behind the LoadedModel interface. */
class JsFunctionModel implements LoadedModel {
  readonly flavor = JS_FUNCTION_FLAVOR;
  readonly capabilities = { acceptsJson: true } as const;
  readonly signature: ModelSignature | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly #instance: Instance;
  readonly #label: string;
  #closing: Promise<void> | null = null;

  constructor(instance: Instance, parsed: ParsedBlock, signature: ModelSignature | null) {
    this.#instance = instance;
    this.#label = parsed.entryFile;
    this.signature = signature;
    this.details = { entry: parsed.entry, artifacts: Object.keys(parsed.artifacts) };
  }

  async predict(input: ModelInput, params?: Readonly<Record<string, unknown>>): Promise<Prediction> {
    if (this.#closing) {
      throw new JsFunctionError(`js_function model ${this.#label} is closed`, 'INTERNAL_ERROR', { userError: false });
    }
    let out: unknown;
    try {
      out = await this.#instance.predictor.predict(input, params ?? {});
    } catch (e) {
      // our own typed errors (e.g. an inner model's schema enforcement) keep their code, as MLflow keeps an MlflowException's
      if (e instanceof MlmodelError) throw e;
      throw new ModelPredictError(`js_function model ${this.#label}: predict failed: ${thrownMessage(e)}`, e);
    }
    const prediction = toPrediction(out);
    if ('error' in prediction) throw new ModelPredictError(`js_function model ${this.#label}: ${prediction.error}`, undefined);
    return prediction;
  }

  close(): Promise<void> {
    this.#closing ??= closeInstance(this.#instance, this.#label);
    return this.#closing;
  }
}

/**
 * `js_function`: a model that is a JavaScript module, like MLflow's PythonModel. The module
 * contract, the save rules and the MLmodel keys are documented in ./README.md.
 */
export const jsFunctionFlavor: Flavor<JsFunctionSaveInput> = {
  name: JS_FUNCTION_FLAVOR,
  canLoad: (model) => hasFlavor(model, JS_FUNCTION_FLAVOR),
  runsInProcess: true,
  load,
  save,
};
