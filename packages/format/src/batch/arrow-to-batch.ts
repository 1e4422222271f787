/**
 * Apache Arrow → Batch. Numeric, timestamp[ns], Utf8 and Binary data of a single chunk become views on
 * Arrow's buffers (no copy); everything else (bools, other time units, dictionaries, nested types,
 * several chunks) is converted into fresh storage.
 */
import * as arrow from 'apache-arrow';
import type { DType } from '../dtype.js';
import { ModelFormatError } from '../errors.js';
import { HALF_NAN, META_BATCH, META_JSON, META_TENSOR_SHAPE, META_UNNAMED, decodeTaggedJson, isPlainObject, unpackBits } from './arrow-common.js';
import type { Decoded, TypedArrayCtor } from './arrow-storage.js';
import { checkLengths, concat, decodeDecimal, gather, objectColumn, viewAs } from './arrow-storage.js';
import { BinaryArray, Utf8Array } from './string-array.js';
import type { Batch, Column, ColumnBatch, Tensor, TensorBatch } from './types.js';
import { allocate, tensor, valueAt } from './values.js';
import { halfToFloat } from '../float16.js';

/**
 * Convert an Arrow table (or a single record batch) to a batch. Tables carrying the `mlmodel:batch=tensors`
 * schema metadata written by `batchToArrow` become a TensorBatch; anything else becomes a ColumnBatch.
 */
export function batchFromArrow(input: arrow.Table | arrow.RecordBatch): Batch {
  const { schema } = input;
  const chunksOf = (i: number): arrow.Data[] =>
    input instanceof arrow.RecordBatch ? [input.data.children[i]!] : input.batches.map((b) => b.data.children[i]!);
  if (schema.metadata.get(META_BATCH) === 'tensors') return decodeTensors(schema, chunksOf, input.numRows);
  const columns = schema.fields.map((f, i): Column => {
    const d = decodeChunks(chunksOf(i), f.type, f.metadata.get(META_JSON) === '1', `column "${f.name}"`);
    if (d.values.length !== input.numRows) throw new ModelFormatError(`column "${f.name}" has ${d.values.length} rows, the table has ${input.numRows}`);
    return { name: f.name, dtype: d.dtype, values: d.values, validity: d.validity } as Column;
  });
  return { kind: 'columns', numRows: input.numRows, columns } satisfies ColumnBatch;
}

/** Alias of `batchFromArrow` for a single record batch. */
export function recordBatchToBatch(rb: arrow.RecordBatch): Batch {
  return batchFromArrow(rb);
}

function decodeTensors(schema: arrow.Schema, chunksOf: (i: number) => arrow.Data[], numRows: number): TensorBatch {
  const tensors = schema.fields.map((f, i): Tensor => {
    const label = `tensor field "${f.name}"`;
    const shape = tensorShape(f, numRows, label);
    const leaves = chunksOf(i).map((chunk) => {
      let data = chunk;
      for (let d = 1; d < shape.length; d++) {
        if (!arrow.DataType.isFixedSizeList(data.type) || data.type.listSize !== shape[d]) {
          throw new ModelFormatError(
            `${label}: expected FixedSizeList[${shape[d]}] at depth ${d} for shape ${JSON.stringify(shape)}, got ${String(data.type)}`,
          );
        }
        const rows = data.length * shape[d]!;
        data = data.children[0]!;
        if (data.length < rows) throw new ModelFormatError(`${label}: FixedSizeList child holds ${data.length} values, ${rows} needed`);
        if (data.length > rows) data = data.slice(0, rows);
      }
      return data;
    });
    const leafType = leaves[0]?.type ?? innermostType(f.type, shape.length - 1);
    const leaf = decodeChunks(leaves, leafType, f.metadata.get(META_JSON) === '1', label);
    const size = shape.reduce((a, b) => a * b, 1);
    if (leaf.values.length !== size) {
      throw new ModelFormatError(`${label}: shape ${JSON.stringify(shape)} needs ${size} values, the Arrow data holds ${leaf.values.length}`);
    }
    const name = f.metadata.get(META_UNNAMED) === '1' ? null : f.name;
    return tensor(name, leaf.dtype, shape, leaf.values as never);
  });
  return { kind: 'tensors', tensors };
}

