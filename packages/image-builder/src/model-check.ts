/**
 * Checks, before anything is built, that a model directory can go into an image: its MLmodel
 * parses, the files it refers to exist, a flavor the image can serve loads it, and for a
 * python_function model its environment files read. Every failure is one line naming the model.
 */
import { MlmodelError, checkModelFiles, openModelDir, type ModelDir, type ModelUriResolver } from '@mlmodel/format';
import { createRegistry, readModelEnvFiles, type ModelEnvFiles } from '@mlmodel/flavors';
import { ImageBuildError, oneLine } from './errors.js';
import { IMAGE_FLAVORS, isImageFlavor, type ImageFlavor } from './flavor-packages.js';

/** What a python_function model needs from the image's Python. */
export interface PythonNeeds {
  /** pip requirement lines (`-r` files of python_env.yaml, else requirements.txt, else conda.yaml's pip list). */
  readonly requirements: readonly string[];
  /** pip constraint lines (`-c` files of python_env.yaml). */
  readonly constraints: readonly string[];
  /** Distributions the model loads without (e.g. mlflow for mlflow.sklearn models: the bridge loads them itself). */
  readonly skip: readonly string[];
  /** The Python version the model was saved with, when known. */
  readonly pythonVersion?: string;
}

export interface ModelForImage {
  readonly model: ModelDir;
  /** A name for the model: its directory's name. */
  readonly name: string;
  /** The flavor the server will load it with. */
  readonly flavor: ImageFlavor;
  readonly python?: PythonNeeds;
}

/** Loader modules the Python bridge implements itself, so MLflow need not be installed for them. */
const BRIDGE_LOADERS = new Set(['mlflow.sklearn']);

function requirementFiles(env: ModelEnvFiles): { requirements: string[]; constraints: string[] } {
  const requirements: string[] = [];
  const constraints: string[] = [];
  if (env.pythonEnv) {
    const byRel = new Map(env.referenced.map((f) => [f.rel, f.parsed]));
    const base = env.pythonEnv.rel.includes('/') ? env.pythonEnv.rel.slice(0, env.pythonEnv.rel.lastIndexOf('/') + 1) : '';
    for (const dep of env.pythonEnv.parsed.dependencies) {
      const m = /^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S.*)$/.exec(dep.trim());
      if (!m) {
        requirements.push(dep.trim());
        continue;
      }
      const lines = byRel.get(`${base}${m[2]!.trim()}`.replace(/^\.\//, '')) ?? [];
      (m[1] === '-c' || m[1] === '--constraint' ? constraints : requirements).push(...lines);
    }
  } else if (env.requirements) {
    requirements.push(...env.requirements.parsed);
  } else if (env.conda) {
    for (const d of env.conda.parsed.dependencies) if (typeof d === 'object' && d !== null && Array.isArray(d.pip)) requirements.push(...d.pip.map(String));
  }
  return { requirements, constraints };
}

async function pythonNeeds(model: ModelDir): Promise<PythonNeeds> {
  const env = await readModelEnvFiles(model);
  const { requirements, constraints } = requirementFiles(env);
  const loader = model.mlmodel.flavors.python_function?.loader_module;
  const skip = typeof loader === 'string' && BRIDGE_LOADERS.has(loader) ? ['mlflow', 'mlflow-skinny'] : [];
  return { requirements, constraints, skip, ...(env.pythonVersion ? { pythonVersion: env.pythonVersion } : {}) };
}

/**
 * Open and check a model directory for an image; `flavor` picks the flavor as `mlmodel serve --flavor` does,
 * `resolver` turns a remote model URI (`runs:/`, `models:/`) into a local directory first.
 */
export async function checkModelForImage(path: string, opts: { flavor?: string; resolver?: ModelUriResolver } = {}): Promise<ModelForImage> {
  let model: ModelDir;
  try {
    model = await openModelDir(path, opts.resolver ? { resolver: opts.resolver } : {});
  } catch (e) {
    if (e instanceof MlmodelError) {
      const msg = oneLine(e.message);
      throw new ImageBuildError(msg.includes(path) ? msg : `${path}: ${msg}`, e.errorCode, { cause: e });
    }
    throw e;
  }
  const problems = await checkModelFiles(model);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}: run mlmodel validate ${path})` : '';
    throw new ImageBuildError(`${path} is broken: ${oneLine(problems[0]!)}${more}`);
  }
  let flavor: string;
  try {
    flavor = createRegistry().pick(model, opts.flavor).name;
  } catch (e) {
    if (e instanceof MlmodelError) throw new ImageBuildError(oneLine(e.message), e.errorCode, { cause: e });
    throw e;
  }
  if (!isImageFlavor(flavor)) throw new ImageBuildError(`${path}: flavor '${flavor}' cannot go into an image (images serve ${IMAGE_FLAVORS.join(', ')})`);
  const name = model.dir.split('/').filter(Boolean).pop() ?? 'model';
  if (flavor !== 'python_function') return { model, name, flavor };
  try {
    return { model, name, flavor, python: await pythonNeeds(model) };
  } catch (e) {
    if (e instanceof MlmodelError) throw new ImageBuildError(`${path}: ${oneLine(e.message)}`, e.errorCode, { cause: e });
    throw e;
  }
}
