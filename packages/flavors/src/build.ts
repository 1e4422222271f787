import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  MlmodelError,
  createMLmodel,
  directorySize,
  enforceParams,
  inferOutputSchema,
  inferSchema,
  saveInputExample,
  writeMLmodel,
  type MLmodel,
  type ModelSignature,
  type ParamSpec,
  type Prediction,
} from '@mlmodel/format';
import type { FlavorRegistry } from './registry.js';
import { decodeRequest } from './runner/decode.js';
import { ModelRunner } from './runner/model-runner.js';

/** Raised when a model cannot be built; nothing is left at the output path. */
export class BuildError extends MlmodelError {}

export interface BuildOptions {
  /** The flavor that saves the model (its MLmodel key: onnx, tfjs, js_function, or a plugin's). */
  readonly flavor: string;
  /** What that flavor's `save` takes (e.g. `{ onnxPath }`). */
  readonly input: unknown;
  /** The model directory to create; it must not exist or be empty. */
  readonly outDir: string;
  readonly registry: FlavorRegistry;
  /** A request body in any scoring format (JSON forms, CSV, Parquet, Arrow), saved as the input example. */
  readonly inputExample?: { readonly body: Uint8Array; readonly contentType: string };
  /** A full signature, or 'infer' (default): from the model itself, else from the input example and its prediction. */
  readonly signature?: ModelSignature | 'infer';
  /** Params added to the signature (`--param`). */
  readonly params?: readonly ParamSpec[];
  readonly metadata?: Record<string, unknown>;
  readonly runId?: string;
}

export interface BuildResult {
  readonly dir: string;
  readonly mlmodel: MLmodel;
  /** The prediction for the input example, when one was given. */
  readonly examplePrediction?: Prediction;
}

async function prepareOutDir(outDir: string): Promise<void> {
  let entries: string[] | undefined;
  try {
    entries = await readdir(outDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new BuildError(`output path ${outDir} is a file; choose a directory path for -o`);
    if (code !== 'ENOENT') throw e;
  }
  if (entries && entries.length > 0) throw new BuildError(`output directory ${outDir} already exists and is not empty; choose another -o or remove it`);
  if (entries) await rmdir(outDir);
  await mkdir(dirname(outDir), { recursive: true });
}

function mergeParams(sig: ModelSignature | null, params: readonly ParamSpec[] | undefined): ModelSignature | null {
  if (!params?.length) return sig;
  // validates every default against its type, with the same rules predict will apply
  enforceParams({}, params);
  const byName = new Map((sig?.params ?? []).map((p) => [p.name, p]));
  for (const p of params) byName.set(p.name, p);
  return { inputs: sig?.inputs ?? null, outputs: sig?.outputs ?? null, params: [...byName.values()] };
}

/**
 * Build a complete model directory: the flavor's files, MLmodel, signature, input example and
 * serving example. The model is loaded and the example run through the same path predict uses
 * before anything appears at `outDir` (built in a sibling temp dir, then renamed).
 */
export async function buildModel(o: BuildOptions): Promise<BuildResult> {
  const flavor = o.registry.get(o.flavor);
  if (!flavor?.save) throw new BuildError(`flavor '${o.flavor}' cannot build models (available: ${o.registry.names().join(', ')})`);
  const outDir = resolve(o.outDir);
  await prepareOutDir(outDir);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.partial-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    const saved = await flavor.save(o.input as never, tmp, { loadModel: (path, inner) => o.registry.load(path, inner) });
    let signature: ModelSignature | null = o.signature && o.signature !== 'infer' ? o.signature : (saved.inferredSignature ?? null);
    signature = mergeParams(signature, o.params);

    // decoded before the model exists, with the signature known so far (it may be inferred from the example)
    const example = o.inputExample
      ? await decodeRequest({ signature, signatureFromTypeHint: false }, o.inputExample.body, o.inputExample.contentType)
      : undefined;
    if (example && !signature?.inputs && example.input.kind !== 'json') {
      signature = { inputs: inferSchema(example.input), outputs: signature?.outputs ?? null, params: signature?.params ?? null };
    }

    const mlmodel = createMLmodel({
      flavors: saved.flavors,
      signature,
      run_id: o.runId ?? null,
      metadata: o.metadata && Object.keys(o.metadata).length ? o.metadata : null,
      extra: { mlmodel_version: '0.1.0' },
    });
    if (example) {
      const data = example.input.kind === 'json' ? { json: example.input.value } : { batch: example.input };
      mlmodel.saved_input_example_info = await saveInputExample(tmp, data, example.params ?? undefined);
    }
    await writeMLmodel(tmp, mlmodel);

    let examplePrediction: Prediction | undefined;
    if (example) {
      // the example runs through the runner, as `mlmodel predict` and the server will run requests
      const runner = await ModelRunner.open(tmp, { registry: o.registry, flavor: o.flavor });
      try {
        examplePrediction = await runner.predict(runner.prepare(example.input, example.params));
      } catch (e) {
        throw new BuildError(`the input example does not work with this model: ${(e as Error).message}`, 'INVALID_PARAMETER_VALUE', { cause: e });
      } finally {
        await runner.close();
      }
      if (signature && !signature.outputs && (o.signature === undefined || o.signature === 'infer')) {
        mlmodel.signature = { ...signature, outputs: inferOutputSchema(examplePrediction) };
      }
    }
    mlmodel.model_size_bytes = await directorySize(tmp);
    await writeMLmodel(tmp, mlmodel);
    await rename(tmp, outDir);
    return { dir: outDir, mlmodel, ...(examplePrediction ? { examplePrediction } : {}) };
  } catch (e) {
    if (e instanceof Error) await showUserPaths(e, tmp, outDir, o.input);
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

// --- errors name the user's files, not the temporary build directory --------------------------

const MAX_SOURCE_FILES = 10_000;
const MAX_COMPARED_BYTES = 256 * 1024 * 1024;

/** Existing files named by the flavor's input (`{ onnxPath }`, `{ modulePath, codePaths, artifacts }`, …), directories walked. */
async function sourceFiles(input: unknown): Promise<string[]> {
  const paths: string[] = [];
  const collect = (v: unknown, depth: number): void => {
    if (typeof v === 'string' && v !== '') paths.push(resolve(v));
    else if (depth < 4 && Array.isArray(v)) for (const x of v) collect(x, depth + 1);
    else if (depth < 4 && v !== null && typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) collect(x, depth + 1);
  };
  collect(input, 0);
  const files: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => null);
    if (s?.isFile()) files.push(p);
    else if (s?.isDirectory()) files.push(...(await filesUnder(p)));
    if (files.length > MAX_SOURCE_FILES) break;
  }
  return files;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .slice(0, MAX_SOURCE_FILES);
}