function tensorShape(f: arrow.Field, numRows: number, label: string): number[] {
  const text = f.metadata.get(META_TENSOR_SHAPE);
  if (text === undefined) {
    // No recorded shape: rows × the FixedSizeList sizes.
    const shape = [numRows];
    for (let t: arrow.DataType = f.type; arrow.DataType.isFixedSizeList(t); t = t.children[0]!.type) shape.push(t.listSize);
    return shape;
  }
  let shape: unknown;
  try {
    shape = JSON.parse(text);
  } catch {
    shape = undefined;
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ModelFormatError(`${label}: invalid ${META_TENSOR_SHAPE} metadata ${JSON.stringify(text)}`);
  }
  if (shape.length === 0) {
    if (numRows !== 1) throw new ModelFormatError(`${label}: a 0-d tensor needs exactly one row, the table has ${numRows}`);
    return [];
  }
  // The first dimension comes from the table, so slices and row groups of a tensor table decode too.
  return [numRows, ...(shape.slice(1) as number[])];
}

function innermostType(type: arrow.DataType, depth: number): arrow.DataType {
  let t = type;
  for (let d = 0; d < depth && arrow.DataType.isFixedSizeList(t); d++) t = t.children[0]!.type;
  return t;
}

/** Decode all chunks of one column; one chunk is decoded without copying where possible, several are concatenated. */
function decodeChunks(chunks: readonly arrow.Data[], type: arrow.DataType, json: boolean, label: string): Decoded {
  const parts = chunks.map((c) => decodeData(c, json, label));
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 0) {
    const dtype = dtypeOf(type, json);
    return { dtype, values: allocate(dtype, 0) };
  }
  return concat(parts);
}

/** Our dtype for an Arrow type. */
export function dtypeOf(type: arrow.DataType, json = false): DType {
  if (arrow.DataType.isInt(type)) return `${type.isSigned ? 'int' : 'uint'}${type.bitWidth}` as DType;
  if (arrow.DataType.isFloat(type)) return (['float16', 'float32', 'float64'] as const)[type.precision];
  if (arrow.DataType.isBool(type)) return 'bool';
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type) || arrow.DataType.isUtf8View(type)) return json ? 'object' : 'str';
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type) || arrow.DataType.isBinaryView(type) || arrow.DataType.isFixedSizeBinary(type)) {
    return 'bytes';
  }
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) return 'datetime64[ns]';
  if (arrow.DataType.isDecimal(type)) return 'float64';
  if (arrow.DataType.isDictionary(type)) return dtypeOf(type.dictionary, json);
  return 'object';
}

function validityOf(data: arrow.Data): Uint8Array | undefined {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return undefined;
  return unpackBits(data.nullBitmap, data.offset, data.length);
}

const NS_PER_UNIT = [1_000_000_000n, 1_000_000n, 1_000n, 1n]; // indexed by arrow.TimeUnit
const NS_PER_DAY = 86_400_000_000_000n;

