/**
 * Batches ↔ the worker's data payloads: `u32 header length | JSON header | pad to 8 | body`, where
 * the body holds every column/tensor as raw little-endian buffers at 8-byte aligned offsets and the
 * header lists them as `buffers: [[offset, length], …]`. Strings travel as int32 offsets + UTF-8
 * bytes (the Utf8Array layout), or as int32 codes into such a list of distinct values when they repeat;
 * validity is one byte per row; only `object` values are JSON.
 */
import {
  BinaryArray,
  Utf8Array,
  columnBatch,
  dtypeItemSize,
  isDType,
  tensor,
  tensorBatch,
  type Column,
  type DType,
  type ModelInput,
  type Prediction,
  type Storage,
  type Tensor,
} from '@mlmodel/format';
import { PythonProtocolError } from './errors.js';
import { encodeStringDictionary } from './string-dictionary.js';

/** One column or tensor on the wire. Buffer fields are indexes into `buffers`. */
export interface WireArray {
  name: string | null;
  dtype: string;
  /** Tensors only. */
  shape?: number[];
  data?: number;
  offsets?: number;
  /** Strings sent as a dictionary (Node → worker only): int32 codes per value; `data`/`offsets` then hold the distinct values. */
  codes?: number;
  validity?: number;
  /** `object` dtype only: the values as JSON. */
  values?: unknown[];
}

export type WireData =
  { kind: 'columns'; num_rows: number; columns: WireArray[] } | { kind: 'tensors'; tensors: WireArray[] } | { kind: 'json'; value: unknown };

export interface WireHeader {
  data: WireData;
  params?: Record<string, unknown> | null;
  buffers: [number, number][];
}

const align8 = (n: number): number => (n + 7) & ~7;

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** JSON.stringify replacer for values JS keeps as bigint or bytes. */
function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v.toString();
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

class BodyBuilder {
  readonly parts: Uint8Array[] = [];
  readonly spans: [number, number][] = [];
  size = 0;

  add(bytes: Uint8Array): number {
    const start = align8(this.size);
    if (start > this.size) this.parts.push(new Uint8Array(start - this.size));
    this.parts.push(bytes);
    this.spans.push([start, bytes.byteLength]);
    this.size = start + bytes.byteLength;
    return this.spans.length - 1;
  }
}

function rebasedOffsets(offsets: Int32Array): Int32Array {
  const base = offsets[0]!;
  if (base === 0) return offsets;
  return offsets.map((o) => o - base);
}

function encodeValues(name: string | null, dtype: DType, values: Storage, validity: Uint8Array | undefined, body: BodyBuilder): WireArray {
  const out: WireArray = { name, dtype };
  if (values instanceof Utf8Array || values instanceof BinaryArray) {
    const dict = encodeStringDictionary(values.offsets, values.bytes, values.length);
    if (dict) {
      out.codes = body.add(bytesOf(dict.codes));
      out.data = body.add(dict.bytes);
      out.offsets = body.add(bytesOf(dict.offsets));
      if (validity) out.validity = body.add(validity);
      return out;
    }
    const start = values.offsets[0]!;
    out.data = body.add(values.bytes.subarray(start, values.offsets[values.length]!));
    out.offsets = body.add(bytesOf(rebasedOffsets(values.offsets)));
  } else if (Array.isArray(values)) {
    out.values = JSON.parse(JSON.stringify(values, jsonReplacer)) as unknown[];
  } else {
    out.data = body.add(bytesOf(values as ArrayBufferView));
  }
  if (validity) out.validity = body.add(validity);
  return out;
}

/** The payload parts of a PREDICT message. */
export function encodePredictPayload(input: ModelInput, params: Readonly<Record<string, unknown>> | null | undefined): Uint8Array[] {
  const body = new BodyBuilder();
  let data: WireData;
  if (input.kind === 'columns') {
    data = {
      kind: 'columns',
      num_rows: input.numRows,
      columns: input.columns.map((c: Column) => encodeValues(c.name, c.dtype, c.values, c.validity, body)),
    };
  } else if (input.kind === 'tensors') {
    data = {
      kind: 'tensors',
      tensors: input.tensors.map((t: Tensor) => ({ ...encodeValues(t.name, t.dtype, t.values, undefined, body), shape: [...t.shape] })),
    };
  } else {
    data = { kind: 'json', value: input.value };
  }
  const header: WireHeader = { data, params: params && Object.keys(params).length > 0 ? { ...params } : null, buffers: body.spans };
  return headerAndBody(header, body);
}

function headerAndBody(header: WireHeader, body: BodyBuilder): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header, jsonReplacer), 'utf8');
  const lead = new Uint8Array(align8(4 + json.byteLength));
  new DataView(lead.buffer).setUint32(0, json.byteLength, true);
  lead.set(json, 4);
  return [lead, ...body.parts];
}

