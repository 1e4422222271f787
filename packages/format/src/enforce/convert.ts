/**
 * Storage conversions used by enforcement. Numeric paths work on typed arrays only: 64-bit
 * integers are read and written as pairs of 32-bit words, so no BigInt is created per row.
 */
import { dtypeKind, type DType } from '../dtype.js';
import { BinaryArray, Utf8Array, VarBinaryArray } from '../batch/string-array.js';
import type { Storage } from '../batch/types.js';
import { allocate, storageFromValues, valueAt } from '../batch/values.js';
import { fail } from './common.js';
import { nsToDate } from './datetime.js';
import { floatToHalf, halfToFloat } from '../float16.js';

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index of the low / high 32-bit word of a 64-bit element in a word view. */
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

type Wide = BigInt64Array | BigUint64Array;
type Narrow = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;

/** A 32-bit word view over 64-bit storage (two words per element). */
export function words(arr: Wide | Float64Array): Int32Array {
  return new Int32Array(arr.buffer, arr.byteOffset, arr.length * 2);
}

function isWide(d: DType): boolean {
  return d === 'int64' || d === 'uint64' || d === 'datetime64[ns]';
}

/** Numeric or bool dtypes: the ones `castNumeric` handles. */
export function isNumericOrBool(d: DType): boolean {
  const k = dtypeKind(d);
  return k === 'i' || k === 'u' || k === 'f' || k === 'b';
}

function decodeHalves(values: Uint16Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfToFloat(values[i]!);
  return out;
}

// --- numeric casts ----------------------------------------------------------------------------

/**
 * numpy `astype` between numeric/bool dtypes (unchecked: callers decide whether the cast is
 * allowed). Returns `values` itself when the dtypes are equal.
 */
export function castNumeric(from: DType, values: Storage, to: DType): Storage {
  if (from === to) return values;
  const n = values.length;
  const out = allocate(to, n);
  const toKind = dtypeKind(to);

  if (isWide(from)) {
    const w = words(values as Wide);
    if (isWide(to)) {
      words(out as Wide).set(w);
      return out;
    }
    const unsigned = from === 'uint64';
    if (toKind === 'f') {
      const dst = to === 'float16' ? new Float64Array(n) : (out as Float32Array | Float64Array);
      for (let i = 0; i < n; i++) {
        const lo = w[2 * i + LO]!;
        const hi = w[2 * i + HI]!;
        dst[i] = (unsigned ? hi >>> 0 : hi) * 4294967296 + (lo >>> 0);
      }
      if (to === 'float16') encodeHalvesInto(dst, out as Uint16Array);
      return out;
    }
    if (toKind === 'b') {
      const dst = out as Uint8Array;
      for (let i = 0; i < n; i++) dst[i] = (w[2 * i + LO]! | w[2 * i + HI]!) !== 0 ? 1 : 0;
      return out;
    }
    // Narrower integer: numpy keeps the low bits; typed-array stores wrap the same way.
    const dst = out as Narrow;
    for (let i = 0; i < n; i++) dst[i] = w[2 * i + LO]!;
    return out;
  }

  const src: Narrow = from === 'float16' ? decodeHalves(values as Uint16Array) : (values as Narrow);
  const fromKind = dtypeKind(from);

  if (isWide(to)) {
    const w = words(out as Wide);
    if (fromKind === 'f') {
      const dst = out as Wide;
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        if (!Number.isFinite(v)) fail(`Cannot convert non-finite values (NA or inf) to integer`);
        dst[i] = BigInt(Math.trunc(v));
      }
      return out;
    }
    const signed = fromKind === 'i';
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      w[2 * i + LO] = v | 0;
      w[2 * i + HI] = signed && v < 0 ? -1 : 0;
    }
    return out;
  }
  if (toKind === 'b') {
    const dst = out as Uint8Array;
    for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0;
    return out;
  }
  if (to === 'float16') {
    encodeHalvesInto(src, out as Uint16Array);
    return out;
  }
  // Same representation family: the typed-array copy converts each element natively.
  (out as Narrow).set(src);
  return out;
}

function encodeHalvesInto(src: ArrayLike<number>, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = floatToHalf(src[i]!);
}

