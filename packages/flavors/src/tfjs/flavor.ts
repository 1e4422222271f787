/**
 * The native `tfjs` flavor: TensorFlow.js graph models (tensorflowjs_converter output) and layers
 * models (Keras topologies), loaded from disk and run on tfjs-node, wasm or cpu.
 *
 * MLflow has no tfjs flavor; ours is this MLmodel block (no `python_function` block is written,
 * since MLflow's Python cannot load tfjs models):
 *
 * ```yaml
 * flavors:
 *   tfjs:
 *     model_type: graph         # graph | layers: loaded with loadGraphModel or loadLayersModel
 *     path: model               # directory holding the model files, relative to the model directory
 *     model_json: model.json    # the model.json inside `path`; its weightsManifest names the shards next to it
 *     tfjs_version: 4.22.0      # @tensorflow/tfjs-core version that saved (and validated) the model
 *     signature_name: serving_default   # optional, informational: the TF SavedModel signature a graph model was converted from
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { MLMODEL_FILE_NAME, ModelFormatError, tensorBatch, type Batch, type FlavorConfig, type ModelDir, type Prediction } from '@mlmodel/format';
import type { Flavor, LoadedModel, LoadOptions, SavedFlavor } from '../flavor.js';
import { hasFlavor } from '../registry.js';
import { ensureBackend, isTfjsBackendName, TFJS_BACKENDS, type TfjsBackendName } from './backend.js';
import { outputTensor, prepareInputs } from './convert.js';
import { MODEL_JSON, modelArtifacts } from './disk-io.js';
import { TfjsBackendError, TfjsModelFileError } from './errors.js';
import { runModel, runOnZeros } from './execute.js';
import { readModelJson, readShards, type ParsedModelJson, type TfjsModelType } from './model-json.js';
import { loadRunner, type IoSpec, type TfjsRunner } from './runner.js';
import { loadTfjs, type Tfjs } from './runtime.js';
import { inferSignature, returnsUnnamedOutput } from './signature.js';

export const TFJS_FLAVOR_NAME = 'tfjs';
/** Directory, inside the model directory, that `save` copies the model files into. */
export const TFJS_MODEL_SUBDIR = 'model';

/**
 * What `tfjsFlavor.save` takes: a directory holding `model.json` and its shards, or the path of the
 * model.json itself (which may have another name, e.g. `emotion.json`). `signatureName` is recorded
 * as `signature_name`.
 */
export type TfjsSaveInput = ({ readonly dir: string } | { readonly modelJson: string }) & { readonly signatureName?: string };

/** The `flavors.tfjs` block. */
export interface TfjsFlavorConfig {
  readonly model_type: TfjsModelType;
  readonly path: string;
  readonly model_json: string;
  readonly tfjs_version: string;
  readonly signature_name?: string;
}

export const tfjsFlavor: Flavor<TfjsSaveInput> = {
  name: TFJS_FLAVOR_NAME,
  canLoad: (model) => hasFlavor(model, TFJS_FLAVOR_NAME),
  runsInProcess: true,
  load: loadTfjsModel,
  save: saveTfjsModel,
  checkOptions: (options) => void backendOption({ options }),
};

async function saveTfjsModel(input: TfjsSaveInput, outDir: string): Promise<SavedFlavor> {
  const file = 'modelJson' in input ? resolve(input.modelJson) : join(resolve(input.dir), MODEL_JSON);
  const parsed = await readModelJson(file);
  const shards = await readShards(parsed);
  const tf = await loadTfjs();
  await ensureBackend(undefined);
  // load once: proves tfjs can build the model from these files, and yields its inputs and outputs
  const runner = await loadChecked(tf, parsed, shards);
  let outputs: readonly IoSpec[] | undefined;
  try {
    outputs = await runOnZeros(tf, runner);
  } catch (e) {
    throw new TfjsModelFileError(
      `TensorFlow.js loaded this ${parsed.modelType} model but cannot run it on zeros of its declared input shapes: ${(e as Error).message}`,
      { file, cause: e },
    );
  } finally {
    runner.dispose();
  }
  const target = join(outDir, TFJS_MODEL_SUBDIR);
  await mkdir(target, { recursive: true });
  await writeFile(join(target, MODEL_JSON), parsed.text);
  for (const [i, s] of parsed.shards.entries()) {
    const dest = join(target, s.path);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, shards[i]!);
  }
  const config: TfjsFlavorConfig = {
    model_type: parsed.modelType,
    path: TFJS_MODEL_SUBDIR,
    model_json: MODEL_JSON,
    tfjs_version: tf.core.version_core,
    ...(input.signatureName !== undefined ? { signature_name: input.signatureName } : {}),
  };
  return { flavors: { [TFJS_FLAVOR_NAME]: { ...config } }, inferredSignature: inferSignature(runner, outputs ?? runner.outputs) };
}

