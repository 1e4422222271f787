/**
 * Batch → Apache Arrow. Fixed-width columns and string/bytes columns hand their buffers to Arrow
 * as-is (no copy); only bools and validity masks are re-packed into bitmaps.
 */
import * as arrow from 'apache-arrow';
import type { DType } from '../dtype.js';
import { ModelFormatError } from '../errors.js';
import {
  META_BATCH,
  META_JSON,
  META_TENSOR_SHAPE,
  META_UNNAMED,
  UNNAMED_TENSOR_FIELD,
  encodeTaggedJson,
  isPlainObject,
  packBits,
  packValidity,
} from './arrow-common.js';
import { BinaryArray, Utf8Array } from './string-array.js';
import type { Batch, ColumnBatch, Storage, TensorBatch } from './types.js';

/** Convert a batch to an Arrow table (one record batch). See `arrow.ts` for the mapping rules. */
export function batchToArrow(batch: Batch): arrow.Table {
  return batch.kind === 'columns' ? columnsToTable(batch) : tensorsToTable(batch);
}

function columnsToTable(batch: ColumnBatch): arrow.Table {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  for (const col of batch.columns) {
    if (col.values.length !== batch.numRows) {
      throw new ModelFormatError(`column "${col.name}" has ${col.values.length} rows but the batch has ${batch.numRows}`);
    }
    const { data, json } = encodeStorage(col.dtype, col.values, col.validity, `column "${col.name}"`);
    fields.push(new arrow.Field(col.name, data.type, true, json ? new Map([[META_JSON, '1']]) : null));
    children.push(data);
  }
  return makeTable(fields, children, batch.numRows, null);
}

function tensorsToTable(batch: TensorBatch): arrow.Table {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  let rows: number | undefined;
  let firstName = '';
  for (const t of batch.tensors) {
    const label = t.name === null ? 'unnamed tensor' : `tensor "${t.name}"`;
    const shape = t.shape;
    const size = shape.reduce((a, b) => a * b, 1);
    if (t.values.length !== size) {
      throw new ModelFormatError(`${label}: shape [${shape.join(', ')}] needs ${size} values, got ${t.values.length}`);
    }
    const tRows = shape.length === 0 ? 1 : shape[0]!;
    if (rows === undefined) {
      rows = tRows;
      firstName = label;
    } else if (tRows !== rows) {
      throw new ModelFormatError(
        `${label} has ${tRows} rows (first dimension) but ${firstName} has ${rows}: all tensors must share their first dimension to form an Arrow table`,
      );
    }
    const leaf = encodeStorage(t.dtype, t.values, undefined, label);
    // Wrap the flat values in one FixedSizeList per trailing dimension, innermost first.
    let data = leaf.data;
    for (let d = shape.length - 1; d >= 1; d--) {
      const length = shape.slice(0, d).reduce((a, b) => a * b, 1);
      const type = new arrow.FixedSizeList(shape[d]!, new arrow.Field('item', data.type, true));
      data = arrow.makeData({ type, length, nullCount: 0, child: data });
    }
    const metadata = new Map([[META_TENSOR_SHAPE, JSON.stringify(shape)]]);
    if (t.name === null) metadata.set(META_UNNAMED, '1');
    if (leaf.json) metadata.set(META_JSON, '1');
    fields.push(new arrow.Field(t.name ?? UNNAMED_TENSOR_FIELD, data.type, true, metadata));
    children.push(data);
  }
  return makeTable(fields, children, rows ?? 0, new Map([[META_BATCH, 'tensors']]));
}

function makeTable(fields: arrow.Field[], children: arrow.Data[], numRows: number, metadata: Map<string, string> | null): arrow.Table {
  const schema = new arrow.Schema(fields, metadata);
  const root = arrow.makeData({ type: new arrow.Struct(fields), length: numRows, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, root)]);
}