/** Whether every valid element of an integer storage is 0 or 1. */
export function allZeroOrOne(dtype: DType, values: Storage, validity?: Uint8Array): boolean {
  const n = values.length;
  if (isWide(dtype)) {
    const w = words(values as Wide);
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) continue;
      const lo = w[2 * i + LO]!;
      if (w[2 * i + HI] !== 0 || (lo !== 0 && lo !== 1)) return false;
    }
    return true;
  }
  const v = values as Narrow;
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) continue;
    const x = v[i]!;
    if (x !== 0 && x !== 1) return false;
  }
  return true;
}

/** For MLflow's missing-integer hint: a float column with missing values whose other values are whole. */
export function isIntegerWithMissing(dtype: DType, values: Storage, validity?: Uint8Array): boolean {
  const src = dtype === 'float16' ? decodeHalves(values as Uint16Array) : (values as Float32Array | Float64Array);
  let missing = false;
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    if ((validity && validity[i] === 0) || Number.isNaN(x)) {
      missing = true;
      continue;
    }
    if (!Number.isInteger(x)) return false;
  }
  return missing;
}

/**
 * Where the validity mask marks a row missing, make sure a float storage holds NaN (pandas'
 * representation). Returns the same storage when it already does, a patched copy otherwise,
 * unless `inPlace` allows patching the given (freshly allocated) storage.
 */
export function fillNaNAtNulls<S extends Float32Array | Float64Array | Uint16Array>(values: S, validity: Uint8Array | undefined, inPlace: boolean): S {
  if (!validity) return values;
  const nan = values instanceof Uint16Array ? 0x7e00 : NaN;
  let out = values;
  for (let i = 0; i < validity.length; i++) {
    if (validity[i] !== 0) continue;
    const cur = out[i]!;
    if (values instanceof Uint16Array ? (cur & 0x7c00) === 0x7c00 && (cur & 0x3ff) !== 0 : Number.isNaN(cur)) continue;
    if (out === values && !inPlace) out = values.slice() as S;
    out[i] = nan;
  }
  return out;
}

/** Count missing rows (validity 0) and the first one. */
export function countNulls(validity: Uint8Array | undefined): { count: number; first: number } {
  let count = 0;
  let first = -1;
  if (validity) {
    for (let i = 0; i < validity.length; i++) {
      if (validity[i] === 0) {
        if (first < 0) first = i;
        count++;
      }
    }
  }
  return { count, first };
}

// --- gathering: 2-D tensor columns and row-major stacking ----------------------------------

function gatherVar<A extends VarBinaryArray>(src: A, n: number, index: (i: number) => number, make: (o: Int32Array, b: Uint8Array) => A): A {
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = index(i);
    total += src.offsets[r + 1]! - src.offsets[r]!;
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const r = index(i);
    const a = src.offsets[r]!;
    const len = src.offsets[r + 1]! - a;
    const at = offsets[i]!;
    for (let b = 0; b < len; b++) bytes[at + b] = src.bytes[a + b]!;
  }
  return make(offsets, bytes);
}

/** Gather elements `index(0..n-1)` of a storage into a new storage of the same dtype. */
export function gather(dtype: DType, values: Storage, n: number, index: (i: number) => number): Storage {
  if (values instanceof Utf8Array) return gatherVar(values, n, index, (o, b) => new Utf8Array(o, b));
  if (values instanceof BinaryArray) return gatherVar(values, n, index, (o, b) => new BinaryArray(o, b));
  if (Array.isArray(values)) {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = values[index(i)];
    return out;
  }
  const out = allocate(dtype, n);
  if (isWide(dtype)) {
    const src = words(values as Wide);
    const dst = words(out as Wide);
    for (let i = 0; i < n; i++) {
      const r = index(i);
      dst[2 * i] = src[2 * r]!;
      dst[2 * i + 1] = src[2 * r + 1]!;
    }
    return out;
  }
  const src = values as Narrow;
  const dst = out as Narrow;
  for (let i = 0; i < n; i++) dst[i] = src[index(i)]!;
  return out;
}

/** Column j of a row-major [n, k] storage. */
export function stridedColumn(dtype: DType, values: Storage, n: number, k: number, j: number): Storage {
  return gather(dtype, values, n, (i) => i * k + j);
}

