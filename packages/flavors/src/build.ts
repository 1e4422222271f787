import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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
    const example = o.inputExample ? await decodeRequest({ signature, signatureFromTypeHint: false }, o.inputExample.body, o.inputExample.contentType) : undefined;
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
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