function arrowTypeOf(dtype: Exclude<DType, 'bool' | 'str' | 'bytes' | 'object'>): arrow.DataType {
  switch (dtype) {
    case 'int8':
      return new arrow.Int8();
    case 'int16':
      return new arrow.Int16();
    case 'int32':
      return new arrow.Int32();
    case 'int64':
      return new arrow.Int64();
    case 'uint8':
      return new arrow.Uint8();
    case 'uint16':
      return new arrow.Uint16();
    case 'uint32':
      return new arrow.Uint32();
    case 'uint64':
      return new arrow.Uint64();
    case 'float16':
      return new arrow.Float16();
    case 'float32':
      return new arrow.Float32();
    case 'float64':
      return new arrow.Float64();
    case 'datetime64[ns]':
      return new arrow.TimestampNanosecond();
  }
}

interface Encoded {
  data: arrow.Data;
  /** True when the data is Utf8 holding tagged JSON (an `object` column with no Arrow-native shape). */
  json: boolean;
}

/** Arrow data for one column's (or one tensor's flat) storage. */
function encodeStorage(dtype: DType, values: Storage, validity: Uint8Array | undefined, label: string): Encoded {
  const length = values.length;
  const { nullBitmap, nullCount } = packValidity(validity, length);
  switch (dtype) {
    case 'bool': {
      const data = packBits(values as Uint8Array, length);
      return { data: arrow.makeData({ type: new arrow.Bool(), length, nullCount, nullBitmap, data }), json: false };
    }
    case 'str':
    case 'bytes': {
      const { offsets: valueOffsets, bytes: data } = values as Utf8Array | BinaryArray;
      const props = { length, nullCount, nullBitmap, valueOffsets, data };
      return {
        data: dtype === 'str' ? arrow.makeData({ type: new arrow.Utf8(), ...props }) : arrow.makeData({ type: new arrow.Binary(), ...props }),
        json: false,
      };
    }
    case 'object':
      return encodeObjects(values as unknown[], validity, label);
    default: {
      // The typed array is handed over as-is: Arrow's data.values is our array (same ArrayBuffer).
      // (typed as Int32 only to pick a makeData overload; the type object decides the layout at runtime)
      const type = arrowTypeOf(dtype) as arrow.Int32;
      return { data: arrow.makeData({ type, length, nullCount, nullBitmap, data: values as Int32Array }), json: false };
    }
  }
}

/*
 * Object columns. When every non-null value is a list (or every one a plain object with the same keys in
 * the same order) and the nested values are homogeneous, the column becomes an Arrow List/Struct, which
 * reads back as exactly the same JS values: JS numbers ↔ Float64, bigint ↔ Int64, boolean ↔ Bool,
 * string ↔ Utf8, Uint8Array ↔ Binary, null ↔ null. Anything else becomes tagged JSON text.
 */
type NestedType =
  { kind: 'null' | 'f64' | 'i64' | 'bool' | 'str' | 'bin' } | { kind: 'list'; child: NestedType } | { kind: 'struct'; keys: string[]; fields: NestedType[] };

const isNull = (v: unknown): boolean => v === null || v === undefined;

function scalarKind(v: unknown): NestedType['kind'] | undefined {
  switch (typeof v) {
    case 'number':
      return 'f64';
    case 'bigint':
      return BigInt.asIntN(64, v) === v ? 'i64' : undefined;
    case 'boolean':
      return 'bool';
    case 'string':
      return 'str';
  }
  if (v instanceof Uint8Array) return 'bin';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'struct';
  return undefined;
}

/** The Arrow-native shape of a set of JS values, or undefined when they are not homogeneous. */
function inferNested(values: readonly unknown[]): NestedType | undefined {
  let kind: NestedType['kind'] | undefined;
  let keys: string[] | undefined;
  for (const v of values) {
    if (isNull(v)) continue;
    const k = scalarKind(v);
    if (k === undefined || (kind !== undefined && k !== kind)) return undefined;
    kind = k;
    if (k === 'struct') {
      const ks = Object.keys(v as object);
      if (keys === undefined) keys = ks;
      else if (ks.length !== keys.length || ks.some((key, i) => key !== keys![i])) return undefined;
    }
  }
  if (kind === undefined) return { kind: 'null' };
  if (kind === 'list') {
    const child = inferNested(values.flatMap((v) => (isNull(v) ? [] : (v as unknown[]))));
    return child && { kind, child };
  }
  if (kind === 'struct') {
    const fields: NestedType[] = [];
    for (const key of keys!) {
      const f = inferNested(values.map((v) => (isNull(v) ? null : (v as Record<string, unknown>)[key])));
      if (!f) return undefined;
      fields.push(f);
    }
    return { kind, keys: keys!, fields };
  }
  return { kind };
}

