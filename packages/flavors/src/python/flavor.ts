/**
 * The `python_function` flavor: serves any MLflow Python model by running it in Python worker
 * processes (see python/PROTOCOL.md). The JS side enforces the signature first, as for every
 * flavor; the worker rebuilds what pyfunc's predict receives and returns the prediction batch-native.
 */
import { basename, join } from 'node:path';
import { MLMODEL_FILE_NAME, ModelFormatError, type ModelDir, type ModelInput, type ModelSignature, type Prediction } from '@mlmodel/format';
import { silentLogger, type Flavor, type FlavorLogger, type LoadedModel, type LoadOptions, type ModelCapabilities, type PredictOptions } from '../flavor.js';
import { FlavorOptionError, hasFlavor } from '../registry.js';
import { encodePredictPayload } from './codec.js';
import { PythonPool } from './pool.js';
import type { LoadRequest } from './worker.js';
import { resolvePython, type EnvManager, type PythonInstaller } from './env/index.js';

export const PYTHON_FUNCTION_FLAVOR = 'python_function';

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_LOAD_TIMEOUT_MS = 600_000;
/** How long Node busy-waits for a worker's answer, and an idle worker for the next request (µs). */
export const DEFAULT_REPLY_SPIN_US = 1000;
export const DEFAULT_IDLE_SPIN_US = 300;

/** `LoadOptions.options` understood by this flavor. */
export interface PythonFunctionOptions {
  /** Interpreter path (default `$MLMODEL_PYTHON`, else /usr/bin/python3). */
  readonly python?: string;
  /** Worker processes (default 1). */
  readonly workers?: number;
  /** Per-request timeout in ms (default 60 000); the worker is killed and replaced when it passes. */
  readonly timeoutMs?: number;
  /** Model load timeout in ms (default 600 000). */
  readonly loadTimeoutMs?: number;
  /** `auto` (default): mlflow.pyfunc when importable; `never`: built-in loaders only; `always`: require mlflow. */
  readonly useMlflow?: 'auto' | 'never' | 'always';
  /**
   * Microseconds Node busy-waits (without blocking its event loop) for a worker's answer before it
   * sleeps (default 1000, 0 never). Saves the wake-ups on short requests; python/PROTOCOL.md, "Waiting".
   */
  readonly replySpinUs?: number;
  /** Microseconds an idle worker busy-waits for the next request before it sleeps (default 300, 0 never). */
  readonly idleSpinUs?: number;
  /**
   * Where the interpreter comes from (see ENVIRONMENTS.md): `local` (the given interpreter),
   * `virtualenv` or `conda` (created from the model's env files, cached, before any request), or
   * `uv` (MLflow 3's name for a virtualenv made with uv: `virtualenv` with installer uv).
   * Unset: the interpreter as given, without checks.
   */
  readonly envManager?: EnvManagerName;
}

/** An integer option; a decimal string (from a command line) is taken too. */
function intOption(v: unknown, name: string, dflt: number, min: number): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new FlavorOptionError(
      `${OPTION_NAMES[name] ?? `options.${name}`} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got ${typeof v === 'string' ? v : JSON.stringify(v)}`,
    );
  }
  return n;
}

/** How users name the options that have command-line flags. */
const OPTION_NAMES: Readonly<Record<string, string>> = { workers: '--python-workers', envManager: '--env-manager', python: '--python' };

/** The `--env-manager` values: MLflow's names (`uv` is a virtualenv that uv creates and fills). */
export type EnvManagerName = EnvManager | 'uv';
const ENV_MANAGERS: readonly EnvManagerName[] = ['local', 'virtualenv', 'uv', 'conda'];

/** The `envManager` option, checked. */
function envManagerOption(v: unknown): EnvManagerName | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(ENV_MANAGERS as readonly string[]).includes(v)) {
    throw new FlavorOptionError(
      `--env-manager must be ${ENV_MANAGERS.slice(0, -1).join(', ')} or ${ENV_MANAGERS.at(-1)}, got ${typeof v === 'string' ? v : JSON.stringify(v)}`,
    );
  }
  return v as EnvManagerName;
}

/** How `resolvePython` makes the environment an `--env-manager` value names. */
function environmentFor(name: EnvManagerName): { envManager: EnvManager; installer?: PythonInstaller } {
  return name === 'uv' ? { envManager: 'virtualenv', installer: 'uv' } : { envManager: name };
}

const positiveInt = (v: unknown, name: string, dflt: number): number => intOption(v, name, dflt, 1);

export function readPythonOptions(o: Readonly<Record<string, unknown>> | undefined): Required<Omit<PythonFunctionOptions, 'envManager'>> {
  const opts = o ?? {};
  const python = opts.python ?? process.env.MLMODEL_PYTHON ?? DEFAULT_PYTHON;
  if (typeof python !== 'string' || python === '') throw new FlavorOptionError(`options.python must be an interpreter path, got ${JSON.stringify(python)}`);
  const useMlflow = opts.useMlflow ?? 'auto';
  if (useMlflow !== 'auto' && useMlflow !== 'never' && useMlflow !== 'always') {
    throw new FlavorOptionError(`options.useMlflow must be 'auto', 'never' or 'always', got ${JSON.stringify(useMlflow)}`);
  }
  return {
    python,
    workers: positiveInt(opts.workers, 'workers', 1),
    timeoutMs: positiveInt(opts.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS),
    loadTimeoutMs: positiveInt(opts.loadTimeoutMs, 'loadTimeoutMs', DEFAULT_LOAD_TIMEOUT_MS),
    replySpinUs: intOption(opts.replySpinUs, 'replySpinUs', DEFAULT_REPLY_SPIN_US, 0),
    idleSpinUs: intOption(opts.idleSpinUs, 'idleSpinUs', DEFAULT_IDLE_SPIN_US, 0),
    useMlflow,
  };
}

