/**
 * Session options: MLflow's `onnx_session_options` (snake_case keys, as `mlflow.onnx.save_model`
 * writes them) → onnxruntime-node `SessionOptions`, then `LoadOptions.options` on top, then the
 * execution providers the MLmodel lists, filtered to the ones this onnxruntime-node build has.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { FlavorLogger } from '../flavor.js';
import { OnnxInputError } from './errors.js';

type SessionOptions = InferenceSession.SessionOptions;
type GraphOptimizationLevel = NonNullable<SessionOptions['graphOptimizationLevel']>;

/** MLflow's `onnx_session_options` mapping (what the MLmodel holds and `save` accepts). */
export interface MlflowSessionOptions {
  inter_op_num_threads?: number;
  intra_op_num_threads?: number;
  execution_mode?: 'sequential' | 'parallel' | string;
  /** ORT's `GraphOptimizationLevel` enum value (0, 1, 2, 3, 99) or its name. */
  graph_optimization_level?: number | string;
  extra_session_config?: Record<string, string>;
  enable_cpu_mem_arena?: boolean;
  enable_mem_pattern?: boolean;
  log_severity_level?: number;
  log_verbosity_level?: number;
  logid?: string;
  [key: string]: unknown;
}

/** `LoadOptions.options` keys this flavor reads. */
export interface OnnxLoadOverrides {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: GraphOptimizationLevel;
  executionMode?: 'sequential' | 'parallel';
  /** ORT JS names (`cpu`, `cuda`…) or MLflow's (`CPUExecutionProvider`…); replaces the MLmodel's `providers`. */
  executionProviders?: readonly string[];
  /** ORT's CPU memory arena (default on): it keeps the memory of the largest call for the session's life. */
  enableCpuMemArena?: boolean;
  /**
   * Intra-op threads when neither `intraOpNumThreads` nor the MLmodel's `intra_op_num_threads`
   * says (a server running one process per core sets 1, so its processes do not compete for cores).
   */
  defaultIntraOpNumThreads?: number;
}

/** The error class `parseMlflowSessionOptions` throws; callers pick one that fits (file error at load, input error at save). */
export type OptionsErrorFactory = (message: string, keyPath: string) => Error;

const defaultError: OptionsErrorFactory = (message, keyPath) => new OnnxInputError(`onnx_session_options.${keyPath}: ${message}`);

/** ORT's Python `GraphOptimizationLevel` enum values and names → the JS names. */
const OPT_LEVELS: ReadonlyMap<number | string, GraphOptimizationLevel> = new Map<number | string, GraphOptimizationLevel>([
  [0, 'disabled'],
  [1, 'basic'],
  [2, 'extended'],
  [3, 'layout'],
  [99, 'all'],
  ['ORT_DISABLE_ALL', 'disabled'],
  ['ORT_ENABLE_BASIC', 'basic'],
  ['ORT_ENABLE_EXTENDED', 'extended'],
  ['ORT_ENABLE_LAYOUT', 'layout'],
  ['ORT_ENABLE_ALL', 'all'],
  ['disabled', 'disabled'],
  ['basic', 'basic'],
  ['extended', 'extended'],
  ['layout', 'layout'],
  ['all', 'all'],
]);

/** Python `SessionOptions` attributes that onnxruntime-node has no counterpart for: ignored with a warning. */
const PYTHON_ONLY = new Set(['execution_order', 'use_deterministic_compute', 'enable_mem_reuse', 'use_per_session_threads']);

function toLevel(v: unknown, err: OptionsErrorFactory): GraphOptimizationLevel {
  const key = typeof v === 'string' ? (v.startsWith('GraphOptimizationLevel.') ? v.slice('GraphOptimizationLevel.'.length) : v) : v;
  const level = OPT_LEVELS.get(key as number | string);
  if (level === undefined) {
    throw err(`unsupported value ${JSON.stringify(v)}: use 0 (disabled), 1 (basic), 2 (extended), 3 (layout) or 99 (all)`, 'graph_optimization_level');
  }
  return level;
}

