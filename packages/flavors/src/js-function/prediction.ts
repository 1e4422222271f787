import { isDType, type DType, type Prediction } from '@mlmodel/format';

/**
 * Turn what a module's `predict` returned into a Prediction. Batches (`kind: 'columns'` or
 * `'tensors'`) and `{kind: 'json', value}` pass through after a structural check; any other value
 * is JSON output as is. Returns an error message instead when the value cannot be sent.
 */
export function toPrediction(value: unknown): Prediction | { error: string } {
  if (value === undefined) return { error: 'predict returned undefined (did it forget to return?)' };
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    return { error: `predict returned a ${typeof value}; return a Batch or JSON-able data` };
  }
  if (ArrayBuffer.isView(value)) {
    return {
      error: `predict returned a ${value.constructor.name}; wrap typed arrays in a TensorBatch (tensorBatch([tensor(...)])) or return a plain array`,
    };
  }
  if (typeof value !== 'object' || value === null) return { kind: 'json', value };
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'columns') {
    const problem = checkColumnBatch(value as Record<string, unknown>);
    return problem ? { error: `predict returned an invalid ColumnBatch: ${problem}` } : (value as Prediction);
  }
  if (kind === 'tensors') {
    const problem = checkTensorBatch(value as Record<string, unknown>);
    return problem ? { error: `predict returned an invalid TensorBatch: ${problem}` } : (value as Prediction);
  }
  if (kind === 'json' && 'value' in value && Object.keys(value).length === 2) return value as Prediction;
  return { kind: 'json', value };
}

function checkColumnBatch(b: Record<string, unknown>): string | null {
  const n = b.numRows;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return `numRows must be a non-negative integer, got ${String(n)}`;
  if (!Array.isArray(b.columns)) return 'columns must be an array';
  for (const [i, c] of (b.columns as unknown[]).entries()) {
    if (typeof c !== 'object' || c === null) return `columns[${i}] is not a column`;
    const col = c as Record<string, unknown>;
    if (typeof col.name !== 'string') return `columns[${i}] has no string name`;
    const where = `column ${JSON.stringify(col.name)}`;
    const storage = checkStorage(col.dtype, col.values);
    if (storage) return `${where}: ${storage}`;
    const len = (col.values as { length: number }).length;
    if (len !== n) return `${where} has ${len} values, expected numRows = ${n}`;
    if (col.validity !== undefined && !(col.validity instanceof Uint8Array && col.validity.length === n)) {
      return `${where}: validity must be a Uint8Array of ${n} bytes (1 = present, 0 = null)`;
    }
  }
  return null;
}

function checkTensorBatch(b: Record<string, unknown>): string | null {
  if (!Array.isArray(b.tensors)) return 'tensors must be an array';
  for (const [i, t] of (b.tensors as unknown[]).entries()) {
    if (typeof t !== 'object' || t === null) return `tensors[${i}] is not a tensor`;
    const ten = t as Record<string, unknown>;
    if (ten.name !== null && typeof ten.name !== 'string') return `tensors[${i}]: name must be a string or null`;
    const where = ten.name === null ? `tensors[${i}]` : `tensor ${JSON.stringify(ten.name)}`;
    const shape = ten.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      return `${where}: shape must be an array of non-negative integers`;
    }
    const storage = checkStorage(ten.dtype, ten.values);
    if (storage) return `${where}: ${storage}`;
    const expected = (shape as number[]).reduce((a, d) => a * d, 1);
    const len = (ten.values as { length: number }).length;
    if (len !== expected) return `${where}: shape [${shape.join(', ')}] needs ${expected} values, got ${len}`;
  }
  return null;
}

/** The storage each dtype must have (see StorageOf in @mlmodel/format). */
const STORAGE: Record<Exclude<DType, 'str' | 'bytes' | 'object'>, { ctor: abstract new (...args: never[]) => unknown; name: string }> = {
  bool: { ctor: Uint8Array, name: 'Uint8Array' },
  int8: { ctor: Int8Array, name: 'Int8Array' },
  int16: { ctor: Int16Array, name: 'Int16Array' },
  int32: { ctor: Int32Array, name: 'Int32Array' },
  int64: { ctor: BigInt64Array, name: 'BigInt64Array' },
  uint8: { ctor: Uint8Array, name: 'Uint8Array' },
  uint16: { ctor: Uint16Array, name: 'Uint16Array' },
  uint32: { ctor: Uint32Array, name: 'Uint32Array' },
  uint64: { ctor: BigUint64Array, name: 'BigUint64Array' },
  float16: { ctor: Uint16Array, name: 'Uint16Array (raw half-float bits)' },
  float32: { ctor: Float32Array, name: 'Float32Array' },
  float64: { ctor: Float64Array, name: 'Float64Array' },
  'datetime64[ns]': { ctor: BigInt64Array, name: 'BigInt64Array (ns since the epoch)' },
};

function checkStorage(dtype: unknown, values: unknown): string | null {
  if (typeof dtype !== 'string' || !isDType(dtype)) return `unknown dtype ${JSON.stringify(dtype)}`;
  const got = values === null || values === undefined ? String(values) : ((values as object).constructor?.name ?? typeof values);
  if (dtype === 'object') return Array.isArray(values) ? null : `dtype object needs a plain array of values, got ${got}`;
  if (dtype === 'str' || dtype === 'bytes') {
    // duck-typed: a module may use its own copy of @mlmodel/format
    const v = values as { offsets?: unknown; bytes?: unknown; get?: unknown } | null | undefined;
    const ok = !!v && v.offsets instanceof Int32Array && v.bytes instanceof Uint8Array && typeof v.get === 'function';
    return ok ? null : `dtype ${dtype} needs a ${dtype === 'str' ? 'Utf8Array' : 'BinaryArray'} (columnFromValues builds one), got ${got}`;
  }
  const want = STORAGE[dtype];
  return values instanceof want.ctor ? null : `dtype ${dtype} needs a ${want.name}, got ${got}`;
}