async function loadChecked(tf: Tfjs, parsed: ParsedModelJson, shards: readonly Uint8Array[]): Promise<TfjsRunner> {
  try {
    return await loadRunner(tf, parsed.modelType, modelArtifacts(parsed, shards));
  } catch (e) {
    throw new TfjsModelFileError(`TensorFlow.js cannot load this ${parsed.modelType} model: ${(e as Error).message}`, { file: parsed.file, cause: e });
  }
}

/** Check the `flavors.tfjs` block. */
export function readTfjsConfig(model: ModelDir): TfjsFlavorConfig {
  const file = join(model.dir, MLMODEL_FILE_NAME);
  const block = model.mlmodel.flavors[TFJS_FLAVOR_NAME] as FlavorConfig | undefined;
  const bad = (key: string, why: string): never => {
    throw new ModelFormatError(why, { file, keyPath: `flavors.${TFJS_FLAVOR_NAME}.${key}` });
  };
  if (!block || typeof block !== 'object') return bad('', 'the model has no tfjs flavor block');
  const modelType = block.model_type;
  if (modelType !== 'graph' && modelType !== 'layers') bad('model_type', `must be 'graph' or 'layers', got ${JSON.stringify(modelType ?? null)}`);
  const path = block.path ?? TFJS_MODEL_SUBDIR;
  if (typeof path !== 'string' || path === '') bad('path', 'must be the model files directory, relative to the model directory');
  const modelJson = block.model_json ?? MODEL_JSON;
  if (typeof modelJson !== 'string' || modelJson === '') bad('model_json', 'must name the model.json file inside `path`');
  return {
    model_type: modelType as TfjsModelType,
    path: path as string,
    model_json: modelJson as string,
    tfjs_version: String(block.tfjs_version ?? 'unknown'),
    ...(typeof block.signature_name === 'string' ? { signature_name: block.signature_name } : {}),
  };
}

function backendOption(options: LoadOptions | undefined): TfjsBackendName | undefined {
  const b = options?.options?.backend;
  if (b === undefined || b === null) return undefined;
  if (!isTfjsBackendName(b)) {
    throw new TfjsBackendError(`unknown tfjs backend ${JSON.stringify(b)}; use one of ${TFJS_BACKENDS.map((x) => `'${x}'`).join(', ')}`);
  }
  return b;
}

async function loadTfjsModel(model: ModelDir, options?: LoadOptions): Promise<LoadedModel> {
  const config = readTfjsConfig(model);
  const logger = options?.logger;
  const backend = await ensureBackend(backendOption(options), logger);
  const tf = await loadTfjs();
  const file = model.resolve(join(config.path, config.model_json));
  const parsed = await readModelJson(file);
  if (parsed.modelType !== config.model_type) {
    throw new ModelFormatError(`says model_type '${config.model_type}', but ${file} holds a ${parsed.modelType} model`, {
      file: join(model.dir, MLMODEL_FILE_NAME),
      keyPath: `flavors.${TFJS_FLAVOR_NAME}.model_type`,
    });
  }
  const runner = await loadChecked(tf, parsed, await readShards(parsed));
  const describe = (s: IoSpec): Record<string, unknown> => ({ name: s.name, dtype: s.dtype ?? null, shape: s.shape ?? null });
  const execution = (): string => (runner.modelType === 'layers' ? 'predictOnBatch' : runner.isAsync ? 'executeAsync' : 'execute');
  logger?.info(`tfjs: loaded the ${parsed.modelType} model ${file} on the ${backend.name} backend (${execution()})`);
  const unnamedOutput = returnsUnnamedOutput(runner);
  let closed = false;
  const details = {
    backend: backend.name,
    backendDescription: backend.description,
    modelType: parsed.modelType,
    tfjsVersion: tf.core.version_core,
    savedWithTfjsVersion: config.tfjs_version,
    ...(config.signature_name !== undefined ? { signatureName: config.signature_name } : {}),
    inputs: runner.inputs.map(describe),
    outputs: runner.outputs.map(describe),
    get execution() {
      return execution();
    },
  };
  return {
    flavor: TFJS_FLAVOR_NAME,
    signature: model.mlmodel.signature ?? inferSignature(runner),
    details,
    async predict(batch: Batch): Promise<Prediction> {
      if (closed) throw new TfjsBackendError('this tfjs model has been closed');
      const prepared = prepareInputs(batch, runner.inputs);
      const outs = await runModel(tf, runner, prepared, () =>
        logger?.info(`tfjs: the graph of ${file} needs executeAsync (it has control-flow or dynamic-shape ops); switched to it`),
      );
      return tensorBatch(outs.map((o) => outputTensor(unnamedOutput ? null : o.spec.name, o.dtype, o.shape, o.data)));
    },
    close() {
      if (!closed) {
        closed = true;
        runner.dispose();
      }
      return Promise.resolve();
    },
  };
}