function toThreads(v: unknown, key: string, err: OptionsErrorFactory): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw err(`expected a non-negative integer, got ${JSON.stringify(v)}`, key);
  return v;
}

function toMode(v: unknown, err: OptionsErrorFactory): 'sequential' | 'parallel' {
  // MLflow upper-cases the value and accepts SEQUENTIAL / PARALLEL only.
  const s = typeof v === 'string' ? v.toUpperCase() : '';
  if (s === 'SEQUENTIAL') return 'sequential';
  if (s === 'PARALLEL') return 'parallel';
  throw err(`unsupported execution mode ${JSON.stringify(v)}: use 'sequential' or 'parallel'`, 'execution_mode');
}

function toBool(v: unknown, key: string, err: OptionsErrorFactory): boolean {
  if (typeof v !== 'boolean') throw err(`expected true or false, got ${JSON.stringify(v)}`, key);
  return v;
}

/**
 * MLflow's `onnx_session_options` → ORT JS session options. Like MLflow's loader, unknown keys
 * are errors; Python-only attributes (execution_order, …) are skipped with a warning.
 */
export function parseMlflowSessionOptions(raw: unknown, logger?: FlavorLogger, err: OptionsErrorFactory = defaultError): SessionOptions {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw err(`expected a mapping, got ${JSON.stringify(raw)}`, '');
  const out: { -readonly [K in keyof SessionOptions]: SessionOptions[K] } = {};
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    switch (key) {
      case 'inter_op_num_threads':
        out.interOpNumThreads = toThreads(v, key, err);
        break;
      case 'intra_op_num_threads':
        out.intraOpNumThreads = toThreads(v, key, err);
        break;
      case 'execution_mode':
        out.executionMode = toMode(v, err);
        break;
      case 'graph_optimization_level':
        out.graphOptimizationLevel = toLevel(v, err);
        break;
      case 'enable_cpu_mem_arena':
        out.enableCpuMemArena = toBool(v, key, err);
        break;
      case 'enable_mem_pattern':
        out.enableMemPattern = toBool(v, key, err);
        break;
      case 'enable_profiling':
        out.enableProfiling = toBool(v, key, err);
        break;
      case 'profile_file_prefix':
      case 'logid':
      case 'optimized_model_filepath':
        if (typeof v !== 'string') throw err(`expected a string, got ${JSON.stringify(v)}`, key);
        if (key === 'profile_file_prefix') out.profileFilePrefix = v;
        else if (key === 'logid') out.logId = v;
        else out.optimizedModelFilePath = v;
        break;
      case 'log_severity_level': {
        const n = toThreads(v, key, err);
        if (n > 4) throw err(`expected 0..4, got ${n}`, key);
        out.logSeverityLevel = n as 0 | 1 | 2 | 3 | 4;
        break;
      }
      case 'log_verbosity_level':
        out.logVerbosityLevel = toThreads(v, key, err);
        break;
      case 'extra_session_config': {
        if (v === null) break;
        if (typeof v !== 'object' || Array.isArray(v)) throw err('expected a mapping of config keys to string values', key);
        const extra: Record<string, string> = {};
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') throw err(`value of ${k} must be a string`, key);
          extra[k] = String(x);
        }
        out.extra = extra;
        break;
      }
      default:
        if (PYTHON_ONLY.has(key)) {
          logger?.warn(`onnx_session_options.${key} has no onnxruntime-node counterpart; ignored`);
          break;
        }
        throw err('unsupported onnx session option', key);
    }
  }
  return out;
}

/** MLflow's provider names → onnxruntime-node's. Unknown names pass through lower-cased without the suffix. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  CPUExecutionProvider: 'cpu',
  CUDAExecutionProvider: 'cuda',
  TensorrtExecutionProvider: 'tensorrt',
  DmlExecutionProvider: 'dml',
  CoreMLExecutionProvider: 'coreml',
  NnapiExecutionProvider: 'nnapi',
  QNNExecutionProvider: 'qnn',
  XnnpackExecutionProvider: 'xnnpack',
  WebGpuExecutionProvider: 'webgpu',
};

export function jsProviderName(name: string): string {
  return PROVIDER_NAMES[name] ?? name.replace(/ExecutionProvider$/, '').toLowerCase();
}

export interface ProviderChoice {
  /** What the session is created with, in ORT JS names. */
  readonly use: string[];
  /** Names (as listed) that this build does not have. */
  readonly skipped: string[];
}

