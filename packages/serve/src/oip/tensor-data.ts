/**
 * Tensor data of a request input → typed storage: shapes checked and bounded, JSON data (flat or
 * nested, row-major) checked element by element against the declared datatype, binary blobs
 * (little-endian, BYTES as 4-byte length + bytes) checked against the shape.
 */
import { BinaryArray, FLOAT32_MAX, Utf8Array, allocate, floatToHalf, smallIntRange, type Storage, type VarBinaryArray } from '@mlmodel/format';
import { elementSize, fixedDType, type OipDatatype } from './datatype.js';
import { describe, invalid } from './errors.js';

/** Most dimensions a tensor may have (numpy's limit). */
export const MAX_RANK = 32;

export function shapeText(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : (JSON.stringify(d) ?? String(d)))).join(', ')}]`;
}

/**
 * Validate a request shape and return its element count. Dims are non-negative integers; the
 * count (and each dim) may not exceed `maxElements` (the request's byte size: every element
 * takes at least a byte on the wire), so a huge shape is refused before anything is allocated.
 */
export function checkShape(where: string, shape: unknown, maxElements: number): { shape: number[]; count: number } {
  if (!Array.isArray(shape)) throw invalid(`${where}: "shape" must be a list of non-negative integers, got ${describe(shape)}`);
  if (shape.length > MAX_RANK) throw invalid(`${where}: "shape" has ${shape.length} dimensions, at most ${MAX_RANK} are supported`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw invalid(`${where}: "shape" must be a list of non-negative integers, got ${shapeText(shape)}`);
    }
  }
  const dims = shape as number[];
  const tooMany = (): never => {
    throw invalid(`${where}: shape ${shapeText(dims)} describes more elements than a request of ${maxElements} bytes can carry`);
  };
  // a dimension larger than the body is refused even when another one is 0: rows are counted by it
  if (dims.some((d) => d > Math.max(maxElements, 1))) tooMany();
  if (dims.includes(0)) return { shape: dims, count: 0 };
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > maxElements) tooMany();
  }
  return { shape: dims, count };
}

/** Rectangular check of nested lists: every list at depth i has length dims[i]. */
function checkNested(where: string, v: unknown, dims: readonly number[], depth: number): void {
  if (depth === dims.length) {
    if (Array.isArray(v)) throw invalid(`${where}: "data" is a ragged nested list (a list where a value was expected at depth ${depth})`);
    return;
  }
  if (!Array.isArray(v) || v.length !== dims[depth]) {
    throw invalid(
      `${where}: "data" is a ragged nested list (expected ${dims[depth]} elements at depth ${depth}, got ${Array.isArray(v) ? v.length : 'a value'})`,
    );
  }
  for (const x of v) checkNested(where, x, dims, depth + 1);
}

/** The elements of JSON `data`, flat (row-major), given flat or nested; their number must be `count`. */
export function flattenData(where: string, data: unknown, shape: readonly number[], count: number): unknown[] {
  if (!Array.isArray(data)) throw invalid(`${where}: "data" must be a list, got ${describe(data)}`);
  let flat: unknown[] = data;
  if (data.some((x) => Array.isArray(x))) {
    const dims: number[] = [];
    let cur: unknown = data;
    while (Array.isArray(cur)) {
      if (dims.length === MAX_RANK) throw invalid(`${where}: "data" is nested more than ${MAX_RANK} levels deep`);
      dims.push(cur.length);
      if (cur.length === 0) break;
      cur = cur[0];
    }
    checkNested(where, data, dims, 0);
    flat = data.flat(dims.length);
  }
  if (flat.length !== count) {
    throw invalid(`${where}: shape ${shapeText(shape)} needs ${count} element${count === 1 ? '' : 's'}, but "data" has ${flat.length}`);
  }
  return flat;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** BYTES elements from JSON strings: UTF-8 text, or base64 when the input's content type says so. */
function bytesFromJson(where: string, flat: readonly unknown[], base64: boolean): BinaryArray {
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'string') throw invalid(`${where}: element ${i} must be a string (BYTES), got ${describe(flat[i])}`);
  }
  const strings = flat as readonly string[];
  if (!base64) {
    const u = Utf8Array.fromStrings(strings);
    return new BinaryArray(u.offsets, u.bytes);
  }
  return BinaryArray.fromBuffers(
    strings.map((s, i) => {
      const clean = s.replace(/[\r\n]/g, '');
      if (!BASE64.test(clean)) throw invalid(`${where}: element ${i} is not valid base64 (the input's content type is base64)`);
      return new Uint8Array(Buffer.from(clean, 'base64'));
    }),
  );
}

