/**
 * Batch ↔ tfjs data. Inputs are matched to the model's inputs, cast safely to each input's tfjs
 * dtype and checked against its declared shape, all before any tensor exists; outputs are copied
 * out of tfjs into batch tensors.
 */
import {
  MlmodelError,
  Utf8Array,
  VarBinaryArray,
  tensor,
  tensorFromNested,
  valueAt,
  type Batch,
  type Column,
  type ColumnBatch,
  type DType,
  type Storage,
  type Tensor,
  type TensorBatch,
} from '@mlmodel/format';
import type { DataType } from '@tensorflow/tfjs-core';
import { TfjsInputError } from './errors.js';
import type { IoSpec } from './runner.js';

/** Data ready to become one tfjs tensor. */
export interface PreparedInput {
  readonly spec: IoSpec;
  readonly dtype: DataType;
  readonly shape: number[];
  /** Typed array in tfjs's storage for the dtype; UTF-8 bytes per element for strings. */
  readonly values: Float32Array | Int32Array | Uint8Array | Uint8Array[];
}

const TFJS_DTYPE_FOR: Partial<Record<DType, DataType>> = {
  float16: 'float32',
  float32: 'float32',
  float64: 'float32',
  int8: 'int32',
  int16: 'int32',
  int32: 'int32',
  int64: 'int32',
  uint8: 'int32',
  uint16: 'int32',
  uint32: 'int32',
  uint64: 'int32',
  bool: 'bool',
  str: 'string',
  bytes: 'string',
};

/** Match a batch to the model's inputs and convert each to tfjs's dtype and layout. */
export function prepareInputs(batch: Batch, inputs: readonly IoSpec[]): PreparedInput[] {
  const kind = (batch as { kind?: unknown }).kind;
  if (kind === 'tensors') return prepareTensorBatch(batch as TensorBatch, inputs);
  if (kind === 'columns') return prepareColumnBatch(batch as ColumnBatch, inputs);
  throw new TfjsInputError(`a TensorFlow.js model takes tensors or a table of numbers, not ${String(kind)} input`);
}

const quote = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

function prepareTensorBatch(batch: TensorBatch, inputs: readonly IoSpec[]): PreparedInput[] {
  const ts = batch.tensors;
  if (ts.length === 0) throw new TfjsInputError(`no input tensors; the model takes ${quote(inputs.map((s) => s.name))}`);
  if (ts.length === 1 && ts[0]!.name === null) {
    if (inputs.length !== 1) {
      throw new TfjsInputError(
        `the model has ${inputs.length} inputs (${quote(inputs.map((s) => s.name))}); send them as named tensors, not one unnamed tensor`,
      );
    }
    return [prepareOne(ts[0]!, inputs[0]!)];
  }
  const byName = new Map<string, Tensor>();
  for (const t of ts) {
    if (t.name === null) throw new TfjsInputError('mixing an unnamed tensor with named ones; name every input tensor');
    byName.set(t.name, t);
  }
  return matchByName(byName, inputs, 'tensor').map(([t, spec]) => prepareOne(t, spec));
}

/** Pair named data with the model's inputs, naming the missing and the unknown ones. */
function matchByName<T>(byName: ReadonlyMap<string, T>, inputs: readonly IoSpec[], what: string): [T, IoSpec][] {
  const expected = inputs.map((s) => s.name);
  const missing = expected.filter((n) => !byName.has(n));
  const unknown = [...byName.keys()].filter((n) => !expected.includes(n));
  if (missing.length > 0 || unknown.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing input${missing.length > 1 ? 's' : ''} ${quote(missing)}`);
    if (unknown.length > 0) parts.push(`unknown ${what}${unknown.length > 1 ? 's' : ''} ${quote(unknown)}`);
    throw new TfjsInputError(`${parts.join('; ')}: the model's inputs are ${quote(expected)}`);
  }
  return inputs.map((s) => [byName.get(s.name)!, s]);
}

