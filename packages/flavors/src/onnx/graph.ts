/**
 * What the flavor knows about a graph's inputs and outputs, computed once at load from
 * onnxruntime's metadata so that `predict` does no per-call lookups.
 */
import type { DType } from '@mlmodel/format';
import type { InferenceSession } from 'onnxruntime-node';
import { dtypeOfOrtType, onnxTypeName } from './dtypes.js';

export interface GraphValue {
  readonly name: string;
  readonly isTensor: boolean;
  /** ORT element type (`float32`, `int64`, `string`…); null for non-tensor values (sequences, maps). */
  readonly ortType: string | null;
  /** Our dtype for that element type; null when the batch cannot hold it. */
  readonly dtype: DType | null;
  /** Declared dims: a number when fixed, the symbolic name ('' when unnamed) when dynamic. Empty for non-tensors. */
  readonly dims: readonly (number | string)[];
  /** Declared dims with -1 for every dynamic one (MLflow's TensorSpec convention). */
  readonly shape: readonly number[];
  /** e.g. `tensor(float) [batch, 3, 48, 192]`, for messages. */
  readonly description: string;
}

export function describeDims(dims: readonly (number | string)[]): string {
  return `[${dims.map((d) => (typeof d === 'number' ? String(d) : d === '' ? '?' : d)).join(', ')}]`;
}

export function graphValue(m: InferenceSession.ValueMetadata): GraphValue {
  if (!m.isTensor) {
    return { name: m.name, isTensor: false, ortType: null, dtype: null, dims: [], shape: [], description: 'a non-tensor value (sequence or map)' };
  }
  const dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d)));
  return {
    name: m.name,
    isTensor: true,
    ortType: m.type,
    dtype: dtypeOfOrtType(m.type) ?? null,
    dims,
    shape: dims.map((d) => (typeof d === 'number' ? d : -1)),
    description: `${onnxTypeName(m.type)} ${describeDims(dims)}`,
  };
}

/** The graph's inputs and outputs as onnxruntime reports them. */
export interface GraphInfo {
  readonly inputs: readonly GraphValue[];
  readonly outputs: readonly GraphValue[];
}

export function graphInfo(session: InferenceSession): GraphInfo {
  return { inputs: session.inputMetadata.map(graphValue), outputs: session.outputMetadata.map(graphValue) };
}

export function quoteNames(values: readonly { name: string }[]): string {
  return values.map((v) => `'${v.name}'`).join(', ');
}
