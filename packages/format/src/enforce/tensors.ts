/**
 * Tensor-based schemas (`_enforce_tensor_schema`, `_enforce_tensor_spec`,
 * `_reshape_and_cast_pandas_column_values`). Tensors are never cast: rank, fixed dimensions and
 * dtype must match the spec. Column batches are turned into tensors first (that step casts,
 * like MLflow's `np.array(series, dtype=spec.type)`).
 */
import { dtypeFromNumpyName, dtypeItemSize, dtypeKind, type DType } from '../dtype.js';
import type { Batch, Column, ColumnBatch, Storage, Tensor, TensorBatch } from '../batch/types.js';
import { inferDType, storageFromValues, valueAt } from '../batch/values.js';
import type { TensorSpec } from '../signature/types.js';
import { EnforceFailure, fail, isListLike, isScalarValue, type EnforceOptions } from './common.js';
import { castStorage, interleave } from './convert.js';
import { nsToDate } from './datetime.js';
import { labelKey } from './labels.js';
import { checkDuplicateColumns, checkInputNames } from './names.js';
import { pyTuple } from './repr.js';

export function specDType(spec: TensorSpec): DType {
  const d = dtypeFromNumpyName(spec.dtype);
  if (d === undefined) {
    fail(`Unsupported dtype '${spec.dtype}' in the tensor spec of ${spec.name === null ? 'the unnamed input' : `input ${spec.name}`}`);
  }
  return d;
}

function makeTensor(name: string | null, dtype: DType, shape: readonly number[], values: Storage): Tensor {
  return { name, dtype, shape, values } as Tensor;
}

/** `_enforce_tensor_spec`: shape and dtype checks, with MLflow's ragged-array escapes. */
export function enforceTensorSpec(t: Tensor, spec: TensorSpec): Tensor {
  const expected = spec.shape;
  const expectedType = specDType(spec);
  const actual = t.shape;
  // Tensor('object', (-1,)) accepts anything.
  if (expected.length === 1 && expected[0] === -1 && expectedType === 'object') return t;
  // A -1 in an inner dimension accepts a ragged 1-D object array.
  if (expected.length > 1 && expected.slice(1).includes(-1) && actual.length === 1 && t.dtype === 'object') return t;
  const shapeError = (): never => fail(`Shape of input ${pyTuple(actual)} does not match expected shape ${pyTuple(expected)}.`);
  if (expected.length !== actual.length) shapeError();
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== -1 && expected[i] !== actual[i]) shapeError();
  }
  if (t.dtype !== expectedType) fail(`dtype of input ${t.dtype} does not match expected dtype ${expectedType}`);
  return t;
}

function cellValue(col: Column, i: number): unknown {
  if (col.validity && col.validity[i] === 0) return null;
  if (col.dtype === 'datetime64[ns]') return nsToDate(col.values[i]!);
  return valueAt(col.dtype, col.values, i);
}

