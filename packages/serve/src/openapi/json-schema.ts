/**
 * MLflow signature types → JSON Schema (the dialect of OpenAPI 3.1): ColSpec value types, TensorSpec
 * dtypes and shapes, and ParamSpecs. Pure functions over @mlmodel/format's signature types.
 */
import { dtypeFromNumpyName, dtypeKind, typeToString, type ColSpec, type ParamSpec, type TensorSpec, type ValueType } from '@mlmodel/format';

/** A JSON Schema object (kept loose: it is only ever serialized). */
export type JsonSchema = Record<string, unknown>;

/** JSON Schema for one value of an MLflow value type (a cell, an array item, a property). */
export function valueTypeSchema(t: ValueType): JsonSchema {
  if (typeof t === 'string') {
    switch (t) {
      case 'boolean':
        return { type: 'boolean' };
      case 'integer':
        return { type: 'integer', format: 'int32' };
      case 'long':
        return { type: 'integer', format: 'int64' };
      case 'float':
        return { type: 'number', format: 'float' };
      case 'double':
        return { type: 'number', format: 'double' };
      case 'string':
        return { type: 'string' };
      case 'binary':
        return { type: 'string', contentEncoding: 'base64', description: 'base64-encoded bytes' };
      case 'datetime':
        return { type: 'string', format: 'date-time' };
    }
  }
  switch (t.type) {
    case 'array':
      return { type: 'array', items: valueTypeSchema(t.items) };
    case 'object': {
      const required = t.properties.filter((p) => p.required).map((p) => p.name);
      return {
        type: 'object',
        properties: Object.fromEntries(t.properties.map((p) => [p.name, p.required ? valueTypeSchema(p.valueType) : nullable(valueTypeSchema(p.valueType))])),
        ...(required.length > 0 ? { required } : {}),
      };
    }
    case 'map':
      return { type: 'object', additionalProperties: valueTypeSchema(t.values) };
    case 'any':
      return { description: 'any JSON value' };
    case 'sparkml_vector':
      return { type: 'array', items: { type: 'number' }, description: 'a Spark ML vector, as its dense values' };
  }
}

/** The schema that also accepts null (an optional column's missing value). */
export function nullable(s: JsonSchema): JsonSchema {
  if (Object.keys(s).length === 0 || !('type' in s)) return s;
  return { anyOf: [s, { type: 'null' }] };
}

/** Schema for one cell of a column. */
export function columnValueSchema(c: ColSpec): JsonSchema {
  const s = { ...valueTypeSchema(c.type), title: typeToString(c.type) };
  return c.required === false ? nullable(s) : s;
}

/** Schema for one element of a tensor of this numpy dtype. */
export function dtypeElementSchema(dtypeName: string): JsonSchema {
  const d = dtypeFromNumpyName(dtypeName);
  if (d === undefined) return { description: `elements of dtype ${dtypeName}` };
  switch (dtypeKind(d)) {
    case 'b':
      return { type: 'boolean' };
    case 'i':
      return { type: 'integer', format: d === 'int64' ? 'int64' : 'int32' };
    case 'u':
      return { type: 'integer', minimum: 0, ...(d === 'uint64' ? { format: 'int64' } : {}) };
    case 'f':
      return { type: 'number', format: d === 'float64' ? 'double' : 'float' };
    case 'U':
      return { type: 'string' };
    case 'S':
      return { type: 'string', contentEncoding: 'base64', description: 'base64-encoded bytes' };
    case 'M':
      return { type: 'string', format: 'date-time' };
    case 'O':
      return { description: 'any JSON value' };
  }
}

/** Nested arrays of `element` for the dimensions `shape` (-1: any length). */
export function nestedArraySchema(shape: readonly number[], element: JsonSchema): JsonSchema {
  let s = element;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    s = { type: 'array', items: s, ...(d >= 0 ? { minItems: d, maxItems: d } : {}) };
  }
  return s;
}

/** A whole tensor (batch dimension included), e.g. `float32 [-1, 4]` → array of arrays of 4 numbers. */
export function tensorSchema(t: TensorSpec): JsonSchema {
  return { ...nestedArraySchema(t.shape, dtypeElementSchema(t.dtype)), description: `${t.dtype} tensor of shape [${t.shape.join(', ')}]` };
}

/** One instance of a tensor: its shape without the batch dimension (a scalar for 1-D tensors). */
export function tensorInstanceSchema(t: TensorSpec): JsonSchema {
  return nestedArraySchema(t.shape.slice(1), dtypeElementSchema(t.dtype));
}

/** Schema of one param value: its type, its default, a list when its shape is [-1]. */
export function paramSchema(p: ParamSpec): JsonSchema {
  const scalar = valueTypeSchema(p.type);
  const base = p.shape === null ? scalar : nestedArraySchema(p.shape, scalar);
  const typeName = typeof p.type === 'string' ? p.type : typeToString(p.type);
  return {
    ...base,
    ...(p.default !== null && p.default !== undefined ? { default: p.default } : {}),
    description: `${typeName}${p.shape ? ` list` : ''} param`,
  };
}

/** The `params` object of a scoring request. */
export function paramsSchema(params: readonly ParamSpec[] | null): JsonSchema {
  if (!params || params.length === 0) {
    return { type: 'object', description: 'Params for the model (this model declares none; unknown params are ignored).' };
  }
  return {
    type: 'object',
    description: 'Params for predict (optional; a missing param takes its default).',
    properties: Object.fromEntries(params.map((p) => [p.name, paramSchema(p)])),
  };
}
