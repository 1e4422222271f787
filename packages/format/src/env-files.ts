import { join } from 'node:path';
import { ModelFormatError } from './errors.js';
import { exists, readTextFile, writeFileAtomic } from './fs-utils.js';
import { dumpYaml, loadYaml } from './yaml/index.js';

/** conda.yaml: `{channels, dependencies: [str | {pip: [str]}], name}`; written key-sorted like MLflow. */
export interface CondaEnv {
  name?: string;
  channels?: string[];
  dependencies: (string | { pip: string[] })[];
  [key: string]: unknown;
}

/** python_env.yaml: written in this key order (MLflow dumps it unsorted). */
export interface PythonEnv {
  python: string;
  build_dependencies: string[];
  dependencies: string[];
}

export const CONDA_FILE = 'conda.yaml';
export const PYTHON_ENV_FILE = 'python_env.yaml';
export const REQUIREMENTS_FILE = 'requirements.txt';

export function parseCondaEnv(text: string, file = CONDA_FILE): CondaEnv {
  const d = loadYaml(text, { file, requireMapping: true }) as Record<string, unknown>;
  if (!Array.isArray(d.dependencies)) throw new ModelFormatError('expected a list', { file, keyPath: 'dependencies' });
  return d as CondaEnv;
}

export function serializeCondaEnv(env: CondaEnv): string {
  return dumpYaml(env);
}

export function parsePythonEnv(text: string, file = PYTHON_ENV_FILE): PythonEnv {
  const d = loadYaml(text, { file, requireMapping: true }) as Record<string, unknown>;
  const list = (k: string): string[] => {
    const v = d[k] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new ModelFormatError('expected a list of strings', { file, keyPath: k });
    }
    return v;
  };
  if (typeof d.python !== 'string') throw new ModelFormatError('expected a Python version string', { file, keyPath: 'python' });
  return { python: d.python, build_dependencies: list('build_dependencies'), dependencies: list('dependencies') };
}

export function serializePythonEnv(env: PythonEnv): string {
  return dumpYaml({ python: env.python, build_dependencies: env.build_dependencies, dependencies: env.dependencies }, { sortKeys: false });
}

/** Requirement lines, without blanks and comments (`-r`, `-c` and URL lines are kept verbatim). */
export function parseRequirements(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l.length > 0);
}

/** One requirement per line, no trailing newline (as MLflow writes it). */
export function serializeRequirements(reqs: readonly string[]): string {
  return reqs.join('\n');
}

/** The environment files of a model directory; each is undefined when absent. */
export interface ModelEnvironment {
  conda?: CondaEnv;
  pythonEnv?: PythonEnv;
  requirements?: string[];
}

export async function readModelEnvironment(dir: string): Promise<ModelEnvironment> {
  const out: ModelEnvironment = {};
  const p = (f: string): string => join(dir, f);
  if (await exists(p(CONDA_FILE))) out.conda = parseCondaEnv(await readTextFile(p(CONDA_FILE)), p(CONDA_FILE));
  if (await exists(p(PYTHON_ENV_FILE))) out.pythonEnv = parsePythonEnv(await readTextFile(p(PYTHON_ENV_FILE)), p(PYTHON_ENV_FILE));
  if (await exists(p(REQUIREMENTS_FILE))) out.requirements = parseRequirements(await readTextFile(p(REQUIREMENTS_FILE)));
  return out;
}

export async function writeModelEnvironment(dir: string, env: ModelEnvironment): Promise<void> {
  if (env.conda) await writeFileAtomic(join(dir, CONDA_FILE), serializeCondaEnv(env.conda));
  if (env.pythonEnv) await writeFileAtomic(join(dir, PYTHON_ENV_FILE), serializePythonEnv(env.pythonEnv));
  if (env.requirements) await writeFileAtomic(join(dir, REQUIREMENTS_FILE), serializeRequirements(env.requirements));
}
