import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ModelDir } from '@mlmodel/format';
import { envCacheKey, type EnvFileContents } from './cache-key.js';
import { PythonEnvError } from './errors.js';
import { envPythonPath, findLocalPython, findOnPath, inspectPython, majorMinor } from './interpreter.js';
import { condaPipRequirements, fileDependency, readModelEnvFiles, type ModelEnvFiles } from './model-env.js';
import { ENV_MANAGERS, type BaseInterpreter, type EnvPlan, type PythonEnvOptions } from './types.js';

/** Written (last) into a finished environment; an environment without it is incomplete. */
export const READY_MARKER = '.mlmodel-env-ready';

/** `opts.cacheDir`, else `$MLMODEL_ENV_ROOT`, else `~/.cache/mlmodel/envs`. */
export function envCacheDir(opts: PythonEnvOptions = {}): string {
  const env = opts.env ?? process.env;
  return resolve(opts.cacheDir ?? (env.MLMODEL_ENV_ROOT || join(homedir(), '.cache', 'mlmodel', 'envs')));
}

/** Whether an environment directory is complete: it has the ready marker and an interpreter. */
export async function isEnvReady(envDir: string): Promise<boolean> {
  try {
    await stat(join(envDir, READY_MARKER));
    return (await stat(envPythonPath(envDir))).isFile();
  } catch {
    return false;
  }
}

function mismatchWarning(model: ModelDir, modelVersion: string | undefined, base: BaseInterpreter): string | undefined {
  if (!modelVersion) return undefined;
  const want = majorMinor(modelVersion);
  const have = majorMinor(base.version);
  if (!want || !have || want === have) return undefined;
  return (
    `the model at ${model.dir} was saved with Python ${modelVersion}, but ${base.python} (from ${base.source}) is Python ${base.version}; ` +
    `pickled models may fail to load. Pass --python with a Python ${want} interpreter` +
    ' (or use --env-manager virtualenv with installer uv, or conda, which install the saved version)'
  );
}

async function localBase(opts: PythonEnvOptions): Promise<BaseInterpreter> {
  const { python, source } = await findLocalPython(opts.python, opts.env ?? process.env);
  return { ...(await inspectPython(python)), python, source };
}

function modelContents(files: ModelEnvFiles, use: { pythonEnv: boolean; conda: boolean; requirements: boolean }): EnvFileContents {
  const others: Record<string, string> = {};
  if (use.pythonEnv) for (const f of files.referenced) others[f.rel] = f.text;
  return {
    pythonEnv: use.pythonEnv ? files.pythonEnv?.text : undefined,
    conda: use.conda ? files.conda?.text : undefined,
    requirements: use.requirements ? files.requirements?.text : undefined,
    others,
  };
}

/** The pip arguments for python_env.yaml's dependencies, with `-r`/`-c` files made absolute and empty files dropped. */
function dependencyArgs(files: ModelEnvFiles): string[] {
  const py = files.pythonEnv!;
  const args: string[] = [];
  let hasRequirement = false;
  for (const dep of py.parsed.dependencies) {
    const ref = fileDependency(dep);
    if (!ref) {
      args.push(dep.trim());
      hasRequirement = true;
      continue;
    }
    const f = files.referenced.find((r) => r.path === resolve(py.path, '..', ref.file));
    if (!f || f.parsed.length === 0) continue;
    args.push(ref.flag, f.path);
    if (ref.flag === '-r') hasRequirement = true;
  }
  // constraints alone install nothing (and pip refuses them)
  return hasRequirement ? args : [];
}

interface VenvInputs {
  build: string[];
  deps: string[];
  contents: EnvFileContents;
  warnings: string[];
}

function virtualenvInputs(model: ModelDir, files: ModelEnvFiles): VenvInputs {
  if (files.pythonEnv) {
    return {
      build: [...files.pythonEnv.parsed.build_dependencies],
      deps: dependencyArgs(files),
      contents: modelContents(files, { pythonEnv: true, conda: false, requirements: false }),
      warnings: [],
    };
  }
  if (files.conda) {
    return {
      build: [],
      deps: condaPipRequirements(files.conda.parsed),
      contents: modelContents(files, { pythonEnv: false, conda: true, requirements: false }),
      warnings: [`the model at ${model.dir} has no python_env.yaml; installing the pip requirements listed in ${files.conda.rel}`],
    };
  }
  if (files.requirements) {
    return {
      build: [],
      deps: files.requirements.parsed.length ? ['-r', files.requirements.path] : [],
      contents: modelContents(files, { pythonEnv: false, conda: false, requirements: true }),
      warnings: [`the model at ${model.dir} has no python_env.yaml; installing ${files.requirements.rel}`],
    };
  }
  return {
    build: [],
    deps: [],
    contents: {},
    warnings: [`the model at ${model.dir} declares no environment (no python_env.yaml, conda.yaml or requirements.txt); the virtualenv gets no extra packages`],
  };
}

