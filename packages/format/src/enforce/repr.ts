/**
 * Python-style, length-bounded renderings of values, types and schemas for error messages.
 * MLflow's messages interpolate Python `repr()`/`str()` output; we reproduce the shapes users
 * know (`['a', 'b']`, `(3,)`, `Array(string)`, `'x': double (required)`) while making sure a
 * huge input can never produce a huge message: every renderer stops after `limit` characters.
 */
import type { DType } from '../dtype.js';
import { BinaryArray, Utf8Array } from '../batch/string-array.js';
import type { Batch, Column, Tensor } from '../batch/types.js';
import { valueAt } from '../batch/values.js';
import type { ColSpec, Schema, TensorSpec, ValueType } from '../signature/types.js';
import { isPlainObject } from './common.js';
import { hasNumericLabel } from './labels.js';
import { pyBytesLiteral } from '../pyjson.js';

export const REPR_LIMIT = 200;

/** Accumulates text until `limit` characters, then ignores further writes. */
class Writer {
  private readonly parts: string[] = [];
  private len = 0;
  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.len > this.limit;
  }

  write(s: string): boolean {
    if (this.len > this.limit) return false;
    this.parts.push(s);
    this.len += s.length;
    return this.len <= this.limit;
  }

  toString(): string {
    const s = this.parts.join('');
    return s.length > this.limit ? `${s.slice(0, this.limit)}...` : s;
  }
}

/** Cut a string to `limit` characters, marking the cut with `...`. */
export function truncate(s: string, limit = REPR_LIMIT): string {
  return s.length > limit ? `${s.slice(0, limit)}...` : s;
}

/** Python `repr(str)`: single quotes unless the text has a single quote and no double quote. */
export function pyStrRepr(s: string, limit = REPR_LIMIT): string {
  const cut = s.length > limit;
  const text = cut ? s.slice(0, limit) : s;
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = text.charCodeAt(i);
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}${cut ? '...' : ''}${quote}`;
}

/** Python `repr(float)` for a JS number (integers print without `.0`: JSON does not tell them apart). */
export function pyNumberRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  // Python pads exponents to two digits: 1e-07, 1e+16.
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

function bytesRepr(b: Uint8Array, limit: number): string {
  const lit = pyBytesLiteral(b, limit);
  return b.length > limit ? `${lit.slice(0, -1)}...'` : lit;
}

function dateRepr(d: Date): string {
  const t = d.getTime();
  return Number.isNaN(t) ? 'NaT' : `Timestamp('${d.toISOString().replace('Z', '').replace('T', ' ')}')`;
}

function writeRepr(w: Writer, v: unknown, topLevelStr: boolean): void {
  if (v === null || v === undefined) {
    w.write('None');
  } else if (typeof v === 'boolean') {
    w.write(v ? 'True' : 'False');
  } else if (typeof v === 'number') {
    w.write(pyNumberRepr(v));
  } else if (typeof v === 'bigint') {
    w.write(v.toString());
  } else if (typeof v === 'string') {
    w.write(topLevelStr ? truncate(v) : pyStrRepr(v, 80));
  } else if (v instanceof Uint8Array) {
    w.write(bytesRepr(v, 80));
  } else if (v instanceof Date) {
    w.write(dateRepr(v));
  } else if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    const arr = v as ArrayLike<unknown>;
    w.write('[');
    for (let i = 0; i < arr.length; i++) {
      if (i > 0 && !w.write(', ')) return;
      writeRepr(w, arr[i], false);
      if (w.full) return;
    }
    w.write(']');
  } else if (isPlainObject(v)) {
    w.write('{');
    let first = true;
    for (const k of Object.keys(v)) {
      if (!first && !w.write(', ')) return;
      first = false;
      w.write(pyStrRepr(k, 80));
      w.write(': ');
      writeRepr(w, v[k], false);
      if (w.full) return;
    }
    w.write('}');
  } else {
    w.write(truncate(String(v), 80));
  }
}

