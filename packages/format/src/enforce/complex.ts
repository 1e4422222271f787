/**
 * Value-level enforcement for Array / Object / Map / Any columns and for values nested inside
 * them (MLflow's `_enforce_type`, `_enforce_array`, `_enforce_object`, `_enforce_map`,
 * `_enforce_datatype`). Values are plain JS: numbers, bigints, strings, booleans, Uint8Array
 * (bytes), Date, arrays (or numeric typed arrays) and plain objects.
 */
import type { Column } from '../batch/types.js';
import { valueAt } from '../batch/values.js';
import type { ArrayType, MapType, ObjectType, PrimitiveType, ValueType } from '../signature/types.js';
import { EnforceFailure, fail, isListLike, isPlainObject, isScalarValue, setOwn } from './common.js';
import { nsToDate, parseIsoDatetime } from './datetime.js';
import { pyStr, pyStrSet, pyTypeName, typeKeyword, typeRepr } from './repr.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_BOUND = 2 ** 63;
const NO = Symbol('no');

/**
 * JS scalar rules, the JSON counterpart of MLflow's numpy rules: JSON cannot tell `1.0` from
 * `1`, so integral numbers are accepted by float/double; non-integral numbers are never
 * accepted by integer/long; booleans are never numbers; strings are never numbers.
 */
function convertScalar(v: unknown, t: PrimitiveType): unknown {
  switch (t) {
    case 'boolean':
      return typeof v === 'boolean' ? v : NO;
    case 'integer':
      if (typeof v === 'number') return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? v : NO;
      if (typeof v === 'bigint') return v >= BigInt(INT32_MIN) && v <= BigInt(INT32_MAX) ? Number(v) : NO;
      return NO;
    case 'long':
      if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= INT64_BOUND ? v : NO;
      if (typeof v === 'bigint') {
        if (v < -(2n ** 63n) || v >= 2n ** 63n) return NO;
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : v;
      }
      return NO;
    case 'float':
    case 'double':
      if (typeof v === 'number') return v;
      // A 64-bit integer only converts to float when it is 0 or 1 (MLflow's int64 special case).
      if (typeof v === 'bigint') return v === 0n || v === 1n ? Number(v) : NO;
      return NO;
    case 'string':
      return typeof v === 'string' ? v : NO;
    case 'binary':
      return v instanceof Uint8Array ? v : NO;
    case 'datetime': {
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? NO : v;
      if (typeof v !== 'string') return NO;
      const p = parseIsoDatetime(v);
      return p === undefined || p === 'timezone' ? NO : nsToDate(p.ns);
    }
  }
}

/** `_enforce_datatype`: one scalar against a primitive type. Returns the converted value. */
export function enforceScalarValue(data: unknown, t: PrimitiveType, required: boolean): unknown {
  if (!required && (data === null || data === undefined || (typeof data === 'number' && Number.isNaN(data)))) return null;
  if (data === null || data === undefined || !isScalarValue(data)) fail(`Expected data to be scalar, got ${pyTypeName(data)}`);
  const r = convertScalar(data, t);
  if (r === NO) {
    fail(`Failed to enforce schema of data \`${pyStr(data, 100)}\` with dtype \`${t}\` (received type ${pyTypeName(data)})`);
  }
  return r;
}

/** `_enforce_array`. SparkML vectors are arrays of doubles. */
export function enforceArray(data: unknown, arr: ArrayType | { readonly type: 'sparkml_vector' }, required: boolean): unknown {
  const items: ValueType = arr.type === 'sparkml_vector' ? 'double' : arr.items;
  const itemsAny = typeof items !== 'string' && items.type === 'any';
  if ((!required || itemsAny) && (data === null || data === undefined || (isListLike(data) && data.length === 0))) {
    return data ?? null;
  }
  if (!isListLike(data)) fail(`Expected data to be list or numpy array, got ${pyTypeName(data)}`);
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = enforceValue(data[i], items, required);
  return out;
}