const PIP_ENV = { PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };

/** Where an environment with this cache key lives, its interpreter, and whether it is complete. */
async function cachedEnv(cacheDir: string, cacheKey: string): Promise<{ envDir: string; cacheKey: string; python: string; ready: boolean }> {
  const envDir = join(cacheDir, `mlmodel-${cacheKey}`);
  return { envDir, cacheKey, python: envPythonPath(envDir), ready: await isEnvReady(envDir) };
}

async function planVirtualenv(model: ModelDir, opts: PythonEnvOptions, files: ModelEnvFiles): Promise<EnvPlan> {
  const inputs = virtualenvInputs(model, files);
  const warnings = [...inputs.warnings];
  const steps = opts.installer === 'uv' ? await uvSteps(opts, files, inputs) : await pipSteps(model, opts, files, inputs, warnings);
  return {
    requested: 'virtualenv',
    envManager: 'virtualenv',
    python: steps.python,
    base: steps.base,
    modelPythonVersion: files.pythonVersion,
    envDir: steps.envDir,
    cacheKey: steps.cacheKey,
    ready: steps.ready,
    commands: steps.commands,
    commandEnv: steps.commandEnv,
    warnings,
    missingTool: steps.missingTool,
  };
}

type InstallerSteps = Omit<EnvPlan, 'requested' | 'envManager' | 'modelPythonVersion' | 'warnings'>;

/** uv installs the saved Python version itself; without one it uses the local interpreter. */
async function uvSteps(opts: PythonEnvOptions, files: ModelEnvFiles, inputs: VenvInputs): Promise<InstallerSteps> {
  const uv = opts.uv ?? (await findOnPath('uv', (opts.env ?? process.env).PATH));
  const base = files.pythonVersion ? undefined : await localBase(opts);
  const request = files.pythonVersion ?? base!.python;
  const env = await cachedEnv(envCacheDir(opts), envCacheKey(inputs.contents, { manager: 'virtualenv', installer: 'uv', python: request }));
  const exe = uv ?? 'uv';
  const flags = opts.offline === true ? ['--offline'] : [];
  const commands: string[][] = [[exe, 'venv', ...flags, '--python', request, env.envDir]];
  if (inputs.build.length) commands.push([exe, 'pip', 'install', ...flags, '--python', env.python, ...inputs.build]);
  if (inputs.deps.length) commands.push([exe, 'pip', 'install', ...flags, '--python', env.python, ...inputs.deps]);
  return {
    ...env,
    base,
    commands,
    commandEnv: {},
    missingTool: uv ? undefined : 'uv on PATH (see https://docs.astral.sh/uv/), or use --env-manager virtualenv, which installs with pip',
  };
}

async function pipSteps(model: ModelDir, opts: PythonEnvOptions, files: ModelEnvFiles, inputs: VenvInputs, warnings: string[]): Promise<InstallerSteps> {
  const base = await localBase(opts);
  const mismatch = mismatchWarning(model, files.pythonVersion, base);
  if (mismatch) warnings.push(mismatch);
  const env = await cachedEnv(
    envCacheDir(opts),
    envCacheKey(inputs.contents, { manager: 'virtualenv', installer: 'pip', python: base.executable, version: base.version }),
  );
  const withoutPip = !base.hasEnsurepip;
  const venv = [base.python, '-m', 'venv', ...(withoutPip ? ['--without-pip'] : []), env.envDir];
  // without ensurepip the venv has no pip of its own: the base interpreter's pip installs into it (pip >= 22.3)
  const pip = withoutPip ? [base.python, '-m', 'pip', '--python', env.python, 'install'] : [env.python, '-m', 'pip', 'install'];
  if (opts.offline === true) pip.push('--no-index');
  if (withoutPip) {
    warnings.push(
      `${base.python} has no ensurepip module (on Debian/Ubuntu it comes with python3-venv): the virtualenv is made with --without-pip` +
        (inputs.build.length || inputs.deps.length ? ` and packages are installed with ${base.python}'s own pip` : ''),
    );
  }
  const commands: string[][] = [venv];
  if (inputs.build.length) commands.push([...pip, ...inputs.build]);
  if (inputs.deps.length) commands.push([...pip, ...inputs.deps]);
  return {
    ...env,
    base,
    commands,
    commandEnv: PIP_ENV,
    missingTool: base.hasVenv ? undefined : `the venv module for ${base.python} (on Debian/Ubuntu: apt-get install python3-venv)`,
  };
}

