/**
 * Batch → onnxruntime feeds, the way MLflow's `_OnnxModelWrapper.predict` maps its input:
 *
 * - one unnamed tensor feeds the graph's only input; named tensors feed inputs by name;
 * - a column batch feeds a single-input graph with all columns stacked into [rows, ncols]
 *   (pandas' `df.values`); a multi-input graph gets each input from the column of that name;
 * - dtypes are converted only by the casts `canFeed` allows (float64 → float32 is MLflow's own);
 * - shapes are checked against the declared dims before running, so errors name the input.
 *
 * Typed arrays whose dtype matches the graph are handed to `ort.Tensor` as they are (no copy).
 */
import {
  halfToFloat,
  type Batch,
  type Column,
  type ColumnBatch,
  type DType,
  type Storage,
  type Tensor as BatchTensor,
  type TensorBatch,
  type Utf8Array,
} from '@mlmodel/format';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { canFeed, onnxTypeName } from './dtypes.js';
import { OnnxInputError } from './errors.js';
import { describeDims, quoteNames, type GraphValue } from './graph.js';
import type { OrtModule } from './runtime.js';

export type Feeds = Record<string, OrtTensor>;

/** ORT tensor data: a typed array, or string[] for `string` tensors. */
type OrtData = Exclude<Storage, Utf8Array | { offsets: Int32Array } | unknown[]> | string[];

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

type NumberArrayCtor = new (src: ArrayLike<number>) => OrtData;

const NUMBER_ARRAYS: Partial<Record<DType, NumberArrayCtor>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
};

/** Convert storage between two dtypes `canFeed` allows. */
function convert(values: Storage, from: DType, to: DType, input: GraphValue): OrtData {
  if (to === 'str') {
    const arr = values as unknown[];
    const out = new Array<string>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v !== 'string') {
        throw new OnnxInputError(`input '${input.name}' expects strings (${input.description}), but element ${i} is ${typeof v}`);
      }
      out[i] = v;
    }
    return out;
  }
  const src: ArrayLike<number> = from === 'float16' ? Float64Array.from(values as Uint16Array, halfToFloat) : (values as ArrayLike<number>);
  if (to === 'int64') return BigInt64Array.from(src, (x) => BigInt(x));
  if (to === 'uint64') return BigUint64Array.from(src, (x) => BigInt(x));
  const Ctor = NUMBER_ARRAYS[to];
  if (Ctor === undefined) throw new OnnxInputError(`input '${input.name}': cannot convert ${from} to ${to}`);
  return new Ctor(src);
}

/** Storage as ORT data when the dtype already matches (no copy, except strings which ORT wants as string[]). */
function asIs(values: Storage, dtype: DType): OrtData {
  return dtype === 'str' ? (values as Utf8Array).toArray() : (values as OrtData);
}

/** One graph input, prepared at load so each call only checks and wraps. */
class InputPlan {
  readonly input: GraphValue;
  readonly #ort: OrtModule;
  readonly #type: string;
  readonly #dtype: DType;

  constructor(ort: OrtModule, input: GraphValue) {
    this.input = input;
    this.#ort = ort;
    this.#type = input.ortType ?? '';
    this.#dtype = input.dtype ?? 'object';
  }

  get dtype(): DType {
    return this.#dtype;
  }

  /** Throw unless this input can be fed at all (tensor of a type our batch holds). */
  checkFeedable(): void {
    const i = this.input;
    if (!i.isTensor || i.dtype === null) {
      throw new OnnxInputError(`input '${i.name}' is ${i.isTensor ? onnxTypeName(i.ortType ?? '?') : i.description}, which this flavor cannot feed`);
    }
  }

