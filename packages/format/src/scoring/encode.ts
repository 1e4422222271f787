/**
 * Predictions → response JSON exactly as MLflow's scoring server writes it:
 * `json.dump({"predictions": _get_jsonable_obj(p)}, cls=NumpyEncoder)`, i.e. Python's
 * `json.dumps` formatting (`", "` / `": "`, ensure_ascii, `NaN`/`Infinity` tokens, floats in
 * `repr` form, so a float tensor prints `1.0` and a float32 0.1 prints `0.10000000149011612`
 * like numpy's `tolist()`).
 *
 * - one unnamed tensor → nested lists (`ndarray.tolist()`); named tensors → `{name: nested lists}`;
 * - a column batch → records `[{col: value, …}, …]` (`to_dict(orient="records")`); missing values
 *   are `NaN` in float columns and `null` elsewhere;
 * - JSON output → as is; bytes → `base64.encodebytes` (a newline every 76 characters and at the
 *   end); datetimes → ISO strings like `pd.Timestamp.isoformat()`.
 *
 * Typed arrays are written with tight per-dtype loops, without boxing each element.
 */
import type { DType } from '../dtype.js';
import { halfToFloat } from '../float16.js';
import { Utf8Array, type BinaryArray, type VarBinaryArray } from '../batch/string-array.js';
import type { Column, ColumnBatch, Prediction, Storage, Tensor } from '../batch/types.js';
import { LITTLE_ENDIAN } from '../enforce/convert.js';
import { PyFloat, pyFloatRepr, pyJsonString } from '../pyjson.js';

export interface EncodeOptions {
  /** Omit the `{"predictions": …}` wrapper (MLflow's unified-LLM responses). */
  readonly unwrapped?: boolean;
}

const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;
const TWO32 = 4294967296;
/** Output nesting beyond this is treated as a cycle. */
const MAX_OUTPUT_DEPTH = 1000;

// --- scalars ----------------------------------------------------------------------------------

/**
 * A float as Python's json module writes it (`repr`), with fast paths wherever JS's `String(x)`
 * already has Python's form. Both print the shortest round-trip digits; they differ only in when
 * they switch to exponent notation (Python: exponent < -4 or ≥ 16; JS: < -6 or ≥ 21) and in
 * Python's two-digit minimum exponent (`1e-07`, JS `1e-7`).
 */
export function pyJsonFloatFast(x: number): string {
  if (x !== x) return 'NaN';
  const a = x < 0 ? -x : x;
  if (a >= 1e-4 && a < 1e16) {
    // both use fixed notation here
    const s = String(x);
    return Number.isInteger(x) ? `${s}.0` : s;
  }
  if (a === Infinity) return x > 0 ? 'Infinity' : '-Infinity';
  if (a === 0) return 1 / x < 0 ? '-0.0' : '0.0';
  if (a < 1e-6 || a >= 1e21) {
    // both use exponent notation here (float32 probabilities near 0 land here: 1.447420139299993e-08)
    const s = String(x);
    const e = s.indexOf('e');
    // e-7, e-8, e-9 → e-07, e-08, e-09 (positive exponents here have at least two digits)
    return s.length - e === 3 ? `${s.slice(0, e + 2)}0${s.slice(e + 2)}` : s;
  }
  return pyFloatRepr(x);
}

const SAFE_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal with Python's `ensure_ascii=True` escaping. */
export function pyJsonStringFast(s: string): string {
  return SAFE_STRING.test(s) ? `"${s}"` : pyJsonString(s);
}

/** Python's `base64.encodebytes`: lines of 76 characters, each ending with a newline. */
export function encodeBytesBase64(b: Uint8Array): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  if (s.length === 0) return '';
  let out = '';
  for (let i = 0; i < s.length; i += 76) out += `${s.slice(i, i + 76)}\n`;
  return out;
}

/** `pd.Timestamp(ns).isoformat()`: seconds, then microseconds or nanoseconds when present. */
export function isoFromNs(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let sub = ns % 1_000_000_000n;
  if (sub < 0n) {
    sub += 1_000_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  if (sub === 0n) return base;
  if (sub % 1000n === 0n) return `${base}.${(sub / 1000n).toString().padStart(6, '0')}`;
  return `${base}.${sub.toString().padStart(9, '0')}`;
}

/** Python `datetime.isoformat()` of a JS Date (naive, UTC-based like the rest of the batch). */
function isoFromDate(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) return 'NaT';
  const base = d.toISOString().slice(0, 19);
  const ms = ((t % 1000) + 1000) % 1000;
  return ms === 0 ? base : `${base}.${String(ms * 1000).padStart(6, '0')}`;
}

