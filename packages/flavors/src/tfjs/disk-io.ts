/**
 * tf.io handlers for models on the local disk. Pure tfjs (without tfjs-node) has no file://
 * handler and Node's fetch refuses file: URLs, so these read and write the files directly.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { TfjsModelFileError } from './errors.js';
import { readModelJson, readShards, type ParsedModelJson } from './model-json.js';

export const MODEL_JSON = 'model.json';
/** File name `diskSaveHandler` gives the single weight shard it writes. */
export const WEIGHTS_FILE = 'weights.bin';

/** `path` itself when it is a file, else `path/model.json`. */
export async function modelJsonPath(path: string): Promise<string> {
  try {
    return (await stat(path)).isDirectory() ? join(path, MODEL_JSON) : path;
  } catch {
    return path; // readModelJson reports the missing file
  }
}

/** The artifacts tfjs loaders expect, from a checked model.json and its shard contents. */
export function modelArtifacts(model: ParsedModelJson, shards: readonly Uint8Array[]): io.ModelArtifacts {
  const j = model.json;
  const artifacts: io.ModelArtifacts = {
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
    weightData: shards.map(ownArrayBuffer),
  };
  if (j.format !== undefined) artifacts.format = j.format;
  if (j.generatedBy !== undefined) artifacts.generatedBy = j.generatedBy;
  if (j.convertedBy !== undefined) artifacts.convertedBy = j.convertedBy;
  if (j.trainingConfig !== undefined) artifacts.trainingConfig = j.trainingConfig;
  if (j.signature !== undefined) artifacts.signature = j.signature;
  if (j.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = j.userDefinedMetadata;
  if (j.modelInitializer !== undefined) artifacts.modelInitializer = j.modelInitializer;
  if (j.initializerSignature !== undefined) artifacts.initializerSignature = j.initializerSignature;
  return artifacts;
}

/** An ArrayBuffer holding exactly the bytes of `b` (Node may hand out views into larger pools). */
function ownArrayBuffer(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  return b.slice().buffer;
}

/**
 * A handler that loads a graph or layers model from a model.json on disk (or a directory holding
 * one) and the weight shards its manifest lists, checking that each shard exists and is long
 * enough. Use with `tf.loadGraphModel(handler)` or `tf.loadLayersModel(handler)`.
 */
export function diskLoadHandler(path: string): io.IOHandler {
  return {
    load: async () => {
      const model = await readModelJson(await modelJsonPath(path));
      return modelArtifacts(model, await readShards(model));
    },
  };
}

/**
 * A handler that saves a model into a directory as `model.json` plus one `weights.bin` shard,
 * e.g. `await layersModel.save(diskSaveHandler(dir))`; the directory is then ready for
 * `tfjsFlavor.save({ dir })`.
 */
export function diskSaveHandler(dir: string): io.IOHandler {
  return {
    save: async (artifacts) => {
      if (artifacts.modelTopology instanceof ArrayBuffer || artifacts.modelTopology === undefined) {
        throw new TfjsModelFileError('can only save models whose topology is JSON (tfjs layers and graph models)', { file: dir });
      }
      const buffers = artifacts.weightData === undefined ? [] : Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
      const weights = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
      let pos = 0;
      for (const b of buffers) {
        weights.set(new Uint8Array(b), pos);
        pos += b.byteLength;
      }
      const json: io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.format !== undefined) json.format = artifacts.format;
      if (artifacts.generatedBy !== undefined) json.generatedBy = artifacts.generatedBy;
      if (artifacts.convertedBy !== undefined) json.convertedBy = artifacts.convertedBy;
      if (artifacts.trainingConfig !== undefined) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature !== undefined) json.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata !== undefined) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.modelInitializer !== undefined) json.modelInitializer = artifacts.modelInitializer;
      if (artifacts.initializerSignature !== undefined) json.initializerSignature = artifacts.initializerSignature;
      const text = JSON.stringify(json);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, WEIGHTS_FILE), weights);
      await writeFile(join(dir, MODEL_JSON), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(artifacts.weightSpecs ?? [])),
          weightDataBytes: weights.byteLength,
        },
      };
    },
  };
}
