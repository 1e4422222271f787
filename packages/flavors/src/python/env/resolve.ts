import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type ModelDir } from '@mlmodel/format';
import { acquireEnvLock } from './env-lock.js';
import { CommandFailedError, PythonEnvError } from './errors.js';
import { inspectPython } from './interpreter.js';
import { READY_MARKER, envCacheDir, isEnvReady, planEnvironment } from './plan.js';
import { formatCommand, runCommand } from './run-command.js';
import type { EnvPlan, PythonEnvOptions, ResolvedPython } from './types.js';

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_LOCK_TIMEOUT_MS = 60 * 60_000;

/** The requirement pip or uv says it could not install, from the tail of its output. */
export function failingRequirement(output: string): string | undefined {
  const patterns = [
    /No matching distribution found for ([^\s;]+)/,
    /Could not find a version that satisfies the requirement ([^\s;]+)/,
    /Because ([^\s]+) was not found in the package registry/,
    /Failed to build ([^\s]+)/,
    /PackagesNotFoundError[^\n]*\n\s*-\s*(\S+)/,
  ];
  for (const p of patterns) {
    const m = p.exec(output);
    if (m) return m[1];
  }
  return undefined;
}

const NETWORK_HINTS =
  /Temporary failure in name resolution|NewConnectionError|Network is unreachable|Could not fetch URL|Failed to establish a new connection|dns error|CondaHTTPError/i;

function creationError(plan: EnvPlan, model: ModelDir, e: unknown, offline: boolean): PythonEnvError {
  const head = `could not create the ${plan.envManager} environment for the model at ${model.dir}`;
  const tail = `\nNothing was left in the cache (${plan.envDir} was removed).`;
  if (!(e instanceof CommandFailedError)) {
    const msg = e instanceof Error ? e.message : String(e);
    return new PythonEnvError(`${head}: ${msg}${tail}`, { cause: e });
  }
  const req = failingRequirement(e.outputTail ?? '');
  let hint = '';
  if (offline) hint = '\nOffline mode is on (no package index is used): the packages must be available locally.';
  else if (NETWORK_HINTS.test(e.outputTail ?? ''))
    hint =
      '\nThe package index could not be reached from this machine: create the environment where the network is available, or use --env-manager local with an interpreter that already has the packages.';
  return new PythonEnvError(`${head}${req ? `: ${JSON.stringify(req)} could not be installed` : ''}.\n${e.message}${hint}${tail}`, {
    command: e.command,
    outputTail: e.outputTail,
    cause: e,
  });
}

function childEnv(opts: PythonEnvOptions, plan: EnvPlan): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), ...plan.commandEnv };
  // the model's environment must not see the caller's Python settings
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  delete env.VIRTUAL_ENV;
  return env;
}

/**
 * Find or make the Python interpreter a model runs in, ahead of serving:
 * - `local`: the interpreter from `--python`, `$MLMODEL_PYTHON`, /usr/bin/python3 or PATH;
 * - `virtualenv`: a venv with python_env.yaml's packages, cached by the contents of the env files;
 * - `conda`: a conda prefix made from conda.yaml (local, with a warning, when there is none).
 * Environments are made at most once: the directory is complete only when its ready marker exists,
 * concurrent creators serialize on a lock directory, and a failed creation removes what it made.
 */
export async function resolvePython(model: ModelDir, opts: PythonEnvOptions = {}): Promise<ResolvedPython> {
  const log = opts.logger;
  const plan = await planEnvironment(model, opts);
  for (const w of plan.warnings) log?.warn(w);
  const result = (python: string, version: string, created: boolean, commands: (readonly string[])[]): ResolvedPython => ({
    python,
    version,
    envManager: plan.envManager,
    requested: plan.requested,
    envDir: plan.envDir,
    created,
    commands,
    warnings: plan.warnings,
  });

  if (plan.envManager === 'local' || !plan.envDir) {
    log?.info(`using the local Python ${plan.base!.version} at ${plan.python}`);
    return result(plan.python, plan.base!.version, false, []);
  }
  const envDir = plan.envDir;
  const reuse = async (): Promise<ResolvedPython> => {
    const info = await inspectPython(plan.python);
    log?.info(`reusing the ${plan.envManager} environment at ${envDir} (Python ${info.version})`);
    return result(plan.python, info.version, false, []);
  };
  if (plan.ready) return reuse();
  if (plan.missingTool) {
    // a virtualenv made with uv is what MLflow's `--env-manager uv` names
    const asked = plan.requested === 'virtualenv' && opts.installer === 'uv' ? 'uv' : plan.requested;
    throw new PythonEnvError(`--env-manager ${asked} needs ${plan.missingTool}; it was not found`, { userError: true });
  }

  const cacheDir = envCacheDir(opts);
  await mkdir(cacheDir, { recursive: true });
  const lock = await acquireEnvLock(join(cacheDir, `mlmodel-${plan.cacheKey}.lock`), {
    timeoutMs: opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    logger: log,
    done: () => isEnvReady(envDir),
  });
  if (!lock) return reuse();
  try {
    if (await isEnvReady(envDir)) return await reuse();
    // a directory without the marker is a crashed or failed attempt
    await rm(envDir, { recursive: true, force: true });
    log?.info(`creating the ${plan.envManager} environment at ${envDir} (once; later starts reuse it)`);
    const ran: (readonly string[])[] = [];
    const env = childEnv(opts, plan);
    try {
      for (const cmd of plan.commands) {
        log?.info(`running ${formatCommand(cmd)}`);
        ran.push(cmd);
        await runCommand(cmd, { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, env, logger: log, label: cmd[0]!.split('/').pop() });
      }
      const info = await inspectPython(plan.python);
      const marker = {
        cacheKey: plan.cacheKey,
        envManager: plan.envManager,
        python: plan.python,
        version: info.version,
        model: model.dir,
        commands: ran,
        created: new Date().toISOString(),
      };
      await writeFileAtomic(join(envDir, READY_MARKER), JSON.stringify(marker, null, 2) + '\n');
      log?.info(`created the ${plan.envManager} environment at ${envDir} (Python ${info.version})`);
      return result(plan.python, info.version, true, ran);
    } catch (e) {
      await rm(envDir, { recursive: true, force: true });
      throw creationError(plan, model, e, opts.offline === true);
    }
  } finally {
    await lock.release();
  }
}
