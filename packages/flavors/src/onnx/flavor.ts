/**
 * The native `onnx` flavor: loads `flavors.onnx.data` into an onnxruntime-node InferenceSession
 * and predicts like MLflow's `mlflow.onnx` pyfunc wrapper; saves an .onnx file as a model
 * directory MLflow's Python can load.
 */
import { copyFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  MLMODEL_FILE_NAME,
  MlmodelError,
  ModelFormatError,
  type Batch,
  type FlavorConfig,
  type ModelDir,
  type ModelSignature,
  type Prediction,
} from '@mlmodel/format';
import type { InferenceSession } from 'onnxruntime-node';
import {
  silentLogger,
  type Flavor,
  type FlavorLogger,
  type LoadedModel,
  type LoadOptions,
  type ModelCapabilities,
  type PredictOptions,
  type SavedFlavor,
} from '../flavor.js';
import { hasFlavor } from '../registry.js';
import { onnxTypeName } from './dtypes.js';
import { DEFAULT_MLFLOW_VERSION, DEFAULT_PYTHON_VERSION, onnxVersionFor, writeOnnxEnvironment } from './environment.js';
import { OnnxInputError, OnnxModelError, OnnxRunError, ortMessage } from './errors.js';
import { FeedBuilder } from './feeds.js';
import { graphInfo, type GraphInfo, type GraphValue } from './graph.js';
import { readOnnxModelInfo, type OnnxModelInfo } from './model-proto.js';
import { toColumnBatch, toTensorBatch } from './outputs.js';
import { availableProviders, loadOrt, ortVersion, type OrtModule } from './runtime.js';
import {
  buildSessionOptions,
  chooseProviders,
  jsProviderName,
  parseMlflowSessionOptions,
  readOverrides,
  type MlflowSessionOptions,
} from './session-options.js';
import { inferSignature } from './signature.js';

export const ONNX_FLAVOR = 'onnx';
export const ONNX_MODEL_FILE = 'model.onnx';

/** What `onnxFlavor.save` takes. */
export interface OnnxSaveInput {
  /** The .onnx file to package (copied to `model.onnx`). */
  readonly onnxPath: string;
  /** MLflow's `onnx_session_options` (snake_case keys), stored in the MLmodel and applied at load. */
  readonly sessionOptions?: MlflowSessionOptions | null;
  /** Execution providers in MLflow's names; default `[CPUExecutionProvider]`. */
  readonly providers?: readonly string[];
  /** Python version the environment files ask for (default 3.11.2). */
  readonly pythonVersion?: string;
  /** MLflow version pinned in requirements.txt (default 3.5.1). */
  readonly mlflowVersion?: string;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function createSession(ort: OrtModule, path: string, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  return ort.InferenceSession.create(path, options);
}

function describe(values: readonly GraphValue[]): { name: string; type: string; shape: (number | string)[] }[] {
  return values.map((v) => ({ name: v.name, type: v.isTensor ? onnxTypeName(v.ortType ?? '?') : 'non-tensor', shape: [...v.dims] }));
}

function modelInfoDetails(info: OnnxModelInfo | null): Record<string, unknown> {
  if (info === null) return {};
  const producer = [info.producerName, info.producerVersion].filter(Boolean).join(' ');
  return { irVersion: info.irVersion, opsets: info.opsets, ...(producer ? { producer } : {}) };
}

/** A loaded ONNX model. `session` exposes the onnxruntime session for callers that need it (benchmarks, custom fetches). */
export class OnnxLoadedModel implements LoadedModel {
  readonly flavor = ONNX_FLAVOR;
  /**
   * Sessions are independent: a worker thread may load its own copy for large calls, without the
   * CPU memory arena (which would keep the memory of the largest call for the session's life) and,
   * unless the model or the user says otherwise, leaving one core to the thread that serves requests.
   */
  readonly offThreadCopies = { options: { enableCpuMemArena: false, defaultIntraOpNumThreads: Math.max(1, availableParallelism() - 1) } };
  readonly signature: ModelSignature | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly capabilities: Partial<ModelCapabilities>;
  #session: InferenceSession | null;
  readonly #feeds: FeedBuilder;
  readonly #outputNames: readonly string[];
  /** Output names to fetch, when some outputs are not tensors (onnxruntime-node cannot return those). */
  readonly #fetches: readonly string[] | undefined;

