/**
 * Per-column casting for primitive column types: MLflow's `_enforce_mlflow_datatype` on our
 * typed-array columns. Exact dtype matches are returned as is (no copy); safe upcasts convert
 * the storage (e.g. Int32Array → Float64Array); everything else fails with MLflow's message.
 */
import type { DType } from '../dtype.js';
import { BinaryArray, Utf8Array } from '../batch/string-array.js';
import type { Column, Storage } from '../batch/types.js';
import { allocate } from '../batch/values.js';
import type { PrimitiveType } from '../signature/types.js';
import { dtypeForColumnType, isFloatDType, isIntegerDType, isSafeCast, zeroOneCastApplies } from './cast-rules.js';
import { fail } from './common.js';
import { allZeroOrOne, castNumeric, countNulls, fillNaNAtNulls, isIntegerWithMissing, isNumericOrBool } from './convert.js';
import { dateToNs, parseIsoDatetime } from './datetime.js';
import { pyStrRepr, pyTypeName } from './repr.js';

const MISSING_INTEGER_HINT =
  ' Hint: the type mismatch is likely caused by missing values. ' +
  'Integer columns in python can not represent missing values and are therefore ' +
  'encoded as floats. The best way to avoid this problem is to infer the model ' +
  'schema based on a realistic data sample (training dataset) that includes missing ' +
  'values. Alternatively, you can declare integer columns as doubles (float64) ' +
  'whenever these columns may have missing values. See `Handling Integers With ' +
  'Missing Values <https://www.mlflow.org/docs/latest/models.html#' +
  'handling-integers-with-missing-values>`_ for more details.';

function incompatible(label: string, from: DType, to: DType, hint = ''): never {
  fail(`Incompatible input types for column ${label}. Can not safely convert ${from} to ${to}.${hint}`);
}

function make(col: Column, dtype: DType, values: Storage, validity: Uint8Array | undefined): Column {
  return { name: col.name, dtype, values, validity } as Column;
}

function markNull(validity: Uint8Array | undefined, n: number, i: number): Uint8Array {
  const v = validity ?? new Uint8Array(n).fill(1);
  v[i] = 0;
  return v;
}

function isMissing(col: Column, i: number): boolean {
  if (col.validity && col.validity[i] === 0) return true;
  if (col.dtype === 'object') {
    const v = col.values[i];
    return v === null || v === undefined;
  }
  return false;
}

/** A validity mask for an object column that also marks null/undefined values. */
function objectValidity(col: Column & { dtype: 'object' }): Uint8Array | undefined {
  let validity: Uint8Array | undefined = col.validity ? col.validity.slice() : undefined;
  const values = col.values;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) validity = markNull(validity, values.length, i);
  }
  return validity;
}

type ObjKind = 'none' | 'bool' | 'int' | 'float' | 'str' | 'bytes' | 'date' | 'mixed';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function kindOf(v: unknown): ObjKind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return v >= INT64_MIN && v <= INT64_MAX ? 'int' : 'mixed';
    case 'number':
      return Number.isSafeInteger(v) ? 'int' : 'float';
    case 'string':
      return 'str';
    default:
      if (v instanceof Uint8Array) return 'bytes';
      if (v instanceof Date) return 'date';
      return 'mixed';
  }
}

/**
 * pandas `infer_objects()` on an object column: a single kind of non-null value gives a typed
 * column (ints → int64, ints and floats → float64, bools → bool, strings → str, bytes → bytes,
 * dates → datetime64[ns]); anything else stays object (returns undefined). A column with no
 * non-null value takes the target dtype, all rows missing.
 */
function inferObjects(col: Column & { dtype: 'object' }, target: DType): Column | undefined {
  const values = col.values;
  const n = values.length;
  let kind: ObjKind = 'none';
  for (let i = 0; i < n; i++) {
    if (isMissing(col, i)) continue;
    const k = kindOf(values[i]);
    if (kind === 'none' || kind === k) kind = k;
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
    else return undefined;
    if (kind === 'mixed') return undefined;
  }
  const validity = objectValidity(col);
  const valid = (i: number): boolean => !validity || validity[i] !== 0;
  switch (kind) {
    case 'none': {
      const out = allocate(target, n);
      if (out instanceof Float64Array || out instanceof Float32Array) out.fill(NaN);
      return make(col, target, out, new Uint8Array(n));
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) if (valid(i)) out[i] = values[i] ? 1 : 0;
      return make(col, 'bool', out, validity);
    }
    case 'int': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = values[i] as number | bigint;
        out[i] = typeof v === 'bigint' ? v : BigInt(v);
      }
      return make(col, 'int64', out, validity);
    }
    case 'float': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = valid(i) ? Number(values[i] as number | bigint) : NaN;
      return make(col, 'float64', out, validity);
    }
    case 'str':
      return make(col, 'str', Utf8Array.fromStrings(values.map((v, i) => (valid(i) ? (v as string) : null))), validity);
    case 'bytes':
      return make(col, 'bytes', BinaryArray.fromBuffers(values.map((v, i) => (valid(i) ? (v as Uint8Array) : null))), validity);
    case 'date': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const ns = dateToNs(values[i] as Date);
        if (ns === undefined) return undefined;
        out[i] = ns;
      }
      return make(col, 'datetime64[ns]', out, validity);
    }
    default:
      return undefined;
  }
}

