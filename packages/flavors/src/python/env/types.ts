import type { FlavorLogger } from '../../flavor.js';
import type { PythonInfo, PythonSource } from './interpreter.js';

/** How the Python interpreter a model runs in is found or made (MLflow's `--env-manager`). */
export type EnvManager = 'local' | 'virtualenv' | 'conda';
export const ENV_MANAGERS: readonly EnvManager[] = ['local', 'virtualenv', 'conda'];

/** What installs packages into a virtualenv. */
export type PythonInstaller = 'pip' | 'uv';

export interface PythonEnvOptions {
  /** Default `local`. */
  readonly envManager?: EnvManager;
  /** The interpreter (`--python`); default `$MLMODEL_PYTHON`, else /usr/bin/python3, else python3 on PATH. Also the base of virtualenvs made with pip. */
  readonly python?: string;
  /** Where environments are cached; default `$MLMODEL_ENV_ROOT`, else `~/.cache/mlmodel/envs`. */
  readonly cacheDir?: string;
  /** virtualenv only: `pip` (default; `python -m venv` + pip) or `uv` (`uv venv` + `uv pip install`). */
  readonly installer?: PythonInstaller;
  /** The uv executable; default `uv` on PATH. */
  readonly uv?: string;
  /** The conda-compatible executable; default `$MLMODEL_CONDA_EXE`, else mamba, micromamba or conda on PATH, else `$CONDA_EXE`. */
  readonly condaExecutable?: string;
  /** Never reach a package index: pip `--no-index`, uv/micromamba `--offline`, conda `CONDA_OFFLINE=true`. */
  readonly offline?: boolean;
  /** Time limit for each command that creates or fills an environment (default 30 minutes). */
  readonly timeoutMs?: number;
  /** How long to wait for another process that is creating the same environment (default 60 minutes). */
  readonly lockTimeoutMs?: number;
  readonly logger?: FlavorLogger;
  /** Environment variables consulted (MLMODEL_PYTHON, MLMODEL_ENV_ROOT, MLMODEL_CONDA_EXE, CONDA_EXE, PATH) and passed to commands; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The local interpreter and where it came from. */
export interface BaseInterpreter extends PythonInfo {
  readonly source: PythonSource;
}

/** What `resolvePython` would do, without doing it. */
export interface EnvPlan {
  /** The manager asked for. */
  readonly requested: EnvManager;
  /** The manager that applies (conda falls back to local when the model has no conda.yaml). */
  readonly envManager: EnvManager;
  /** The interpreter the model will run in (inside `envDir` unless local). */
  readonly python: string;
  /** The local interpreter (for `local`, and the base of pip-made virtualenvs). */
  readonly base?: BaseInterpreter;
  /** The Python version the model was saved with, when it says. */
  readonly modelPythonVersion?: string;
  readonly envDir?: string;
  readonly cacheKey?: string;
  /** The environment already exists and is complete. */
  readonly ready: boolean;
  /** The commands that create the environment, in order (empty for local). */
  readonly commands: readonly (readonly string[])[];
  /** Variables added to the environment of those commands. */
  readonly commandEnv: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
  /** Set when a tool the plan needs is not installed: what to install. */
  readonly missingTool?: string;
}

export interface ResolvedPython {
  /** The interpreter to run the model with. */
  readonly python: string;
  /** Its `X.Y.Z` version. */
  readonly version: string;
  readonly envManager: EnvManager;
  readonly requested: EnvManager;
  readonly envDir?: string;
  /** True when this call created the environment. */
  readonly created: boolean;
  /** The commands this call ran to create it (empty when reused or local). */
  readonly commands: readonly (readonly string[])[];
  readonly warnings: readonly string[];
}
