/** MLflow signatures for tfjs models, from the inputs and outputs the model declares. */
import type { ModelSignature, Schema, TensorSpec } from '@mlmodel/format';
import type { DataType } from '@tensorflow/tfjs-core';
import type { IoSpec, TfjsRunner } from './runner.js';

/** numpy dtype names (as MLflow writes them in tensor specs) for tfjs dtypes. */
const NUMPY_DTYPE: Partial<Record<DataType, string>> = { float32: 'float32', int32: 'int32', bool: 'bool', string: 'str' };

/**
 * How outputs are returned, following MLflow's TensorFlow pyfunc wrappers: a Keras model
 * (`_KerasModelWrapper`) returns the bare ndarray when it has one output, so a single-output layers
 * model returns one unnamed tensor (serialized as a plain list); a TF SavedModel
 * (`_TF2Wrapper`) returns `{output_name: ndarray}`, so graph models — and layers models with
 * several outputs — return tensors named by output.
 */
export function returnsUnnamedOutput(runner: Pick<TfjsRunner, 'modelType' | 'outputs'>): boolean {
  return runner.modelType === 'layers' && runner.outputs.length === 1;
}

function tensorSchema(specs: readonly IoSpec[], unnamed: boolean): Schema | null {
  const out: TensorSpec[] = [];
  for (const s of specs) {
    const dtype = s.dtype && NUMPY_DTYPE[s.dtype];
    if (!dtype || !s.shape) return null;
    out.push({ kind: 'tensor', name: unnamed ? null : s.name, dtype, shape: [...s.shape] });
  }
  return out.length > 0 ? { kind: 'tensors', specs: out } : null;
}

/** A tensor-based signature; a side whose dtypes or shapes are not all known is left null. */
export function inferSignature(runner: Pick<TfjsRunner, 'modelType' | 'inputs' | 'outputs'>, outputs: readonly IoSpec[] = runner.outputs): ModelSignature {
  return {
    inputs: tensorSchema(runner.inputs, false),
    outputs: tensorSchema(outputs, returnsUnnamedOutput(runner)),
    params: null,
  };
}