function decodeData(data: arrow.Data, json: boolean, label: string): Decoded {
  checkLengths(data, label);
  const { type, length: n } = data;
  const validity = validityOf(data);
  const dtype = dtypeOf(type, json);
  if (arrow.DataType.isInt(type) || arrow.DataType.isFloat(type)) {
    const values = viewAs(allocate(dtype, 0).constructor as TypedArrayCtor, data.values as ArrayBufferView, n);
    if (validity && arrow.DataType.isFloat(type)) {
      // Like pandas, null float slots hold NaN (Arrow leaves them undefined); this needs a copy.
      const copy = values.slice() as Float64Array;
      const nan = dtype === 'float16' ? HALF_NAN : NaN;
      for (let i = 0; i < n; i++) if (validity[i] === 0) copy[i] = nan;
      return { dtype, values: copy, validity };
    }
    return { dtype, values, validity };
  }
  if (arrow.DataType.isBool(type)) return { dtype, values: unpackBits(data.values as Uint8Array, data.offset, n), validity };
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type) || arrow.DataType.isLargeUtf8(type) || arrow.DataType.isLargeBinary(type)) {
    const strings = varBinary(data, type instanceof arrow.Utf8 || type instanceof arrow.LargeUtf8, label);
    return json ? parseJsonColumn(strings as Utf8Array, validity, label) : { dtype, values: strings, validity };
  }
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) {
    const isDay = arrow.DataType.isDate(type) && type.unit === arrow.DateUnit.DAY;
    const factor = isDay ? NS_PER_DAY : arrow.DataType.isDate(type) ? NS_PER_UNIT[arrow.TimeUnit.MILLISECOND]! : NS_PER_UNIT[type.unit]!;
    const raw = data.values as Int32Array | BigInt64Array;
    if (factor === 1n) return { dtype, values: viewAs(BigInt64Array, raw, n), validity };
    const values = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) continue;
      const v = BigInt(raw[i]!) * factor;
      if (v !== BigInt.asIntN(64, v)) throw new ModelFormatError(`${label}, row ${i}: ${String(type)} value ${raw[i]} is out of the datetime64[ns] range`);
      values[i] = v;
    }
    return { dtype, values, validity };
  }
  if (arrow.DataType.isDecimal(type)) return { dtype, values: decodeDecimal(data, type), validity };
  if (arrow.DataType.isDictionary(type)) {
    const dict = data.dictionary!;
    const entries = decodeChunks(dict.data, dict.type, json, label);
    return gather(entries, data.values as ArrayLike<number | bigint>, n, validity);
  }
  if (arrow.DataType.isUtf8View(type) || arrow.DataType.isBinaryView(type) || arrow.DataType.isFixedSizeBinary(type)) {
    const rows = jsRows(data) as (string | Uint8Array | null)[];
    if (json) return objectColumn(rows.map((s, i) => (s === null ? null : parseJson(s as string, i, label))));
    const values = dtype === 'str' ? Utf8Array.fromStrings(rows as (string | null)[]) : BinaryArray.fromBuffers(rows as (Uint8Array | null)[]);
    return { dtype, values, validity };
  }
  return objectColumn(nestedValues(data, label));
}

/** Utf8/Binary (32- or 64-bit offsets) as our offset+bytes arrays, sharing Arrow's buffers when offsets are 32-bit. */
function varBinary(data: arrow.Data, utf8: boolean, label: string): Utf8Array | BinaryArray {
  const n = data.length;
  const raw = data.valueOffsets as Int32Array | BigInt64Array | undefined;
  let offsets: Int32Array;
  if (!raw || raw.length === 0) offsets = new Int32Array(n + 1);
  else if (raw instanceof Int32Array) offsets = raw.subarray(0, n + 1);
  else {
    if (raw[n]! - raw[0]! > 0x7fffffffn) throw new ModelFormatError(`${label}: more than 2 GiB of string data in one chunk is not supported`);
    offsets = Int32Array.from(raw.subarray(0, n + 1), (o) => Number(o - raw[0]!));
  }
  let bytes = (data.values as Uint8Array | undefined) ?? new Uint8Array(0);
  const base = offsets[0]!;
  if (raw instanceof BigInt64Array) bytes = bytes.subarray(Number(raw[0]!), Number(raw[0]!) + offsets[n]!);
  else if (base !== 0) {
    bytes = bytes.subarray(base, offsets[n]!);
    offsets = offsets.map((o) => o - base);
  } else bytes = bytes.subarray(0, offsets[n]!);
  return utf8 ? new Utf8Array(offsets, bytes) : new BinaryArray(offsets, bytes);
}

function parseJson(text: string, row: number, label: string): unknown {
  try {
    return decodeTaggedJson(text);
  } catch (err) {
    throw new ModelFormatError(`${label}, row ${row}: invalid JSON in a ${META_JSON} column`, { cause: err });
  }
}