/**
 * Providers listed in the MLmodel (MLflow names), keeping the ones this onnxruntime-node build
 * ships, in order. When none is left, CPU (onnxruntime's own fallback).
 */
export function chooseProviders(listed: unknown, available: readonly string[]): ProviderChoice {
  const names = Array.isArray(listed) ? listed.filter((x): x is string => typeof x === 'string') : [];
  const use: string[] = [];
  const skipped: string[] = [];
  for (const n of names) {
    const js = jsProviderName(n);
    if (available.includes(js)) {
      if (!use.includes(js)) use.push(js);
    } else skipped.push(n);
  }
  if (use.length === 0) use.push('cpu');
  return { use, skipped };
}

/** `LoadOptions.options` checked against what this flavor understands. */
export function readOverrides(options: Readonly<Record<string, unknown>> | undefined): OnnxLoadOverrides {
  if (!options) return {};
  const o: OnnxLoadOverrides = {};
  const bad = (key: string, what: string): never => {
    throw new OnnxInputError(`onnx load option ${key}: expected ${what}, got ${JSON.stringify(options[key])}`);
  };
  const int = (key: string): number | undefined => {
    const v = options[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(key, 'a non-negative integer');
    return v as number;
  };
  const intra = int('intraOpNumThreads');
  if (intra !== undefined) o.intraOpNumThreads = intra;
  const inter = int('interOpNumThreads');
  if (inter !== undefined) o.interOpNumThreads = inter;
  const intraDefault = int('defaultIntraOpNumThreads');
  if (intraDefault !== undefined) o.defaultIntraOpNumThreads = intraDefault;
  if (options.graphOptimizationLevel !== undefined) {
    o.graphOptimizationLevel = toLevel(options.graphOptimizationLevel, (m) => new OnnxInputError(`onnx load option graphOptimizationLevel: ${m}`));
  }
  if (options.executionMode !== undefined) {
    o.executionMode = toMode(options.executionMode, (m) => new OnnxInputError(`onnx load option executionMode: ${m}`));
  }
  const arena = options.enableCpuMemArena;
  if (arena !== undefined) {
    if (typeof arena !== 'boolean' && arena !== 'true' && arena !== 'false') bad('enableCpuMemArena', 'true or false');
    o.enableCpuMemArena = arena === true || arena === 'true';
  }
  const eps = options.executionProviders;
  if (eps !== undefined) {
    if (!Array.isArray(eps) || eps.length === 0 || !eps.every((x) => typeof x === 'string')) bad('executionProviders', 'a non-empty list of provider names');
    o.executionProviders = eps as string[];
  }
  return o;
}

/** The final session options: MLmodel options, overrides on top, the default intra-op threads if neither set them, and the providers to use. */
export function buildSessionOptions(base: SessionOptions, overrides: OnnxLoadOverrides, providers: readonly string[]): SessionOptions {
  const out: { -readonly [K in keyof SessionOptions]: SessionOptions[K] } = { ...base };
  if (overrides.intraOpNumThreads !== undefined) out.intraOpNumThreads = overrides.intraOpNumThreads;
  else if (base.intraOpNumThreads === undefined && overrides.defaultIntraOpNumThreads !== undefined) out.intraOpNumThreads = overrides.defaultIntraOpNumThreads;
  if (overrides.interOpNumThreads !== undefined) out.interOpNumThreads = overrides.interOpNumThreads;
  if (overrides.graphOptimizationLevel !== undefined) out.graphOptimizationLevel = overrides.graphOptimizationLevel;
  if (overrides.executionMode !== undefined) out.executionMode = overrides.executionMode;
  if (overrides.enableCpuMemArena !== undefined) out.enableCpuMemArena = overrides.enableCpuMemArena;
  out.executionProviders = [...providers];
  return out;
}
