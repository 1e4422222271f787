/**
 * onnxruntime results → Prediction, as MLflow's `_OnnxModelWrapper.predict` shapes them:
 *
 * - tensor input → a TensorBatch of the named outputs (MLflow's `{name: ndarray}`);
 * - column input → a ColumnBatch with one column per output, each flattened (`reshape(-1)`).
 *   When the outputs flatten to different lengths (e.g. probabilities [N, 3] next to labels [N]),
 *   pandas would refuse to build MLflow's DataFrame; here, provided every output has N rows,
 *   outputs with several values per row become `object` columns holding one nested list per row.
 *
 * ORT output data is already a typed array of the right kind: it is reused, not copied.
 */
import type { Column, ColumnBatch, DType, Storage, Tensor, TensorBatch } from '@mlmodel/format';
import { Utf8Array, tensorToNested } from '@mlmodel/format';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { dtypeOfOrtType } from './dtypes.js';
import { OnnxOutputError } from './errors.js';

type Results = InferenceSession.ReturnType;

interface OutValue {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: Storage;
}

function outValue(name: string, t: OrtTensor): OutValue {
  const dtype = dtypeOfOrtType(t.type);
  if (dtype === undefined) throw new OnnxOutputError(`output '${name}' has element type ${t.type}, which the batch cannot hold`);
  const data = t.data as unknown;
  const values: Storage = dtype === 'str' ? Utf8Array.fromStrings(data as string[]) : (data as Storage);
  return { name, dtype, shape: t.dims, values };
}

/** Outputs in graph order (only the fetched ones). */
function collect(results: Results, names: readonly string[]): OutValue[] {
  const out: OutValue[] = [];
  for (const name of names) {
    const v = results[name];
    if (v !== undefined) out.push(outValue(name, v as OrtTensor));
  }
  return out;
}

export function toTensorBatch(results: Results, names: readonly string[]): TensorBatch {
  const tensors = collect(results, names).map((o) => ({ name: o.name, dtype: o.dtype, shape: o.shape, values: o.values }) as Tensor);
  return { kind: 'tensors', tensors };
}

/** Rows of a [rows, ...rest] output as one nested list per row. */
function perRowLists(o: OutValue, rows: number): unknown[] {
  const rest = o.shape.slice(1);
  const width = rest.reduce((a, b) => a * b, 1);
  const out = new Array<unknown>(rows);
  for (let i = 0; i < rows; i++) {
    const slice = sliceStorage(o.values, i * width, (i + 1) * width);
    out[i] = tensorToNested({ name: null, dtype: o.dtype, shape: rest, values: slice } as Tensor);
  }
  return out;
}

function sliceStorage(values: Storage, start: number, end: number): Storage {
  if (values instanceof Utf8Array) return values.slice(start, end);
  return (values as Float64Array).subarray(start, end) as Storage;
}

export function toColumnBatch(results: Results, names: readonly string[], inputRows: number): ColumnBatch {
  const outs = collect(results, names);
  if (outs.length === 0) return { kind: 'columns', numRows: 0, columns: [] };
  const len0 = outs[0]!.values.length;
  if (outs.every((o) => o.values.length === len0)) {
    // MLflow: pd.DataFrame({name: p.reshape(-1)}) — flat columns of equal length.
    const columns = outs.map((o) => ({ name: o.name, dtype: o.dtype, values: o.values }) as Column);
    return { kind: 'columns', numRows: len0, columns };
  }
  const rows = inputRows;
  const bad = outs.find((o) => o.shape.length === 0 || o.shape[0] !== rows);
  if (bad !== undefined) {
    const shapes = outs.map((o) => `'${o.name}' [${o.shape.join(', ')}]`).join(', ');
    throw new OnnxOutputError(`cannot return the outputs as a table: they flatten to different lengths and not all have ${rows} rows (${shapes})`);
  }
  const columns = outs.map((o) =>
    o.values.length === rows
      ? ({ name: o.name, dtype: o.dtype, values: o.values } as Column)
      : ({ name: o.name, dtype: 'object', values: perRowLists(o, rows) } as Column),
  );
  return { kind: 'columns', numRows: rows, columns };
}