function parseJsonColumn(strings: Utf8Array, validity: Uint8Array | undefined, label: string): Decoded {
  const values = new Array<unknown>(strings.length);
  for (let i = 0; i < values.length; i++) values[i] = validity && validity[i] === 0 ? null : parseJson(strings.get(i), i, label);
  return objectColumn(values);
}

/** JS values of every element of `data` (null where invalid), recursing through nested types. */
function jsValuesOf(data: arrow.Data, label: string): unknown[] {
  const d = decodeData(data, false, label);
  if (d.dtype === 'object') return d.values as unknown[];
  const out = new Array<unknown>(d.values.length);
  for (let i = 0; i < out.length; i++) {
    if (d.validity && d.validity[i] === 0) out[i] = null;
    else out[i] = d.dtype === 'float16' ? halfToFloat((d.values as Uint16Array)[i]!) : valueAt(d.dtype, d.values, i);
  }
  return out;
}

/** Row values of a List/LargeList/FixedSizeList/Struct/Map (or any other type, through Arrow's getters). */
function nestedValues(data: arrow.Data, label: string): unknown[] {
  const { type, length: n } = data;
  const valid = validityOf(data);
  const rows = new Array<unknown>(n).fill(null);
  const isValid = (i: number): boolean => !valid || valid[i] !== 0;
  if (arrow.DataType.isList(type) || arrow.DataType.isLargeList(type) || arrow.DataType.isMap(type)) {
    const offsets = data.valueOffsets as Int32Array | BigInt64Array;
    const off = (i: number): number => Number(offsets[i]!);
    const first = n === 0 ? 0 : off(0);
    const child = data.children[0]!.slice(first, (n === 0 ? 0 : off(n)) - first);
    if (arrow.DataType.isMap(type)) {
      const keys = jsValuesOf(child.children[0]!, label);
      const vals = jsValuesOf(child.children[1]!, label);
      for (let i = 0; i < n; i++) {
        if (!isValid(i)) continue;
        const entries: [string, unknown][] = [];
        for (let j = off(i) - first; j < off(i + 1) - first; j++) entries.push([String(keys[j]), vals[j]]);
        rows[i] = Object.fromEntries(entries);
      }
    } else {
      const items = jsValuesOf(child, label);
      for (let i = 0; i < n; i++) if (isValid(i)) rows[i] = items.slice(off(i) - first, off(i + 1) - first);
    }
    return rows;
  }
  if (arrow.DataType.isFixedSizeList(type)) {
    const size = type.listSize;
    const items = jsValuesOf(data.children[0]!.slice(0, n * size), label);
    for (let i = 0; i < n; i++) if (isValid(i)) rows[i] = items.slice(i * size, (i + 1) * size);
    return rows;
  }
  if (arrow.DataType.isStruct(type)) {
    const names = type.children.map((f) => f.name);
    const cols = data.children.map((c) => jsValuesOf(c.length > n ? c.slice(0, n) : c, label));
    for (let i = 0; i < n; i++) if (isValid(i)) rows[i] = Object.fromEntries(names.map((name, k) => [name, cols[k]![i]]));
    return rows;
  }
  if (arrow.DataType.isNull(type)) return rows;
  return jsRows(data);
}

/** Per-row values through Arrow's own getters (types we have no dedicated path for: Time, Duration, Union, views). */
function jsRows(data: arrow.Data): unknown[] {
  const vec = new arrow.Vector([data]);
  return Array.from({ length: data.length }, (_, i) => toPlain(vec.get(i)));
}

function toPlain(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof arrow.Vector) return Array.from(v, toPlain);
  if (typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v) && !isPlainObject(v) && 'toJSON' in v) {
    const json = (v as { toJSON(): unknown }).toJSON();
    if (isPlainObject(json)) return Object.fromEntries(Object.entries(json).map(([k, x]) => [k, toPlain(x)]));
  }
  return v;
}
