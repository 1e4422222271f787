/**
 * Decoded JSON values → typed storage, the way MLflow's parser builds pandas columns and numpy
 * arrays (`astype`, `np.array(data, dtype=…)`), but refusing conversions that would silently
 * change data: non-integral or out-of-range numbers for integer types, finite numbers beyond
 * float32, strings for booleans (pandas makes "False" True), numbers for datetimes. Values that
 * convert without loss are accepted as numpy does: integral floats for ints, ints for floats,
 * booleans for numbers, 0/1 for booleans, numbers and booleans for `str` (as Python's `str()`),
 * and numeric strings for numbers, read as Python's `float()` / `int()` read them (`"5.1"`,
 * `" 7 "`, `"1e3"`, `"nan"` for floats; `"46"`, `"+5"`, `"1_000"` for ints, not `"46.0"`).
 *
 * Also the dtype inference of `np.array(list)` (tensors) and of `pd.DataFrame` (columns).
 */
import { FLOAT32_MAX, smallIntRange, type DType } from '../dtype.js';
import { floatToHalf } from '../float16.js';
import { BinaryArray, Utf8Array } from '../batch/string-array.js';
import type { Storage, Tensor } from '../batch/types.js';
import { allocate } from '../batch/values.js';
import { LITTLE_ENDIAN } from '../enforce/convert.js';
import { parseIsoDatetime } from '../enforce/datetime.js';
import { PyFloat, pyFloatRepr } from '../pyjson.js';
import { CastFailure } from './errors.js';
import { plainJson } from './json-text.js';

const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;
const TWO32 = 4294967296;
const TWO63 = 2 ** 63;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT16_MAX = 65504;

/** A short description of a JSON value for error messages: `the string "a"`, `the number 1.5`, `null`. */
export function describeJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (v instanceof PyFloat) return `the number ${pyFloatRepr(v.value)}`;
  switch (typeof v) {
    case 'boolean':
      return String(v);
    case 'number':
      return Number.isNaN(v) ? 'NaN' : `the number ${Number.isInteger(v) ? String(v) : pyFloatRepr(v)}`;
    case 'bigint':
      return `the integer ${v.toString().length > 40 ? `${v.toString().slice(0, 40)}…` : v.toString()}`;
    case 'string':
      return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
    default:
      return Array.isArray(v) ? 'a list' : 'an object';
  }
}

/** Python's `str()` of a JSON scalar (what `np.array(x, dtype=str)` stores). */
function pyStrOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return undefined;
}

// --- base64 (Python's base64.decodebytes) ----------------------------------------------------

const B64 = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));
// Unambiguous (no two quantifiers can take the same characters), so it runs in linear time on any input.
const CLEAN_B64 = /^[A-Za-z0-9+/\r\n]*(?:=[\r\n]*){0,2}$/;

/**
 * `base64.decodebytes`: characters outside the alphabet (newlines, spaces) are skipped, padding
 * ends the data, and a missing padding or a dangling character is an error.
 */
export function decodeBase64(s: string): Uint8Array {
  if (CLEAN_B64.test(s)) {
    let n = 0;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x0a && s.charCodeAt(i) !== 0x0d) n++;
    if (n % 4 === 0) return new Uint8Array(Buffer.from(s, 'base64'));
  }
  const out = new Uint8Array(Math.ceil(s.length * 0.75) + 3);
  let o = 0;
  let quad = 0;
  let acc = 0;
  let pads = 0;
  let done = false;
  let dataChars = 0;
  for (let i = 0; i < s.length && !done; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d) {
      if (quad >= 2 && quad + ++pads >= 4) done = true;
      continue;
    }
    const v = c < 128 ? B64[c]! : -1;
    if (v < 0) continue;
    dataChars++;
    pads = 0;
    acc = (acc << 6) | v;
    quad++;
    if (quad === 2) out[o++] = (acc >> 4) & 0xff;
    else if (quad === 3) out[o++] = (acc >> 2) & 0xff;
    else if (quad === 4) {
      out[o++] = acc & 0xff;
      quad = 0;
      acc = 0;
    }
  }
  if (!done && quad !== 0) {
    throw new CastFailure(
      quad === 1 ? `invalid base64: the number of data characters (${dataChars}) cannot be 1 more than a multiple of 4` : 'invalid base64: incorrect padding',
    );
  }
  return out.slice(0, o);
}

// --- casting ----------------------------------------------------------------------------------

/**
 * How nulls are stored: `mask` (DataFrame columns: a validity mask, NaN under it for floats) or
 * `array` (numpy arrays: NaN for float dtypes, refused for all others).
 */
export type NullMode = 'mask' | 'array';

