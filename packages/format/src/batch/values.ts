import type { DType } from '../dtype.js';
import { BinaryArray, Utf8Array } from './string-array.js';
import type { Batch, Column, ColumnBatch, Storage, StorageOf, Tensor, TensorBatch } from './types.js';

/** Allocate zeroed storage for `n` elements of `dtype`. */
export function allocate<D extends DType>(dtype: D, n: number): StorageOf[D] {
  const make = (): Storage => {
    switch (dtype) {
      case 'bool':
      case 'uint8':
        return new Uint8Array(n);
      case 'int8':
        return new Int8Array(n);
      case 'int16':
        return new Int16Array(n);
      case 'int32':
        return new Int32Array(n);
      case 'int64':
      case 'datetime64[ns]':
        return new BigInt64Array(n);
      case 'uint16':
      case 'float16':
        return new Uint16Array(n);
      case 'uint32':
        return new Uint32Array(n);
      case 'uint64':
        return new BigUint64Array(n);
      case 'float32':
        return new Float32Array(n);
      case 'float64':
        return new Float64Array(n);
      case 'str':
        return new Utf8Array(new Int32Array(n + 1), new Uint8Array(0));
      case 'bytes':
        return new BinaryArray(new Int32Array(n + 1), new Uint8Array(0));
      case 'object':
        return new Array<unknown>(n).fill(null);
    }
    throw new TypeError(`unknown dtype ${String(dtype)}`);
  };
  return make() as StorageOf[D];
}

/** Number of elements held by a storage. */
export function storageLength(values: Storage): number {
  return values.length;
}

/** The JS value of element i: number, bigint (64-bit ints and datetimes), boolean, string, Uint8Array or any JSON value. */
export function valueAt(dtype: DType, values: Storage, i: number): unknown {
  if (dtype === 'bool') return (values as Uint8Array)[i] !== 0;
  if (values instanceof Utf8Array || values instanceof BinaryArray) return values.get(i);
  return (values as ArrayLike<unknown>)[i];
}

/** Element i of a column, or null where the validity mask says it is missing. */
export function columnValue(col: Column, i: number): unknown {
  if (col.validity && col.validity[i] === 0) return null;
  return valueAt(col.dtype, col.values, i);
}

export function column<D extends DType>(name: string, dtype: D, values: StorageOf[D], validity?: Uint8Array): Column {
  return { name, dtype, values, validity } as Column;
}

export function tensor<D extends DType>(name: string | null, dtype: D, shape: readonly number[], values: StorageOf[D]): Tensor {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (expected !== values.length) {
    throw new RangeError(`tensor ${name ?? '(unnamed)'}: shape [${shape.join(', ')}] needs ${expected} values, got ${values.length}`);
  }
  return { name, dtype, shape: [...shape], values } as Tensor;
}

export function columnBatch(columns: readonly Column[], numRows?: number): ColumnBatch {
  const n = numRows ?? (columns[0] ? columns[0].values.length : 0);
  for (const c of columns) {
    if (c.values.length !== n) {
      throw new RangeError(`column ${c.name} has ${c.values.length} rows, expected ${n}`);
    }
  }
  return { kind: 'columns', numRows: n, columns };
}

export function tensorBatch(tensors: readonly Tensor[]): TensorBatch {
  return { kind: 'tensors', tensors };
}

/** Rows in a batch: the row count of a column batch, the first dimension of the (first) tensor. */
export function batchRows(batch: Batch): number {
  if (batch.kind === 'columns') return batch.numRows;
  const t = batch.tensors[0];
  if (!t) return 0;
  return t.shape.length === 0 ? 1 : t.shape[0]!;
}

export function findColumn(batch: ColumnBatch, name: string): Column | undefined {
  return batch.columns.find((c) => c.name === name);
}

