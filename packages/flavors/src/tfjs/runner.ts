/**
 * One interface over tfjs graph models (tfjs-converter) and layers models (tfjs-layers): the
 * model's declared inputs and outputs and a way to run it on tensors.
 */
import type { DataType, io, Tensor } from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { TfjsModelType } from './model-json.js';
import type { Tfjs } from './runtime.js';

/** A declared model input or output. */
export interface IoSpec {
  /** The name users see: feed keys in requests, output names in responses and signatures. */
  readonly name: string;
  /** The name tfjs knows it by (a graph node like `input_1:0`, or a Keras layer name). */
  readonly key: string;
  /** Unknown for graph outputs whose dtype the converter did not record. */
  readonly dtype: DataType | undefined;
  /** -1 marks a free dimension; undefined when the model does not declare a shape. */
  readonly shape: readonly number[] | undefined;
}

export interface TfjsRunner {
  readonly modelType: TfjsModelType;
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
  /**
   * Whether runs go through `executeAsync` (graphs with control-flow or dynamic-shape ops). Set
   * from the graph's ops at load; callers switch it on when `execute` asks for `executeAsync`.
   */
  isAsync: boolean;
  /**
   * Run on tensors ordered like `inputs`; returns tensors ordered like `outputs`, which the caller
   * disposes. Inputs are not disposed. Synchronous unless `isAsync`, so callers can use tf.tidy.
   */
  run(feeds: readonly Tensor[]): Tensor[] | Promise<Tensor[]>;
  dispose(): void;
}

/**
 * Ops that tfjs runs only in `executeAsync`: control flow, dynamic shapes, hash tables, and
 * tensor arrays/lists (all executed by async op executors in tfjs-converter).
 */
const ASYNC_OPS = new Set([
  'Switch',
  'Merge',
  'Enter',
  'Exit',
  'NextIteration',
  'LoopCond',
  'If',
  'StatelessIf',
  'While',
  'StatelessWhile',
  'NonMaxSuppressionV2',
  'NonMaxSuppressionV3',
  'NonMaxSuppressionV4',
  'NonMaxSuppressionV5',
  'Where',
  'HashTable',
  'HashTableV2',
  'LookupTableImport',
  'LookupTableImportV2',
  'LookupTableFind',
  'LookupTableFindV2',
  'LookupTableSize',
  'LookupTableSizeV2',
]);

/** Whether a graph topology holds ops that need `executeAsync`. */
export function graphNeedsAsync(topology: unknown): boolean {
  const t = topology as { node?: { op?: unknown }[]; library?: { function?: { nodeDef?: { op?: unknown }[] }[] } } | null;
  const nodes = [...(t?.node ?? []), ...(t?.library?.function ?? []).flatMap((f) => f.nodeDef ?? [])];
  return nodes.some((n) => typeof n.op === 'string' && (ASYNC_OPS.has(n.op) || /^(TensorArray|TensorList)/.test(n.op)));
}

/** Whether an error from a synchronous graph run means the graph needs `executeAsync`. */
export function asksForExecuteAsync(e: unknown): boolean {
  return e instanceof Error && e.message.includes('executeAsync');
}

/** `input_1:0` → `input_1`: output 0 of a node is known by the node's name. */
function displayName(key: string): string {
  return key.endsWith(':0') ? key.slice(0, -2) : key;
}

function asArray(r: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(r) ? r : [r];
}

export async function loadRunner(tf: Tfjs, modelType: TfjsModelType, artifacts: io.ModelArtifacts): Promise<TfjsRunner> {
  const handler: io.IOHandler = { load: () => Promise.resolve(artifacts) };
  if (modelType === 'graph') {
    return graphRunner(await tf.converter.loadGraphModel(handler), graphNeedsAsync(artifacts.modelTopology), artifacts.signature);
  }
  return layersRunner(await tf.layers.loadLayersModel(handler));
}

/** tfjs dtypes TensorFlow dtypes load as (tfjs has no 64-bit, 8/16-bit or half types). */
const TF_DTYPE: Record<string, DataType> = {
  DT_FLOAT: 'float32',
  DT_HALF: 'float32',
  DT_DOUBLE: 'float32',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_INT16: 'int32',
  DT_INT8: 'int32',
  DT_UINT8: 'int32',
  DT_UINT16: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
  DT_COMPLEX64: 'complex64',
};

type TensorInfoLike = { dtype?: DataType | undefined; shape?: (number | null)[] | undefined };

/** An output's dtype and shape as the model.json `signature` (written by tensorflowjs_converter) declares them. */
function declaredOutput(signature: unknown, key: string): TensorInfoLike {
  const e = (signature as { outputs?: Record<string, { dtype?: unknown; tensorShape?: { dim?: { size?: unknown }[]; unknownRank?: unknown } }> })?.outputs?.[
    key
  ];
  if (!e) return {};
  const dims = e.tensorShape && !e.tensorShape.unknownRank ? (e.tensorShape.dim ?? []).map((d) => Number(d.size ?? -1)) : undefined;
  return { dtype: typeof e.dtype === 'string' ? TF_DTYPE[e.dtype] : undefined, shape: dims?.every(Number.isInteger) ? dims : undefined };
}

function graphRunner(model: GraphModel, needsAsync: boolean, signature: unknown): TfjsRunner {
  const spec = (keys: readonly string[], infos: readonly TensorInfoLike[]): IoSpec[] =>
    keys.map((key, i) => ({
      name: displayName(key),
      key,
      dtype: infos[i]?.dtype,
      shape: infos[i]?.shape?.map((d) => (d === null || d < 0 ? -1 : d)),
    }));
  const inputs = spec(model.inputNodes, model.inputs);
  // the converter rarely records output dtypes and shapes on the graph; its signature often has them
  const outputInfos = model.outputs.map((o, i) => {
    const declared = declaredOutput(signature, model.outputNodes[i]!);
    return { dtype: o.dtype ?? declared.dtype, shape: o.shape ?? declared.shape };
  });
  const outputs = spec(model.outputNodes, outputInfos);
  const outputKeys = outputs.map((o) => o.key);
  const feedMap = (feeds: readonly Tensor[]): Record<string, Tensor> => Object.fromEntries(inputs.map((s, i) => [s.key, feeds[i]!]));
  const runner: TfjsRunner = {
    modelType: 'graph',
    inputs,
    outputs,
    isAsync: needsAsync,
    run(feeds) {
      if (runner.isAsync) return model.executeAsync(feedMap(feeds), outputKeys).then(asArray);
      return asArray(model.execute(feedMap(feeds), outputKeys));
    },
    dispose: () => model.dispose(),
  };
  return runner;
}

function layersRunner(model: LayersModel): TfjsRunner {
  const spec = (tensors: readonly SymbolicTensor[], names: readonly string[]): IoSpec[] =>
    tensors.map((t, i) => {
      const name = names.length === tensors.length ? names[i]! : t.sourceLayer.name;
      return { name, key: name, dtype: t.dtype, shape: t.shape.map((d) => (d === null || d < 0 ? -1 : d)) };
    });
  return {
    modelType: 'layers',
    inputs: spec(model.inputs, model.inputNames),
    outputs: spec(model.outputs, model.outputNames),
    isAsync: false,
    run: (feeds) => asArray(model.predictOnBatch(feeds.length === 1 ? feeds[0]! : [...feeds])),
    dispose: () => model.dispose(),
  };
}
