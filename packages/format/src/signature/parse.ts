import { dtypeFromNumpyName } from '../dtype.js';
import { SignatureError } from '../errors.js';
import {
  PRIMITIVE_TYPES,
  type ColSpec,
  type ModelSignature,
  type ObjectProperty,
  type ObjectType,
  type ParamSpec,
  type ParamType,
  type PrimitiveType,
  type Schema,
  type TensorSpec,
  type ValueType,
} from './types.js';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrimitive = (t: unknown): t is PrimitiveType => typeof t === 'string' && (PRIMITIVE_TYPES as readonly string[]).includes(t);

function fail(where: string, message: string): never {
  throw new SignatureError(`${where}: ${message}`);
}

function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(where, `not valid JSON (${(e as Error).message})`);
  }
}

/** Parse a value type dict such as `{"type": "array", "items": {"type": "string"}}`. */
export function parseValueType(d: unknown, where: string): ValueType {
  if (!isObj(d)) fail(where, `expected a type object, got ${JSON.stringify(d)}`);
  const t = d.type;
  if (isPrimitive(t)) return t;
  switch (t) {
    case 'array':
      if (!('items' in d)) fail(where, "an array type needs 'items'");
      return { type: 'array', items: parseValueType(d.items, `${where}.items`) };
    case 'object':
      return parseObjectType(d, where);
    case 'map':
      if (!('values' in d)) fail(where, "a map type needs 'values'");
      return { type: 'map', values: parseValueType(d.values, `${where}.values`) };
    case 'any':
      return { type: 'any' };
    case 'sparkml_vector':
      return { type: 'sparkml_vector' };
    default:
      return fail(where, `unknown type ${JSON.stringify(t)}; expected one of ${[...PRIMITIVE_TYPES, 'array', 'object', 'map', 'any'].join(', ')}`);
  }
}

function parseObjectType(d: Json, where: string): ObjectType {
  const props = d.properties;
  if (!isObj(props)) fail(where, "an object type needs a 'properties' mapping");
  const names = Object.keys(props);
  if (names.length === 0) fail(where, 'an object type needs at least one property');
  const properties: ObjectProperty[] = names.map((name) => {
    const p = props[name];
    const pw = `${where}.properties.${name}`;
    if (!isObj(p)) fail(pw, 'expected a property object');
    const required = p.required ?? true;
    if (typeof required !== 'boolean') fail(pw, "'required' must be a boolean");
    return { name, valueType: parseValueType(p, pw), required };
  });
  properties.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { type: 'object', properties };
}

function parseColSpec(d: Json, where: string): ColSpec {
  const type = parseValueType(d, where);
  const name = d.name ?? null;
  if (name !== null && typeof name !== 'string') fail(where, "'name' must be a string");
  let required: boolean | null;
  if (!('required' in d)) required = isPrimitive(type) ? true : null;
  else if (typeof d.required === 'boolean') required = d.required;
  else return fail(where, "'required' must be true or false");
  return { kind: 'column', type, name, required };
}

function parseTensorSpec(d: Json, where: string): TensorSpec {
  const ts = d['tensor-spec'];
  if (!isObj(ts)) fail(where, "a tensor entry needs a 'tensor-spec' object");
  const dtype = ts.dtype;
  if (typeof dtype !== 'string' || !dtypeFromNumpyName(dtype)) {
    fail(where, `unsupported tensor dtype ${JSON.stringify(dtype)}; expected a numpy dtype name such as float32, int64, str, object`);
  }
  const shape = ts.shape;
  if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && (n as number) >= -1)) {
    fail(where, `tensor shape must be a list of integers (-1 for variable dimensions), got ${JSON.stringify(shape)}`);
  }
  const name = d.name ?? null;
  if (name !== null && typeof name !== 'string') fail(where, "'name' must be a string");
  return { kind: 'tensor', name, dtype, shape: shape as number[] };
}

