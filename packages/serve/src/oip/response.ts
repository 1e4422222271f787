/**
 * Predictions → inference responses. Every kind of prediction becomes OIP output tensors
 * (TensorBatch tensors, ColumnBatch columns as [rows] tensors, JSON arrays and dicts of arrays);
 * outputs are written as JSON `data` (flat, row-major) or, when asked for, as binary blobs after
 * the JSON header (binary tensor data extension).
 */
import {
  BinaryArray,
  Utf8Array,
  formatDatetimeNs,
  halfToFloat,
  tensorFromNested,
  valueAt,
  type Column,
  type DType,
  type Prediction,
  type Schema,
  type Storage,
  type Tensor,
  type VarBinaryArray,
} from '@mlmodel/format';
import { oipDatatypeOf, type OipDatatype } from './datatype.js';
import { invalid } from './errors.js';
import { defaultName } from './metadata.js';
import type { RequestedOutput } from './request.js';

export interface OutputTensor {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
  /** Typed storage for fixed-size datatypes (FP16 as raw bits, BOOL as 0/1 bytes); a BinaryArray for BYTES. */
  readonly values: Storage;
  /** BYTES only: JSON shows the elements as UTF-8 text, or as base64 for binary data. */
  readonly base64: boolean;
}

type Fixed = Exclude<Storage, unknown[] | VarBinaryArray>;

function textOutput(name: string, shape: readonly number[], strings: readonly string[]): OutputTensor {
  const u = Utf8Array.fromStrings(strings);
  return { name, datatype: 'BYTES', shape, values: new BinaryArray(u.offsets, u.bytes), base64: false };
}

/** JSON text of an element that has no OIP datatype of its own (objects, mixed values). */
function jsonText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x)) ?? 'null';
}

/** An output from JS values: a typed tensor when they are uniform numbers, booleans or strings, else JSON text. */
function fromValues(name: string, shape: readonly number[], flat: readonly unknown[]): OutputTensor {
  try {
    const t = tensorFromNested(null, flat);
    if (t.dtype !== 'object') return fromStorage(name, t.dtype, shape, t.values);
  } catch {
    // nulls, mixed types: fall through to JSON text
  }
  return textOutput(name, shape, flat.map(jsonText));
}

/** An output from batch storage of any dtype. */
export function fromStorage(name: string, dtype: DType, shape: readonly number[], values: Storage, validity?: Uint8Array): OutputTensor {
  switch (dtype) {
    case 'str': {
      const v = values as Utf8Array;
      return { name, datatype: 'BYTES', shape, values: new BinaryArray(v.offsets, v.bytes), base64: false };
    }
    case 'bytes':
      return { name, datatype: 'BYTES', shape, values, base64: true };
    case 'datetime64[ns]': {
      const v = values as BigInt64Array;
      const strings = Array.from(v, (ns, i) => (validity && validity[i] === 0 ? '' : formatDatetimeNs(ns)));
      return textOutput(name, shape, strings);
    }
    case 'object': {
      const flat = values as unknown[];
      const nested = flat.some((x) => Array.isArray(x));
      if (nested) {
        // a column of lists: a [rows, ...] tensor when they are rectangular
        try {
          const t = tensorFromNested(null, flat);
          if (t.dtype !== 'object') return fromStorage(name, t.dtype, t.shape, t.values);
        } catch {
          // ragged: JSON text per element
        }
        return textOutput(name, shape, flat.map(jsonText));
      }
      return fromValues(name, shape, flat);
    }
    default:
      return { name, datatype: oipDatatypeOf(dtype), shape, values, base64: false };
  }
}

function fromTensor(name: string, t: Tensor): OutputTensor {
  return fromStorage(name, t.dtype, t.shape, t.values);
}

function fromColumn(c: Column, rows: number): OutputTensor {
  return fromStorage(c.name, c.dtype, [rows], c.values, c.validity);
}

/** A JSON prediction value as an output: nested arrays become tensors, scalars a [1] tensor. */
function fromJson(name: string, v: unknown): OutputTensor {
  if (!Array.isArray(v)) return fromValues(name, [1], [v]);
  try {
    const t = tensorFromNested(name, v);
    if (t.dtype !== 'object') return fromStorage(name, t.dtype, t.shape, t.values);
  } catch {
    // ragged or mixed
  }
  return textOutput(name, [v.length], v.map(jsonText));
}

