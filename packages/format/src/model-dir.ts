import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ModelFormatError, MlmodelError } from './errors.js';
import { exists, fsMessage, readTextFile, writeFileAtomic } from './fs-utils.js';
import { MLMODEL_FILE_NAME, parseMLmodel, serializeMLmodel } from './mlmodel/mlmodel.js';
import type { MLmodel } from './mlmodel/types.js';
import { parseModelUri, formatModelUri, type ModelUri } from './model-uri.js';

/** A model directory on disk and its parsed MLmodel file. */
export interface ModelDir {
  /** Absolute path of the directory. */
  readonly dir: string;
  readonly mlmodel: MLmodel;
  /** Absolute path of a file inside the model directory (refuses paths that escape it). */
  resolve(relPath: string): string;
}

function makeResolver(dir: string, file: string): (rel: string) => string {
  // `dir` is normalized (no trailing separator) except for the root itself
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return (rel: string) => {
    const p = resolve(dir, rel);
    if (p !== dir && !p.startsWith(prefix)) {
      throw new ModelFormatError(`path ${JSON.stringify(rel)} points outside the model directory`, { file });
    }
    return p;
  };
}

/**
 * Turns a model URI that is not a local path (`runs:/`, `models:/`, `mlflow-artifacts:/`, …) into
 * a local model directory or MLmodel file, e.g. by downloading it (the tracking client provides
 * one). Return null for URIs it does not handle, so resolvers can be chained.
 */
export type ModelUriResolver = (uri: Exclude<ModelUri, { kind: 'local' }>, raw: string) => Promise<string | null>;

export interface OpenModelDirOptions {
  /** Resolves remote model URIs to local paths; without one, only local paths and `file:` URIs open. */
  readonly resolver?: ModelUriResolver | undefined;
}

/**
 * Open a model from a local path or `file://` URI: a model directory, or the MLmodel file itself.
 * Other URIs (runs:/, models:/) go through `opts.resolver`, which makes them local first.
 */
export async function openModelDir(pathOrUri: string, opts: OpenModelDirOptions = {}): Promise<ModelDir> {
  let uri = parseModelUri(pathOrUri);
  if (uri.kind !== 'local') {
    const local = opts.resolver ? await opts.resolver(uri, pathOrUri) : null;
    if (local === null) {
      throw new MlmodelError(
        `${formatModelUri(uri)} is not a local model; download it first (remote model URIs are resolved by the tracking client)`,
        'INVALID_PARAMETER_VALUE',
      );
    }
    uri = parseModelUri(local);
    if (uri.kind !== 'local') throw new MlmodelError(`the model resolver turned ${pathOrUri} into ${local}, which is not a local path`, 'INTERNAL_ERROR');
  }
  // normalized: a trailing slash (what shell completion types) or `..` must not change the directory's name
  let dir = resolve(uri.path);
  let s;
  try {
    s = await stat(dir);
  } catch (e) {
    throw new ModelFormatError(`model path does not exist (${fsMessage(e)})`, { file: dir, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  }
  if (s.isFile()) {
    if (basename(dir) !== MLMODEL_FILE_NAME) {
      throw new ModelFormatError(`expected a model directory or its ${MLMODEL_FILE_NAME} file`, { file: dir });
    }
    dir = dirname(dir);
  }
  const file = join(dir, MLMODEL_FILE_NAME);
  if (!(await exists(file))) {
    throw new ModelFormatError(`not a model directory: it has no ${MLMODEL_FILE_NAME} file`, {
      file: dir,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
  }
  const mlmodel = parseMLmodel(await readTextFile(file, 16 * 1024 * 1024), file);
  return { dir, mlmodel, resolve: makeResolver(dir, file) };
}

/** Write (or overwrite) the MLmodel file of a directory, atomically. */
export async function writeMLmodel(dir: string, m: MLmodel): Promise<void> {
  await writeFileAtomic(join(dir, MLMODEL_FILE_NAME), serializeMLmodel(m));
}

/** Files an MLmodel refers to, as `[keyPath, relative path]`. */
export function referencedFiles(m: MLmodel): [string, string][] {
  const out: [string, string][] = [];
  const add = (key: string, v: unknown): void => {
    if (typeof v === 'string' && v) out.push([key, v]);
  };
  for (const [name, f] of Object.entries(m.flavors)) {
    for (const k of ['data', 'model_path', 'pickled_model', 'python_model', 'code']) add(`flavors.${name}.${k}`, f[k]);
    const env = f.env;
    if (typeof env === 'string') add(`flavors.${name}.env`, env);
    else if (env && typeof env === 'object') {
      for (const [k, v] of Object.entries(env as Record<string, unknown>)) add(`flavors.${name}.env.${k}`, v);
    }
  }
  const ex = m.saved_input_example_info;
  if (ex) {
    add('saved_input_example_info.artifact_path', ex.artifact_path);
    add('saved_input_example_info.serving_input_path', ex.serving_input_path);
  }
  return out;
}

/** Problems that make a model directory unusable beyond the MLmodel file itself: missing referenced files. */
export async function checkModelFiles(model: ModelDir): Promise<string[]> {
  const problems: string[] = [];
  const file = join(model.dir, MLMODEL_FILE_NAME);
  for (const [key, rel] of referencedFiles(model.mlmodel)) {
    let p: string;
    try {
      p = model.resolve(rel);
    } catch (e) {
      problems.push(`${file} at ${key}: ${(e as Error).message.replace(`${file}: `, '')}`);
      continue;
    }
    if (!(await exists(p))) problems.push(`${file} at ${key}: refers to ${JSON.stringify(rel)}, which does not exist in the model directory`);
  }
  return problems;
}

/** Total size in bytes of the files under a directory (MLflow's `model_size_bytes`). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}
