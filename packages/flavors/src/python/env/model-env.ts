import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import {
  CONDA_FILE,
  ModelFormatError,
  PYTHON_ENV_FILE,
  REQUIREMENTS_FILE,
  parseCondaEnv,
  parsePythonEnv,
  parseRequirements,
  type CondaEnv,
  type ModelDir,
  type PythonEnv,
} from '@mlmodel/format';

/** One environment file of a model: where it is, its raw text and what it holds. */
export interface EnvFile<T> {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the model directory. */
  readonly rel: string;
  readonly text: string;
  readonly parsed: T;
}

/** The environment files a model declares, read and parsed. */
export interface ModelEnvFiles {
  readonly conda?: EnvFile<CondaEnv>;
  readonly pythonEnv?: EnvFile<PythonEnv>;
  /** requirements.txt at the model root (used when there is no python_env.yaml). */
  readonly requirements?: EnvFile<string[]>;
  /** Requirement/constraint files that python_env.yaml's dependencies point to (`-r f`, `-c f`). */
  readonly referenced: readonly EnvFile<string[]>[];
  /** The Python version the model was saved with: python_env.yaml, else `python_function.python_version`, else conda.yaml's `python=`. */
  readonly pythonVersion?: string;
}

/** A python_env.yaml dependency that names a file: `-r requirements.txt`, `--constraint=c.txt`. */
export function fileDependency(dep: string): { flag: '-r' | '-c'; file: string } | undefined {
  const m = /^(-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S.*)$/.exec(dep.trim());
  if (!m) return undefined;
  return { flag: m[1] === '-r' || m[1] === '--requirement' ? '-r' : '-c', file: m[2]!.trim() };
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function readEnvFile<T>(model: ModelDir, rel: string, parse: (text: string, file: string) => T): Promise<EnvFile<T>> {
  const path = model.resolve(rel);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ModelFormatError(`cannot read the environment file ${JSON.stringify(rel)}: ${(e as Error).message}`, { file: path, cause: e });
  }
  return { path, rel: relative(model.dir, path).split('\\').join('/'), text, parsed: parse(text, path) };
}

/** The `env` entry of `flavors.python_function`: a legacy conda file name, or `{conda, virtualenv}`. */
function declaredEnv(model: ModelDir): { conda?: string; virtualenv?: string } {
  const env = model.mlmodel.flavors.python_function?.env;
  if (typeof env === 'string') return { conda: env };
  if (env && typeof env === 'object') {
    const e = env as Record<string, unknown>;
    return {
      conda: typeof e.conda === 'string' ? e.conda : undefined,
      virtualenv: typeof e.virtualenv === 'string' ? e.virtualenv : undefined,
    };
  }
  return {};
}

function condaPythonVersion(conda: CondaEnv): string | undefined {
  for (const d of conda.dependencies) {
    if (typeof d !== 'string') continue;
    const m = /^python\s*(?:=|==)\s*([\d.]+)/.exec(d.trim());
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Read the environment files of a model: those named by `flavors.python_function.env`, else the
 * standard names (conda.yaml, python_env.yaml, requirements.txt) when present. Requirement files
 * referenced from python_env.yaml resolve relative to python_env.yaml's directory (the model root,
 * as MLflow writes it) and must stay inside the model directory.
 */
export async function readModelEnvFiles(model: ModelDir): Promise<ModelEnvFiles> {
  const declared = declaredEnv(model);
  const pick = async (name: string | undefined, fallback: string): Promise<string | undefined> => {
    if (name !== undefined) return name;
    return (await isFile(join(model.dir, fallback))) ? fallback : undefined;
  };
  const condaRel = await pick(declared.conda, CONDA_FILE);
  const pyEnvRel = await pick(declared.virtualenv, PYTHON_ENV_FILE);
  const conda = condaRel !== undefined ? await readEnvFile(model, condaRel, parseCondaEnv) : undefined;
  const pythonEnv = pyEnvRel !== undefined ? await readEnvFile(model, pyEnvRel, parsePythonEnv) : undefined;

  const referenced: EnvFile<string[]>[] = [];
  if (pythonEnv) {
    const base = dirname(pythonEnv.rel);
    for (const dep of pythonEnv.parsed.dependencies) {
      const ref = fileDependency(dep);
      if (ref) referenced.push(await readEnvFile(model, join(base, ref.file), (t) => parseRequirements(t)));
    }
  }
  const requirements =
    !pythonEnv && (await isFile(join(model.dir, REQUIREMENTS_FILE))) ? await readEnvFile(model, REQUIREMENTS_FILE, (t) => parseRequirements(t)) : undefined;

  const pf = model.mlmodel.flavors.python_function?.python_version;
  const pythonVersion = pythonEnv?.parsed.python ?? (typeof pf === 'string' ? pf : undefined) ?? (conda ? condaPythonVersion(conda.parsed) : undefined);
  return { conda, pythonEnv, requirements, referenced, pythonVersion };
}

/** pip requirements declared in conda.yaml's `{pip: [...]}` entry. */
export function condaPipRequirements(conda: CondaEnv): string[] {
  const out: string[] = [];
  for (const d of conda.dependencies) if (typeof d === 'object' && d !== null && Array.isArray(d.pip)) out.push(...d.pip.map(String));
  return out;
}

export { condaPythonVersion };