/** The output tensors of a prediction; unnamed outputs take the signature's names, else `output-{i}`. */
export function predictionOutputs(p: Prediction, outputSchema: Schema | null): OutputTensor[] {
  const specName = (i: number): string => outputSchema?.specs[i]?.name ?? defaultName('output', i);
  if (p.kind === 'tensors') return p.tensors.map((t, i) => fromTensor(t.name ?? specName(i), t));
  if (p.kind === 'columns') return p.columns.map((c) => fromColumn(c, p.numRows));
  const v = p.value;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    return Object.entries(v as Record<string, unknown>).map(([k, x]) => fromJson(k, x));
  }
  return [fromJson(specName(0), v)];
}

// --- encoding ---------------------------------------------------------------------------------

const utf8 = new TextDecoder();

function floatText(x: number): string {
  if (Number.isFinite(x)) return String(x);
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** The `data` list of an output, flat and row-major. */
export function dataJson(o: OutputTensor): string {
  const v = o.values;
  const parts = new Array<string>(v.length);
  switch (o.datatype) {
    case 'BOOL':
      for (let i = 0; i < parts.length; i++) parts[i] = (v as Uint8Array)[i] ? 'true' : 'false';
      break;
    case 'FP16':
      for (let i = 0; i < parts.length; i++) parts[i] = floatText(halfToFloat((v as Uint16Array)[i]!));
      break;
    case 'FP32':
    case 'FP64':
      for (let i = 0; i < parts.length; i++) parts[i] = floatText((v as Float64Array)[i]!);
      break;
    case 'BYTES': {
      const b = v as BinaryArray;
      for (let i = 0; i < parts.length; i++) {
        parts[i] = JSON.stringify(o.base64 ? Buffer.from(b.bytesAt(i)).toString('base64') : utf8.decode(b.bytesAt(i)));
      }
      break;
    }
    default:
      for (let i = 0; i < parts.length; i++) parts[i] = String(valueAt('int64', v, i));
  }
  return `[${parts.join(',')}]`;
}

/** The binary form of an output: raw little-endian elements, or BYTES as 4-byte length + bytes. */
export function binaryBlob(o: OutputTensor): Uint8Array {
  if (o.datatype !== 'BYTES') {
    const v = o.values as Fixed;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  const b = o.values as BinaryArray;
  const n = b.length;
  const out = new Uint8Array(4 * n + (b.offsets[n]! - b.offsets[0]!));
  const view = new DataView(out.buffer);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const bytes = b.bytesAt(i);
    view.setUint32(pos, bytes.byteLength, true);
    out.set(bytes, pos + 4);
    pos += 4 + bytes.byteLength;
  }
  return out;
}

export interface ResponseOptions {
  readonly modelName: string;
  /** Only for a versioned model (the protocol: unversioned servers should not send it). */
  readonly modelVersion: string | null;
  readonly id: string;
  /** The outputs asked for; null: all. */
  readonly requested: readonly RequestedOutput[] | null;
  /** Outputs are binary unless their own `binary_data` says otherwise. */
  readonly binaryDefault: boolean;
}

export interface EncodedResponse {
  readonly body: Buffer;
  /** The JSON header's length when binary blobs follow it (the Inference-Header-Content-Length header), else null. */
  readonly headerLength: number | null;
}

/** Select the requested outputs and write the response body. An unknown requested output is a 400. */
export function encodeInferResponse(outputs: readonly OutputTensor[], opts: ResponseOptions): EncodedResponse {
  let chosen: { output: OutputTensor; binary: boolean }[];
  if (opts.requested === null) chosen = outputs.map((output) => ({ output, binary: opts.binaryDefault }));
  else {
    const byName = new Map(outputs.map((o) => [o.name, o] as const));
    chosen = opts.requested.map((r) => {
      const output = byName.get(r.name);
      if (!output) throw invalid(`Unknown output '${r.name}'; this model's outputs are: ${outputs.map((o) => `'${o.name}'`).join(', ') || 'none'}`);
      return { output, binary: r.binary ?? opts.binaryDefault };
    });
  }
  const blobs: Uint8Array[] = [];
  const parts = chosen.map(({ output: o, binary }) => {
    let s = `{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":[${o.shape.join(',')}]`;
    if (binary) {
      const blob = binaryBlob(o);
      blobs.push(blob);
      return `${s},"parameters":{"binary_data_size":${blob.byteLength}}}`;
    }
    if (o.base64) s += ',"parameters":{"content_type":"base64"}';
    return `${s},"data":${dataJson(o)}}`;
  });
  const version = opts.modelVersion !== null ? `,"model_version":${JSON.stringify(opts.modelVersion)}` : '';
  const json = Buffer.from(`{"model_name":${JSON.stringify(opts.modelName)}${version},"id":${JSON.stringify(opts.id)},"outputs":[${parts.join(',')}]}`);
  if (blobs.length === 0) return { body: json, headerLength: null };
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.byteLength };
}
