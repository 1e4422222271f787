import { join } from 'node:path';
import { dtypeFromNumpyName, dtypeKind, type DType } from './dtype.js';
import { ModelFormatError } from './errors.js';
import { readTextFile, writeFileAtomic } from './fs-utils.js';
import { columnBatch, columnFromValues, columnValue, tensorBatch, tensorFromNested, valueAt } from './batch/values.js';
import type { Batch, ColumnBatch, Tensor } from './batch/types.js';
import type { SavedInputExampleInfo } from './mlmodel/types.js';
import { PyFloat, pyJsonDumps } from './pyjson.js';
import { decodeJson, plainJson } from './scoring/json-text.js';
import type { Schema } from './signature/types.js';
import { dtypeForColumnType } from './enforce/cast-rules.js';

export const INPUT_EXAMPLE_FILE = 'input_example.json';
export const SERVING_INPUT_EXAMPLE_FILE = 'serving_input_example.json';

/** An input example as stored: the data part (without the params wrapper) and its params. */
export interface InputExample {
  type: SavedInputExampleInfo['type'];
  /** The JSON data: split-orient dataframe, nested lists, dict of nested lists, or any JSON. */
  data: unknown;
  params?: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `input_example.json` decoded as Python's json module (which wrote it, with NaN/Infinity tokens) reads it; `exact` keeps `1.0` a float (PyFloat). */
async function readExampleJson(dir: string, info: SavedInputExampleInfo, exact: boolean): Promise<{ json: unknown; file: string }> {
  const file = join(dir, info.artifact_path);
  const text = await readTextFile(file);
  try {
    const { value } = decodeJson(new TextEncoder().encode(text));
    return { json: exact ? value : plainJson(value), file };
  } catch (e) {
    throw new ModelFormatError(`not valid JSON (${(e as Error).message})`, { file });
  }
}

/** Read `input_example.json` as described by `saved_input_example_info`. */
export async function readInputExample(dir: string, info: SavedInputExampleInfo): Promise<InputExample> {
  const { json, file } = await readExampleJson(dir, info, false);
  return exampleFromJson(info, json, file);
}

/**
 * The scoring request (JSON bytes) MLflow makes of a model's saved input example: what
 * `serving_input_example.json` holds, computed from `input_example.json` as it is now, numbers
 * written as they were read (`1.0` stays a float).
 */
export async function servingRequestFromExampleFile(dir: string, info: SavedInputExampleInfo): Promise<Uint8Array> {
  const { json, file } = await readExampleJson(dir, info, true);
  return new TextEncoder().encode(pyJsonDumps(servingRequestFromExample(exampleFromJson(info, json, file))));
}

function exampleFromJson(info: SavedInputExampleInfo, json: unknown, file: string): InputExample {
  if (info.params === 'true') {
    if (!isObj(json) || !('inputs' in json)) throw new ModelFormatError("expected {'inputs': ..., 'params': ...}", { file });
    return { type: info.type, data: json.inputs, params: isObj(json.params) ? json.params : {} };
  }
  return { type: info.type, data: json };
}

/** Read `serving_input_example.json` (a complete scoring request body), if the model has one. */
export async function readServingInputExample(dir: string, info: SavedInputExampleInfo): Promise<unknown | undefined> {
  if (!info.serving_input_path) return undefined;
  const file = join(dir, info.serving_input_path);
  try {
    return JSON.parse(await readTextFile(file));
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`not valid JSON (${(e as Error).message})`, { file });
  }
}

/** The batch an input example stands for, typed by the schema where one is given. */
export function inputExampleToBatch(example: InputExample, schema?: Schema | null): Batch {
  const { type, data } = example;
  if (type === 'dataframe') {
    if (!isObj(data) || !Array.isArray(data.data)) throw new ModelFormatError("a dataframe example needs a 'data' list of rows");
    const rows = data.data as unknown[][];
    const names = Array.isArray(data.columns) ? data.columns.map(String) : (rows[0] ?? []).map((_, i) => String(i));
    const cols = names.map((name, j) => {
      const spec = schema?.kind === 'columns' ? schema.specs.find((s) => s.name === name) : undefined;
      const dt = spec && typeof spec.type === 'string' ? dtypeForColumnType(spec.type) : undefined;
      return columnFromValues(
        name,
        rows.map((r) => r[j]),
        dt,
      );
    });
    return columnBatch(cols, rows.length);
  }
  if (type === 'ndarray') {
    const specDType = (name: string | null): DType | undefined => {
      if (schema?.kind !== 'tensors') return undefined;
      const s = schema.specs.find((t) => t.name === name) ?? (name === null ? schema.specs[0] : undefined);
      return s ? dtypeFromNumpyName(s.dtype) : undefined;
    };
    if (isObj(data)) return tensorBatch(Object.entries(data).map(([k, v]) => tensorFromNested(k, v, specDType(k))));
    return tensorBatch([tensorFromNested(null, data, specDType(null))]);
  }
  throw new ModelFormatError(`input examples of type '${type}' cannot be turned into a batch; use the JSON value directly`);
}

