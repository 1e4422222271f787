/**
 * What the image's entrypoint runs, from its arguments and environment (pure; entry.ts applies
 * it). `docker run IMAGE` and `docker run IMAGE serve` (SageMaker's contract) serve the model at
 * /opt/ml/model on 0.0.0.0:8080; `$SAGEMAKER_BIND_TO_PORT` (inference pipelines), `$AIP_HTTP_PORT`
 * (Vertex AI) or `$MLMODEL_PORT` move the port. Environment variables set serve's options (below);
 * a flag given on the command line wins over its variable. Other mlmodel commands pass through
 * (`docker run IMAGE info /opt/ml/model`).
 */

/** Where SageMaker (and our own images) put the model. */
export const CONTAINER_MODEL_DIR = '/opt/ml/model';
export const CONTAINER_PORT = 8080;
/** How long SIGTERM may take before the process gives up on in-flight requests (SageMaker kills after 30 s). */
export const DEFAULT_DRAIN_TIMEOUT_S = 25;

/** Arguments or environment the entrypoint cannot use; printed as one line, exit code 2. */
export class ContainerUsageError extends Error {}

type Kind = { int: number } | 'text' | 'list';

/** One serve option settable from the environment: the variables (first set wins), the flag, its spellings. */
export interface EnvOption {
  readonly env: readonly string[];
  readonly flag: string;
  readonly spellings: readonly string[];
  /** `{int: min}`: an integer ≥ min; `list`: comma-separated, one flag per item. */
  readonly kind: Kind;
}

/** The serve options an image takes from its environment (documented in the package README). */
export const ENV_OPTIONS: readonly EnvOption[] = [
  { env: ['MLMODEL_WORKERS', 'SAGEMAKER_MODEL_SERVER_WORKERS'], flag: '--workers', spellings: ['-w', '--workers'], kind: { int: 1 } },
  { env: ['MLMODEL_TIMEOUT', 'SAGEMAKER_MODEL_SERVER_TIMEOUT'], flag: '--timeout', spellings: ['-t', '--timeout'], kind: { int: 1 } },
  { env: ['MLMODEL_MAX_BATCH_SIZE'], flag: '--max-batch-size', spellings: ['--max-batch-size'], kind: { int: 1 } },
  { env: ['MLMODEL_MAX_BATCH_DELAY_MS'], flag: '--max-batch-delay-ms', spellings: ['--max-batch-delay-ms'], kind: { int: 0 } },
  { env: ['MLMODEL_MAX_QUEUE_SIZE'], flag: '--max-queue-size', spellings: ['--max-queue-size'], kind: { int: 1 } },
  { env: ['MLMODEL_BODY_LIMIT_MB', 'SAGEMAKER_MAX_PAYLOAD_IN_MB'], flag: '--body-limit-mb', spellings: ['--body-limit-mb'], kind: { int: 1 } },
  { env: ['MLMODEL_MEMORY_BUDGET_MB'], flag: '--memory-budget-mb', spellings: ['--memory-budget-mb'], kind: { int: 1 } },
  { env: ['MLMODEL_PYTHON_WORKERS'], flag: '--python-workers', spellings: ['--python-workers'], kind: { int: 1 } },
  { env: ['MLMODEL_CORS'], flag: '--cors', spellings: ['--cors'], kind: 'list' },
  { env: ['MLMODEL_FLAVOR'], flag: '--flavor', spellings: ['--flavor'], kind: 'text' },
];

/** Whether `args` already give an option (`--port 1`, `--port=1`, `-p 1`). */
function has(args: readonly string[], spellings: readonly string[]): boolean {
  return args.some((a) => spellings.some((s) => a === s || a.startsWith(`${s}=`)));
}

/** The first of `names` set to something other than blank, with its name. */
function fromEnv(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return { name, value: value.trim() };
  }
  return undefined;
}

function integer(name: string, value: string, min: number): string {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ContainerUsageError(`$${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return String(Number(value));
}

/** The port: $SAGEMAKER_BIND_TO_PORT, $AIP_HTTP_PORT, $MLMODEL_PORT, else 8080. */
export function containerPort(env: NodeJS.ProcessEnv): number {
  const v = fromEnv(env, ['SAGEMAKER_BIND_TO_PORT', 'AIP_HTTP_PORT', 'MLMODEL_PORT']);
  return v ? Number(integer(v.name, v.value, 1)) : CONTAINER_PORT;
}

/** `serve` with the container's defaults and the environment's options added to `args`. */
export function serveArgs(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const out = ['serve', ...args];
  if (!has(args, ['-m', '--model', '--model-uri'])) {
    const name = fromEnv(env, ['MLMODEL_MODEL_NAME'])?.value;
    out.push('--model', name ? `${name}=${CONTAINER_MODEL_DIR}` : CONTAINER_MODEL_DIR);
  }
  if (!has(args, ['-h', '-H', '--host'])) out.push('--host', fromEnv(env, ['MLMODEL_HOST'])?.value ?? '0.0.0.0');
  if (!has(args, ['-p', '--port'])) out.push('--port', String(containerPort(env)));
  // the image's Python was made at build time: never create an environment at start (no network needed)
  if (!has(args, ['--env-manager', '--no-conda'])) out.push('--env-manager', 'local');
  for (const o of ENV_OPTIONS) {
    if (has(args, o.spellings)) continue;
    const v = fromEnv(env, o.env);
    if (!v) continue;
    if (o.kind === 'list') {
      for (const item of v.value.split(',').map((s) => s.trim())) if (item) out.push(o.flag, item);
    } else {
      out.push(o.flag, o.kind === 'text' ? v.value : integer(v.name, v.value, o.kind.int));
    }
  }
  return out;
}

/**
 * The mlmodel command line for the container's arguments: nothing or `serve [flags]` serves;
 * flags alone (`docker run IMAGE --workers 2`) are serve's; `train` (SageMaker training) is
 * refused; anything else is another mlmodel command (`info`, `predict`, `--help`, `--version`).
 */
export function containerCommand(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const [first, ...rest] = args;
  if (first === undefined || first === 'serve') return serveArgs(rest, env);
  if (first === 'train') throw new ContainerUsageError("this image serves a model; it cannot 'train' (SageMaker starts inference containers with 'serve')");
  if (first.startsWith('-') && !['-V', '--version', '--help'].includes(first)) return serveArgs(args, env);
  return [...args];
}

/** $MLMODEL_DRAIN_TIMEOUT (seconds), else 25: how long SIGTERM waits for in-flight requests. */
export function drainTimeoutMs(env: NodeJS.ProcessEnv): number {
  const v = fromEnv(env, ['MLMODEL_DRAIN_TIMEOUT']);
  return (v ? Number(integer(v.name, v.value, 1)) : DEFAULT_DRAIN_TIMEOUT_S) * 1000;
}