/** Storage for JSON elements of `datatype`: checked, and coerced only where no value changes (0/1 for BOOL, ints for floats). */
export function storageFromJson(where: string, datatype: OipDatatype, flat: readonly unknown[], base64 = false): Storage {
  if (datatype === 'BYTES') return bytesFromJson(where, flat, base64);
  const n = flat.length;
  const out = allocate(fixedDType(datatype), n);
  const bad = (i: number, what: string): never => {
    throw invalid(`${where}: element ${i} must be ${what} (${datatype}), got ${describe(flat[i])}`);
  };
  switch (datatype) {
    case 'BOOL': {
      const o = out as Uint8Array;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (v === true || v === 1) o[i] = 1;
        else if (v !== false && v !== 0) bad(i, 'a boolean');
      }
      return o;
    }
    case 'INT64':
    case 'UINT64': {
      const o = out as BigInt64Array | BigUint64Array;
      const min = datatype === 'UINT64' ? 0 : -Number.MAX_SAFE_INTEGER;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'an integer');
        const x = v as number;
        if (x < min) bad(i, 'a non-negative integer');
        if (!Number.isSafeInteger(x)) {
          throw invalid(
            `${where}: element ${i} (${String(x)}) is beyond ±2^53, which JSON numbers cannot carry exactly; send this input with the binary tensor data extension`,
          );
        }
        o[i] = BigInt(x);
      }
      return o;
    }
    case 'FP16': {
      const o = out as Uint16Array;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') bad(i, 'a number');
        o[i] = floatToHalf(v as number);
      }
      return o;
    }
    case 'FP32':
    case 'FP64': {
      const o = out as Float32Array | Float64Array;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') bad(i, 'a number');
        if (datatype === 'FP32' && Number.isFinite(v) && Math.abs(v as number) > FLOAT32_MAX) bad(i, 'a number within the FP32 range');
        o[i] = v as number;
      }
      return o;
    }
    default: {
      const [lo, hi] = smallIntRange(fixedDType(datatype))!;
      const o = out as Int32Array;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'an integer');
        if ((v as number) < lo || (v as number) > hi) bad(i, `an integer in [${lo}, ${hi}]`);
        o[i] = v as number;
      }
      return o;
    }
  }
}

/** BYTES elements from their binary form: each a 4-byte little-endian length, then the bytes. */
export function bytesFromBinary(where: string, blob: Uint8Array, count: number): BinaryArray {
  if (blob.byteLength > 0x7fffffff) throw invalid(`${where}: a BYTES tensor over 2 GiB is not supported`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const offsets = new Int32Array(count + 1);
  const starts = new Int32Array(count);
  let pos = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > blob.byteLength) {
      throw invalid(`${where}: the binary data ends after ${i} of ${count} BYTES elements (each needs a 4-byte length prefix)`);
    }
    const len = view.getUint32(pos, true);
    pos += 4;
    if (len > blob.byteLength - pos) {
      throw invalid(`${where}: BYTES element ${i} claims ${len} bytes, but only ${blob.byteLength - pos} remain in its binary data`);
    }
    starts[i] = pos;
    pos += len;
    total += len;
    offsets[i + 1] = total;
  }
  if (pos !== blob.byteLength) {
    throw invalid(`${where}: binary_data_size is ${blob.byteLength} bytes, but its ${count} BYTES element${count === 1 ? '' : 's'} take ${pos}`);
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < count; i++) bytes.set(blob.subarray(starts[i]!, starts[i]! + (offsets[i + 1]! - offsets[i]!)), offsets[i]!);
  return new BinaryArray(offsets, bytes);
}

/** Storage from an input's binary blob (copied into aligned storage; this host is little-endian). */
export function storageFromBinary(where: string, datatype: OipDatatype, blob: Uint8Array, count: number): Storage {
  if (datatype === 'BYTES') return bytesFromBinary(where, blob, count);
  const size = elementSize(datatype);
  if (blob.byteLength !== count * size) {
    throw invalid(`${where}: binary_data_size is ${blob.byteLength} bytes, but ${count} ${datatype} element${count === 1 ? '' : 's'} take ${count * size}`);
  }
  const out = allocate(fixedDType(datatype), count) as Exclude<Storage, unknown[] | VarBinaryArray>;
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(blob);
  if (datatype === 'BOOL') {
    const o = out as Uint8Array;
    for (let i = 0; i < count; i++) if (o[i]! > 1) o[i] = 1;
  }
  return out;
}