  constructor(
    session: InferenceSession,
    feeds: FeedBuilder,
    outputs: readonly string[],
    allOutputs: number,
    signature: ModelSignature | null,
    details: Record<string, unknown>,
    batchable = false,
  ) {
    this.capabilities = { batchable };
    this.#session = session;
    this.#feeds = feeds;
    this.#outputNames = outputs;
    this.#fetches = outputs.length === allOutputs ? undefined : outputs;
    this.signature = signature;
    this.details = details;
  }

  /** The underlying onnxruntime-node session (owned by this model: do not release it yourself). */
  get session(): InferenceSession {
    if (this.#session === null) throw new MlmodelError('the ONNX model was closed', 'INVALID_PARAMETER_VALUE');
    return this.#session;
  }

  async predict(batch: Batch, _params?: Readonly<Record<string, unknown>>, opts?: PredictOptions): Promise<Prediction> {
    const session = this.#session;
    if (session === null) throw new MlmodelError('the ONNX model was closed; load it again to predict', 'INVALID_PARAMETER_VALUE');
    const feeds = this.#feeds.build(batch);
    const fetches = this.#fetches;
    const start = (): Promise<InferenceSession.ReturnType> => (fetches === undefined ? session.run(feeds) : session.run(feeds, fetches));
    let results: InferenceSession.ReturnType;
    try {
      results = await (opts?.now === true ? runWithoutDeferral(start) : start());
    } catch (e) {
      throw new OnnxRunError(`onnxruntime failed to run the model: ${ortMessage(e)}`, e);
    }
    return batch.kind === 'columns' ? toColumnBatch(results, this.#outputNames, batch.numRows) : toTensorBatch(results, this.#outputNames);
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = null;
    if (s !== null) await s.release();
  }
}

function tensorOutputs(graph: GraphInfo, logger: FlavorLogger, where: string): string[] {
  const names = graph.outputs.filter((o) => o.isTensor && o.dtype !== null).map((o) => o.name);
  const dropped = graph.outputs.filter((o) => !names.includes(o.name));
  if (dropped.length > 0) {
    logger.warn(`${where}: outputs ${dropped.map((o) => `'${o.name}' (${o.description})`).join(', ')} cannot be returned by onnxruntime-node and are left out`);
  }
  if (names.length === 0) {
    throw new OnnxModelError('the model has no tensor outputs that onnxruntime-node can return', { file: where });
  }
  return names;
}

function callNow(callback: (...args: unknown[]) => void, ...args: unknown[]): void {
  callback(...args);
}

/**
 * Start an onnxruntime-node call that computes within this call. Its `run` defers the native call
 * with `setImmediate` (to the check phase of the next event-loop turn); a caller that is itself
 * already at the end of a turn (the batcher) would pay a whole turn of latency for nothing:
 * measured on 2 cores with a gathering route, computing at once gave 6–20 % more requests per
 * second at 1 row per request. `setImmediate` is swapped only while `run` is entered — no other
 * code runs meanwhile — and put back even if it throws; were onnxruntime to stop deferring that
 * way, the call simply stays deferred (the onnx tests notice).
 */
function runWithoutDeferral<T>(start: () => Promise<T>): Promise<T> {
  const deferred = globalThis.setImmediate;
  globalThis.setImmediate = callNow as unknown as typeof setImmediate;
  try {
    return start();
  } finally {
    globalThis.setImmediate = deferred;
  }
}

/** Every value is a tensor whose first dimension is variable (symbolic or unnamed): rows can be merged along it. */
function hasRowDimension(values: readonly GraphValue[]): boolean {
  return values.length > 0 && values.every((v) => v.isTensor && v.dims.length > 0 && typeof v.dims[0] === 'string');
}

/** Lines about one model name it (its directory), so the logs of several models can be told apart. */
function modelLogger(logger: FlavorLogger, model: ModelDir): FlavorLogger {
  if (logger === silentLogger) return logger;
  const tag = `[${basename(model.dir)}] `;
  return { info: (m) => logger.info(tag + m), warn: (m) => logger.warn(tag + m) };
}

/**
 * Provider lists already reported, per logger. MLflow saves `[CUDAExecutionProvider,
 * CPUExecutionProvider]` in every ONNX model; that CUDA is skipped here is expected, so it is said
 * once (per logger: once per server process) at info level rather than warned on every load.
 */
const reportedSkips = new WeakMap<FlavorLogger, Set<string>>();

function reportSkippedProviders(logger: FlavorLogger, skipped: readonly string[], using: readonly string[]): void {
  const key = `${skipped.join(',')}→${using.join(',')}`;
  let seen = reportedSkips.get(logger);
  if (seen === undefined) reportedSkips.set(logger, (seen = new Set()));
  if (seen.has(key)) return;
  seen.add(key);
  logger.info(
    `onnx: execution providers ${skipped.join(', ')} are not available in onnxruntime-node here; ONNX models that list them ` +
      `(MLflow lists CUDAExecutionProvider in every ONNX model it saves) run with ${using.join(', ')} (said once)`,
  );
}

async function load(model: ModelDir, options: LoadOptions = {}): Promise<OnnxLoadedModel> {
  const baseLogger = options.logger ?? silentLogger;
  const logger = modelLogger(baseLogger, model);
  const mlmodelFile = join(model.dir, MLMODEL_FILE_NAME);
  const config = model.mlmodel.flavors[ONNX_FLAVOR];
  if (config === undefined) {
    throw new ModelFormatError(`the model has no '${ONNX_FLAVOR}' flavor`, { file: mlmodelFile, keyPath: 'flavors' });
  }
  const data = config.data;
  if (typeof data !== 'string' || data === '') {
    throw new ModelFormatError('expected the name of the .onnx file', { file: mlmodelFile, keyPath: 'flavors.onnx.data' });
  }
  const path = model.resolve(data);
  if (!(await isFile(path))) {
    throw new ModelFormatError(`refers to ${JSON.stringify(data)}, which does not exist in the model directory`, {
      file: mlmodelFile,
      keyPath: 'flavors.onnx.data',
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
  }

  const ort = await loadOrt();
  const base = parseMlflowSessionOptions(
    config.onnx_session_options,
    logger,
    (message, key) => new ModelFormatError(message, { file: mlmodelFile, keyPath: `flavors.onnx.onnx_session_options${key ? `.${key}` : ''}` }),
  );
  const overrides = readOverrides(options.options);
  const available = availableProviders(ort);
  let providers: string[];
  let skipped: string[] = [];
  if (overrides.executionProviders !== undefined) {
    providers = overrides.executionProviders.map(jsProviderName);
    const missing = providers.filter((p) => !available.includes(p));
    if (missing.length > 0) {
      throw new OnnxInputError(
        `execution provider ${missing.map((p) => `'${p}'`).join(', ')} is not available in onnxruntime-node on this machine (available: ${available.join(', ')})`,
      );
    }
  } else {
    const choice = chooseProviders(config.providers ?? ['CPUExecutionProvider'], available);
    providers = choice.use;
    skipped = choice.skipped;
    if (skipped.length > 0) reportSkippedProviders(baseLogger, skipped, providers);
  }
  const sessionOptions = buildSessionOptions(base, overrides, providers);

  let session: InferenceSession;
  try {
    session = await createSession(ort, path, sessionOptions);
  } catch (e) {
    throw new OnnxModelError(`onnxruntime cannot load this ONNX model: ${ortMessage(e)}`, { file: path, cause: e });
  }
  const graph = graphInfo(session);
  let outputs: string[];
  try {
    outputs = tensorOutputs(graph, logger, path);
  } catch (e) {
    await session.release();
    throw e;
  }
  const info = await readOnnxModelInfo(path);
  const { executionProviders: _eps, ...shownOptions } = sessionOptions;
  const details: Record<string, unknown> = {
    backend: 'onnxruntime-node',
    onnxruntimeVersion: ortVersion(ort),
    file: data,
    providers,
    ...(skipped.length > 0 ? { skippedProviders: skipped } : {}),
    sessionOptions: shownOptions,
    inputs: describe(graph.inputs),
    outputs: describe(graph.outputs),
    ...modelInfoDetails(info),
  };
  const signature = model.mlmodel.signature ?? inferSignature(graph);
  logger.info(`onnx: loaded ${data} with ${providers.join(', ')} (inputs ${graph.inputs.map((i) => `${i.name} ${i.description}`).join('; ')})`);
  const batchable = hasRowDimension(graph.inputs) && hasRowDimension(graph.outputs.filter((o) => outputs.includes(o.name)));
  return new OnnxLoadedModel(session, new FeedBuilder(ort, graph.inputs), outputs, graph.outputs.length, signature, details, batchable);
}

/** Load the copied file; on failure tell a corrupt file apart from one that needs files beside it (external data). */
async function validateCopy(ort: OrtModule, src: string, dest: string): Promise<InferenceSession> {
  const opts: InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' };
  try {
    return await createSession(ort, dest, opts);
  } catch (e) {
    await rm(dest, { force: true });
    let loadsInPlace = false;
    try {
      await (await createSession(ort, src, opts)).release();
      loadsInPlace = true;
    } catch {
      // corrupt either way
    }
    if (loadsInPlace) {
      throw new OnnxModelError(
        `the model loads from its own folder but not once copied alone (${ortMessage(e)}); models that keep weights in external data files are not supported`,
        { file: src, cause: e },
      );
    }
    throw new OnnxModelError(`not a valid ONNX model: ${ortMessage(e)}`, { file: src, cause: e });
  }
}

async function save(input: OnnxSaveInput, dir: string): Promise<SavedFlavor> {
  const src = resolve(input.onnxPath);
  if (!(await isFile(src))) {
    throw new OnnxModelError('the ONNX file does not exist (or is not a file)', { file: src, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  }
  const sessionOptions = input.sessionOptions ?? null;
  // Refuse options the loader would refuse, now rather than at load time.
  parseMlflowSessionOptions(sessionOptions, undefined, (message, key) => new OnnxInputError(`sessionOptions${key ? `.${key}` : ''}: ${message}`));
  const providers = [...(input.providers ?? ['CPUExecutionProvider'])];

  const ort = await loadOrt();
  const dest = join(dir, ONNX_MODEL_FILE);
  await copyFile(src, dest);
  const session = await validateCopy(ort, src, dest);
  let signature: ModelSignature;
  try {
    signature = inferSignature(graphInfo(session));
  } finally {
    await session.release();
  }

  const info = await readOnnxModelInfo(dest);
  const onnxVersion = onnxVersionFor(info?.irVersion ?? null);
  const pythonVersion = input.pythonVersion ?? DEFAULT_PYTHON_VERSION;
  await writeOnnxEnvironment(dir, {
    pythonVersion,
    mlflowVersion: input.mlflowVersion ?? DEFAULT_MLFLOW_VERSION,
    onnxVersion,
    onnxruntimeVersion: ortVersion(ort),
  });

  const onnx: FlavorConfig = {
    code: null,
    data: ONNX_MODEL_FILE,
    onnx_session_options: sessionOptions,
    onnx_version: onnxVersion,
    providers,
  };
  const pyfunc: FlavorConfig = {
    data: ONNX_MODEL_FILE,
    env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
    loader_module: 'mlflow.onnx',
    python_version: pythonVersion,
  };
  return { flavors: { [ONNX_FLAVOR]: onnx, python_function: pyfunc }, inferredSignature: signature };
}

export const onnxFlavor: Flavor<OnnxSaveInput> = {
  name: ONNX_FLAVOR,
  canLoad: (model) => hasFlavor(model, ONNX_FLAVOR),
  runsInProcess: true,
  load,
  save,
  checkOptions: (options) => void readOverrides(options),
};