/** A model served by Python workers. */
export class PythonFunctionModel implements LoadedModel {
  readonly flavor = PYTHON_FUNCTION_FLAVOR;
  readonly signature: ModelSignature | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly capabilities: Partial<ModelCapabilities>;
  readonly #pool: PythonPool;
  #closed: Promise<void> | null = null;

  constructor(pool: PythonPool, signature: ModelSignature | null, details: Record<string, unknown>, capabilities: Partial<ModelCapabilities>) {
    this.#pool = pool;
    this.signature = signature;
    this.details = details;
    this.capabilities = capabilities;
  }

  /** Process ids of the live workers (for diagnostics and tests). */
  get pids(): number[] {
    return this.#pool.pids();
  }

  predict(input: ModelInput, params?: Readonly<Record<string, unknown>>, opts?: PredictOptions): Promise<Prediction> {
    return this.#pool.predict(encodePredictPayload(input, params), opts?.cancel);
  }

  close(): Promise<void> {
    this.#closed ??= this.#pool.close();
    return this.#closed;
  }
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Lines about one model, its workers' output included, name it (its directory), so the logs of several models can be told apart. */
function modelLogger(logger: FlavorLogger, model: ModelDir): FlavorLogger {
  if (logger === silentLogger) return logger;
  const tag = `[${basename(model.dir)}] `;
  return { info: (m) => logger.info(tag + m), warn: (m) => logger.warn(tag + m) };
}

async function load(model: ModelDir, options: LoadOptions = {}): Promise<PythonFunctionModel> {
  const logger = modelLogger(options.logger ?? silentLogger, model);
  const conf = model.mlmodel.flavors[PYTHON_FUNCTION_FLAVOR];
  if (conf === undefined) {
    throw new ModelFormatError(`the model has no '${PYTHON_FUNCTION_FLAVOR}' flavor`, { file: join(model.dir, MLMODEL_FILE_NAME), keyPath: 'flavors' });
  }
  let opts = readPythonOptions(options.options);
  const envManager = envManagerOption(options.options?.envManager);
  if (envManager !== undefined) {
    const given = options.options?.python;
    const env = await resolvePython(model, { ...environmentFor(envManager), logger, ...(typeof given === 'string' ? { python: given } : {}) });
    opts = { ...opts, python: env.python };
  }
  const sklearn = model.mlmodel.flavors.sklearn;
  const req: LoadRequest = {
    model_dir: model.dir,
    python_function: { ...conf },
    sklearn: sklearn ? { ...sklearn } : null,
    mlflow_version: stringOrNull(model.mlmodel.mlflow_version),
    use_mlflow: opts.useMlflow,
  };
  const pool = new PythonPool(req, { ...opts, logger });
  const info = await pool.start();
  const details: Record<string, unknown> = {
    backend: 'python',
    python: opts.python,
    pythonVersion: info.python,
    loader: info.loader,
    loaderModule: stringOrNull(conf.loader_module),
    workers: opts.workers,
    timeoutMs: opts.timeoutMs,
    ...Object.fromEntries(
      ['numpy', 'pandas', 'sklearn', 'mlflow', 'cloudpickle', 'predict_fn', 'unpickler'].filter((k) => info[k] != null).map((k) => [k, info[k]]),
    ),
  };
  logger.info(`python_function: loaded ${model.dir} with ${info.loader} in ${opts.workers} worker(s) (Python ${info.python})`);
  const signature = model.mlmodel.signature ?? null;
  const fromTypeHints = model.mlmodel.is_signature_from_type_hint === true;
  return new PythonFunctionModel(pool, signature, details, { maxConcurrency: opts.workers, acceptsJson: fromTypeHints, signatureFromTypeHint: fromTypeHints });
}

export const pythonFunctionFlavor: Flavor = {
  name: PYTHON_FUNCTION_FLAVOR,
  canLoad: (model) => hasFlavor(model, PYTHON_FUNCTION_FLAVOR),
  load,
  checkOptions: (options) => {
    readPythonOptions(options);
    envManagerOption(options.envManager);
  },
  optionFlags: [
    {
      flag: '--python <path>',
      option: 'python',
      description: 'Python interpreter for python_function models (default: $MLMODEL_PYTHON, else /usr/bin/python3)',
    },
    { flag: '--python-workers <n>', option: 'workers', description: 'Python worker processes per python_function model (default 1)' },
    {
      flag: '--env-manager <name>',
      option: 'envManager',
      description: 'local, virtualenv, uv (a virtualenv made with uv) or conda: where the Python interpreter comes from (created before {when})',
    },
  ],
};