/** Parse a schema JSON string (`signature.inputs` / `signature.outputs`), checking MLflow's validity rules. */
export function parseSchema(text: string, where = 'schema'): Schema {
  const list = parseJsonText(text, where);
  return schemaFromJson(list, where);
}

export function schemaFromJson(list: unknown, where = 'schema'): Schema {
  if (!Array.isArray(list)) fail(where, 'expected a JSON list of column or tensor specs');
  if (list.length === 0) fail(where, 'a schema needs at least one input');
  const specs = list.map((d, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(d)) fail(w, 'expected an object');
    return d.type === 'tensor' ? parseTensorSpec(d, w) : parseColSpec(d, w);
  });
  const tensors = specs.filter((s): s is TensorSpec => s.kind === 'tensor');
  if (tensors.length !== 0 && tensors.length !== specs.length) fail(where, 'cannot mix tensor specs and column specs');
  const named = specs.filter((s) => s.name !== null).length;
  if (named !== 0 && named !== specs.length) fail(where, 'either all inputs are named or none are');
  if (tensors.length > 1 && named === 0) fail(where, 'more than one tensor spec requires names');
  const names = new Set<string>();
  for (const s of specs) {
    if (s.name !== null) {
      if (names.has(s.name)) fail(where, `duplicate input name ${JSON.stringify(s.name)}`);
      names.add(s.name);
    }
    if (s.kind === 'column' && s.name === null && s.required === false) fail(where, 'unnamed inputs cannot be optional');
  }
  return tensors.length ? { kind: 'tensors', specs: tensors } : { kind: 'columns', specs: specs as ColSpec[] };
}

function parseParamType(d: Json, where: string): ParamType {
  const t = 'type' in d ? d.type : d.dtype;
  if (t === 'object') return parseObjectType(d, where);
  if (t === 'binary') fail(where, 'binary is not supported as a param type');
  if (!isPrimitive(t)) fail(where, `unknown param type ${JSON.stringify(t)}`);
  return t as ParamType;
}

/** Parse a params JSON string (`signature.params`). */
export function parseParams(text: string, where = 'params'): ParamSpec[] {
  const list = parseJsonText(text, where);
  if (!Array.isArray(list)) fail(where, 'expected a JSON list of param specs');
  const seen = new Set<string>();
  return list.map((d, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(d)) fail(w, 'expected an object');
    if (typeof d.name !== 'string' || !d.name) fail(w, "'name' must be a non-empty string");
    if (seen.has(d.name)) fail(where, `duplicate param name ${JSON.stringify(d.name)}`);
    seen.add(d.name);
    const shape = d.shape ?? null;
    if (shape !== null && !(Array.isArray(shape) && shape.length === 1 && shape[0] === -1)) {
      fail(`${where}.${d.name}`, `shape must be null or [-1], got ${JSON.stringify(shape)}`);
    }
    if (shape !== null && d.default !== null && d.default !== undefined && !Array.isArray(d.default)) {
      fail(`${where}.${d.name}`, 'a param with shape [-1] needs a list default');
    }
    return { name: d.name, type: parseParamType(d, `${where}.${d.name}`), default: d.default ?? null, shape: shape as number[] | null };
  });
}

/** Parse MLmodel's `signature` mapping: `{inputs, outputs, params}` each a JSON string or null. */
export function parseSignature(d: unknown, where = 'signature'): ModelSignature {
  if (!isObj(d)) fail(where, 'expected a mapping with inputs, outputs and params');
  const str = (k: string): string | null => {
    const v = d[k];
    if (v === null || v === undefined) return null;
    if (typeof v !== 'string') fail(`${where}.${k}`, 'expected a JSON string or null');
    return v;
  };
  const inputs = str('inputs');
  const outputs = str('outputs');
  const params = str('params');
  return {
    inputs: inputs === null ? null : parseSchema(inputs, `${where}.inputs`),
    outputs: outputs === null ? null : parseSchema(outputs, `${where}.outputs`),
    params: params === null ? null : parseParams(params, `${where}.params`),
  };
}