/** `_enforce_object`: strict — required properties must be present and no others are allowed. */
export function enforceObject(data: unknown, obj: ObjectType, required: boolean): unknown {
  if (!required && (data === null || data === undefined || (isPlainObject(data) && Object.keys(data).length === 0))) {
    return data ?? null;
  }
  if (!isPlainObject(data)) {
    fail(`Failed to enforce schema of '${pyStr(data, 100)}' with type '${typeRepr(obj)}'. Expected data to be dictionary, got ${pyTypeName(data)}`);
  }
  const keys = Object.keys(data);
  const props = new Map(obj.properties.map((p) => [p.name, p]));
  const missing = obj.properties.filter((p) => p.required && !Object.hasOwn(data, p.name)).map((p) => p.name);
  if (missing.length > 0) fail(`Missing required properties: ${pyStrSet(missing)}`);
  const invalid = keys.filter((k) => !props.has(k));
  if (invalid.length > 0) fail(`Invalid properties not defined in the schema found: ${pyStrSet(invalid)}`);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const prop = props.get(k)!;
    const v = data[k];
    try {
      setOwn(out, k, enforceValue(v, prop.valueType, prop.required));
    } catch (e) {
      if (!(e instanceof EnforceFailure)) throw e;
      fail(`Failed to enforce schema for key \`${k}\`. Expected type ${typeKeyword(prop.valueType)}, received type ${pyTypeName(v)}: ${e.message}`);
    }
  }
  return out;
}

/** `_enforce_map`: a dict with string keys whose values all match the value type. */
export function enforceMap(data: unknown, map: MapType, required: boolean): unknown {
  const valuesAny = typeof map.values !== 'string' && map.values.type === 'any';
  if ((!required || valuesAny) && (data === null || data === undefined || (isPlainObject(data) && Object.keys(data).length === 0))) {
    return data ?? null;
  }
  if (!isPlainObject(data)) fail(`Expected data to be a dict, got ${pyTypeName(data)}`);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(data)) setOwn(out, k, enforceValue(data[k], map.values, required));
  return out;
}

/** `_enforce_type`: dispatch on the MLflow type. `Any` accepts everything, None included. */
export function enforceValue(data: unknown, t: ValueType, required: boolean): unknown {
  if (typeof t === 'string') return enforceScalarValue(data, t, required);
  switch (t.type) {
    case 'array':
    case 'sparkml_vector':
      return enforceArray(data, t, required);
    case 'object':
      return enforceObject(data, t, required);
    case 'map':
      return enforceMap(data, t, required);
    case 'any':
      return data;
  }
}

/** The JS value of row i of a column for value-level checks (null when missing, Date for datetimes). */
function cellValue(col: Column, i: number): unknown {
  if (col.validity && col.validity[i] === 0) return null;
  if (col.dtype === 'datetime64[ns]') return nsToDate(col.values[i]!);
  return valueAt(col.dtype, col.values, i);
}

/**
 * Enforce a non-primitive column type row by row. The result is an `object` column holding the
 * enforced values (nulls marked in the validity mask). `Any` columns pass through untouched.
 */
export function enforceComplexColumn(col: Column, t: Exclude<ValueType, PrimitiveType>, required: boolean, label: string): Column {
  if (t.type === 'any') return col;
  const n = col.values.length;
  const out = new Array<unknown>(n);
  let validity: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    let v: unknown;
    try {
      v = enforceValue(cellValue(col, i), t, required);
    } catch (e) {
      if (!(e instanceof EnforceFailure)) throw e;
      fail(`Incompatible input types for column ${label}. Value at row ${i} does not match type ${typeRepr(t)}: ${e.message}`);
    }
    if (v === null || v === undefined) {
      validity ??= new Uint8Array(n).fill(1);
      validity[i] = 0;
      v = null;
    }
    out[i] = v;
  }
  return { name: col.name, dtype: 'object', values: out, validity };
}