/** The conda-compatible executable: the option, $MLMODEL_CONDA_EXE, mamba/micromamba/conda on PATH, then $CONDA_EXE. */
export async function findCondaExecutable(opts: PythonEnvOptions = {}): Promise<string | undefined> {
  const env = opts.env ?? process.env;
  if (opts.condaExecutable) return opts.condaExecutable;
  if (env.MLMODEL_CONDA_EXE) return env.MLMODEL_CONDA_EXE;
  for (const name of ['mamba', 'micromamba', 'conda']) {
    const p = await findOnPath(name, env.PATH);
    if (p) return p;
  }
  if (env.CONDA_EXE) {
    try {
      if ((await stat(env.CONDA_EXE)).isFile()) return env.CONDA_EXE;
    } catch {
      // not there
    }
  }
  return undefined;
}

async function planConda(model: ModelDir, opts: PythonEnvOptions, files: ModelEnvFiles): Promise<EnvPlan> {
  if (!files.conda) {
    const local = await planLocal(model, opts, files);
    return {
      ...local,
      requested: 'conda',
      warnings: [`the model at ${model.dir} has no conda.yaml; using the local Python environment instead (as MLflow does)`, ...local.warnings],
    };
  }
  const exe = await findCondaExecutable(opts);
  const tool = exe ?? 'conda';
  const micromamba = basename(tool).startsWith('micromamba');
  const cacheKey = envCacheKey(modelContents(files, { pythonEnv: false, conda: true, requirements: false }), {
    manager: 'conda',
    tool: micromamba ? 'micromamba' : 'conda',
  });
  const { envDir, python, ready } = await cachedEnv(envCacheDir(opts), cacheKey);
  const offline = opts.offline === true;
  const command = micromamba
    ? [tool, 'create', '-y', ...(offline ? ['--offline'] : []), '-f', files.conda.path, '-p', envDir]
    : [tool, 'env', 'create', '-f', files.conda.path, '-p', envDir];
  return {
    requested: 'conda',
    envManager: 'conda',
    python,
    modelPythonVersion: files.pythonVersion,
    envDir,
    cacheKey,
    ready,
    commands: [command],
    commandEnv: offline && !micromamba ? { CONDA_OFFLINE: 'true' } : {},
    warnings: [],
    missingTool: exe
      ? undefined
      : 'a conda-compatible tool: micromamba (https://mamba.readthedocs.io), Miniforge (mamba/conda) or Miniconda, on PATH or named with MLMODEL_CONDA_EXE; or use --env-manager virtualenv or local',
  };
}

async function planLocal(model: ModelDir, opts: PythonEnvOptions, files: ModelEnvFiles): Promise<EnvPlan> {
  const base = await localBase(opts);
  const mismatch = mismatchWarning(model, files.pythonVersion, base);
  return {
    requested: 'local',
    envManager: 'local',
    python: base.python,
    base,
    modelPythonVersion: files.pythonVersion,
    ready: true,
    commands: [],
    commandEnv: {},
    warnings: mismatch ? [mismatch] : [],
  };
}

/**
 * What `resolvePython` would do for a model: the interpreter, the environment directory and the
 * exact commands that would create it. Runs the local interpreter once to learn its version (it is
 * part of the cache key) but creates nothing.
 */
export async function planEnvironment(model: ModelDir, opts: PythonEnvOptions = {}): Promise<EnvPlan> {
  const manager = opts.envManager ?? 'local';
  if (!ENV_MANAGERS.includes(manager)) {
    throw new PythonEnvError(`unknown env manager ${JSON.stringify(manager)}: expected one of ${ENV_MANAGERS.join(', ')}`);
  }
  if (opts.installer !== undefined && opts.installer !== 'pip' && opts.installer !== 'uv') {
    throw new PythonEnvError(`unknown installer ${JSON.stringify(opts.installer)}: expected pip or uv`);
  }
  const files = await readModelEnvFiles(model);
  if (manager === 'virtualenv') return planVirtualenv(model, opts, files);
  if (manager === 'conda') return planConda(model, opts, files);
  return planLocal(model, opts, files);
}