function encodeObjects(values: readonly unknown[], validity: Uint8Array | undefined, label: string): Encoded {
  const rows = validity ? values.map((v, i) => (validity[i] === 0 ? null : v)) : values;
  const nested = inferNested(rows);
  if (nested && (nested.kind === 'list' || nested.kind === 'struct')) return { data: buildNested(nested, rows), json: false };
  const texts = rows.map((v, i) => {
    if (isNull(v)) return null;
    try {
      return encodeTaggedJson(v);
    } catch (err) {
      throw new ModelFormatError(`${label}, row ${i}: value cannot be encoded as JSON (${(err as Error).message})`, { cause: err });
    }
  });
  const strings = Utf8Array.fromStrings(texts);
  return { data: encodeStorage('str', strings, nullMask(rows), label).data, json: true };
}

function nullMask(values: readonly unknown[]): Uint8Array | undefined {
  if (!values.some(isNull)) return undefined;
  return Uint8Array.from(values, (v) => (isNull(v) ? 0 : 1));
}

function buildNested(t: NestedType, values: readonly unknown[]): arrow.Data {
  const length = values.length;
  const { nullBitmap, nullCount } = packValidity(nullMask(values), length);
  switch (t.kind) {
    case 'null':
      return arrow.makeData({ type: new arrow.Null(), length });
    case 'f64':
      return arrow.makeData({
        type: new arrow.Float64(),
        length,
        nullCount,
        nullBitmap,
        data: Float64Array.from(values, (v) => (isNull(v) ? 0 : (v as number))),
      });
    case 'i64':
      return arrow.makeData({
        type: new arrow.Int64(),
        length,
        nullCount,
        nullBitmap,
        data: BigInt64Array.from(values, (v) => (isNull(v) ? 0n : (v as bigint))),
      });
    case 'bool': {
      const data = packBits(
        Uint8Array.from(values, (v) => (v === true ? 1 : 0)),
        length,
      );
      return arrow.makeData({ type: new arrow.Bool(), length, nullCount, nullBitmap, data });
    }
    case 'str': {
      const s = Utf8Array.fromStrings(values as (string | null)[]);
      return arrow.makeData({ type: new arrow.Utf8(), length, nullCount, nullBitmap, valueOffsets: s.offsets, data: s.bytes });
    }
    case 'bin': {
      const b = BinaryArray.fromBuffers(values as (Uint8Array | null)[]);
      return arrow.makeData({ type: new arrow.Binary(), length, nullCount, nullBitmap, valueOffsets: b.offsets, data: b.bytes });
    }
    case 'list': {
      const valueOffsets = new Int32Array(length + 1);
      const flat: unknown[] = [];
      values.forEach((v, i) => {
        if (!isNull(v)) for (const x of v as unknown[]) flat.push(x);
        valueOffsets[i + 1] = flat.length;
      });
      const child = buildNested(t.child, flat);
      const type = new arrow.List(new arrow.Field('item', child.type, true));
      return arrow.makeData({ type, length, nullCount, nullBitmap, valueOffsets, child });
    }
    case 'struct': {
      const children = t.keys.map((key, j) =>
        buildNested(
          t.fields[j]!,
          values.map((v) => (isNull(v) ? null : (v as Record<string, unknown>)[key])),
        ),
      );
      const type = new arrow.Struct(t.keys.map((key, j) => new arrow.Field(key, children[j]!.type, true)));
      return arrow.makeData({ type, length, nullCount, nullBitmap, children });
    }
  }
}
