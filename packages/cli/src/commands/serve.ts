import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parseModelUri } from '@mlmodel/format';
import { planProcesses, serve, type BatchingSetting, type ServedModelConfig } from '@mlmodel/serve/launch';
import { loadOptions, modelResolver, pluginSpecifiers, type ModelLoadingCliOptions } from '../args.js';
import type { Io } from '../output.js';

export interface ServeCliOptions extends ModelLoadingCliOptions {
  model: string[];
  host?: string;
  port?: string;
  workers?: string;
  maxBatchSize?: string[];
  maxBatchDelayMs?: string[];
  maxQueueSize?: string[];
  timeout?: string;
  bodyLimitMb?: string;
  memoryBudgetMb?: string;
  authToken?: string;
  cors?: string[];
  logLevel?: string;
  stackTraces?: boolean;
}

const MODEL_SPEC = /^([A-Za-z0-9][\w.-]{0,127})(?::([\w.-]{1,64}))?=(.+)$/;

function positiveInt(v: string, what: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}, got ${v}`);
  return n;
}

/** `PATH`, `name=PATH` or `name:version=PATH`. A bare path is named after its directory. */
export function parseModelSpec(v: string): { name: string; version?: string; path: string } {
  const m = MODEL_SPEC.exec(v);
  if (m && !v.startsWith('/') && !v.startsWith('.')) return { name: m[1]!, ...(m[2] ? { version: m[2] } : {}), path: m[3]! };
  const name = basename(resolve(v.replace(/^file:\/\//, '').replace(/\/MLmodel$/, ''))).replace(/[^\w.-]/g, '_') || 'model';
  return { name, path: v };
}

/**
 * Per-model numbers: `N` applies to every model, `name=N` to one (later wins). Returns a lookup
 * by model name.
 */
function perModel(values: readonly string[] | undefined, what: string, min: number): (name: string) => number | undefined {
  let all: number | undefined;
  const byName = new Map<string, number>();
  for (const v of values ?? []) {
    const at = v.lastIndexOf('=');
    if (at < 0) all = positiveInt(v, what, min);
    else byName.set(v.slice(0, at), positiveInt(v.slice(at + 1), what, min));
  }
  return (name) => byName.get(name) ?? all;
}

/** Whether this process runs in a container (Docker, Podman, or an OCI runtime that says so). */
export function inContainer(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.container) || existsSync('/.dockerenv') || existsSync('/run/.containerenv');
}

/**
 * Where to listen: --host/--port, else $SAGEMAKER_BIND_TO_PORT (SageMaker), $MLMODEL_HOST/PORT,
 * $MLFLOW_HOST/PORT; else 0.0.0.0:8080 in a container (SageMaker's and Azure ML's contract, and a
 * container's loopback is unreachable from outside) and 127.0.0.1:5000 elsewhere (MLflow's default).
 */
export function resolveAddress(
  o: { host?: string; port?: string },
  env: NodeJS.ProcessEnv = process.env,
  container = inContainer(env),
): { host: string; port: number } {
  const host = o.host ?? env.MLMODEL_HOST ?? env.MLFLOW_HOST ?? (container ? '0.0.0.0' : '127.0.0.1');
  const port = o.port ?? env.SAGEMAKER_BIND_TO_PORT ?? env.MLMODEL_PORT ?? env.MLFLOW_PORT;
  return { host, port: port === undefined ? (container ? 8080 : 5000) : positiveInt(port, '--port', 0) };
}

/**
 * The bearer token: --auth-token, else $MLMODEL_AUTH_TOKEN, trimmed (a secret read from a file
 * usually ends with a newline). Given but empty (or only whitespace) is a usage error, never
 * "serve without auth": leaving both out is how to turn auth off.
 */
export function resolveAuthToken(o: { authToken?: string }, env: NodeJS.ProcessEnv = process.env): string | null {
  const given = o.authToken ?? env.MLMODEL_AUTH_TOKEN;
  if (given === undefined) return null;
  const token = given.trim();
  if (token === '') {
    const source = o.authToken !== undefined ? '--auth-token' : '$MLMODEL_AUTH_TOKEN';
    throw new InvalidArgumentError(
      `${source} is ${given === '' ? 'empty' : 'only whitespace'}: give the token clients must send, or leave ${source} out to serve without auth`,
    );
  }
  return token;
}

/** The models to serve, from `-m` and the per-model batching flags; each model's concurrency comes from the model itself once loaded. */
export function modelSpecs(o: ServeCliOptions): ServedModelConfig[] {
  const batchSize = perModel(o.maxBatchSize, '--max-batch-size', 1);
  const delay = perModel(o.maxBatchDelayMs, '--max-batch-delay-ms', 0);
  const queue = perModel(o.maxQueueSize, '--max-queue-size', 1);
  const options = loadOptions(o);
  const specs = o.model.map(parseModelSpec);
  for (const key of [...(o.maxBatchSize ?? []), ...(o.maxBatchDelayMs ?? []), ...(o.maxQueueSize ?? [])]) {
    const at = key.lastIndexOf('=');
    if (at >= 0 && !specs.some((m) => m.name === key.slice(0, at))) throw new InvalidArgumentError(`no model named '${key.slice(0, at)}' (in ${key})`);
  }
  return specs.map((spec) => {
    // no size: the server decides (automatic batching for models found to merge rows safely); 1: off
    const size = batchSize(spec.name);
    const delayMs = delay(spec.name);
    const queueSize = queue(spec.name);
    const batching: BatchingSetting =
      size === 1
        ? null
        : {
            ...(size !== undefined ? { maxBatchSize: size } : {}),
            ...(delayMs !== undefined ? { maxBatchDelayMs: delayMs } : {}),
            ...(queueSize !== undefined ? { maxQueueSize: queueSize } : {}),
          };
    return { ...spec, options, batching, ...(o.flavor ? { flavor: o.flavor } : {}) };
  });
}

/** Run the REST server until SIGTERM/SIGINT (then drain and exit 0). */
export async function serveCommand(o: ServeCliOptions, io: Io, version: string): Promise<number> {
  const env = process.env;
  const timeoutS = o.timeout ?? env.MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT;
  const workers = o.workers ?? env.MLFLOW_MODELS_WORKERS;
  const authToken = resolveAuthToken(o, env);
  const models = modelSpecs(o);
  const address = resolveAddress(o);
  // runs:/ and models:/ models are downloaded here, once: forked workers inherit the pinned resolution (the same version of an alias)
  const resolver = modelResolver({ log: io.err });
  for (const m of models) {
    const uri = parseModelUri(m.path);
    if (uri.kind !== 'local') await resolver(uri, m.path);
  }
  // without --workers: one process per core when every model predicts in process, else 1 (process-defaults.ts)
  const plan = await planProcesses(models, {
    workers: workers === undefined ? undefined : positiveInt(workers, '--workers'),
    plugins: pluginSpecifiers(o),
    resolver,
  });
  await serve({
    models: plan.models,
    resolver,
    ...address,
    workers: plan.workers,
    requestTimeoutMs: timeoutS === undefined ? undefined : positiveInt(timeoutS, '--timeout') * 1000,
    bodyLimitBytes: o.bodyLimitMb === undefined ? undefined : positiveInt(o.bodyLimitMb, '--body-limit-mb') * 1024 * 1024,
    memoryBudgetBytes: o.memoryBudgetMb === undefined ? undefined : positiveInt(o.memoryBudgetMb, '--memory-budget-mb') * 1024 * 1024,
    authToken,
    corsOrigins: o.cors ?? [],
    logLevel: o.logLevel ?? env.MLMODEL_LOG_LEVEL ?? 'info',
    includeStackTrace: o.stackTraces ?? false,
    plugins: pluginSpecifiers(o),
    version,
    onReady: (url) =>
      io.err(`mlmodel: serving ${o.model.length} model(s) at ${url} with ${plan.workers} process${plan.workers === 1 ? '' : 'es'} (${plan.reason})`),
  });
  return 0;
}
