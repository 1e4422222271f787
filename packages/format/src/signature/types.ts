/** MLflow signature types (mlflow/types/schema.py), as plain data. */

export const PRIMITIVE_TYPES = ['boolean', 'integer', 'long', 'float', 'double', 'string', 'binary', 'datetime'] as const;
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

export interface ArrayType {
  readonly type: 'array';
  readonly items: ValueType;
}

export interface ObjectProperty {
  readonly name: string;
  readonly valueType: ValueType;
  readonly required: boolean;
}

export interface ObjectType {
  readonly type: 'object';
  /** Sorted by name, as MLflow keeps them. */
  readonly properties: readonly ObjectProperty[];
}

export interface MapType {
  readonly type: 'map';
  readonly values: ValueType;
}

export interface AnyType {
  readonly type: 'any';
}

export interface SparkMLVectorType {
  readonly type: 'sparkml_vector';
}

/** What a column, an array item, an object property or a map value may hold. */
export type ValueType = PrimitiveType | ArrayType | ObjectType | MapType | AnyType | SparkMLVectorType;

export interface ColSpec {
  readonly kind: 'column';
  readonly type: ValueType;
  readonly name: string | null;
  /** `null` only for the quirk where a complex type was read without a `required` key. */
  readonly required: boolean | null;
}

export interface TensorSpec {
  readonly kind: 'tensor';
  readonly name: string | null;
  /** numpy dtype name as written by MLflow (`float32`, `int64`, `str`, `object`, …). */
  readonly dtype: string;
  /** -1 marks a variable dimension. */
  readonly shape: readonly number[];
}

export type Schema = { readonly kind: 'columns'; readonly specs: readonly ColSpec[] } | { readonly kind: 'tensors'; readonly specs: readonly TensorSpec[] };

export type ParamType = Exclude<PrimitiveType, 'binary'> | ObjectType;

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** The default in its JSON form (datetimes as ISO strings). */
  readonly default: unknown;
  /** null for scalars, [-1] for 1-D lists. */
  readonly shape: readonly number[] | null;
}

export interface ModelSignature {
  readonly inputs: Schema | null;
  readonly outputs: Schema | null;
  readonly params: readonly ParamSpec[] | null;
}

export function isNamedSchema(schema: Schema): boolean {
  return schema.specs.every((s) => s.name !== null);
}

/** Human-readable name of a value type, e.g. `long`, `Array(string)`, `Map(str -> double)`. */
export function typeToString(t: ValueType): string {
  if (typeof t === 'string') return t;
  switch (t.type) {
    case 'array':
      return `Array(${typeToString(t.items)})`;
    case 'object':
      return `Object(${t.properties.map((p) => `${p.name}${p.required ? '' : '?'}: ${typeToString(p.valueType)}`).join(', ')})`;
    case 'map':
      return `Map(str -> ${typeToString(t.values)})`;
    case 'any':
      return 'Any';
    case 'sparkml_vector':
      return 'SparkMLVector';
  }
}