function int64At(w: Int32Array, i: number, unsigned: boolean): string {
  const hi = w[2 * i + HI]!;
  const lo = w[2 * i + LO]! >>> 0;
  if (unsigned) {
    const h = hi >>> 0;
    if (h < 0x200000) return String(h * TWO32 + lo);
  } else if (hi >= -0x200000 && hi < 0x200000) return String(hi * TWO32 + lo);
  const buf = new DataView(w.buffer, w.byteOffset + 8 * i, 8);
  return (unsigned ? buf.getBigUint64(0, LITTLE_ENDIAN) : buf.getBigInt64(0, LITTLE_ENDIAN)).toString();
}

/** True when every byte is printable ASCII other than `"` and `\\`: such strings need no escaping. */
function allSafeAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/**
 * JSON string literals of a Utf8/Binary array's elements. When the whole buffer is plain ASCII
 * it is decoded once and sliced by byte offsets, and no element needs escaping.
 */
function stringLiteralGetter(a: VarBinaryArray): (i: number) => string {
  const bytes = a.bytes;
  const off = a.offsets;
  if (bytes.length > 0 && allSafeAscii(bytes.subarray(off[0]!, off[off.length - 1]!))) {
    const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    return (i) => `"${all.slice(off[i]!, off[i + 1]!)}"`;
  }
  const get = a instanceof Utf8Array ? (i: number) => a.get(i) : (i: number) => new TextDecoder().decode(a.bytesAt(i));
  return (i) => pyJsonStringFast(get(i));
}

/** Writes element i of a storage as JSON. */
type ElementWriter = (i: number) => string;

function elementWriter(dtype: DType, values: Storage): ElementWriter {
  switch (dtype) {
    case 'float64':
    case 'float32': {
      const v = values as Float64Array | Float32Array;
      return (i) => pyJsonFloatFast(v[i]!);
    }
    case 'float16': {
      const v = values as Uint16Array;
      return (i) => pyJsonFloatFast(halfToFloat(v[i]!));
    }
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32': {
      const v = values as Int32Array;
      return (i) => String(v[i]!);
    }
    case 'int64':
    case 'uint64': {
      const arr = values as BigInt64Array;
      const w = new Int32Array(arr.buffer, arr.byteOffset, arr.length * 2);
      const unsigned = dtype === 'uint64';
      return (i) => int64At(w, i, unsigned);
    }
    case 'bool': {
      const v = values as Uint8Array;
      return (i) => (v[i] ? 'true' : 'false');
    }
    case 'str':
      return stringLiteralGetter(values as Utf8Array);
    case 'bytes': {
      const v = values as BinaryArray;
      // Base64 text needs no escaping but its newlines.
      return (i) => `"${encodeBytesBase64(v.bytesAt(i)).replaceAll('\n', '\\n')}"`;
    }
    case 'datetime64[ns]': {
      const v = values as BigInt64Array;
      return (i) => pyJsonStringFast(isoFromNs(v[i]!));
    }
    case 'object': {
      const v = values as unknown[];
      return (i) => encodeJsonValue(v[i]);
    }
  }
}

/** A run of `count` elements from `start`, as `[a, b, …]`, with a dedicated loop for floats. */
function writeRun(dtype: DType, values: Storage, el: ElementWriter, start: number, count: number): string {
  if (count === 0) return '[]';
  if (dtype === 'float32' || dtype === 'float64') {
    const v = values as Float32Array | Float64Array;
    let s = `[${pyJsonFloatFast(v[start]!)}`;
    for (let i = start + 1, end = start + count; i < end; i++) s += `, ${pyJsonFloatFast(v[i]!)}`;
    return `${s}]`;
  }
  let s = `[${el(start)}`;
  for (let i = start + 1, end = start + count; i < end; i++) s += `, ${el(i)}`;
  return `${s}]`;
}

/** `ndarray.tolist()` of a tensor, as JSON text. */
export function encodeTensor(t: Tensor): string {
  const el = elementWriter(t.dtype, t.values);
  const shape = t.shape;
  const rank = shape.length;
  if (rank === 0) return el(0);
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d]!;
  }
  const parts: string[] = [];
  const rec = (dim: number, offset: number): void => {
    const n = shape[dim]!;
    if (dim === rank - 1) {
      parts.push(writeRun(t.dtype, t.values, el, offset, n));
      return;
    }
    if (n === 0) {
      parts.push('[]');
      return;
    }
    parts.push('[');
    for (let i = 0; i < n; i++) {
      if (i > 0) parts.push(', ');
      rec(dim + 1, offset + i * strides[dim]!);
    }
    parts.push(']');
  };
  rec(0, 0);
  return parts.join('');
}

/** A column's element writer that honours the validity mask (NaN for floats, null otherwise). */
function cellWriter(c: Column): ElementWriter {
  const el = elementWriter(c.dtype, c.values);
  const validity = c.validity;
  if (!validity) return el;
  const missing = c.dtype === 'float32' || c.dtype === 'float64' || c.dtype === 'float16' ? 'NaN' : 'null';
  return (i) => (validity[i] === 0 ? missing : el(i));
}