/** JSON-ready value of one element: floats keep their Python float form, NaN becomes null. */
function exampleScalar(dtype: DType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && dtypeKind(dtype) === 'f') return Number.isNaN(v) ? null : new PyFloat(v);
  if (typeof v === 'bigint') return dtype === 'datetime64[ns]' ? v : Number(v);
  return v;
}

function tensorToExample(t: Tensor): unknown {
  const flat = Array.from({ length: t.values.length }, (_, i) => exampleScalar(t.dtype, valueAt(t.dtype, t.values, i)));
  const build = (dim: number, off: number): unknown => {
    if (dim === t.shape.length) return flat[off];
    const stride = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
  };
  return build(0, 0);
}

function dataframeToExample(b: ColumnBatch): { columns: string[]; data: unknown[][] } {
  const data = Array.from({ length: b.numRows }, (_, i) => b.columns.map((c) => exampleScalar(c.dtype, columnValue(c, i))));
  return { columns: b.columns.map((c) => c.name), data };
}

const isUnifiedLlm = (data: unknown): boolean => isObj(data) && ['messages', 'prompt', 'input'].some((k) => k in data);

/**
 * The scoring request MLflow makes of an input example (`serving_input_example.json`'s content,
 * `convert_input_example_to_serving_input`): a dataframe becomes `{"dataframe_split": …}`, an
 * ndarray or other JSON `{"inputs": …}`, a unified-LLM dict stays itself; params go under
 * `"params"` (merged at the top level for LLM dicts). Sparse examples have no serving form.
 */
export function servingRequestFromExample(example: InputExample): Record<string, unknown> {
  const { type, data, params } = example;
  let serving: Record<string, unknown>;
  if (type === 'dataframe') serving = { dataframe_split: data };
  else if (type === 'ndarray') serving = { inputs: data };
  else if (type === 'json_object') serving = isUnifiedLlm(data) ? { ...(data as Record<string, unknown>) } : { inputs: data };
  else throw new ModelFormatError(`an input example of type '${type}' has no scoring-request form (MLflow saves no serving example for it)`);
  if (params) {
    if (type === 'json_object' && !('inputs' in serving)) Object.assign(serving, params);
    else serving.params = params;
  }
  return serving;
}

/** What to save: a batch (dataframe or ndarray example) or any JSON value (json_object). */
export type ExampleInput = { batch: Batch } | { json: unknown };

/**
 * Write `input_example.json` and `serving_input_example.json` the way MLflow does and return the
 * `saved_input_example_info` block for the MLmodel file.
 */
export async function saveInputExample(dir: string, input: ExampleInput, params?: Record<string, unknown>): Promise<SavedInputExampleInfo> {
  let type: SavedInputExampleInfo['type'];
  let data: unknown;
  const info: Partial<SavedInputExampleInfo> = {};
  if ('batch' in input && input.batch.kind === 'columns') {
    type = 'dataframe';
    data = dataframeToExample(input.batch);
    info.pandas_orient = 'split';
  } else if ('batch' in input && input.batch.kind === 'tensors') {
    type = 'ndarray';
    const ts = input.batch.tensors;
    data = ts.length === 1 && ts[0]!.name === null ? tensorToExample(ts[0]!) : Object.fromEntries(ts.map((t) => [t.name ?? '', tensorToExample(t)]));
  } else {
    type = 'json_object';
    data = (input as { json: unknown }).json;
  }
  const stored = params ? { inputs: data, params } : data;
  const serving = servingRequestFromExample({ type, data, ...(params ? { params } : {}) });
  await writeFileAtomic(join(dir, INPUT_EXAMPLE_FILE), pyJsonDumps(stored));
  await writeFileAtomic(join(dir, SERVING_INPUT_EXAMPLE_FILE), pyJsonDumps(serving, { indent: 2 }));
  return {
    artifact_path: INPUT_EXAMPLE_FILE,
    type,
    ...info,
    serving_input_path: SERVING_INPUT_EXAMPLE_FILE,
    ...(params ? { params: 'true' } : {}),
  };
}
