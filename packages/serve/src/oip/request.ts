/**
 * Inference request bodies → decoded inputs. A body is a JSON inference request, or (binary
 * tensor data extension) a JSON header of `Inference-Header-Content-Length` bytes followed by
 * the binary blobs of the inputs that carry `binary_data_size`, in input order; a header length
 * of 0 makes the whole body the raw bytes of a single-input model's input.
 */
import { BinaryArray, DEFAULT_JSON_MAX_DEPTH, type Storage } from '@mlmodel/format';
import { elementSize, isOipDatatype, OIP_DATATYPES, type OipDatatype } from './datatype.js';
import { OipUnsupportedMediaTypeError, describe, invalid } from './errors.js';
import type { MetadataTensor } from './metadata.js';
import { checkShape, flattenData, shapeText, storageFromBinary, storageFromJson } from './tensor-data.js';

export const HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/** Deepest nesting of arrays and objects in `parameters`, counted from the request's top: the MLflow JSON parser's limit. */
export const MAX_JSON_DEPTH = DEFAULT_JSON_MAX_DEPTH;

/** Request-level parameters the protocol itself uses; the others are the model's params. */
export const RESERVED_PARAMETERS: ReadonlySet<string> = new Set(['binary_data_output', 'content_type', 'headers']);

export interface DecodedInput {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
  /** Typed storage of the datatype's dtype; a BinaryArray for BYTES. */
  readonly values: Storage;
  /** MLServer content type given on the input (or implied by the model's metadata), if any. */
  readonly contentType: string | null;
}

export interface RequestedOutput {
  readonly name: string;
  /** The output's `binary_data` parameter, null when not given. */
  readonly binary: boolean | null;
}

export interface InferRequest {
  readonly id: string | null;
  /** Request parameters other than the protocol's own (become the model's params). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly inputs: readonly DecodedInput[];
  /** The outputs asked for, in order; null: all of them. */
  readonly outputs: readonly RequestedOutput[] | null;
  /** `binary_data_output` (always true for a raw binary request). */
  readonly binaryOutput: boolean;
}

