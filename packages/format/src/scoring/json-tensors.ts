/**
 * The TF-serving request forms (`instances`, `inputs`) → batches, the way MLflow's
 * `parse_tf_serving_input` / `_cast_schema_type` / `convert_data_type` build numpy arrays:
 *
 * - a dict → one named tensor per key, each `np.array(value, dtype=<spec dtype>)` (inferred
 *   for keys the schema does not name); Array/Object/Map/Any columns keep plain values;
 * - a list of dicts → records (`inputs`, a DataFrame later) or columns (`instances`, whose
 *   required columns must then have equal lengths);
 * - any other list → one unnamed tensor with the FIRST spec's dtype; with a single named
 *   column or tensor, the list is that input's values;
 * - a scalar → a 0-d tensor;
 * - an un-named schema refuses a dict, with MLflow's message.
 */
import { dtypeFromNumpyName, type DType } from '../dtype.js';
import type { Batch, Tensor, TensorBatch } from '../batch/types.js';
import { dtypeForColumnType } from '../enforce/cast-rules.js';
import { isPlainObject } from '../enforce/common.js';
import type { ColSpec, Schema, TensorSpec } from '../signature/types.js';
import { CastFailure, invalidInput, type ScoringRequestError } from './errors.js';
import { castFrame, recordsToColumns } from './json-frames.js';
import { jsonToTensor } from './json-cast.js';
import type { NumericArray } from './json-numeric.js';
import { jsonKeys, plainJson } from './json-text.js';
import { isPyScalar, pyClassOf } from './py-names.js';

type Spec = ColSpec | TensorSpec;

function specDType(spec: Spec): DType | undefined {
  if (spec.kind === 'tensor') {
    const d = dtypeFromNumpyName(spec.dtype);
    if (d === undefined) throw new CastFailure(`the model signature declares the unsupported dtype '${spec.dtype}'`);
    return d;
  }
  return typeof spec.type === 'string' ? dtypeForColumnType(spec.type) : undefined;
}

function typeLabel(spec: Spec | undefined, dtype: DType | undefined): string {
  if (spec === undefined) return 'an array';
  if (spec.kind === 'tensor') return `dtype '${spec.dtype}'`;
  return typeof spec.type === 'string' ? `type '${spec.type}' (${dtype})` : 'its type';
}

function conversionError(name: string | null, spec: Spec | undefined, dtype: DType | undefined, detail: string): ScoringRequestError {
  const what = name === null ? 'the input' : `input '${name}'`;
  return invalidInput(`Failed to convert ${what} to ${typeLabel(spec, dtype)}: ${detail}`);
}

/** A 0-d object tensor holding one plain JSON value (Array/Object/Map/Any columns, dicts without a spec). */
function objectScalar(name: string | null, value: unknown): Tensor {
  return { name, dtype: 'object', shape: [], values: [plainJson(value)] } as Tensor;
}

/** MLflow's `convert_data_type(data, spec)`. */
function convertDataType(data: unknown, spec: Spec | undefined, name: string | null): Tensor {
  if (spec?.kind === 'column' && typeof spec.type !== 'string') return objectScalar(name, data);
  let dtype: DType | undefined;
  try {
    dtype = spec ? specDType(spec) : undefined;
    return jsonToTensor(name, data, dtype);
  } catch (e) {
    if (e instanceof CastFailure) throw conversionError(name, spec, dtype, e.message);
    throw e;
  }
}

function specsByName(schema: Schema | null): Map<string, Spec> {
  const m = new Map<string, Spec>();
  if (schema && schema.specs.every((s) => s.name !== null)) for (const s of schema.specs) if (!m.has(s.name!)) m.set(s.name!, s);
  return m;
}

function isNamed(schema: Schema | null): boolean {
  return schema !== null && schema.specs.length > 0 && schema.specs.every((s) => s.name !== null);
}

/** `inputs` as a list of dicts: MLflow converts each value, then `_enforce_schema` makes a DataFrame of the records. */
function recordsBatch(rows: readonly Record<string, unknown>[], schema: Schema | null): Batch {
  const { names, values } = recordsToColumns(rows);
  return castFrame(names, values, rows.length, schema, (column, typeName, detail) =>
    invalidInput(`Failed to convert input '${column}' to type '${typeName}': ${detail}`),
  );
}

