/**
 * A tensor-based MLflow signature inferred from the graph: one TensorSpec per graph input and
 * output, named as in the graph, with numpy dtype names and -1 for dynamic dimensions.
 */
import type { ModelSignature, Schema, TensorSpec } from '@mlmodel/format';
import type { GraphInfo, GraphValue } from './graph.js';

function spec(v: GraphValue): TensorSpec | null {
  if (!v.isTensor || v.dtype === null) return null;
  return { kind: 'tensor', name: v.name, dtype: v.dtype, shape: v.shape };
}

/** A schema for these values, or null when one of them has no TensorSpec (a sequence/map, an int4 tensor). */
function schemaOf(values: readonly GraphValue[]): Schema | null {
  const specs: TensorSpec[] = [];
  for (const v of values) {
    const s = spec(v);
    if (s === null) return null;
    specs.push(s);
  }
  return specs.length > 0 ? { kind: 'tensors', specs } : null;
}

export function inferSignature(graph: GraphInfo): ModelSignature {
  return { inputs: schemaOf(graph.inputs), outputs: schemaOf(graph.outputs), params: null };
}
