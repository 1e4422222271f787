import type { FlavorLogger } from '../flavor.js';
import { TfjsBackendError } from './errors.js';
import { loadTfjs, type Tfjs } from './runtime.js';

/** Backends the flavor can run on, fastest first. `tfjs-node` is optional (native TensorFlow). */
export const TFJS_BACKENDS = ['tfjs-node', 'wasm', 'cpu'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

export interface TfjsBackendInfo {
  readonly name: TfjsBackendName;
  /** Human-readable facts for logs, e.g. `SIMD, single-threaded`. */
  readonly description: string;
}

/** The tfjs registry name of each backend. */
const REGISTRY_NAME: Record<TfjsBackendName, string> = { 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

// Kept in a variable so TypeScript does not try to resolve the optional package.
const TFJS_NODE_PACKAGE = '@tensorflow/tfjs-node';

let active: Promise<TfjsBackendInfo> | undefined;

export function isTfjsBackendName(v: unknown): v is TfjsBackendName {
  return typeof v === 'string' && (TFJS_BACKENDS as readonly string[]).includes(v);
}

/**
 * Initialise the tfjs backend once per process and return it. tfjs has one global backend, so
 * every model in the process shares it: asking for a different one after the first load fails
 * instead of silently moving other models' weights.
 *
 * Without `requested`: `@tensorflow/tfjs-node` when it can be imported, else wasm, else cpu.
 */
export async function ensureBackend(requested: TfjsBackendName | undefined, logger?: FlavorLogger): Promise<TfjsBackendInfo> {
  if (!active) {
    const starting = initialise(requested, logger);
    active = starting;
    starting.catch(() => {
      if (active === starting) active = undefined;
    });
  }
  const info = await active;
  if (requested && requested !== info.name) {
    throw new TfjsBackendError(
      `the tfjs backend of this process is already '${info.name}', so a model cannot use '${requested}': ` +
        `tfjs runs every model on one backend per process (drop the backend option or ask for '${info.name}')`,
    );
  }
  return info;
}

/** The backend initialised so far, if any (for tests and diagnostics). */
export async function currentBackend(): Promise<TfjsBackendInfo | undefined> {
  return active ? active.catch(() => undefined) : undefined;
}

async function initialise(requested: TfjsBackendName | undefined, logger?: FlavorLogger): Promise<TfjsBackendInfo> {
  const tf = await loadTfjs();
  const candidates: readonly TfjsBackendName[] = requested ? [requested] : TFJS_BACKENDS;
  const failures: string[] = [];
  for (const name of candidates) {
    const problem = await tryBackend(tf, name);
    if (problem === undefined) {
      const info = { name, description: await describe(tf, name) };
      logger?.info(`tfjs: using the ${name} backend (${info.description})`);
      return info;
    }
    failures.push(`${name}: ${problem}`);
    if (!requested && name !== 'tfjs-node') logger?.warn(`tfjs: the ${name} backend is not available (${problem})`);
  }
  throw new TfjsBackendError(`cannot initialise the tfjs ${requested ? `'${requested}' backend` : 'backends'}: ${failures.join('; ')}`);
}

/** Import and activate one backend; returns why it failed, or undefined on success. */
async function tryBackend(tf: Tfjs, name: TfjsBackendName): Promise<string | undefined> {
  try {
    if (name === 'tfjs-node') await import(TFJS_NODE_PACKAGE);
    else if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else await import('@tensorflow/tfjs-backend-cpu');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return `${name === 'tfjs-node' ? TFJS_NODE_PACKAGE : name} is not installed`;
    return `cannot import it: ${(e as Error).message}`;
  }
  const registryName = REGISTRY_NAME[name];
  if (!tf.core.findBackendFactory(registryName)) {
    // e.g. tfjs-node bundling another copy of tfjs-core, which registers its backend elsewhere
    return `it did not register a '${registryName}' backend with this copy of @tensorflow/tfjs-core ${tf.core.version_core}`;
  }
  let ok: boolean;
  try {
    ok = await tf.core.setBackend(registryName);
  } catch (e) {
    return (e as Error).message;
  }
  if (!ok) return 'it failed to initialise';
  await tf.core.ready();
  if (name === 'cpu') silenceCpuBanner(tf);
  return undefined;
}

/**
 * The cpu backend prints a "install tfjs-node" banner on its first tensor. Consume that first
 * use with warnings muted, so only our own log line (which names the backend) remains.
 */
function silenceCpuBanner(tf: Tfjs): void {
  const env = tf.core.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.core.tensor1d([0]).dispose();
  } finally {
    env.set('PROD', prod);
  }
}

async function describe(tf: Tfjs, name: TfjsBackendName): Promise<string> {
  if (name === 'wasm') {
    const env = tf.core.env();
    const simd = Boolean(await env.getAsync('WASM_HAS_SIMD_SUPPORT'));
    const threads = Boolean(await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    return `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'}`;
  }
  if (name === 'cpu') return 'plain JavaScript, slow: install @tensorflow/tfjs-node or use the wasm backend';
  return 'native TensorFlow';
}