export interface CastOptions {
  readonly nulls: NullMode;
  /** Where element i is, for messages: `row 3`, `element [1, 2]`. */
  readonly where: (i: number) => string;
}

export interface CastResult {
  readonly values: Storage;
  readonly validity?: Uint8Array | undefined;
}

function isNullish(v: unknown): boolean {
  return v === null || v === undefined;
}

function failAt(opts: CastOptions, i: number, what: string, v: unknown): never {
  throw new CastFailure(`${opts.where(i)}: ${what}, got ${describeJson(v)}`);
}

// Python's float() and int() grammars for strings (surrounding whitespace is stripped first).
const PY_FLOAT_TEXT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_FLOAT_SPECIAL = /^([+-]?)(?:(inf|infinity)|nan)$/i;
const PY_INT_TEXT = /^[+-]?\d(?:_?\d)*$/;

/** Python's `float(s)` (what `astype(float64)` and `np.array(…, dtype=float)` do with a string); undefined when it raises. */
export function pyFloatFromString(s: string): number | undefined {
  const t = s.trim();
  if (PY_FLOAT_TEXT.test(t)) return Number(t.replace(/_/g, ''));
  const m = PY_FLOAT_SPECIAL.exec(t);
  if (m) return m[2] === undefined ? NaN : m[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

/** Python's `int(s)` (what `astype(int64)` and `np.array(…, dtype=int)` do with a string); undefined when it raises. */
export function pyIntFromString(s: string): bigint | undefined {
  const t = s.trim();
  return PY_INT_TEXT.test(t) ? BigInt(t.replace(/_/g, '')) : undefined;
}

/**
 * The number a JSON scalar stands for, for numeric targets; undefined when it is not one.
 * Strings are read as Python's `float()` (`strings: 'float'`) or `int()` (`'int'`) reads them.
 */
function numberOf(v: unknown, strings: 'float' | 'int' | 'none' = 'none'): number | bigint | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    if (strings === 'float') return pyFloatFromString(v);
    if (strings === 'int') return pyIntFromString(v);
  }
  return undefined;
}

/**
 * Convert JSON values to storage of `dtype`. Throws `CastFailure` naming the element. With
 * `nulls: 'mask'`, a NaN in an integer or boolean target counts as missing, as in pandas.
 */