function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `_reshape_and_cast_pandas_column_values`: one DataFrame column → a tensor of the spec's dtype. */
export function columnToTensor(name: string | null, col: Column, n: number, spec: TensorSpec): Tensor {
  const shape = spec.shape;
  if (shape.length === 0 || shape[0] !== -1 || shape.slice(1).includes(-1)) {
    fail(
      'For pandas dataframe input, the first dimension of shape must be a variable dimension and other dimensions must be fixed, ' +
        `but in model signature the shape of ${name !== null ? `input ${name}` : 'the unnamed input'} is ${pyTuple(shape)}.`,
    );
  }
  const dtype = specDType(spec);
  const shown = name ?? 'None';
  const first = n > 0 ? cellValue(col, 0) : null;
  const listCells = col.dtype === 'object' && isListLike(first);

  if (!listCells && (col.dtype !== 'object' || first === null || isScalarValue(first))) {
    const outShape = shapeEquals(shape, [-1]) ? [n] : shapeEquals(shape, [-1, 1]) ? [n, 1] : undefined;
    if (outShape === undefined) {
      fail(
        `The input pandas dataframe column '${shown}' contains scalar values, which requires the shape to be (-1,) or (-1, 1), ` +
          `but got tensor spec shape of ${pyTuple(shape)}.`,
      );
    }
    let values: Storage;
    try {
      values = castStorage(col.dtype, col.values, col.validity, dtype);
    } catch (e) {
      if (!(e instanceof EnforceFailure)) throw e;
      fail(`Failed to convert the input pandas dataframe column '${shown}' to the tensor type '${dtype}': ${e.message}`);
    }
    return enforceTensorSpec(makeTensor(name, dtype, outShape, values), spec);
  }

  const firstList = first as ArrayLike<unknown>;
  if (!listCells || (firstList.length > 0 && !isScalarValue(firstList[0]) && firstList[0] !== null)) {
    fail(
      'Because the model signature requires tensor spec input, the input pandas dataframe values should be either scalar value, ' +
        'python list containing scalar values or numpy array containing scalar values, other types are not supported.',
    );
  }
  // vstack the 1-D list cells, reshape to the spec shape and cast to the spec dtype.
  const reshapeError = (): never =>
    fail(
      `The value in the Input DataFrame column '${shown}' could not be converted to the expected shape of: '${pyTuple(shape)}'. ` +
        'Ensure that each of the input list elements are of uniform length and that the data can be coerced to the tensor ' +
        `type '${dtype}'`,
    );
  const width = firstList.length;
  let inner = 1;
  for (let d = 1; d < shape.length; d++) inner *= shape[d]!;
  if (width !== inner) reshapeError();
  const flat = new Array<unknown>(n * width);
  for (let i = 0; i < n; i++) {
    const cell = cellValue(col, i);
    if (!isListLike(cell) || cell.length !== width) reshapeError();
    const row = cell as ArrayLike<unknown>;
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (v !== null && v !== undefined && !isScalarValue(v)) reshapeError();
      flat[i * width + j] = v;
    }
  }
  let values: Storage;
  try {
    const inferred = inferDType(flat);
    const stored = storageFromValues(inferred, flat);
    values = castStorage(inferred, stored.values, stored.validity, dtype);
  } catch {
    return reshapeError();
  }
  return makeTensor(name, dtype, [n, ...shape.slice(1)], values);
}

// --- stacking several columns into one (n, k) tensor: `DataFrame.to_numpy()` -------------

function hasNulls(c: Column): boolean {
  return c.validity !== undefined && c.validity.includes(0);
}

/** The dtype pandas gives a column: ints with missing values are float64, bools with missing values object. */
function pandasDType(c: Column): DType {
  const k = dtypeKind(c.dtype);
  if (hasNulls(c)) {
    if (k === 'i' || k === 'u') return 'float64';
    if (k === 'b') return 'object';
  }
  return c.dtype;
}

/** numpy `result_type` for two numeric dtypes. */
function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  const ka = dtypeKind(a);
  const kb = dtypeKind(b);
  const sa = dtypeItemSize(a);
  const sb = dtypeItemSize(b);
  if (ka === kb) return sa >= sb ? a : b;
  if (ka === 'f' || kb === 'f') {
    const [f, i] = ka === 'f' ? [a, b] : [b, a];
    const isz = dtypeItemSize(i);
    if (f === 'float64' || isz >= 4) return 'float64';
    if (f === 'float32') return 'float32';
    return isz === 1 ? 'float16' : 'float32';
  }
  const [s, u] = ka === 'i' ? [a, b] : [b, a];
  const ss = dtypeItemSize(s);
  const us = dtypeItemSize(u);
  if (us < ss) return s;
  if (us === 1) return 'int16';
  if (us === 2) return 'int32';
  if (us === 4) return 'int64';
  return 'float64';
}