/** MLflow's `_cast_schema_type` (the whole `inputs` form, and `instances` that are not records). */
export function castSchemaType(input: unknown, schema: Schema | null): Batch {
  const types = specsByName(schema);
  let data = input;
  if (schema !== null) {
    if (types.size === 1 && Array.isArray(data) && !data.some(isPlainObject)) {
      data = { [types.keys().next().value!]: data };
    } else if (!isNamed(schema) && !(Array.isArray(data) || isPyScalar(data))) {
      throw invalidInput(
        'Failed to parse input data. This model contains an un-named  model signature which expects a single n-dimensional ' +
          `array or a single value as input, however, an input of type ${pyClassOf(data)} was found.`,
      );
    }
  }
  if (isPlainObject(data)) {
    const obj = data;
    const tensors = jsonKeys(obj).map((k) => convertDataType(obj[k], types.get(k), k));
    return { kind: 'tensors', tensors } satisfies TensorBatch;
  }
  if (Array.isArray(data)) {
    // MLflow takes `[]` as an (empty) list of records too; an empty array serves tensors better and enforces the same.
    if (data.length > 0 && data.every(isPlainObject)) return recordsBatch(data as Record<string, unknown>[], schema);
    return { kind: 'tensors', tensors: [convertDataType(data, schema?.specs[0], null)] };
  }
  return { kind: 'tensors', tensors: [convertDataType(data, schema?.specs[0], null)] };
}

/**
 * `castSchemaType` (and `parseInstances`, which is the same for lists that are not records) of a
 * nested numeric array: one tensor, named when the schema has a single named input, with the
 * spec's dtype or numpy's inferred one. Undefined when the generic path must decide (a spec that
 * keeps plain values or whose dtype this path does not write, a value the dtype refuses).
 */
export function numericTensorBatch(data: NumericArray, schema: Schema | null): TensorBatch | undefined {
  const types = specsByName(schema);
  let name: string | null = null;
  let spec: Spec | undefined = schema?.specs[0];
  if (schema !== null && types.size === 1) [name, spec] = types.entries().next().value!;
  if (spec?.kind === 'column' && typeof spec.type !== 'string') return undefined;
  let dtype: DType | undefined;
  try {
    dtype = spec ? specDType(spec) : undefined;
  } catch (e) {
    if (e instanceof CastFailure) return undefined;
    throw e;
  }
  dtype ??= data.intOnly ? 'int64' : 'float64';
  const values = data.fill(dtype);
  if (values === undefined) return undefined;
  return { kind: 'tensors', tensors: [{ name, dtype, shape: data.shape, values } as Tensor] };
}

/** MLflow's `parse_instances_data`. */
export function parseInstances(input: unknown, schema: Schema | null): Batch {
  let batch: Batch;
  if (Array.isArray(input) && input.length > 0 && isPlainObject(input[0])) {
    const bad = input.findIndex((r) => !isPlainObject(r));
    if (bad >= 0) {
      throw invalidInput(
        `Ensure that the input is a valid JSON-formatted string.\nError: instance ${bad} is ${pyClassOf(input[bad])}, but the first instance is a dict: every instance must be a dict.`,
      );
    }
    const types = specsByName(schema);
    const { names, values } = recordsToColumnsStrict(input as Record<string, unknown>[]);
    const tensors = names.map((name, j) => {
      const spec = types.get(name);
      const vals = values[j]!;
      if (spec?.kind === 'column' && typeof spec.type !== 'string') {
        return { name, dtype: 'object', shape: [vals.length], values: vals.map((v) => plainJson(v)) } as Tensor;
      }
      return convertDataType(vals, spec, name);
    });
    batch = { kind: 'tensors', tensors };
  } else {
    batch = castSchemaType(input, schema);
  }
  if (batch.kind === 'tensors' && batch.tensors.length > 0 && batch.tensors.every((t) => t.name !== null)) checkLengths(batch, schema);
  return batch;
}

/** Columns of the `instances` records: only the values each record has (no padding), like MLflow's defaultdict(list). */
function recordsToColumnsStrict(rows: readonly Record<string, unknown>[]): { names: string[]; values: unknown[][] } {
  const index = new Map<string, number>();
  const names: string[] = [];
  const values: unknown[][] = [];
  for (const row of rows) {
    for (const k of jsonKeys(row)) {
      let j = index.get(k);
      if (j === undefined) {
        j = names.length;
        index.set(k, j);
        names.push(k);
        values.push([]);
      }
      values[j]!.push(row[k]);
    }
  }
  return { names, values };
}

function checkLengths(batch: TensorBatch, schema: Schema | null): void {
  let check = batch.tensors.filter((t) => t.shape.length > 0);
  if (isNamed(schema)) {
    const eligible = new Set(
      schema!.specs
        .filter((s) => (s.kind === 'tensor' || s.required === true) && !(s.kind === 'column' && typeof s.type !== 'string' && s.type.type === 'array'))
        .map((s) => s.name!),
    );
    check = check.filter((t) => eligible.has(t.name!));
  }
  if (check.length < 2) return;
  const n = check[0]!.shape[0];
  if (!check.every((t) => t.shape[0] === n)) {
    const lengths = check.map((t) => `${t.name}: ${t.shape[0]}`).join(', ');
    throw invalidInput(`The length of values for each input/column name are not the same (${lengths})`);
  }
}