export function castJsonValues(values: readonly unknown[], dtype: DType, opts: CastOptions): CastResult {
  const n = values.length;
  let validity: Uint8Array | undefined;
  const missing = (i: number, v: unknown): void => {
    if (opts.nulls === 'array') failAt(opts, i, `a ${dtype} array cannot hold missing values`, v);
    validity ??= new Uint8Array(n).fill(1);
    validity[i] = 0;
  };

  switch (dtype) {
    case 'float64':
    case 'float32':
    case 'float16': {
      const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      const checkF32 = dtype === 'float32';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let num: number;
        if (typeof v === 'number') num = v;
        else if (isNullish(v)) {
          out[i] = NaN;
          if (opts.nulls === 'mask') {
            validity ??= new Uint8Array(n).fill(1);
            validity[i] = 0;
          }
          continue;
        } else {
          const x = numberOf(v, 'float');
          if (x === undefined) failAt(opts, i, `expected a number for ${dtype}`, v);
          num = Number(x);
        }
        if (checkF32 && (num > FLOAT32_MAX || num < -FLOAT32_MAX) && Number.isFinite(num) && !Number.isFinite(Math.fround(num))) {
          failAt(opts, i, `expected a number within the range of float32 (±${FLOAT32_MAX})`, v);
        }
        out[i] = num;
      }
      if (dtype === 'float16') {
        const half = new Uint16Array(n);
        for (let i = 0; i < n; i++) {
          const x = out[i]!;
          const h = floatToHalf(x);
          if ((h & 0x7fff) === 0x7c00 && Number.isFinite(x)) failAt(opts, i, `expected a number within the range of float16 (±${FLOAT16_MAX})`, values[i]);
          half[i] = h;
        }
        return { values: half, validity };
      }
      return { values: out, validity };
    }

    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32': {
      const [lo, hi] = smallIntRange(dtype)!;
      const out = allocate(dtype, n) as Int32Array;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) {
          out[i] = v;
          continue;
        }
        if (isNullish(v) || (opts.nulls === 'mask' && typeof v === 'number' && Number.isNaN(v))) {
          missing(i, v);
          continue;
        }
        const x = numberOf(v, 'int');
        if (x === undefined) failAt(opts, i, `expected an integer for ${dtype}`, v);
        if (typeof x === 'number' && !Number.isInteger(x)) failAt(opts, i, `expected a whole number for ${dtype}`, v);
        const num = Number(x);
        if (num < lo || num > hi) failAt(opts, i, `expected an integer within the range of ${dtype} [${lo}, ${hi}]`, v);
        out[i] = num;
      }
      return { values: out, validity };
    }

    case 'int64':
    case 'uint64': {
      const out = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      const w = new Int32Array(out.buffer, out.byteOffset, n * 2);
      const unsigned = dtype === 'uint64';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'number' && Number.isSafeInteger(v) && (!unsigned || v >= 0)) {
          const h = Math.floor(v / TWO32);
          w[2 * i + LO] = (v - h * TWO32) | 0;
          w[2 * i + HI] = h | 0;
          continue;
        }
        if (isNullish(v) || (opts.nulls === 'mask' && typeof v === 'number' && Number.isNaN(v))) {
          missing(i, v);
          continue;
        }
        const x = numberOf(v, 'int');
        if (x === undefined) failAt(opts, i, `expected an integer for ${dtype}`, v);
        if (typeof x === 'number' && !Number.isInteger(x)) failAt(opts, i, `expected a whole number for ${dtype}`, v);
        const big = typeof x === 'bigint' ? x : null;
        const inRange = unsigned
          ? big !== null
            ? big >= 0n && big <= UINT64_MAX
            : (x as number) >= 0 && (x as number) < 2 * TWO63
          : big !== null
            ? big >= INT64_MIN && big <= INT64_MAX
            : (x as number) >= -TWO63 && (x as number) < TWO63;
        if (!inRange) failAt(opts, i, `expected an integer within the range of ${dtype}`, v);
        out[i] = big ?? BigInt(x as number);
      }
      return { values: out, validity };
    }

    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'boolean') {
          out[i] = v ? 1 : 0;
          continue;
        }
        if (isNullish(v) || (opts.nulls === 'mask' && typeof v === 'number' && Number.isNaN(v))) {
          missing(i, v);
          continue;
        }
        const x = numberOf(v);
        if (x === 0 || x === 1 || x === 0n || x === 1n) out[i] = Number(x);
        else failAt(opts, i, 'expected true, false, 0 or 1 for bool', v);
      }
      return { values: out, validity };
    }

    case 'str': {
      const strs = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (isNullish(v)) {
          missing(i, v);
          strs[i] = null;
          continue;
        }
        const s = pyStrOf(v);
        if (s === undefined) failAt(opts, i, 'expected a string', v);
        strs[i] = s;
      }
      return { values: Utf8Array.fromStrings(strs), validity };
    }

    case 'bytes': {
      const bufs = new Array<Uint8Array | null>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (isNullish(v)) {
          missing(i, v);
          bufs[i] = null;
          continue;
        }
        if (typeof v !== 'string') failAt(opts, i, 'expected a base64-encoded string for binary data', v);
        try {
          bufs[i] = decodeBase64(v);
        } catch (e) {
          throw new CastFailure(`${opts.where(i)}: ${(e as Error).message}`);
        }
      }
      return { values: BinaryArray.fromBuffers(bufs), validity };
    }

    case 'datetime64[ns]': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (isNullish(v)) {
          missing(i, v);
          continue;
        }
        if (typeof v !== 'string') failAt(opts, i, 'expected an ISO 8601 date or date-time string', v);
        const p = parseIsoDatetime(v);
        if (p === 'timezone') {
          failAt(opts, i, 'expected a timezone-naive date-time (MLflow refuses timezone-aware values), e.g. "2024-01-31T12:00:00"', v);
        }
        if (p === undefined) failAt(opts, i, 'expected an ISO 8601 date or date-time string such as "2024-01-31" or "2024-01-31T12:00:00"', v);
        out[i] = p.ns;
      }
      return { values: out, validity };
    }

    case 'object': {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (isNullish(v)) {
          out[i] = null;
          if (opts.nulls === 'mask') {
            validity ??= new Uint8Array(n).fill(1);
            validity[i] = 0;
          }
          continue;
        }
        out[i] = v !== null && typeof v === 'object' ? plainJson(v) : v;
      }
      return { values: out, validity };
    }
  }
}

// --- inference --------------------------------------------------------------------------------

type Kind = 'null' | 'bool' | 'int' | 'bigint' | 'float' | 'str' | 'other';

function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'str';
    case 'bigint':
      return v >= INT64_MIN && v <= INT64_MAX ? 'int' : 'bigint';
    default:
      if (v === null || v === undefined) return 'null';
      if (v instanceof PyFloat) return 'float';
      return 'other';
  }
}

function kinds(values: readonly unknown[]): Set<Kind> {
  const seen = new Set<Kind>();
  let last: Kind | undefined;
  for (let i = 0; i < values.length; i++) {
    const k = kindOf(values[i]);
    if (k === last) continue;
    seen.add(k);
    last = k;
  }
  return seen;
}

