/**
 * Storage-level helpers for the Arrow → Batch direction: the decoded-column type, length checks for
 * untrusted Arrow data, zero-copy typed-array views, and the operations that must copy (chunk
 * concatenation, dictionary gathering, decimals).
 */
import * as arrow from 'apache-arrow';
import type { DType } from '../dtype.js';
import { ModelFormatError } from '../errors.js';
import { HALF_NAN } from './arrow-common.js';
import { BinaryArray, Utf8Array, VarBinaryArray } from './string-array.js';
import type { Storage } from './types.js';

/** Storage of one column (or of a tensor's flat values) decoded from Arrow. */
export interface Decoded {
  dtype: DType;
  values: Storage;
  validity?: Uint8Array | undefined;
}

export type TypedArray = Exclude<Storage, VarBinaryArray | unknown[]>;
export type TypedArrayCtor = { new (n: number): TypedArray; new (b: ArrayBufferLike, off: number, n: number): TypedArray; BYTES_PER_ELEMENT: number };

/** `arr` as an `n`-element array of `Ctor`: the same object or a view on its buffer when possible, else a copy. */
export function viewAs(Ctor: TypedArrayCtor, arr: ArrayBufferView, n: number): TypedArray {
  if (arr instanceof Ctor) return arr.length === n ? arr : arr.subarray(0, n);
  if (arr.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(arr.buffer, arr.byteOffset, n);
  const out = new Ctor(n);
  new Uint8Array(out.buffer).set(new Uint8Array(arr.buffer, arr.byteOffset, n * Ctor.BYTES_PER_ELEMENT));
  return out;
}

/** Rows allowed for types that need no storage per row (Null, empty Struct, FixedSizeList[0]). */
const MAX_STORAGELESS_ROWS = 1 << 24;

/**
 * Fail cleanly, rather than read past buffers or allocate without bound, when Arrow data (e.g. from corrupted
 * IPC) claims more rows than its buffers hold.
 */
export function checkLengths(data: arrow.Data, label: string): void {
  const { type, length: n, offset } = data;
  const short = (what: string): never => {
    throw new ModelFormatError(`${label}: ${what} is too short for ${n} values of ${String(type)}`);
  };
  const bitmap = data.nullBitmap as Uint8Array | undefined;
  if (bitmap && bitmap.length > 0 && bitmap.length * 8 < offset + n) short('the validity bitmap');
  const values = data.values as ArrayLike<unknown> | undefined;
  const child = data.children[0];
  if (arrow.DataType.isBool(type)) {
    if ((values?.length ?? 0) * 8 < offset + n) short('the value bitmap');
  } else if (
    arrow.DataType.isUtf8(type) ||
    arrow.DataType.isBinary(type) ||
    arrow.DataType.isLargeUtf8(type) ||
    arrow.DataType.isLargeBinary(type) ||
    arrow.DataType.isList(type) ||
    arrow.DataType.isLargeList(type) ||
    arrow.DataType.isMap(type)
  ) {
    if (n === 0) return;
    const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
    if (!offsets || offsets.length < n + 1) short('the offset buffer');
    const first = Number(offsets![0]!);
    const last = Number(offsets![n]!);
    const limit = child ? child.length : (values?.length ?? 0);
    if (!(first >= 0 && first <= last && last <= limit))
      throw new ModelFormatError(`${label}: offsets ${first}..${last} are outside the ${limit} values of ${String(type)}`);
  } else if (arrow.DataType.isFixedSizeList(type)) {
    if (!child || child.length < n * type.listSize) short('the child array');
    if (type.listSize === 0 && n > MAX_STORAGELESS_ROWS) short('(storage-less) data');
  } else if (arrow.DataType.isStruct(type)) {
    if (data.children.some((c) => c.length < n)) short('a child array');
    if (data.children.length === 0 && n > MAX_STORAGELESS_ROWS) short('(storage-less) data');
  } else if (arrow.DataType.isNull(type)) {
    if (n > MAX_STORAGELESS_ROWS) throw new ModelFormatError(`${label}: Null column of ${n} rows exceeds the supported ${MAX_STORAGELESS_ROWS}`);
  } else if (!arrow.DataType.isUnion(type) && (values?.length ?? 0) < n * data.stride) {
    short('the value buffer'); // fixed width: ints, floats, dates, times, decimals, dictionary indices, views
  }
}

/** An object column; like `columnFromValues`, null values get a validity mask. */
export function objectColumn(values: unknown[]): Decoded {
  const validity = values.some((v) => v === null) ? Uint8Array.from(values, (v) => (v === null ? 0 : 1)) : undefined;
  return { dtype: 'object', values, validity };
}

export function decodeDecimal(data: arrow.Data, type: arrow.Decimal): Float64Array {
  const words = data.values as Uint32Array;
  const stride = type.bitWidth / 32;
  const out = new Float64Array(data.length);
  for (let i = 0; i < out.length; i++) {
    let v = 0n;
    for (let w = stride - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[i * stride + w]!);
    out[i] = decimalToNumber(BigInt.asIntN(type.bitWidth, v), type.scale);
  }
  return out;
}

/** unscaled × 10^-scale, through decimal text so the result is the correctly rounded double. */
function decimalToNumber(unscaled: bigint, scale: number): number {
  if (scale <= 0) return Number(unscaled * 10n ** BigInt(-scale));
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return Number(`${unscaled < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`);
}

/** Rows `indices` of a decoded column (dictionary decoding). */
export function gather(src: Decoded, indices: ArrayLike<number | bigint>, n: number, rowValidity: Uint8Array | undefined): Decoded {
  const idx = (i: number): number => Number(indices[i]!);
  const size = src.values.length;
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (rowValidity && rowValidity[i] === 0) continue;
    const j = idx(i);
    if (!(j >= 0 && j < size)) throw new ModelFormatError(`dictionary index ${j} at row ${i} is outside the dictionary of ${size} values`);
    valid[i] = !src.validity || src.validity[j] !== 0 ? 1 : 0;
  }
  const validity = valid.includes(0) ? valid : undefined;
  const { values } = src;
  if (Array.isArray(values)) return objectColumn(Array.from({ length: n }, (_, i) => (valid[i] ? values[idx(i)] : null)));
  if (values instanceof VarBinaryArray) {
    const joined = VarBinaryArray.fromByteArrays(Array.from({ length: n }, (_, i) => (valid[i] ? values.bytesAt(idx(i)) : null)));
    const out = values instanceof Utf8Array ? new Utf8Array(joined.offsets, joined.bytes) : new BinaryArray(joined.offsets, joined.bytes);
    return { dtype: src.dtype, values: out, validity };
  }
  const out = new (values.constructor as TypedArrayCtor)(n) as Float64Array;
  const from = values as Float64Array;
  for (let i = 0; i < n; i++) if (valid[i]) out[i] = from[idx(i)]!;
  if (validity && src.dtype.startsWith('float')) for (let i = 0; i < n; i++) if (!valid[i]) out[i] = src.dtype === 'float16' ? HALF_NAN : NaN;
  return { dtype: src.dtype, values: out, validity };
}