/** The dtype of `DataFrame.to_numpy()` over these columns (string columns are object in pandas). */
export function commonDType(cols: readonly Column[], wanted: DType): DType {
  const dts = cols.map(pandasDType);
  const first = dts[0]!;
  if (dts.every((d) => d === first)) {
    // pandas holds strings/bytes as object; keep the precise dtype only when the spec asks for it.
    if (first === 'str' || first === 'bytes') return wanted === first ? first : 'object';
    return first;
  }
  let out: DType | undefined;
  for (const d of dts) {
    const k = dtypeKind(d);
    if (k !== 'i' && k !== 'u' && k !== 'f') return 'object';
    out = out === undefined ? d : promote(out, d);
  }
  return out!;
}

function stackColumns(frame: ColumnBatch, wanted: DType): Tensor {
  const dtype = commonDType(frame.columns, wanted);
  const n = frame.numRows;
  const parts = frame.columns.map((c) => castStorage(c.dtype, c.values, c.validity, dtype));
  return makeTensor(null, dtype, [n, frame.columns.length], interleave(dtype, parts, n));
}

function renamed(t: Tensor, name: string | null): Tensor {
  return t.name === name ? t : ({ ...t, name } as Tensor);
}

export function enforceTensorSchema(batch: Batch, specs: readonly TensorSpec[], opts: EnforceOptions): TensorBatch {
  const named = specs.length > 0 && specs[0]!.name !== null;
  if (named) {
    const names = specs.map((s) => ({ name: s.name!, required: true }));
    if (batch.kind === 'tensors') {
      const ts = batch.tensors;
      // A single array given to a single-input schema maps onto that input.
      if (specs.length === 1 && ts.length === 1 && ts[0]!.name === null) {
        return { kind: 'tensors', tensors: [enforceTensorSpec(renamed(ts[0]!, specs[0]!.name), specs[0]!)] };
      }
      const byName = new Map<string, Tensor>();
      for (const t of ts) if (t.name !== null && !byName.has(t.name)) byName.set(t.name, t);
      checkInputNames(names, [...byName.keys()], opts);
      return { kind: 'tensors', tensors: specs.map((s) => enforceTensorSpec(byName.get(s.name!)!, s)) };
    }
    const byName = new Map<string, Column>();
    for (const c of batch.columns) if (!byName.has(labelKey(c))) byName.set(labelKey(c), c);
    checkInputNames(names, [...byName.values()], opts);
    checkDuplicateColumns(batch.columns, (name) => specs.some((s) => s.name === name));
    return { kind: 'tensors', tensors: specs.map((s) => columnToTensor(s.name, byName.get(s.name!)!, batch.numRows, s)) };
  }

  const spec = specs[0];
  if (spec === undefined) return { kind: 'tensors', tensors: [] };
  if (batch.kind === 'columns') {
    const k = batch.columns.length;
    if (k === 0 || batch.numRows === 0) fail('Input DataFrame is empty.');
    if (k === 1) return { kind: 'tensors', tensors: [columnToTensor(null, batch.columns[0]!, batch.numRows, spec)] };
    if (!shapeEquals(spec.shape, [-1, k])) {
      fail(
        'This model contains a model signature with an unnamed input. Since the input data is a pandas DataFrame containing ' +
          'multiple columns, the input shape must be of the structure (-1, number_of_dataframe_columns). ' +
          `Instead, the input DataFrame passed had ${k} columns and an input shape of ${pyTuple(spec.shape)} with all values ` +
          'within the DataFrame of scalar type. Please adjust the passed in DataFrame to match the expected structure',
      );
    }
    return { kind: 'tensors', tensors: [enforceTensorSpec(stackColumns(batch, specDType(spec)), spec)] };
  }
  if (batch.tensors.length !== 1) {
    fail(
      'This model contains a tensor-based model signature with no input names, which suggests a numpy array input or a pandas ' +
        `dataframe input with proper column values, but an input of type dict was found.`,
    );
  }
  return { kind: 'tensors', tensors: [enforceTensorSpec(batch.tensors[0]!, spec)] };
}
