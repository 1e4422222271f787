/**
 * Defaults picked from the models and the machine when the user does not say (`mlmodel serve`
 * without `--workers`):
 *
 * - **Server processes.** One per core when every model predicts inside the server process
 *   (flavors that declare `runsInProcess`: onnx, tfjs, js_function): one Node process keeps one
 *   core busy with HTTP, parsing, the model call and encoding, so more cores need more processes.
 *   Otherwise 1: a python_function model predicts in its own Python worker processes
 *   (`--python-workers`), where the cores go, and every extra server process would start another
 *   pool of them. At most as many processes as fit in half the machine's memory (or the
 *   container's limit), at an estimated 128 MiB per process plus twice the models' size.
 * - **onnx intra-op threads.** With several processes, each onnx session gets an equal share of
 *   the cores (1 with one process per core) instead of onnxruntime's default of one thread per
 *   core in every process, which makes the processes compete for cores (and spin). Only when
 *   neither `--flavor-option intraOpNumThreads=N` nor the MLmodel's `onnx_session_options` sets it.
 *
 * An explicit `workers` (the flag or `$MLFLOW_MODELS_WORKERS`) always wins. Nothing here fails:
 * a model that cannot be inspected counts as not in process, and its real load reports the error.
 */
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import os from 'node:os';
import { createRegistry, type FlavorRegistry } from '@mlmodel/flavors';
import { openModelDir, type ModelDir, type ModelUriResolver } from '@mlmodel/format';
import type { ServedModelConfig } from './models/model-repository.js';

/** What the defaults depend on about the machine. */
export interface MachineFacts {
  /** Cores this process may use: `os.availableParallelism()`, lowered by a cgroup CPU quota. */
  readonly cpus: number;
  /** Memory in bytes: the machine's, or the cgroup's limit when lower. */
  readonly memoryBytes: number;
}

/** Estimated memory of one server process besides its models (Node, fastify, onnxruntime: ~115 MB measured). */
export const PROCESS_BASE_BYTES = 128 * 1024 * 1024;
/** Share of the memory the server processes may take together, by default. */
export const MEMORY_SHARE = 0.5;
/** Files looked at when a model's size is not in its MLmodel (`model_size_bytes`). */
const MAX_FILES_SIZED = 10_000;

/** Whole cores of a cgroup CPU quota (v2 `cpu.max`, v1 `cfs_quota_us`), or null without one. */
export function cgroupCpuLimit(read: (path: string) => string | null = readText): number | null {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== null) {
    const [quota, period] = v2.trim().split(/\s+/);
    return quotaCores(Number(quota), Number(period));
  }
  const quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  return quota === null || period === null ? null : quotaCores(Number(quota), Number(period));
}

function quotaCores(quota: number, period: number): number | null {
  // `max` (v2) is NaN here, -1 (v1) is no quota
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return null;
  return Math.max(1, Math.floor(quota / period));
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** This machine's (or container's) cores and memory. */
export function machineFacts(): MachineFacts {
  const quota = cgroupCpuLimit();
  const cpus = Math.max(1, Math.min(os.availableParallelism(), quota ?? Infinity));
  // constrainedMemory: the cgroup limit (Node ≥ 19.6); 0, undefined or absurdly large when there is none
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const memoryBytes = Math.min(os.totalmem(), limit !== undefined && limit > 0 ? limit : Infinity);
  return { cpus, memoryBytes };
}

/** What the planner needs to know of one model. */
export interface ModelFacts {
  /** Whether the flavor that will load it predicts in process (`Flavor.runsInProcess`); false when unknown. */
  readonly inProcess: boolean;
  /** The flavor that will load it, when known. */
  readonly flavor: string | null;
  /** Its size on disk in bytes (0 when unknown). */
  readonly bytes: number;
}

/** The processes to run and the models' load options, with the reason in words (logs, the CLI's start line). */
export interface ProcessPlan {
  readonly workers: number;
  readonly models: ServedModelConfig[];
  readonly reason: string;
}