function prepareColumnBatch(batch: ColumnBatch, inputs: readonly IoSpec[]): PreparedInput[] {
  const cols = batch.columns;
  const rows = batch.numRows;
  if (cols.length === 0) throw new TfjsInputError(`no input columns; the model takes ${quote(inputs.map((s) => s.name))}`);
  if (inputs.length === 1) {
    const spec = inputs[0]!;
    // a column of lists or arrays (an image per row): stack the cells
    if (cols.length === 1 && cols[0]!.dtype === 'object') return [prepareOne(stackCells(cols[0]!, rows), spec)];
    // a table of numbers: stack the columns into [rows, columns], like MLflow feeds `df.values`
    const anyFloat = cols.some((c) => c.dtype.startsWith('float'));
    const target = targetDType(spec, anyFloat ? 'float32' : cols[0]!.dtype, `input '${spec.name}'`);
    const asMatrix = spec.shape?.length !== 1 || cols.length > 1;
    const shape = asMatrix ? [rows, cols.length] : [rows];
    checkShape(spec, shape);
    const parts = cols.map((c) => {
      const label = `input '${spec.name}' (column '${c.name}')`;
      return convertValues(c.dtype, c.values, c.validity, target, label);
    });
    return [{ spec, dtype: target, shape, values: interleaveColumns(parts, rows) }];
  }
  const byName = new Map(cols.map((c) => [c.name, c] as const));
  return matchByName(byName, inputs, 'column').map(([c, spec]) => {
    if (c.dtype === 'object') return prepareOne(stackCells(c, rows), spec);
    // a column of scalars feeds a [-1] input, or a [-1, 1] one
    const shape = spec.shape?.length === 2 && spec.shape[1] === 1 ? [rows, 1] : [rows];
    return prepareOne({ name: c.name, dtype: c.dtype, shape, values: c.values } as Tensor, spec, c.validity);
  });
}

/** A column whose cells are nested lists of equal shape → one tensor [rows, ...cell shape]. */
function stackCells(col: Column, rows: number): Tensor {
  const cells: unknown[] = [];
  for (let i = 0; i < rows; i++) {
    if (col.validity && col.validity[i] === 0) throw new TfjsInputError(`column '${col.name}' has a missing value in row ${i}`);
    const v = valueAt(col.dtype, col.values, i);
    cells.push(ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<unknown>) : v);
  }
  try {
    return tensorFromNested(col.name, cells);
  } catch (e) {
    throw new TfjsInputError(`column '${col.name}' cannot be stacked into a tensor: ${(e as Error).message}`);
  }
}

/** Cast one tensor to the input's dtype and check its shape. */
function prepareOne(t: Tensor, spec: IoSpec, validity?: Uint8Array): PreparedInput {
  const label = `input '${spec.name}'`;
  const target = targetDType(spec, t.dtype, label);
  checkShape(spec, t.shape);
  return { spec, dtype: target, shape: [...t.shape], values: convertValues(t.dtype, t.values, validity, target, label) };
}

/** The tfjs dtype data of `from` goes in as: the input's declared dtype, else the natural one. */
function targetDType(spec: IoSpec, from: DType, label: string): DataType {
  if (spec.dtype === 'complex64') throw new TfjsInputError(`${label} takes complex64 values, which cannot be sent`);
  if (spec.dtype !== undefined) return spec.dtype;
  const natural = TFJS_DTYPE_FOR[from];
  if (!natural) throw new TfjsInputError(`${label}: ${describeDType(from)} cannot be fed to a TensorFlow.js model`);
  return natural;
}

function describeDType(d: DType): string {
  if (d === 'str') return 'strings (str)';
  if (d === 'bytes') return 'bytes';
  if (d === 'object') return 'nested or mixed values (object)';
  if (d === 'datetime64[ns]') return 'datetimes';
  return `${d} values`;
}

/** Whether a shape fits a declared one: same rank, equal fixed dimensions (-1 is free). */
export function shapeFits(declared: readonly number[], actual: readonly number[]): boolean {
  return declared.length === actual.length && declared.every((d, i) => d < 0 || d === actual[i]);
}