async function sameContent(a: string, b: string, size: number): Promise<boolean> {
  if (size > MAX_COMPARED_BYTES) return true; // same size and name is evidence enough for such files
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  return x.equals(y);
}

/**
 * The user's file each file of the build directory was copied from (same content; the same name
 * first), found only when an error names the build directory.
 */
async function copiedFrom(tmp: string, input: unknown): Promise<Map<string, string>> {
  const sources = await sourceFiles(input);
  const sizes = new Map<string, number>();
  for (const f of sources) sizes.set(f, (await stat(f)).size);
  const out = new Map<string, string>();
  for (const built of await filesUnder(tmp)) {
    const size = (await stat(built)).size;
    const candidates = sources
      .filter((f) => sizes.get(f) === size)
      .sort((a, b) => Number(basename(b) === basename(built)) - Number(basename(a) === basename(built)));
    for (const c of candidates) {
      if (await sameContent(built, c, size)) {
        out.set(built, c);
        break;
      }
    }
  }
  return out;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Rewrite an error that names the temporary build directory (`.<name>.partial-xxxx`, which is
 * removed) so it names the user's files instead: a copied file becomes the file it was copied
 * from (file: URLs, with any query, become that path), anything else the output path asked for.
 */
async function showUserPaths(e: Error, tmp: string, outDir: string, input: unknown): Promise<void> {
  const tmpUrl = pathToFileURL(tmp).href;
  const mentions = (text: string): boolean => text.includes(tmp) || text.includes(tmpUrl);
  const file = (e as { file?: unknown }).file;
  if (!mentions(e.message) && !(typeof file === 'string' && mentions(file))) return;
  const copies = [...(await copiedFrom(tmp, input).catch(() => new Map<string, string>()))].sort((a, b) => b[0].length - a[0].length);
  // a file: URL inside the build directory, with any query (a module import's cache buster)
  const urls = new RegExp(`${escapeRegExp(tmpUrl)}([^\\s'"()?#]*)(?:[?#][^\\s'"()]*)?`, 'g');
  const rewrite = (text: string): string => {
    let t = text.replace(urls, (_m, rest: string) => join(tmp, decodeURIComponent(rest)));
    for (const [built, source] of copies) t = t.split(built).join(source);
    return t.split(tmp).join(outDir);
  };
  e.message = rewrite(e.message);
  if (typeof file === 'string') Object.defineProperty(e, 'file', { value: rewrite(file), enumerable: true, configurable: true, writable: false });
}