/** Pure: the plan from the facts (tested without models or machines). */
export function planFromFacts(models: readonly ServedModelConfig[], facts: readonly ModelFacts[], machine: MachineFacts, workers?: number): ProcessPlan {
  let n: number;
  let reason: string;
  if (workers !== undefined) {
    n = workers;
    reason = 'as given';
  } else if (facts.some((f) => !f.inProcess)) {
    n = 1;
    const out = facts.find((f) => !f.inProcess);
    reason = out?.flavor
      ? `default for ${out.flavor} models, which predict outside the server process`
      : 'default when a model may predict outside the server process';
  } else {
    const perProcess = PROCESS_BASE_BYTES + 2 * facts.reduce((a, f) => a + f.bytes, 0);
    const fit = Math.max(1, Math.floor((MEMORY_SHARE * machine.memoryBytes) / perProcess));
    n = Math.max(1, Math.min(machine.cpus, fit));
    reason =
      n < machine.cpus ? `default: as many as fit in ${Math.round(MEMORY_SHARE * 100)}% of memory` : 'default: one per core, every model predicts in process';
  }
  const threads = n > 1 ? Math.max(1, Math.floor(machine.cpus / n)) : null;
  return {
    workers: n,
    models: models.map((m) => (threads === null ? m : { ...m, options: { ...m.options, defaultIntraOpNumThreads: threads } })),
    reason,
  };
}

/** Bytes of the files under `dir` (stops counting after MAX_FILES_SIZED files). */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let files = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (files >= MAX_FILES_SIZED) return;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        files++;
        total += (await stat(p)).size;
      }
    }
  };
  await walk(dir);
  return total;
}

async function modelBytes(dir: ModelDir): Promise<number> {
  const declared = dir.mlmodel.model_size_bytes;
  if (typeof declared === 'number' && Number.isFinite(declared) && declared >= 0) return declared;
  return directoryBytes(dir.dir).catch(() => 0);
}

/** Which flavor would load a model and whether it predicts in process; never throws. */
export async function inspectModel(config: ServedModelConfig, registry: FlavorRegistry, resolver?: ModelUriResolver): Promise<ModelFacts> {
  try {
    const dir = await openModelDir(config.path, { resolver });
    const flavor = registry.pick(dir, config.flavor);
    return { inProcess: flavor.runsInProcess === true, flavor: flavor.name, bytes: await modelBytes(dir) };
  } catch {
    return { inProcess: false, flavor: null, bytes: 0 };
  }
}

export interface PlanOptions {
  /** The user's process count (`--workers`, `$MLFLOW_MODELS_WORKERS`): always wins. */
  readonly workers?: number | undefined;
  /** Third-party flavor plugins (they may claim a model before the native flavors). */
  readonly plugins?: readonly string[];
  readonly resolver?: ModelUriResolver;
  readonly machine?: MachineFacts;
  readonly registry?: FlavorRegistry;
}

/** Server processes and per-process load options for serving `models` on this machine. */
export async function planProcesses(models: readonly ServedModelConfig[], opts: PlanOptions = {}): Promise<ProcessPlan> {
  const machine = opts.machine ?? machineFacts();
  let facts: ModelFacts[];
  if (opts.workers !== undefined) facts = models.map(() => ({ inProcess: false, flavor: null, bytes: 0 }));
  else {
    let registry = opts.registry;
    if (!registry) {
      registry = createRegistry();
      try {
        for (const p of opts.plugins ?? []) await registry.loadPlugin(p);
      } catch {
        // the server reports a bad plugin when it starts; without it nothing can be said
        return planFromFacts(
          models,
          models.map(() => ({ inProcess: false, flavor: null, bytes: 0 })),
          machine,
        );
      }
    }
    const r = registry;
    facts = await Promise.all(models.map((m) => inspectModel(m, r, opts.resolver)));
  }
  return planFromFacts(models, facts, machine, opts.workers);
}