function only(seen: Set<Kind>, ...allowed: Kind[]): boolean {
  for (const k of seen) if (!allowed.includes(k)) return false;
  return true;
}

/** numpy's dtype for `np.array(values)` over flattened JSON leaves (mixed strings and numbers → object, not str). */
export function inferArrayDType(values: readonly unknown[]): DType {
  if (values.length === 0) return 'float64';
  const seen = kinds(values);
  if (only(seen, 'bool')) return 'bool';
  if (only(seen, 'bool', 'int')) return 'int64';
  if (only(seen, 'bool', 'int', 'float')) return 'float64';
  if (only(seen, 'str')) return 'str';
  return 'object';
}

/**
 * The dtype pandas gives a DataFrame column of these JSON values. Like pandas: ints → int64,
 * ints with floats or missing values → float64 (NaN), strings → str (object in pandas).
 * Booleans with missing values stay bool (with a validity mask) where pandas falls back to object.
 */
export function inferColumnDType(values: readonly unknown[]): DType {
  const seen = kinds(values);
  seen.delete('null');
  if (seen.size === 0) return 'object';
  const hasNull = values.some(isNullish);
  if (only(seen, 'int')) return hasNull ? 'float64' : 'int64';
  if (only(seen, 'int', 'float')) return 'float64';
  if (only(seen, 'bool')) return 'bool';
  if (only(seen, 'str')) return 'str';
  return 'object';
}

// --- nested lists → tensors --------------------------------------------------------------------

/** Shape of a nested list following first elements (numpy's view before checking raggedness). */
function probeShape(value: unknown): number[] {
  const shape: number[] = [];
  let cur = value;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/** Flatten a rectangular nested list of the given shape; returns undefined when it is ragged. */
function flatten(value: unknown, shape: readonly number[]): unknown[] | undefined {
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Array<unknown>(size);
  let k = 0;
  const rank = shape.length;
  const walk = (v: unknown, depth: number): boolean => {
    if (depth === rank) {
      if (Array.isArray(v)) return false;
      out[k++] = v;
      return true;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) return false;
    if (depth === rank - 1) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i] as unknown;
        if (Array.isArray(x)) return false;
        out[k++] = x;
      }
      return true;
    }
    for (let i = 0; i < v.length; i++) if (!walk(v[i], depth + 1)) return false;
    return true;
  };
  return walk(value, 0) ? out : undefined;
}

function raggedDetail(value: unknown, shape: readonly number[]): string {
  // Find the first place where the nesting disagrees with the probed shape, for the message.
  const path: number[] = [];
  const find = (v: unknown, depth: number): string | undefined => {
    if (depth === shape.length) return Array.isArray(v) ? `element [${path.join(', ')}] is a list where a value was expected` : undefined;
    if (!Array.isArray(v)) return `element [${path.join(', ')}] is a value where a list of ${shape[depth]} was expected`;
    if (v.length !== shape[depth]) return `the list at [${path.join(', ')}] has ${v.length} elements, expected ${shape[depth]}`;
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      const r = find(v[i], depth + 1);
      if (r) return r;
      path.pop();
    }
    return undefined;
  };
  return find(value, 0) ?? 'the nested lists are ragged';
}

function multiIndex(shape: readonly number[], flat: number): string {
  if (shape.length === 0) return 'the value';
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    idx[d] = n === 0 ? 0 : flat % n;
    flat = n === 0 ? 0 : Math.floor(flat / n);
  }
  return `element [${idx.join(', ')}]`;
}

/**
 * `np.array(value, dtype=dtype)` for a decoded JSON value: nested lists become an n-d tensor,
 * anything else a 0-d tensor. Without a dtype it is inferred like numpy. Ragged nesting is an
 * error unless the dtype is `object` (then: a 1-D tensor of the top-level elements). Throws
 * `CastFailure`.
 */
export function jsonToTensor(name: string | null, value: unknown, dtype: DType | undefined): Tensor {
  let shape: number[];
  let flat: unknown[];
  if (Array.isArray(value)) {
    shape = probeShape(value);
    const f = flatten(value, shape);
    if (f === undefined) {
      if (dtype !== 'object') {
        throw new CastFailure(`the nested lists do not form a rectangular array (${raggedDetail(value, shape)})`);
      }
      shape = [value.length];
      flat = value;
    } else flat = f;
  } else {
    shape = [];
    flat = [value];
  }
  const dt = dtype ?? inferArrayDType(flat);
  const { values } = castJsonValues(flat, dt, { nulls: 'array', where: (i) => multiIndex(shape, i) });
  return { name, dtype: dt, shape, values } as Tensor;
}