function checkShape(spec: IoSpec, actual: readonly number[]): void {
  if (spec.shape && !shapeFits(spec.shape, actual)) {
    throw new TfjsInputError(`input '${spec.name}': expected shape [${spec.shape.join(', ')}] (-1 = any size), got [${actual.join(', ')}]`);
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Safe casts only: widening, float64 → float32 (as the onnx flavor does: JSON numbers arrive as
 * float64), and integers into a narrower type only when every value fits. Missing values
 * (validity 0) become NaN for floats and are refused elsewhere.
 */
export function convertValues(
  from: DType,
  values: Storage,
  validity: Uint8Array | undefined,
  to: DataType,
  label: string,
): Float32Array | Int32Array | Uint8Array | Uint8Array[] {
  const refuse = (why?: string): never => {
    throw new TfjsInputError(`${label} expects ${to} values, got ${describeDType(from)}${why ? `: ${why}` : ''}`);
  };
  const missing = validity ? validity.indexOf(0) : -1;
  if (missing >= 0 && to !== 'float32') refuse(`element ${missing} is missing (null), which ${to} cannot hold`);
  if (to === 'string') {
    if (!(values instanceof VarBinaryArray)) return refuse();
    const out = new Array<Uint8Array>(values.length);
    for (let i = 0; i < out.length; i++) out[i] = values.bytesAt(i);
    return out;
  }
  if (to === 'bool') {
    if (from !== 'bool') return refuse('only booleans are accepted for a bool input');
    return values as Uint8Array;
  }
  if (to === 'float32') {
    let out: Float32Array;
    switch (from) {
      case 'float32':
        out = values as Float32Array;
        break;
      case 'float64':
      case 'int8':
      case 'int16':
      case 'uint8':
      case 'uint16':
      case 'bool':
        out = Float32Array.from(values as ArrayLike<number>);
        break;
      case 'float16':
        out = Float32Array.from(values as Uint16Array, halfToFloat);
        break;
      case 'int32':
      case 'uint32':
      case 'int64':
      case 'uint64':
        out = Float32Array.from(
          exactIntegers(
            values as ArrayLike<number | bigint>,
            (n) => Math.fround(n) === n,
            (v, i) => refuse(`element ${i} (${v}) is not exactly representable as float32`),
          ),
        );
        break;
      default:
        return refuse();
    }
    if (missing >= 0 && from !== 'float32' && from !== 'float64' && from !== 'float16') {
      if (out === values) out = out.slice();
      validity!.forEach((ok, i) => {
        if (ok === 0) out[i] = NaN;
      });
    }
    return out;
  }
  if (to === 'int32') {
    switch (from) {
      case 'int32':
        return values as Int32Array;
      case 'int8':
      case 'int16':
      case 'uint8':
      case 'uint16':
      case 'bool':
        return Int32Array.from(values as ArrayLike<number>);
      case 'uint32':
      case 'int64':
      case 'uint64': {
        const f = exactIntegers(
          values as ArrayLike<number | bigint>,
          (n) => n >= INT32_MIN && n <= INT32_MAX,
          (v, i) => refuse(`element ${i} (${v}) is outside int32's range`),
        );
        return Int32Array.from(f);
      }
      default:
        return refuse(from.startsWith('float') ? 'floats are not cast to integers; send integers' : undefined);
    }
  }
  return refuse();
}

/** Integers (number or bigint) as exact numbers, calling `bad` for the first that `fits` refuses. */
function exactIntegers(values: ArrayLike<number | bigint>, fits: (n: number) => boolean, bad: (v: number | bigint, i: number) => never): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const n = Number(v);
    if (!fits(n) || (typeof v === 'bigint' && BigInt(n) !== v)) bad(v, i);
    out[i] = n;
  }
  return out;
}

/** Interleave per-column arrays into one row-major [rows, columns] array. */
function interleaveColumns(
  parts: readonly (Float32Array | Int32Array | Uint8Array | Uint8Array[])[],
  rows: number,
): Float32Array | Int32Array | Uint8Array | Uint8Array[] {
  const k = parts.length;
  if (k === 1) return parts[0]!;
  const first = parts[0]!;
  const out: Float32Array | Int32Array | Uint8Array | Uint8Array[] = Array.isArray(first)
    ? new Array<Uint8Array>(rows * k)
    : new (first.constructor as new (n: number) => Float32Array | Int32Array | Uint8Array)(rows * k);
  parts.forEach((p, j) => {
    for (let i = 0; i < rows; i++) out[i * k + j] = p[i]! as never;
  });
  return out;
}

/** IEEE half (raw bits) → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** tfjs output data → a batch tensor (values are copied out of tfjs). */
export function outputTensor(
  name: string | null,
  dtype: DataType,
  shape: readonly number[],
  data: Float32Array | Int32Array | Uint8Array | Uint8Array[],
): Tensor {
  switch (dtype) {
    case 'float32':
      return tensor(name, 'float32', shape, (data as Float32Array).slice());
    case 'int32':
      return tensor(name, 'int32', shape, (data as Int32Array).slice());
    case 'bool':
      return tensor(
        name,
        'bool',
        shape,
        Uint8Array.from(data as Uint8Array, (v) => (v ? 1 : 0)),
      );
    case 'string': {
      const v = VarBinaryArray.fromByteArrays(data as Uint8Array[]);
      return tensor(name, 'str', shape, new Utf8Array(v.offsets, v.bytes));
    }
    default:
      throw new MlmodelError(`output '${name ?? '(unnamed)'}' has dtype ${dtype}, which mlmodel cannot return`, 'NOT_IMPLEMENTED');
  }
}