/** Python `repr(value)`, bounded. */
export function pyRepr(v: unknown, limit = REPR_LIMIT): string {
  const w = new Writer(limit);
  writeRepr(w, v, false);
  return w.toString();
}

/** Python `str(value)` (strings unquoted), bounded. */
export function pyStr(v: unknown, limit = REPR_LIMIT): string {
  const w = new Writer(limit);
  writeRepr(w, v, true);
  return w.toString();
}

/** Python `type(value).__name__` of the value a JSON payload would produce. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'string':
      return 'str';
    default:
      break;
  }
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Date) return 'datetime';
  if (Array.isArray(v)) return 'list';
  if (ArrayBuffer.isView(v)) return 'ndarray';
  if (isPlainObject(v)) return 'dict';
  return (v as object).constructor?.name ?? 'object';
}

/** Python `str(type(value))`, e.g. `<class 'str'>`. */
export function pyClassName(v: unknown): string {
  const n = pyTypeName(v);
  return n === 'datetime' ? "<class 'datetime.datetime'>" : n === 'ndarray' ? "<class 'numpy.ndarray'>" : `<class '${n}'>`;
}

/** Python tuple formatting of a shape: `(3,)`, `(-1, 4)`, `()`. */
export function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function writeStrSeq(names: readonly string[], open: string, close: string, limit: number): string {
  const w = new Writer(limit);
  w.write(open);
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && !w.write(', ')) break;
    if (!w.write(pyStrRepr(names[i]!, 80))) break;
  }
  if (!w.full) w.write(close);
  const s = w.toString();
  return w.full ? `${s}${close}` : s;
}

/** A column label as Python's `repr()` prints it: `0` for a numeric label (see labels.ts), `'a'` for a string. */
export function labelRepr(c: Column): string {
  return hasNumericLabel(c) ? c.name : pyStrRepr(c.name, 80);
}

/** Python list of already-rendered items (`['a', 0]` from `'a'` and `0`), bounded. */
export function pyReprList(items: readonly string[], limit = REPR_LIMIT): string {
  const w = new Writer(limit);
  w.write('[');
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && !w.write(', ')) break;
    if (!w.write(items[i]!)) break;
  }
  if (!w.full) w.write(']');
  const s = w.toString();
  return w.full ? `${s}]` : s;
}

/** Python list of strings: `['a', 'b']`, bounded. */
export function pyStrList(names: readonly string[], limit = REPR_LIMIT): string {
  return writeStrSeq(names, '[', ']', limit);
}

/** Python set of strings, sorted for stable output: `{'a', 'b'}`, bounded. */
export function pyStrSet(names: readonly string[], limit = REPR_LIMIT): string {
  if (names.length === 0) return 'set()';
  return writeStrSeq([...names].sort(), '{', '}', limit);
}

// ---------------------------------------------------------------------------------------------
// Types and schemas, as MLflow's __repr__ renders them.

/** `repr()` of an MLflow type: `long`, `Array(string)`, `{a: long (required)}`, `Map(str -> DataType.long)`, `Any`. */
export function typeRepr(t: ValueType): string {
  if (typeof t === 'string') return t;
  switch (t.type) {
    case 'array':
      return `Array(${typeRepr(t.items)})`;
    case 'object':
      return `{${t.properties.map((p) => `${p.name}: ${typeRepr(p.valueType)} (${p.required ? 'required' : 'optional'})`).join(', ')}}`;
    case 'map':
      // MLflow formats the value type with str(), which for DataType is `DataType.<name>`.
      return `Map(str -> ${typeof t.values === 'string' ? `DataType.${t.values}` : typeRepr(t.values)})`;
    case 'any':
      return 'Any';
    case 'sparkml_vector':
      return 'SparkML vector';
  }
}

/** The `type` keyword of a type's JSON form: `string`, `array`, `object`, `map`, `any`. */
export function typeKeyword(t: ValueType): string {
  return typeof t === 'string' ? t : t.type;
}

