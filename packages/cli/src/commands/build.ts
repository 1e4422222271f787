import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { MlmodelError, encodePredictions, parseParamArg, parseSignature, type ModelSignature } from '@mlmodel/format';
import { buildModel, createRegistry } from '@mlmodel/flavors';
import { contentTypeFor, keyValues } from '../args.js';
import { truncate, type Io } from '../output.js';

export interface BuildCliOptions {
  onnx?: string;
  tfjs?: string;
  js?: string;
  artifact?: string[];
  code?: string[];
  config?: string[];
  inputExample?: string;
  signature?: string;
  param?: string[];
  metadata?: string[];
  runId?: string;
  output: string;
  json?: boolean;
}

/** Read a signature file: `{inputs, outputs, params}`, each an MLflow JSON string, a list, or null. */
async function readSignatureFile(path: string): Promise<ModelSignature> {
  let d: unknown;
  try {
    d = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new MlmodelError(`cannot read signature file ${path}: ${(e as Error).message}`);
  }
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    throw new MlmodelError(`${path}: a signature file holds {"inputs": ..., "outputs": ..., "params": ...}`);
  const asText = (v: unknown): unknown => (Array.isArray(v) ? JSON.stringify(v) : v);
  const o = d as Record<string, unknown>;
  try {
    return parseSignature({ inputs: asText(o.inputs) ?? null, outputs: asText(o.outputs) ?? null, params: asText(o.params) ?? null }, path);
  } catch (e) {
    throw new MlmodelError((e as Error).message);
  }
}

function flavorInput(o: BuildCliOptions): { flavor: string; input: unknown } {
  const given = [o.onnx && 'onnx', o.tfjs && 'tfjs', o.js && 'js'].filter(Boolean);
  if (given.length !== 1) throw new InvalidArgumentError('give exactly one of --onnx FILE, --tfjs DIR or --js MODULE');
  if (o.onnx) return { flavor: 'onnx', input: { onnxPath: o.onnx } };
  if (o.tfjs) return { flavor: 'tfjs', input: o.tfjs.endsWith('.json') ? { modelJson: o.tfjs } : { dir: o.tfjs } };
  const config = Object.fromEntries(Object.entries(keyValues(o.config, '--config')).map(([k, v]) => [k, parseJsonish(v)]));
  return {
    flavor: 'js_function',
    input: {
      modulePath: o.js,
      codePaths: o.code ?? [],
      artifacts: keyValues(o.artifact, '--artifact'),
      config: Object.keys(config).length ? config : undefined,
    },
  };
}

function parseJsonish(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export async function buildCommand(o: BuildCliOptions, io: Io): Promise<number> {
  const { flavor, input } = flavorInput(o);
  if ((o.artifact?.length || o.code?.length || o.config?.length) && flavor !== 'js_function') {
    throw new InvalidArgumentError('--artifact, --code and --config go with --js');
  }
  let params;
  try {
    params = (o.param ?? []).map(parseParamArg);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  const signature = o.signature && o.signature !== 'infer' ? await readSignatureFile(o.signature) : 'infer';
  const inputExample = o.inputExample
    ? {
        body: new Uint8Array(await readFile(o.inputExample).catch((e: Error) => Promise.reject(new MlmodelError(`cannot read input example: ${e.message}`)))),
        contentType: contentTypeFor(o.inputExample),
      }
    : undefined;
  const metadata = Object.fromEntries(Object.entries(keyValues(o.metadata, '--metadata')).map(([k, v]) => [k, parseJsonish(v)]));
  const result = await buildModel({
    flavor,
    input,
    outDir: o.output,
    registry: createRegistry(),
    signature,
    params,
    metadata,
    ...(inputExample ? { inputExample } : {}),
    ...(o.runId ? { runId: o.runId } : {}),
  });
  if (o.json) {
    io.out(JSON.stringify({ dir: result.dir, flavors: Object.keys(result.mlmodel.flavors), model_uuid: result.mlmodel.model_uuid }, null, 2));
  } else {
    io.out(`built ${result.dir} (flavors: ${Object.keys(result.mlmodel.flavors).join(', ')})`);
    if (result.examplePrediction) io.out(`input example predicted: ${truncate(encodePredictions(result.examplePrediction), 200)}`);
  }
  return 0;
}
