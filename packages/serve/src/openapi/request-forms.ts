/**
 * The four JSON forms of an MLflow scoring request (`dataframe_split`, `dataframe_records`,
 * `instances`, `inputs`) and the `predictions` of its answer, as JSON Schemas derived from a model
 * signature. Without a signature every form is permissive, as the server is.
 */
import type { ColSpec, ModelSignature, Schema, TensorSpec } from '@mlmodel/format';
import { columnValueSchema, paramsSchema, tensorInstanceSchema, tensorSchema, type JsonSchema } from './json-schema.js';

export const JSON_FORMS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
export type JsonForm = (typeof JSON_FORMS)[number];

const ANY: JsonSchema = { description: 'any JSON value' };
const ANY_RECORDS: JsonSchema = { type: 'array', items: { type: 'object' }, description: 'one object per row, column name → value' };

const FORM_DESCRIPTIONS: Record<JsonForm, string> = {
  dataframe_split: "A pandas DataFrame in 'split' orient: column names and rows of values.",
  dataframe_records: "A pandas DataFrame in 'records' orient: one object per row.",
  instances: 'TF Serving row form: a list of instances.',
  inputs: 'TF Serving columnar form: column/tensor name → values, or a single tensor.',
};

const isNamed = (specs: readonly { name: string | null }[]): boolean => specs.length > 0 && specs.every((s) => s.name !== null);
const names = (specs: readonly { name: string | null }[]): string[] => specs.map((s) => s.name ?? '');

function splitSchema(columns: JsonSchema, row: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['data'],
    properties: { columns, data: { type: 'array', items: row }, index: { type: 'array', description: 'row labels (ignored by the model)' } },
  };
}

function columnForms(specs: readonly ColSpec[]): Record<JsonForm, JsonSchema> {
  const row: JsonSchema = { type: 'array', prefixItems: specs.map(columnValueSchema), description: 'one value per column, in the order of `columns`' };
  if (!isNamed(specs)) {
    const instance = specs.length === 1 ? columnValueSchema(specs[0]!) : row;
    const rows: JsonSchema = { type: 'array', items: instance };
    return { dataframe_split: splitSchema({ type: 'array' }, row), dataframe_records: ANY_RECORDS, instances: rows, inputs: rows };
  }
  const required = specs.filter((s) => s.required !== false).map((s) => s.name!);
  const record: JsonSchema = { type: 'object', properties: Object.fromEntries(specs.map((s) => [s.name!, columnValueSchema(s)])), required };
  const records: JsonSchema = { type: 'array', items: record };
  const columnar: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(specs.map((s) => [s.name!, { type: 'array', items: columnValueSchema(s) }])),
    required,
    description: 'column name → list of values',
  };
  return {
    dataframe_split: splitSchema({ type: 'array', items: { type: 'string', enum: names(specs) } }, row),
    dataframe_records: records,
    instances: records,
    inputs: { anyOf: [columnar, records] },
  };
}

function tensorForms(specs: readonly TensorSpec[]): Record<JsonForm, JsonSchema> {
  if (!isNamed(specs)) {
    const t = specs[0]!;
    const whole = tensorSchema(t);
    const row = t.shape.length === 2 ? (whole.items as JsonSchema) : { type: 'array' };
    return { dataframe_split: splitSchema({ type: 'array' }, row), dataframe_records: ANY_RECORDS, instances: whole, inputs: whole };
  }
  const required = names(specs);
  const instance: JsonSchema = { type: 'object', properties: Object.fromEntries(specs.map((t) => [t.name!, tensorInstanceSchema(t)])), required };
  return {
    dataframe_split: splitSchema({ type: 'array', items: { type: 'string', enum: required } }, { type: 'array' }),
    dataframe_records: { type: 'array', items: instance },
    instances: { type: 'array', items: instance },
    inputs: { type: 'object', properties: Object.fromEntries(specs.map((t) => [t.name!, tensorSchema(t)])), required, description: 'tensor name → tensor' },
  };
}

/** The data schema of each JSON form for an input schema (permissive without one). */
export function formSchemas(inputs: Schema | null): Record<JsonForm, JsonSchema> {
  if (!inputs) return { dataframe_split: splitSchema({ type: 'array' }, { type: 'array' }), dataframe_records: ANY_RECORDS, instances: ANY, inputs: ANY };
  return inputs.kind === 'columns' ? columnForms(inputs.specs) : tensorForms(inputs.specs);
}

/**
 * The `application/json` request body: a oneOf of the forms, each with `params`. A signature
 * written from type hints takes only `inputs`, passed to the model as it is.
 */
export function jsonRequestSchema(signature: ModelSignature | null, fromTypeHint: boolean): JsonSchema {
  const params = paramsSchema(signature?.params ?? null);
  const forms = formSchemas(signature?.inputs ?? null);
  const wrap = (f: JsonForm, data: JsonSchema): JsonSchema => ({
    title: f,
    type: 'object',
    required: [f],
    properties: { [f]: { ...data, description: FORM_DESCRIPTIONS[f] + (typeof data.description === 'string' ? ` ${data.description}` : '') }, params },
  });
  if (fromTypeHint) return wrap('inputs', { description: 'passed to the model as it is (the signature comes from type hints)' });
  return { oneOf: JSON_FORMS.map((f) => wrap(f, forms[f])) };
}

/** The `predictions` value for an output schema. */
export function predictionsSchema(outputs: Schema | null): JsonSchema {
  if (!outputs) return { description: 'the model output (this model has no output schema)' };
  if (outputs.kind === 'tensors') {
    if (!isNamed(outputs.specs)) return tensorSchema(outputs.specs[0]!);
    return { type: 'object', properties: Object.fromEntries(outputs.specs.map((t) => [t.name!, tensorSchema(t)])), description: 'output name → tensor' };
  }
  const specs = outputs.specs;
  const values: JsonSchema = {
    type: 'array',
    items: specs.length === 1 ? columnValueSchema(specs[0]!) : { type: 'array', prefixItems: specs.map(columnValueSchema) },
  };
  if (!isNamed(specs)) return values;
  const records: JsonSchema = { type: 'array', items: { type: 'object', properties: Object.fromEntries(specs.map((s) => [s.name!, columnValueSchema(s)])) } };
  return { anyOf: [records, values], description: 'one object per row (a DataFrame prediction) or the values (an array prediction)' };
}