/** Split a data payload into its JSON header and a function returning each buffer's bytes. */
export function splitDataPayload(payload: Uint8Array): { header: WireHeader; buffer: (index: number) => Uint8Array } {
  if (payload.byteLength < 4) throw new PythonProtocolError('a data payload shorter than its header length');
  const hlen = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
  if (4 + hlen > payload.byteLength) throw new PythonProtocolError('a data payload whose header runs past its end');
  const header = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset + 4, hlen).toString('utf8')) as WireHeader;
  const bodyStart = align8(4 + hlen);
  const buffer = (index: number): Uint8Array => {
    const span = header.buffers[index];
    if (!span) throw new PythonProtocolError(`a data payload refers to buffer ${index}, which it does not have`);
    const [off, len] = span;
    if (bodyStart + off + len > payload.byteLength) throw new PythonProtocolError(`buffer ${index} runs past the end of the payload`);
    return payload.subarray(bodyStart + off, bodyStart + off + len);
  };
  return { header, buffer };
}

function typedView<T>(bytes: Uint8Array, itemSize: number, Ctor: new (b: ArrayBufferLike, o: number, n: number) => T): T {
  if (bytes.byteLength % itemSize !== 0) throw new PythonProtocolError(`a buffer of ${bytes.byteLength} bytes is not a whole number of ${itemSize}-byte items`);
  const src = bytes.byteOffset % itemSize === 0 ? bytes : bytes.slice();
  return new Ctor(src.buffer, src.byteOffset, src.byteLength / itemSize);
}

function decodeStorage(a: WireArray, buffer: (i: number) => Uint8Array, count: number): Storage {
  const dtype = a.dtype as DType;
  const need = (key: 'data' | 'offsets'): Uint8Array => {
    const i = a[key];
    if (i === undefined) throw new PythonProtocolError(`${a.dtype} array ${a.name ?? '(unnamed)'} has no ${key} buffer`);
    return buffer(i);
  };
  let values: Storage;
  switch (dtype) {
    case 'object':
      values = a.values ?? [];
      break;
    case 'str':
    case 'bytes': {
      const offsets = typedView(need('offsets'), 4, Int32Array);
      const bytes = need('data');
      values = dtype === 'str' ? new Utf8Array(offsets, bytes) : new BinaryArray(offsets, bytes);
      break;
    }
    case 'bool':
    case 'uint8':
      values = need('data');
      break;
    case 'int8':
      values = typedView(need('data'), 1, Int8Array);
      break;
    case 'int16':
      values = typedView(need('data'), 2, Int16Array);
      break;
    case 'uint16':
    case 'float16':
      values = typedView(need('data'), 2, Uint16Array);
      break;
    case 'int32':
      values = typedView(need('data'), 4, Int32Array);
      break;
    case 'uint32':
      values = typedView(need('data'), 4, Uint32Array);
      break;
    case 'float32':
      values = typedView(need('data'), 4, Float32Array);
      break;
    case 'float64':
      values = typedView(need('data'), 8, Float64Array);
      break;
    case 'int64':
    case 'datetime64[ns]':
      values = typedView(need('data'), 8, BigInt64Array);
      break;
    case 'uint64':
      values = typedView(need('data'), 8, BigUint64Array);
      break;
  }
  if (values.length !== count) {
    throw new PythonProtocolError(`${a.dtype} array ${a.name ?? '(unnamed)'} has ${values.length} values, expected ${count}`);
  }
  return values;
}

function checkDType(a: WireArray): DType {
  if (!isDType(a.dtype)) throw new PythonProtocolError(`the worker sent an array of unknown dtype ${JSON.stringify(a.dtype)}`);
  if (dtypeItemSize(a.dtype) === 0 && !['str', 'bytes', 'object'].includes(a.dtype)) {
    throw new PythonProtocolError(`unexpected dtype ${a.dtype}`);
  }
  return a.dtype;
}

/** The prediction in a RESULT payload. */
export function decodeResultPayload(payload: Uint8Array): Prediction {
  const { header, buffer } = splitDataPayload(payload);
  const data = header.data;
  switch (data.kind) {
    case 'json':
      return { kind: 'json', value: data.value };
    case 'columns': {
      const n = data.num_rows;
      const cols = data.columns.map((c) => {
        const dtype = checkDType(c);
        const values = decodeStorage(c, buffer, n);
        const validity = c.validity !== undefined ? buffer(c.validity) : undefined;
        return { name: c.name ?? '', dtype, values, validity } as Column;
      });
      return columnBatch(cols, n);
    }
    case 'tensors':
      return tensorBatch(
        data.tensors.map((t) => {
          const dtype = checkDType(t);
          const shape = t.shape ?? [];
          const count = shape.reduce((x, y) => x * y, 1);
          return tensor(t.name, dtype, shape, decodeStorage(t, buffer, count) as never);
        }),
      );
    default:
      throw new PythonProtocolError(`the worker sent a result of unknown kind ${JSON.stringify((data as { kind: unknown }).kind)}`);
  }
}