/** Row-major [n, k] storage from k columns of the same dtype, each of length n. */
export function interleave(dtype: DType, cols: readonly Storage[], n: number): Storage {
  const k = cols.length;
  if (k === 1) return cols[0]!;
  if (dtype === 'str' || dtype === 'bytes') {
    const strs = new Array<Uint8Array>(n * k);
    cols.forEach((c, j) => {
      const v = c as VarBinaryArray;
      for (let i = 0; i < n; i++) strs[i * k + j] = v.bytesAt(i);
    });
    const joined = VarBinaryArray.fromByteArrays(strs);
    return dtype === 'str' ? new Utf8Array(joined.offsets, joined.bytes) : new BinaryArray(joined.offsets, joined.bytes);
  }
  if (dtype === 'object') {
    const out = new Array<unknown>(n * k);
    cols.forEach((c, j) => {
      const v = c as unknown[];
      for (let i = 0; i < n; i++) out[i * k + j] = v[i];
    });
    return out;
  }
  const out = allocate(dtype, n * k);
  if (isWide(dtype)) {
    const dst = words(out as Wide);
    cols.forEach((c, j) => {
      const src = words(c as Wide);
      for (let i = 0; i < n; i++) {
        const at = 2 * (i * k + j);
        dst[at] = src[2 * i]!;
        dst[at + 1] = src[2 * i + 1]!;
      }
    });
    return out;
  }
  const dst = out as Narrow;
  cols.forEach((c, j) => {
    const src = c as Narrow;
    for (let i = 0; i < n; i++) dst[i * k + j] = src[i]!;
  });
  return out;
}

// --- numpy-style `astype` for tensors built from columns -----------------------------------

const INT_RE = /^\s*[+-]?\d+\s*$/;

function parseNumberText(s: string, to: DType): number | bigint {
  if (dtypeKind(to) === 'f') {
    const t = s.trim().toLowerCase();
    const special: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };
    if (t in special) return special[t]!;
    const v = t === '' ? NaN : Number(t);
    if (Number.isNaN(v)) fail(`could not convert string to float: ${JSON.stringify(s)}`);
    return v;
  }
  if (!INT_RE.test(s)) fail(`invalid literal for int() with base 10: ${JSON.stringify(s)}`);
  return BigInt(s.trim());
}

/**
 * numpy `astype(to)` of a column's storage (unsafe casting, as `np.array(series, dtype=…)` does),
 * used when a DataFrame column becomes a tensor. Missing values become NaN for float targets
 * and None for object targets; any other target rejects them.
 */
export function castStorage(from: DType, values: Storage, validity: Uint8Array | undefined, to: DType): Storage {
  const n = values.length;
  const hasNulls = validity !== undefined && validity.includes(0);
  if (to === 'object') {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) out[i] = null;
      else if (from === 'datetime64[ns]') out[i] = nsToDate((values as BigInt64Array)[i]!);
      else out[i] = valueAt(from, values, i);
    }
    return out;
  }
  const toFloat = dtypeKind(to) === 'f';
  if (hasNulls && !toFloat) fail(`Cannot convert missing values to ${to}`);
  if (from === to) return values;
  if (isNumericOrBool(from) && isNumericOrBool(to)) {
    const out = castNumeric(from, values, to);
    return toFloat ? fillNaNAtNulls(out as Float64Array, validity, out !== values) : out;
  }
  if ((from === 'datetime64[ns]' && (to === 'int64' || to === 'uint64')) || (to === 'datetime64[ns]' && (from === 'int64' || from === 'uint64'))) {
    return castNumeric('int64', values, to === 'datetime64[ns]' ? 'int64' : to);
  }
  if (from === 'str' && isNumericOrBool(to) && dtypeKind(to) !== 'b') {
    const src = values as Utf8Array;
    const parsed = new Array<unknown>(n);
    for (let i = 0; i < n; i++) parsed[i] = validity && validity[i] === 0 ? null : parseNumberText(src.get(i), to);
    return storageFromValues(to, parsed).values;
  }
  if (to === 'str' && from === 'bytes') {
    const src = values as BinaryArray;
    return new Utf8Array(src.offsets, src.bytes);
  }
  if (to === 'str' && from !== 'object') {
    const strs = new Array<string | null>(n);
    for (let i = 0; i < n; i++) strs[i] = validity && validity[i] === 0 ? null : String(valueAt(from, values, i));
    return Utf8Array.fromStrings(strs);
  }
  if (to === 'bytes' && from === 'str') {
    const src = values as Utf8Array;
    return new BinaryArray(src.offsets, src.bytes);
  }
  if (from === 'object') {
    const src = values as unknown[];
    try {
      const res = storageFromValues(to, src);
      if (res.validity && !toFloat) fail(`Cannot convert missing values to ${to}`);
      return res.values;
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    }
  }
  return fail(`Cannot cast ${from} to ${to}`);
}