export interface ParseOptions {
  /** The model's inputs, as its metadata describes them (raw binary requests, implied content types). */
  readonly modelInputs: readonly MetadataTensor[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ACCEPTED_TYPES = 'application/json, or application/octet-stream with the Inference-Header-Content-Length header (binary tensor data extension)';

/**
 * An inference request is `application/json` (parameters such as charset aside), or
 * `application/octet-stream` with `Inference-Header-Content-Length` (a JSON header and binary
 * blobs, or a raw body); any other type is a 415 naming the accepted types. A request without
 * a Content-Type is taken as Triton and KServe take it: JSON, or the binary extension when it has
 * `Inference-Header-Content-Length` (tritonclient's HTTP client sends no Content-Type).
 */
export function checkInferContentType(contentType: string | undefined, headerLength: string | string[] | undefined): void {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json' || type === '' || (type === 'application/octet-stream' && headerLength !== undefined)) return;
  if (type === 'application/octet-stream') {
    throw new OipUnsupportedMediaTypeError(
      'Content-Type application/octet-stream needs the Inference-Header-Content-Length header (the length of the JSON header before the binary data, 0 for a raw binary request); send JSON as application/json',
    );
  }
  throw new OipUnsupportedMediaTypeError(`Unsupported Content-Type ${JSON.stringify(contentType!.slice(0, 100))}: send ${ACCEPTED_TYPES}`);
}

/** The JSON header's length from `Inference-Header-Content-Length`, or null when absent. */
export function parseHeaderLength(value: string | string[] | undefined, bodyLength: number): number | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!/^\s*\d{1,15}\s*$/.test(text)) {
    throw invalid(`Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  const n = Number(text);
  if (n > bodyLength) throw invalid(`Inference-Header-Content-Length is ${n}, but the request body has only ${bodyLength} bytes`);
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function parseJsonHeader(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw invalid('The inference request is empty: send a JSON object with "inputs"');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid('The inference request is not valid UTF-8 JSON');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid(`The inference request is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * `parameters` found at nesting level `level` (the request object is level 1): an object, nested
 * at most MAX_JSON_DEPTH levels deep in the request, like every JSON body MLflow's parser takes.
 * JSON.parse takes any depth; params that deep would later exhaust a recursion (enforcement, the
 * Python bridge), so they are refused here, without recursing.
 */
function checkParameters(where: string, v: unknown, level: number): Json {
  if (v === undefined) return {};
  if (!isObject(v)) throw invalid(`${where}: "parameters" must be an object, got ${describe(v)}`);
  const todo: [unknown, number][] = [[v, level]];
  while (todo.length > 0) {
    const [x, depth] = todo.pop()!;
    if (depth > MAX_JSON_DEPTH) throw invalid(`${where}: "parameters" nest arrays and objects deeper than the limit of ${MAX_JSON_DEPTH} levels`);
    for (const c of Array.isArray(x) ? x : Object.values(x as Json)) if (typeof c === 'object' && c !== null) todo.push([c, depth + 1]);
  }
  return v;
}

function optionalBoolean(where: string, params: Json, key: string): boolean | null {
  const v = params[key];
  if (v === undefined) return null;
  if (typeof v !== 'boolean') throw invalid(`${where}: parameter "${key}" must be a boolean, got ${describe(v)}`);
  return v;
}

/** Decode one `$request_input`; `take` hands out the next `n` bytes of binary data. */
function decodeInput(
  raw: unknown,
  index: number,
  maxElements: number,
  implied: ReadonlyMap<string, string>,
  take: ((where: string, n: number) => Uint8Array) | null,
): DecodedInput {
  if (!isObject(raw)) throw invalid(`inputs[${index}] must be an object, got ${describe(raw)}`);
  const name = raw.name;
  if (typeof name !== 'string' || name === '') throw invalid(`inputs[${index}]: "name" must be a non-empty string, got ${describe(name)}`);
  const where = `input '${name}'`;
  const datatype = raw.datatype;
  if (!isOipDatatype(datatype)) {
    throw invalid(`${where}: unsupported datatype ${describe(datatype)}; expected one of ${OIP_DATATYPES.join(', ')}`);
  }
  const { shape, count } = checkShape(where, raw.shape, maxElements);
  const params = checkParameters(where, raw.parameters, 4);
  const ct = params.content_type;
  if (ct !== undefined && typeof ct !== 'string') throw invalid(`${where}: parameter "content_type" must be a string, got ${describe(ct)}`);
  const contentType = ct ?? implied.get(name) ?? null;
  const size = params.binary_data_size;
  let values: Storage;
  if (size !== undefined) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalid(`${where}: "binary_data_size" must be a non-negative integer, got ${describe(size)}`);
    }
    if (raw.data !== undefined) throw invalid(`${where}: give either "data" or the "binary_data_size" parameter, not both`);
    if (!take) throw invalid(`${where}: "binary_data_size" needs the Inference-Header-Content-Length header giving the JSON header's length`);
    values = storageFromBinary(where, datatype, take(where, size), count);
  } else {
    if (raw.data === undefined) throw invalid(`${where}: "data" is missing (or give binary data with the "binary_data_size" parameter)`);
    values = storageFromJson(where, datatype, flattenData(where, raw.data, shape, count), contentType === 'base64');
  }
  return { name, datatype, shape, values, contentType };
}

function decodeOutputs(raw: unknown): RequestedOutput[] | null {
  if (raw === undefined) return null;
  if (!Array.isArray(raw)) throw invalid(`"outputs" must be a list, got ${describe(raw)}`);
  const seen = new Set<string>();
  const out: RequestedOutput[] = [];
  raw.forEach((o, i) => {
    if (!isObject(o)) throw invalid(`outputs[${i}] must be an object, got ${describe(o)}`);
    if (typeof o.name !== 'string' || o.name === '') throw invalid(`outputs[${i}]: "name" must be a non-empty string, got ${describe(o.name)}`);
    const where = `output '${o.name}'`;
    const binary = optionalBoolean(where, checkParameters(where, o.parameters, 4), 'binary_data');
    if (seen.has(o.name)) throw invalid(`${where} is requested twice`);
    seen.add(o.name);
    out.push({ name: o.name, binary });
  });
  return out;
}

/**
 * Refuse an input the model's metadata does not list (for a model with a signature), and one
 * without rows, naming the input as the metadata does: the model would otherwise see an unknown
 * column or tensor silently ignored, or fail with its own name for the input.
 */
function checkAgainstModel(input: DecodedInput, modelInputs: readonly MetadataTensor[]): void {
  if (modelInputs.length > 0 && !modelInputs.some((m) => m.name === input.name)) {
    throw invalid(`Unknown input '${input.name}'; this model's inputs are: ${modelInputs.map((m) => `'${m.name}'`).join(', ')}`);
  }
  if (input.shape.length > 0 && input.shape[0] === 0) throw invalid(`input '${input.name}' is empty (shape ${shapeText(input.shape)}): send at least one row`);
}

/** `Inference-Header-Content-Length: 0`: the body is the raw bytes of the model's only input, all outputs binary. */
function parseRawRequest(body: Uint8Array, modelInputs: readonly MetadataTensor[]): InferRequest {
  if (modelInputs.length !== 1) {
    throw invalid(
      `A raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input; this model has ${modelInputs.length === 0 ? 'no input signature' : `${modelInputs.length} inputs`}`,
    );
  }
  const m = modelInputs[0]!;
  const where = `input '${m.name}'`;
  let shape: number[];
  let values: Storage;
  if (m.datatype === 'BYTES') {
    // a single element holding the whole body
    shape = [1];
    values = BinaryArray.fromBuffers([body]);
  } else {
    const variable = m.shape.filter((d) => d < 0).length;
    if (variable > 1) throw invalid(`A raw binary request needs an input with at most one variable dimension; ${where} has shape ${shapeText(m.shape)}`);
    const fixed = m.shape.reduce((a, d) => (d < 0 ? a : a * d), 1);
    const per = fixed * elementSize(m.datatype);
    if (variable === 0 ? body.byteLength !== per : per === 0 || body.byteLength % per !== 0) {
      throw invalid(
        `A raw binary request for ${where} (${m.datatype}, shape ${shapeText(m.shape)}) needs a body of ${variable === 0 ? '' : 'a multiple of '}${per} bytes, got ${body.byteLength}`,
      );
    }
    shape = m.shape.map((d) => (d < 0 ? body.byteLength / per : d));
    values = storageFromBinary(where, m.datatype, body, fixed === 0 ? 0 : (body.byteLength / per) * fixed);
  }
  const input: DecodedInput = { name: m.name, datatype: m.datatype, shape, values, contentType: null };
  checkAgainstModel(input, modelInputs);
  return { id: null, parameters: {}, inputs: [input], outputs: null, binaryOutput: true };
}

/**
 * Parse an inference request. `headerLength` is the raw `Inference-Header-Content-Length` header.
 * Every problem is an `OipRequestError` (400) whose message names the input and the fault.
 */
export function parseInferRequest(body: Uint8Array, headerLength: string | string[] | undefined, opts: ParseOptions): InferRequest {
  const jsonLength = parseHeaderLength(headerLength, body.byteLength);
  if (jsonLength === 0) return parseRawRequest(body, opts.modelInputs);
  const doc = parseJsonHeader(jsonLength === null ? body : body.subarray(0, jsonLength));
  if (!isObject(doc)) throw invalid(`The inference request must be a JSON object with "inputs", got ${describe(doc)}`);

  const id = doc.id;
  if (id !== undefined && typeof id !== 'string') throw invalid(`"id" must be a string, got ${describe(id)}`);
  const params = checkParameters('the request', doc.parameters, 2);
  const binaryOutput = optionalBoolean('the request', params, 'binary_data_output') ?? false;
  const parameters: Json = {};
  for (const [k, v] of Object.entries(params)) if (!RESERVED_PARAMETERS.has(k)) parameters[k] = v;

  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0) {
    throw invalid(`"inputs" must be a non-empty list of input tensors, got ${doc.inputs === undefined ? 'none' : describe(doc.inputs)}`);
  }
  let pos = jsonLength ?? body.byteLength;
  const take =
    jsonLength === null
      ? null
      : (where: string, n: number): Uint8Array => {
          if (n > body.byteLength - pos) {
            throw invalid(`${where}: binary_data_size is ${n} bytes, but only ${body.byteLength - pos} bytes of binary data are left in the request body`);
          }
          pos += n;
          return body.subarray(pos - n, pos);
        };
  const implied = new Map(opts.modelInputs.map((m) => [m.name, m.parameters.content_type] as const));
  const names = new Set<string>();
  const inputs = doc.inputs.map((raw, i) => {
    const input = decodeInput(raw, i, body.byteLength, implied, take);
    if (names.has(input.name)) throw invalid(`input '${input.name}' is given twice`);
    checkAgainstModel(input, opts.modelInputs);
    names.add(input.name);
    return input;
  });
  if (pos !== body.byteLength) {
    throw invalid(
      `The request body has ${body.byteLength - pos} bytes of binary data after the JSON header that no input claims (check each input's binary_data_size)`,
    );
  }
  return { id: id ?? null, parameters, inputs, outputs: decodeOutputs(doc.outputs), binaryOutput };
}
