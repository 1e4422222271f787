import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ModelFormatError } from '../errors.js';

/**
 * JSON schemas for the parts of an MLmodel file whose shape is fixed. Flavor blocks we do not know
 * are only required to be mappings; the flavors we load natively are checked in full.
 */
const nullableString = { type: ['string', 'null'] };
const envSchema = {
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      properties: { conda: nullableString, virtualenv: nullableString },
      additionalProperties: true,
    },
  ],
};

const mlmodelSchema = {
  type: 'object',
  required: ['flavors'],
  properties: {
    flavors: {
      type: 'object',
      minProperties: 1,
      additionalProperties: { type: 'object' },
      properties: {
        python_function: {
          type: 'object',
          required: ['loader_module'],
          properties: {
            loader_module: { type: 'string', minLength: 1 },
            python_version: nullableString,
            code: nullableString,
            data: nullableString,
            env: envSchema,
            config: { type: ['object', 'null'] },
            model_path: nullableString,
            predict_fn: nullableString,
            streamable: { type: ['boolean', 'null'] },
            predict_stream_fn: nullableString,
            python_model: nullableString,
            artifacts: { type: ['object', 'null'] },
          },
        },
        onnx: {
          type: 'object',
          required: ['data'],
          properties: {
            data: { type: 'string', minLength: 1 },
            onnx_version: nullableString,
            providers: { type: ['array', 'null'], items: { type: 'string' } },
            onnx_session_options: { type: ['object', 'null'] },
            code: nullableString,
          },
        },
        sklearn: {
          type: 'object',
          properties: {
            pickled_model: nullableString,
            sklearn_version: nullableString,
            serialization_format: { type: ['string', 'null'], enum: ['cloudpickle', 'pickle', 'skops', null] },
            code: nullableString,
          },
        },
      },
    },
    run_id: nullableString,
    artifact_path: nullableString,
    utc_time_created: nullableString,
    model_uuid: nullableString,
    model_id: nullableString,
    mlflow_version: nullableString,
    signature: {
      type: ['object', 'null'],
      properties: { inputs: nullableString, outputs: nullableString, params: nullableString },
      additionalProperties: false,
    },
    is_signature_from_type_hint: { type: 'boolean' },
    type_hint_from_example: { type: 'boolean' },
    saved_input_example_info: {
      type: ['object', 'null'],
      required: ['artifact_path', 'type'],
      properties: {
        artifact_path: { type: 'string', minLength: 1 },
        type: { type: 'string' },
        pandas_orient: { type: 'string' },
        serving_input_path: { type: 'string' },
        params: { type: 'string' },
      },
    },
    metadata: { type: ['object', 'null'] },
    model_size_bytes: { type: ['integer', 'null'], minimum: 0 },
    databricks_runtime: nullableString,
    env_vars: { type: ['array', 'null'], items: { type: 'string' } },
    prompts: { type: ['array', 'null'], items: { type: 'string' } },
    resources: { type: ['object', 'null'] },
    auth_policy: { type: ['object', 'null'] },
  },
};

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(mlmodelSchema);
  return compiled;
}

/** Dotted key path (`flavors.onnx.data`) from ajv's JSON pointer. */
function keyPath(err: ErrorObject): string {
  const parts = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'required') parts.push(String((err.params as { missingProperty: string }).missingProperty));
  return parts.join('.') || '(top level)';
}

function describe(err: ErrorObject): string {
  switch (err.keyword) {
    case 'required':
      return 'is required but missing';
    case 'type':
      return `expected ${String((err.params as { type: string | string[] }).type).split(',').join(' or ')}`;
    case 'minProperties':
      return 'must contain at least one entry';
    case 'enum':
      return `expected one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'additionalProperties':
      return `unexpected key ${JSON.stringify((err.params as { additionalProperty: string }).additionalProperty)}`;
    case 'oneOf':
      return 'expected a string (legacy) or a mapping with conda/virtualenv';
    default:
      return err.message ?? 'is invalid';
  }
}

/** Validate a parsed MLmodel mapping; throws ModelFormatError naming the file, key path and expectation. */
export function validateMLmodelDict(d: unknown, file?: string): void {
  const v = validator();
  if (v(d)) return;
  const err = v.errors?.[0];
  if (!err) throw new ModelFormatError('invalid MLmodel file', { file });
  throw new ModelFormatError(describe(err), { file, keyPath: keyPath(err) });
}