/** The dtype a set of JSON-like values would get in pandas/numpy (nulls ignored; empty → object). */
export function inferDType(values: readonly unknown[]): DType {
  type Kind = 'none' | 'bool' | 'int' | 'float' | 'str' | 'bytes';
  let kind = 'none' as Kind;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    let k: Kind;
    if (typeof v === 'boolean') k = 'bool';
    else if (typeof v === 'bigint') k = 'int';
    else if (typeof v === 'number') k = Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? 'int' : 'float';
    else if (typeof v === 'string') k = 'str';
    else if (v instanceof Uint8Array) k = 'bytes';
    else return 'object';
    if (kind === 'none' || kind === k) kind = k;
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
    else return 'object';
  }
  switch (kind) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int64';
    case 'float':
      return 'float64';
    case 'str':
      return 'str';
    case 'bytes':
      return 'bytes';
    default:
      return 'object';
  }
}

/**
 * Build storage of `dtype` from JS values, without any safety checks beyond representability:
 * callers that need MLflow's cast rules use `enforce`. Nulls produce a validity mask.
 * Throws a TypeError naming the offending row when a value cannot be stored.
 */
export function storageFromValues(dtype: DType, values: readonly unknown[]): { values: Storage; validity?: Uint8Array } {
  const n = values.length;
  let validity: Uint8Array | undefined;
  const markNull = (i: number): void => {
    if (!validity) validity = new Uint8Array(n).fill(1);
    validity[i] = 0;
  };
  if (dtype === 'str') {
    const strs = values.map((v, i) => {
      if (v === null || v === undefined) {
        markNull(i);
        return null;
      }
      if (typeof v !== 'string') throw new TypeError(`row ${i}: expected a string, got ${describeValue(v)}`);
      return v;
    });
    return { values: Utf8Array.fromStrings(strs), validity };
  }
  if (dtype === 'bytes') {
    const bufs = values.map((v, i) => {
      if (v === null || v === undefined) {
        markNull(i);
        return null;
      }
      if (v instanceof Uint8Array) return v;
      if (typeof v === 'string') return new TextEncoder().encode(v);
      throw new TypeError(`row ${i}: expected bytes, got ${describeValue(v)}`);
    });
    return { values: BinaryArray.fromBuffers(bufs), validity };
  }
  if (dtype === 'object') {
    const out = values.map((v, i) => {
      if (v === null || v === undefined) {
        markNull(i);
        return null;
      }
      return v;
    });
    return { values: out, validity };
  }
  const out = allocate(dtype, n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      markNull(i);
      if (out instanceof Float64Array || out instanceof Float32Array) out[i] = NaN;
      continue;
    }
    writeScalar(dtype, out, i, v);
  }
  return { values: out, validity };
}

function writeScalar(dtype: DType, out: Storage, i: number, v: unknown): void {
  if (dtype === 'bool') {
    if (typeof v !== 'boolean' && typeof v !== 'number') throw new TypeError(`row ${i}: expected a boolean, got ${describeValue(v)}`);
    (out as Uint8Array)[i] = v ? 1 : 0;
    return;
  }
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    if (dtype === 'datetime64[ns]' && (typeof v === 'string' || v instanceof Date)) {
      out[i] = parseDatetimeNs(v, i);
      return;
    }
    if (typeof v === 'bigint') out[i] = v;
    else if (typeof v === 'number' && Number.isInteger(v)) out[i] = BigInt(v);
    else throw new TypeError(`row ${i}: expected an integer, got ${describeValue(v)}`);
    return;
  }
  const arr = out as Float64Array;
  if (typeof v === 'number') arr[i] = v;
  else if (typeof v === 'bigint') arr[i] = Number(v);
  else if (typeof v === 'boolean') arr[i] = v ? 1 : 0;
  else throw new TypeError(`row ${i}: expected a number, got ${describeValue(v)}`);
}