export function colSpecRepr(s: ColSpec): string {
  const req = s.required ? 'required' : 'optional';
  return s.name === null ? `${typeRepr(s.type)} (${req})` : `${pyStrRepr(s.name, 80)}: ${typeRepr(s.type)} (${req})`;
}

export function tensorSpecRepr(s: TensorSpec): string {
  const info = `Tensor(${pyStrRepr(s.dtype, 40)}, ${pyTuple(s.shape)})`;
  return s.name === null ? info : `${pyStrRepr(s.name, 80)}: ${info}`;
}

/** MLflow's `repr(schema)`: the list of spec reprs, bounded. */
export function schemaRepr(schema: Schema, limit = REPR_LIMIT): string {
  const w = new Writer(limit);
  w.write('[');
  const specs = schema.specs;
  for (let i = 0; i < specs.length; i++) {
    if (i > 0 && !w.write(', ')) break;
    const s = specs[i]!;
    if (!w.write(s.kind === 'tensor' ? tensorSpecRepr(s) : colSpecRepr(s))) break;
  }
  if (!w.full) w.write(']');
  return w.toString();
}

// ---------------------------------------------------------------------------------------------
// Batches.

/** Element i of a storage as a JS value for messages (datetimes as Timestamps). */
function displayValue(dtype: DType, values: Column['values'], i: number): unknown {
  if (dtype === 'datetime64[ns]') return new Date(Number((values as BigInt64Array)[i]! / 1_000_000n));
  if (values instanceof Utf8Array || values instanceof BinaryArray) return values.get(i);
  return valueAt(dtype, values, i);
}

function writeTensor(w: Writer, t: Tensor): void {
  w.write('array(');
  if (t.shape.length === 0) {
    writeRepr(w, displayValue(t.dtype, t.values, 0), false);
  } else {
    const rec = (dim: number, offset: number, stride: number): void => {
      const n = t.shape[dim]!;
      const inner = stride / Math.max(n, 1);
      w.write('[');
      for (let i = 0; i < n; i++) {
        if (i > 0 && !w.write(', ')) return;
        if (dim === t.shape.length - 1) writeRepr(w, displayValue(t.dtype, t.values, offset + i), false);
        else rec(dim + 1, offset + i * inner, inner);
        if (w.full) return;
      }
      w.write(']');
    };
    rec(0, 0, t.values.length);
  }
  if (!w.full) w.write(`, dtype=${t.dtype})`);
}

/**
 * A short rendering of a batch for the `Failed to enforce schema of data '…'` message:
 * `{'a': [1, 2], 'b': ['x', 'y']}` for columns, `array([[1, 2]], dtype=int64)` for a tensor.
 * Work is bounded by `limit`, whatever the batch size.
 */
export function batchRepr(batch: Batch, limit = REPR_LIMIT): string {
  const w = new Writer(limit);
  if (batch.kind === 'columns') {
    w.write('{');
    batch.columns.forEach((c, j) => {
      if (w.full) return;
      if (j > 0) w.write(', ');
      w.write(`${labelRepr(c)}: [`);
      for (let i = 0; i < batch.numRows && !w.full; i++) {
        if (i > 0) w.write(', ');
        const missing = c.validity !== undefined && c.validity[i] === 0;
        writeRepr(w, missing ? null : displayValue(c.dtype, c.values, i), false);
      }
      w.write(']');
    });
    w.write('}');
  } else if (batch.tensors.length === 1 && batch.tensors[0]!.name === null) {
    writeTensor(w, batch.tensors[0]!);
  } else {
    w.write('{');
    batch.tensors.forEach((t, j) => {
      if (w.full) return;
      if (j > 0) w.write(', ');
      w.write(`${t.name === null ? 'None' : pyStrRepr(t.name, 80)}: `);
      writeTensor(w, t);
    });
    w.write('}');
  }
  return w.toString();
}