/** Writes row i of a column batch as a JSON object (`{"col": value, …}`). */
function recordWriter(b: ColumnBatch): (i: number) => string {
  const k = b.columns.length;
  if (k === 0) return () => '{}';
  const keys = b.columns.map((c, j) => `${j === 0 ? '{' : ', '}${pyJsonStringFast(c.name)}: `);
  const cells = b.columns.map(cellWriter);
  return (i) => {
    let s = '';
    for (let j = 0; j < k; j++) s += keys[j]! + cells[j]!(i);
    return `${s}}`;
  };
}

/** `DataFrame.to_dict(orient="records")` as JSON text. */
export function encodeColumnBatch(b: ColumnBatch): string {
  const n = b.numRows;
  if (n === 0) return '[]';
  const row = recordWriter(b);
  let out = '[';
  for (let i = 0; i < n; i++) out += i === 0 ? row(i) : `, ${row(i)}`;
  return `${out}]`;
}

/** The rows of a column batch as JSON lines: one object per row, each followed by a newline (formatted as `encodeColumnBatch` does). */
export function encodeRecordLines(b: ColumnBatch): string {
  const row = recordWriter(b);
  let out = '';
  for (let i = 0; i < b.numRows; i++) out += `${row(i)}\n`;
  return out;
}

// --- arbitrary JSON values ----------------------------------------------------------------------

function typedArrayJson(v: ArrayBufferView): string {
  if (v instanceof Float64Array || v instanceof Float32Array) return writeRun('float64', v, () => '', 0, v.length);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    return writeRun(v instanceof BigInt64Array ? 'int64' : 'uint64', v, elementWriter(v instanceof BigInt64Array ? 'int64' : 'uint64', v), 0, v.length);
  }
  const arr = v as unknown as ArrayLike<number>;
  let s = '[';
  for (let i = 0; i < arr.length; i++) s += `${i > 0 ? ', ' : ''}${String(arr[i])}`;
  return `${s}]`;
}

function writeValue(v: unknown, depth: number): string {
  if (depth > MAX_OUTPUT_DEPTH) throw new TypeError(`Predictions nest deeper than ${MAX_OUTPUT_DEPTH} levels (circular structure?)`);
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? (Number.isSafeInteger(v) ? String(v) : BigInt(v).toString()) : pyJsonFloatFast(v);
    case 'string':
      return pyJsonStringFast(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      break;
    default:
      throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
  }
  if (v instanceof PyFloat) return pyJsonFloatFast(v.value);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let s = '[';
    for (let i = 0; i < v.length; i++) s += `${i > 0 ? ', ' : ''}${writeValue(v[i], depth + 1)}`;
    return `${s}]`;
  }
  if (v instanceof Uint8Array) return pyJsonStringFast(encodeBytesBase64(v));
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return typedArrayJson(v);
  if (v instanceof Date) return pyJsonStringFast(isoFromDate(v));
  if (v instanceof Map) {
    const items: string[] = [];
    for (const [k, x] of v) if (x !== undefined) items.push(`${pyJsonStringFast(String(k))}: ${writeValue(x, depth + 1)}`);
    return items.length ? `{${items.join(', ')}}` : '{}';
  }
  if (isBatchLike(v)) return encodePredictionValue(v as Prediction, depth + 1);
  const items: string[] = [];
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) items.push(`${pyJsonStringFast(k)}: ${writeValue(x, depth + 1)}`);
  }
  return items.length ? `{${items.join(', ')}}` : '{}';
}

function isBatchLike(v: object): boolean {
  const k = (v as { kind?: unknown }).kind;
  return (k === 'tensors' && Array.isArray((v as { tensors?: unknown }).tensors)) || (k === 'columns' && Array.isArray((v as { columns?: unknown }).columns));
}

/** Any JSON-like value as Python's json.dumps (with MLflow's NumpyEncoder) would write it. */
export function encodeJsonValue(v: unknown): string {
  return writeValue(v, 0);
}

function encodePredictionValue(p: Prediction, depth = 0): string {
  switch (p.kind) {
    case 'json':
      return writeValue(p.value, depth);
    case 'columns':
      return encodeColumnBatch(p);
    case 'tensors': {
      const ts = p.tensors;
      if (ts.length === 1 && ts[0]!.name === null) return encodeTensor(ts[0]!);
      if (ts.length === 0) return '{}';
      return `{${ts.map((t, j) => `${pyJsonStringFast(t.name ?? String(j))}: ${encodeTensor(t)}`).join(', ')}}`;
    }
  }
}

/**
 * The response body MLflow's scoring server sends for a prediction: `{"predictions": …}`, or the
 * bare value for unified-LLM requests (`unwrapped`).
 */
export function encodePredictions(p: Prediction, opts: EncodeOptions = {}): string {
  const body = encodePredictionValue(p);
  return opts.unwrapped ? body : `{"predictions": ${body}}`;
}