  checkShape(shape: readonly number[]): void {
    const dims = this.input.dims;
    if (shape.length > 0 && shape[0] === 0) {
      throw new OnnxInputError(`input '${this.input.name}' is empty (shape ${shapeText(shape)}): send at least one row`);
    }
    let ok = shape.length === dims.length;
    for (let d = 0; ok && d < dims.length; d++) {
      const want = dims[d];
      if (typeof want === 'number' && want !== shape[d]) ok = false;
    }
    if (!ok) {
      throw new OnnxInputError(
        `input '${this.input.name}' expects shape ${describeDims(dims)} (${onnxTypeName(this.#type)}), received shape ${shapeText(shape)}`,
      );
    }
  }

  dtypeError(received: DType): OnnxInputError {
    return new OnnxInputError(
      `input '${this.input.name}' expects ${this.#dtype} (${onnxTypeName(this.#type)}), received ${received}; ` +
        'only lossless casts and float64 → float32 (as MLflow does) are applied',
    );
  }

  /** Wrap a batch tensor's data as an ORT tensor of this input's type. */
  tensor(dtype: DType, shape: readonly number[], values: Storage): OrtTensor {
    this.checkFeedable();
    this.checkShape(shape);
    let data: OrtData;
    if (dtype === this.#dtype) data = asIs(values, dtype);
    else if (canFeed(dtype, this.#dtype)) data = convert(values, dtype, this.#dtype, this.input);
    else throw this.dtypeError(dtype);
    return new this.#ort.Tensor(this.#type as 'float32', data as Float32Array, shape);
  }
}

function columnHasNulls(c: Column): boolean {
  return c.validity !== undefined && c.validity.indexOf(0) !== -1;
}

/** A column's values as `to` (nulls: NaN for float targets, an error otherwise). */
function columnValues(plan: InputPlan, c: Column): OrtData {
  const to = plan.dtype;
  const nulls = columnHasNulls(c);
  if (nulls && to !== 'float32' && to !== 'float64') {
    throw new OnnxInputError(`column '${c.name}' has missing values, which input '${plan.input.name}' (${plan.input.description}) cannot hold`);
  }
  let data: OrtData;
  if (c.dtype === to) data = asIs(c.values, to);
  else if (canFeed(c.dtype, to)) data = convert(c.values, c.dtype, to, plan.input);
  else {
    throw new OnnxInputError(
      `column '${c.name}' is ${c.dtype}, but input '${plan.input.name}' expects ${to} (${plan.input.description}); ` +
        'only lossless casts and float64 → float32 (as MLflow does) are applied',
    );
  }
  if (nulls) {
    // never write into the caller's storage
    if (data === c.values) data = (data as Float32Array | Float64Array).slice();
    const f = data as Float32Array | Float64Array;
    const valid = c.validity!;
    for (let i = 0; i < f.length; i++) if (valid[i] === 0) f[i] = NaN;
  }
  return data;
}

/** Interleave columns row-major into one [rows, ncols] array of `to` (pandas' `df.values`). */
function stack(parts: readonly OrtData[], rows: number, to: DType): OrtData {
  const k = parts.length;
  if (to === 'str') {
    const out = new Array<string>(rows * k);
    for (let j = 0; j < k; j++) {
      const p = parts[j] as string[];
      for (let i = 0; i < rows; i++) out[i * k + j] = p[i]!;
    }
    return out;
  }
  const first = parts[0] as unknown as { constructor: new (n: number) => OrtData };
  const out = new first.constructor(rows * k) as unknown as { [i: number]: unknown };
  for (let j = 0; j < k; j++) {
    const p = parts[j] as unknown as ArrayLike<unknown>;
    for (let i = 0; i < rows; i++) out[i * k + j] = p[i];
  }
  return out as unknown as OrtData;
}

/** Builds the feeds for one graph. Create once per loaded model. */
export class FeedBuilder {
  readonly #ort: OrtModule;
  readonly #plans: readonly InputPlan[];
  readonly #byName: ReadonlyMap<string, InputPlan>;
  readonly #inputs: readonly GraphValue[];

  constructor(ort: OrtModule, inputs: readonly GraphValue[]) {
    this.#ort = ort;
    this.#inputs = inputs;
    this.#plans = inputs.map((i) => new InputPlan(ort, i));
    this.#byName = new Map(this.#plans.map((p) => [p.input.name, p]));
  }

  build(batch: Batch): Feeds {
    if (batch.kind === 'tensors') return this.#fromTensors(batch);
    if (batch.kind === 'columns') return this.#fromColumns(batch);
    throw new OnnxInputError(`ONNX models take tensors or a table, not ${String((batch as { kind?: unknown }).kind)} input`);
  }

  #fromTensors(batch: TensorBatch): Feeds {
    const ts = batch.tensors;
    const plans = this.#plans;
    if (ts.length === 0) throw new OnnxInputError(`the batch has no tensors; the model's inputs are ${quoteNames(this.#inputs)}`);
    const t0 = ts[0]!;
    if (ts.length === 1 && t0.name === null) {
      if (plans.length !== 1) {
        throw new OnnxInputError(
          `the model has ${plans.length} inputs (${quoteNames(this.#inputs)}): send one named tensor per input instead of a single unnamed tensor`,
        );
      }
      const p = plans[0]!;
      return { [p.input.name]: p.tensor(t0.dtype, t0.shape, t0.values) };
    }
    const feeds: Feeds = {};
    let fed = 0;
    for (const t of ts) {
      if (t.name === null) {
        throw new OnnxInputError(`an unnamed tensor was sent along with named ones; name every tensor after the model's inputs (${quoteNames(this.#inputs)})`);
      }
      const p = this.#byName.get(t.name);
      if (p === undefined) throw new OnnxInputError(`the model has no input named '${t.name}'; its inputs are ${quoteNames(this.#inputs)}`);
      if (!(t.name in feeds)) fed++;
      feeds[t.name] = p.tensor(t.dtype, t.shape, t.values);
    }
    if (fed !== plans.length) this.#checkAllFed(feeds, ts);
    return feeds;
  }

  #checkAllFed(feeds: Feeds, ts: readonly BatchTensor[]): void {
    for (const p of this.#plans) {
      if (!(p.input.name in feeds)) {
        const got = ts.map((t) => `'${t.name}'`).join(', ');
        throw new OnnxInputError(`missing input '${p.input.name}' (${p.input.description}); the batch has tensors ${got}`);
      }
    }
  }

  #fromColumns(batch: ColumnBatch): Feeds {
    const rows = batch.numRows;
    const cols = batch.columns;
    if (rows === 0 || cols.length === 0) {
      throw new OnnxInputError(`the batch is empty (${rows} rows, ${cols.length} columns): send at least one row`);
    }
    if (this.#plans.length === 1) {
      const p = this.#plans[0]!;
      p.checkFeedable();
      // df.values: [rows, ncols]. A rank-1 graph input takes a single column as [rows].
      const shape = p.input.dims.length === 1 && cols.length === 1 ? [rows] : [rows, cols.length];
      p.checkShape(shape);
      const parts = cols.map((c) => columnValues(p, c));
      const data = parts.length === 1 ? parts[0]! : stack(parts, rows, p.dtype);
      return { [p.input.name]: new this.#ort.Tensor(p.input.ortType as 'float32', data as Float32Array, shape) };
    }
    const byName = new Map<string, Column>();
    for (const c of cols) if (!byName.has(c.name)) byName.set(c.name, c);
    const feeds: Feeds = {};
    for (const p of this.#plans) {
      const c = byName.get(p.input.name);
      if (c === undefined) {
        throw new OnnxInputError(
          `missing input '${p.input.name}' (${p.input.description}): the model feeds each input from the column of the same name, ` +
            `and the batch has columns ${cols.map((x) => `'${x.name}'`).join(', ')}`,
        );
      }
      p.checkFeedable();
      // df[name].values is 1-D; a graph that declares [N, 1] gets it as a column vector.
      const shape = p.input.dims.length === 2 ? [rows, 1] : [rows];
      p.checkShape(shape);
      feeds[p.input.name] = new this.#ort.Tensor(p.input.ortType as 'float32', columnValues(p, c) as Float32Array, shape);
    }
    return feeds;
  }
}