/** Parse an ISO-8601 date or datetime (timezone-naive) into nanoseconds since the epoch. */
export function parseDatetimeNs(v: string | Date, row = 0): bigint {
  if (v instanceof Date) return BigInt(v.getTime()) * 1_000_000n;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/.exec(v.trim());
  if (!m) throw new TypeError(`row ${row}: cannot parse ${JSON.stringify(v)} as a timezone-naive datetime`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) throw new TypeError(`row ${row}: invalid datetime ${JSON.stringify(v)}`);
  return BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
}

/** Format nanoseconds since the epoch like numpy's `datetime_as_string` (no trailing zeros beyond seconds). */
export function formatDatetimeNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  let sub = ns % 1_000_000_000n;
  if (sub < 0n) sub += 1_000_000_000n;
  const base = new Date(Number(ms - (ms % 1000n) - (ns < 0n && sub !== 0n ? 1000n : 0n))).toISOString().slice(0, 19);
  if (sub === 0n) return base;
  return `${base}.${sub.toString().padStart(9, '0')}`;
}

/** Build a column from JS values, inferring the dtype unless given. */
export function columnFromValues(name: string, values: readonly unknown[], dtype?: DType): Column {
  const dt = dtype ?? inferDType(values);
  const { values: storage, validity } = storageFromValues(dt, values);
  return { name, dtype: dt, values: storage, validity } as Column;
}

/** Shape of a (possibly nested) rectangular JS array; throws when ragged. */
export function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = value;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  checkRectangular(value, shape, 0);
  return shape;
}

function checkRectangular(value: unknown, shape: readonly number[], depth: number): void {
  if (depth === shape.length) {
    if (Array.isArray(value)) throw new TypeError(`ragged nested list: expected a scalar at depth ${depth}`);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw new TypeError(`ragged nested list: expected ${shape[depth]} elements at depth ${depth}, got ${Array.isArray(value) ? value.length : 'a scalar'}`);
  }
  for (const v of value) checkRectangular(v, shape, depth + 1);
}

/** Build a tensor from a nested JS array (any rank), inferring the dtype unless given. */
export function tensorFromNested(name: string | null, value: unknown, dtype?: DType): Tensor {
  const shape = nestedShape(value);
  const flat = Array.isArray(value) ? (value as unknown[]).flat(Infinity) : [value];
  const dt = dtype ?? inferDType(flat);
  const { values, validity } = storageFromValues(dt, flat);
  if (validity && dt !== 'object' && dt !== 'float32' && dt !== 'float64') {
    throw new TypeError(`tensor ${name ?? '(unnamed)'}: null values are not allowed in a ${dt} tensor`);
  }
  return tensor(name, dt, shape, values as StorageOf[typeof dt]);
}

/** Nested JS arrays (like numpy's `tolist()`) from a tensor. 64-bit ints become numbers when safe. */
export function tensorToNested(t: Tensor): unknown {
  const flat = new Array<unknown>(t.values.length);
  for (let i = 0; i < flat.length; i++) flat[i] = toJsonScalar(t.dtype, valueAt(t.dtype, t.values, i));
  if (t.shape.length === 0) return flat[0];
  const build = (dim: number, offset: number): [unknown[], number] => {
    const n = t.shape[dim]!;
    const out = new Array<unknown>(n);
    if (dim === t.shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = flat[offset + i];
      return [out, offset + n];
    }
    let off = offset;
    for (let i = 0; i < n; i++) [out[i], off] = build(dim + 1, off);
    return [out, off];
  };
  return build(0, 0)[0];
}

/** A JSON-friendly value for one element: bigint → number when exactly representable, datetimes → ISO strings. */
export function toJsonScalar(dtype: DType, v: unknown): unknown {
  if (typeof v === 'bigint') {
    if (dtype === 'datetime64[ns]') return formatDatetimeNs(v);
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v.toString();
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

/** Rows of a column batch as plain records (like pandas `to_dict(orient="records")`). */
export function batchToRecords(batch: ColumnBatch): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const c of batch.columns) row[c.name] = toJsonScalar(c.dtype, columnValue(c, i));
    rows.push(row);
  }
  return rows;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
