/**
 * Open Inference Protocol v2 pieces of the OpenAPI document: the shared request/response/error
 * schemas, and per-model inference-request schemas and examples. Tensor names, datatypes and
 * shapes come from the OIP routes' own metadata (../oip/metadata.ts), so the two always agree.
 */
import { OIP_DATATYPES } from '../oip/datatype.js';
import type { MetadataTensor } from '../oip/metadata.js';
import type { JsonSchema } from './json-schema.js';

const PARAMETERS: JsonSchema = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean'] },
  description: 'Free-form parameters ($parameters).',
};

const TENSOR_DATA: JsonSchema = { type: 'array', description: 'Row-major tensor data, flat or nested.' };
const SHAPE: JsonSchema = { type: 'array', items: { type: 'integer' } };

/** Components shared by every model's OIP paths. */
export function oipComponents(): Record<string, JsonSchema> {
  return {
    OipParameters: PARAMETERS,
    OipMetadataTensor: {
      type: 'object',
      required: ['name', 'datatype', 'shape'],
      properties: {
        name: { type: 'string' },
        datatype: { type: 'string', enum: [...OIP_DATATYPES] },
        shape: { ...SHAPE, description: '-1 marks a variable dimension' },
        parameters: { $ref: '#/components/schemas/OipParameters' },
      },
    },
    OipModelMetadata: {
      type: 'object',
      required: ['name', 'platform', 'inputs', 'outputs'],
      properties: {
        name: { type: 'string' },
        versions: { type: 'array', items: { type: 'string' } },
        platform: { type: 'string' },
        inputs: { type: 'array', items: { $ref: '#/components/schemas/OipMetadataTensor' } },
        outputs: { type: 'array', items: { $ref: '#/components/schemas/OipMetadataTensor' } },
      },
    },
    OipServerMetadata: {
      type: 'object',
      required: ['name', 'version', 'extensions'],
      properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
    },
    OipResponseOutput: {
      type: 'object',
      required: ['name', 'shape', 'datatype', 'data'],
      properties: {
        name: { type: 'string' },
        shape: SHAPE,
        datatype: { type: 'string', enum: [...OIP_DATATYPES] },
        parameters: { $ref: '#/components/schemas/OipParameters' },
        data: TENSOR_DATA,
      },
    },
    OipInferenceResponse: {
      type: 'object',
      required: ['model_name', 'outputs'],
      properties: {
        model_name: { type: 'string' },
        model_version: { type: 'string' },
        id: { type: 'string' },
        parameters: { $ref: '#/components/schemas/OipParameters' },
        outputs: { type: 'array', items: { $ref: '#/components/schemas/OipResponseOutput' } },
      },
    },
    OipError: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
  };
}

/** `$inference_request` for one model: input (and output) names restricted to the model's. */
export function oipInferenceRequestSchema(inputs: readonly MetadataTensor[], outputs: readonly MetadataTensor[]): JsonSchema {
  const name = (tensors: readonly MetadataTensor[]): JsonSchema =>
    tensors.length > 0 ? { type: 'string', enum: tensors.map((t) => t.name) } : { type: 'string' };
  return {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: { $ref: '#/components/schemas/OipParameters' },
      inputs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'shape', 'datatype', 'data'],
          properties: {
            name: name(inputs),
            shape: SHAPE,
            datatype: { type: 'string', enum: [...OIP_DATATYPES] },
            parameters: { $ref: '#/components/schemas/OipParameters' },
            data: TENSOR_DATA,
          },
        },
      },
      outputs: {
        type: 'array',
        items: { type: 'object', required: ['name'], properties: { name: name(outputs), parameters: { $ref: '#/components/schemas/OipParameters' } } },
      },
    },
  };
}

function flatten(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else out.push(v);
}

function shapeOf(v: unknown): number[] {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/**
 * An inference request equivalent to an `/invocations` example body (split DataFrame → one 1-D
 * tensor per column; `inputs` tensors as they are), or null when it has another form.
 */
export function oipExampleFromRequest(body: Record<string, unknown>, inputs: readonly MetadataTensor[]): Record<string, unknown> | null {
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const tensor = (name: string, value: unknown, datatype?: string): Record<string, unknown> => {
    const data: unknown[] = [];
    flatten(value, data);
    return { name, shape: Array.isArray(value) ? shapeOf(value) : [1], datatype: datatype ?? byName.get(name)?.datatype ?? 'BYTES', data };
  };
  const split = body.dataframe_split as { columns?: unknown[]; data?: unknown[][] } | undefined;
  if (split && Array.isArray(split.columns) && Array.isArray(split.data)) {
    const rows = split.data;
    return {
      inputs: split.columns.map((c, j) =>
        tensor(
          String(c),
          rows.map((r) => r[j]),
        ),
      ),
    };
  }
  const x = body.inputs;
  if (Array.isArray(x) && inputs.length === 1) return { inputs: [tensor(inputs[0]!.name, x)] };
  if (x && typeof x === 'object' && !Array.isArray(x)) return { inputs: Object.entries(x).map(([k, v]) => tensor(k, v)) };
  return null;
}