/** Object column → str/bytes when every non-null value already is a string / bytes. */
function objectToVarBinary(col: Column & { dtype: 'object' }, to: 'str' | 'bytes', label: string): Column {
  const values = col.values;
  const validity = objectValidity(col);
  const ok = to === 'str' ? (v: unknown) => typeof v === 'string' : (v: unknown) => v instanceof Uint8Array;
  for (let i = 0; i < values.length; i++) {
    if ((!validity || validity[i] !== 0) && !ok(values[i])) incompatible(label, 'object', to);
  }
  if (to === 'str') {
    return make(col, 'str', Utf8Array.fromStrings(values.map((v, i) => (validity && validity[i] === 0 ? null : (v as string)))), validity);
  }
  return make(col, 'bytes', BinaryArray.fromBuffers(values.map((v, i) => (validity && validity[i] === 0 ? null : (v as Uint8Array)))), validity);
}

function datetimeFailure(label: string, from: DType, row: number, value: unknown, timezone: boolean): never {
  const shown = typeof value === 'string' ? pyStrRepr(value, 60) : pyTypeName(value);
  if (timezone) {
    fail(
      `Failed to convert column ${label} from type ${from} to DataType.datetime. Please ensure that the input data of ` +
        `datetime column only contains timezone-naive datetime objects; row ${row} has a timezone: ${shown}.`,
    );
  }
  fail(`Failed to convert column ${label} from type ${from} to DataType.datetime. Row ${row}: cannot parse ${shown} as a datetime.`);
}

/** str or object (ISO strings, Dates) column → datetime64[ns]. */
function toDatetime(col: Column, label: string): Column {
  const n = col.values.length;
  const out = new BigInt64Array(n);
  let validity: Uint8Array | undefined = col.validity ? col.validity.slice() : undefined;
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) continue;
    const v = col.dtype === 'str' ? col.values.get(i) : (col.values as unknown[])[i];
    if (v === null || v === undefined) {
      validity = markNull(validity, n, i);
      continue;
    }
    if (v instanceof Date) {
      const ns = dateToNs(v);
      if (ns === undefined) datetimeFailure(label, col.dtype, i, v, false);
      out[i] = ns;
      continue;
    }
    if (typeof v !== 'string') datetimeFailure(label, col.dtype, i, v, false);
    const p = parseIsoDatetime(v);
    if (p === undefined || p === 'timezone') datetimeFailure(label, col.dtype, i, v, p === 'timezone');
    out[i] = p.ns;
  }
  return make(col, 'datetime64[ns]', out, validity);
}

/**
 * Final step for a column of the target dtype: missing values in float columns are NaN (as in
 * pandas, accepted even for required columns); in any other required column they are an error.
 */
function finish(col: Column, t: PrimitiveType, required: boolean, label: string, received: DType, fresh: boolean): Column {
  if (col.dtype === 'float32' || col.dtype === 'float64' || col.dtype === 'float16') {
    const values = fillNaNAtNulls(col.values, col.validity, fresh);
    return values === col.values ? col : make(col, col.dtype, values, col.validity);
  }
  if (required) {
    let { count, first } = countNulls(col.validity);
    if (col.dtype === 'object') {
      const values = col.values;
      for (let i = 0; i < values.length; i++) {
        if ((values[i] === null || values[i] === undefined) && !(col.validity && col.validity[i] === 0)) {
          if (first < 0 || i < first) first = i;
          count++;
        }
      }
    }
    if (count > 0) {
      fail(
        `Incompatible input types for column ${label}. The column is required by the model signature but has ` +
          `${count} missing value(s) (first at row ${first}): expected ${t}, received ${received} with missing values.`,
      );
    }
  }
  return col;
}

/**
 * Enforce primitive type `t` on a column. `label` names the column in messages. Returns the
 * column the model receives (the same object when its dtype already matches).
 */
export function enforcePrimitiveColumn(col: Column, t: PrimitiveType, required: boolean, label: string): Column {
  const target = dtypeForColumnType(t);
  const received = col.dtype;
  let c = col;

  if (c.dtype === 'object') {
    if (t === 'string' || t === 'binary') {
      return finish(objectToVarBinary(c, target as 'str' | 'bytes', label), t, required, label, received, true);
    }
    if (t === 'datetime') return finish(toDatetime(c, label), t, required, label, received, true);
    const inferred = inferObjects(c, target);
    if (inferred === undefined) {
      // MLflow keeps a mixed object column as is for boolean (so None stays None).
      if (t === 'boolean') return finish(c, t, required, label, received, false);
      incompatible(label, 'object', target);
    }
    c = inferred;
  }

  if (c.dtype === target) return finish(c, t, required, label, received, c !== col);

  if (t === 'datetime' && c.dtype === 'str') return finish(toDatetime(c, label), t, required, label, received, true);

  if (!isNumericOrBool(target) || !isNumericOrBool(c.dtype)) incompatible(label, c.dtype, target);

  if (isSafeCast(c.dtype, target) || (zeroOneCastApplies(c.dtype, target) && allZeroOrOne(c.dtype, c.values, c.validity))) {
    const values = castNumeric(c.dtype, c.values, target);
    return finish(make(c, target, values, c.validity), t, required, label, received, true);
  }

  const hint = isFloatDType(c.dtype) && isIntegerDType(target) && isIntegerWithMissing(c.dtype, c.values, c.validity) ? MISSING_INTEGER_HINT : '';
  return incompatible(label, c.dtype, target, hint);
}
