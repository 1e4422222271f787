import { PyFloat, pyJsonDumps } from '../pyjson.js';
import type { ColSpec, ModelSignature, ObjectType, ParamSpec, Schema, TensorSpec, ValueType } from './types.js';

/** A value type as MLflow's `to_dict()` writes it (key order matters for byte-identical JSON). */
export function valueTypeToJson(t: ValueType): Record<string, unknown> {
  if (typeof t === 'string') return { type: t };
  switch (t.type) {
    case 'array':
      return { type: 'array', items: valueTypeToJson(t.items) };
    case 'object':
      return objectTypeToJson(t);
    case 'map':
      return { type: 'map', values: valueTypeToJson(t.values) };
    case 'any':
    case 'sparkml_vector':
      return { type: t.type };
  }
}

function objectTypeToJson(t: ObjectType): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const p of t.properties) properties[p.name] = { ...valueTypeToJson(p.valueType), required: p.required };
  return { type: 'object', properties };
}

function colSpecToJson(s: ColSpec): Record<string, unknown> {
  const d = valueTypeToJson(s.type);
  if (s.name !== null) d.name = s.name;
  d.required = s.required;
  return d;
}

function tensorSpecToJson(s: TensorSpec): Record<string, unknown> {
  const spec = { dtype: s.dtype, shape: s.shape };
  return s.name !== null ? { name: s.name, type: 'tensor', 'tensor-spec': spec } : { type: 'tensor', 'tensor-spec': spec };
}

export function schemaToJson(schema: Schema): Record<string, unknown>[] {
  return schema.kind === 'tensors' ? schema.specs.map(tensorSpecToJson) : schema.specs.map(colSpecToJson);
}

/** The JSON string MLflow writes for a schema (`json.dumps(schema.to_dict())`). */
export function serializeSchema(schema: Schema): string {
  return pyJsonDumps(schemaToJson(schema));
}

/** Mark numbers that Python holds as floats so they print as `1.0`, not `1`. */
function typedDefault(type: ParamSpec['type'], v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => typedDefault(type, x));
  if (typeof type === 'string') return (type === 'float' || type === 'double') && typeof v === 'number' ? new PyFloat(v) : v;
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = type.properties.find((q) => q.name === k);
      out[k] = p && typeof p.valueType === 'string' && p.valueType !== 'binary' ? typedDefault(p.valueType, x) : x;
    }
    return out;
  }
  return v;
}

export function paramSpecToJson(p: ParamSpec): Record<string, unknown> {
  const head = { name: p.name, default: typedDefault(p.type, p.default), shape: p.shape };
  return typeof p.type === 'string' ? { ...head, type: p.type } : { ...head, ...objectTypeToJson(p.type) };
}

export function serializeParams(params: readonly ParamSpec[]): string {
  return pyJsonDumps(params.map(paramSpecToJson));
}

/** The `signature` mapping of an MLmodel file. */
export function signatureToDict(sig: ModelSignature): { inputs: string | null; outputs: string | null; params: string | null } {
  return {
    inputs: sig.inputs ? serializeSchema(sig.inputs) : null,
    outputs: sig.outputs ? serializeSchema(sig.outputs) : null,
    params: sig.params ? serializeParams(sig.params) : null,
  };
}