/** Concatenate decoded chunks of the same dtype (always a copy). */
export function concat(parts: readonly Decoded[]): Decoded {
  const { dtype } = parts[0]!;
  const total = parts.reduce((s, p) => s + p.values.length, 0);
  let validity: Uint8Array | undefined;
  if (parts.some((p) => p.validity)) {
    validity = new Uint8Array(total).fill(1);
    let pos = 0;
    for (const p of parts) {
      if (p.validity) validity.set(p.validity, pos);
      pos += p.values.length;
    }
  }
  const first = parts[0]!.values;
  if (Array.isArray(first)) return { dtype, values: parts.flatMap((p) => p.values as unknown[]), validity };
  if (first instanceof VarBinaryArray) {
    const arrays = parts.map((p) => p.values as VarBinaryArray);
    const bytes = new Uint8Array(arrays.reduce((s, a) => s + (a.offsets[a.length]! - a.offsets[0]!), 0));
    const offsets = new Int32Array(total + 1);
    let row = 0;
    let pos = 0;
    for (const a of arrays) {
      const base = a.offsets[0]!;
      bytes.set(a.bytes.subarray(base, a.offsets[a.length]!), pos);
      for (let i = 1; i <= a.length; i++) offsets[row + i] = pos + a.offsets[i]! - base;
      row += a.length;
      pos = offsets[row]!;
    }
    return { dtype, values: first instanceof Utf8Array ? new Utf8Array(offsets, bytes) : new BinaryArray(offsets, bytes), validity };
  }
  const out = new (first.constructor as TypedArrayCtor)(total) as Float64Array;
  let pos = 0;
  for (const p of parts) {
    out.set(p.values as Float64Array, pos);
    pos += p.values.length;
  }
  return { dtype, values: out, validity };
}
