/**
 * Example request bodies for the OpenAPI document: from the model's saved input example when it
 * has one (MLflow stores `input_example.json` as a split-orient DataFrame, a (dict of) nested
 * list(s), or any JSON), else synthesized from the signature. Every example is a complete, valid
 * `/invocations` body; a few rows at most.
 */
import {
  readInputExample,
  readServingInputExample,
  type ColSpec,
  type ModelDir,
  type ModelSignature,
  type ParamSpec,
  type TensorSpec,
  type ValueType,
} from '@mlmodel/format';
import { dtypeFromNumpyName, dtypeKind } from '@mlmodel/format';
import { JSON_FORMS } from './request-forms.js';

/** An OpenAPI Example Object. */
export interface RequestExample {
  readonly summary: string;
  readonly value: unknown;
}

/** Rows (or first-dimension entries) kept from a saved example. */
export const MAX_EXAMPLE_ROWS = 5;
/** Largest synthesized tensor, in elements; bigger ones get no example. */
const MAX_SYNTH_ELEMENTS = 4096;
/** Largest example kept, in bytes of JSON. */
const MAX_EXAMPLE_BYTES = 256 * 1024;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const LLM_KEYS = ['messages', 'prompt', 'input'];

function firstRows(v: unknown): unknown {
  return Array.isArray(v) ? v.slice(0, MAX_EXAMPLE_ROWS) : v;
}

/** The request body for a saved input example (`data` as read by readInputExample). */
export function requestFromSavedExample(
  type: string,
  data: unknown,
  params: Record<string, unknown> | undefined,
  signature: ModelSignature | null,
): Record<string, unknown> | null {
  let body: Record<string, unknown>;
  if (type === 'dataframe') {
    if (isObj(data) && Array.isArray(data.data)) {
      body = { dataframe_split: { ...(Array.isArray(data.columns) ? { columns: data.columns } : {}), data: firstRows(data.data) } };
    } else if (Array.isArray(data)) {
      // orient 'values': rows only; name them from the signature when it names its columns
      const specs = signature?.inputs?.kind === 'columns' ? signature.inputs.specs : [];
      const columns = specs.length > 0 && specs.every((s) => s.name !== null) ? specs.map((s) => s.name) : undefined;
      body = { dataframe_split: { ...(columns ? { columns } : {}), data: firstRows(data) } };
    } else return null;
  } else if (type === 'ndarray') {
    body = { inputs: isObj(data) ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, firstRows(v)])) : firstRows(data) };
  } else if (type === 'json_object') {
    body = isObj(data) && LLM_KEYS.some((k) => k in data) ? { ...data } : { inputs: data };
  } else return null;
  if (params && Object.keys(params).length > 0) {
    if ('inputs' in body || JSON_FORMS.some((f) => f in body)) body.params = params;
    else Object.assign(body, params);
  }
  return body;
}

function smallEnough(v: unknown): boolean {
  try {
    return JSON.stringify(v).length <= MAX_EXAMPLE_BYTES;
  } catch {
    return false;
  }
}

/** The model's own example as a request body, or null when it has none usable. */
export async function loadSavedExample(dir: ModelDir, signature: ModelSignature | null): Promise<Record<string, unknown> | null> {
  const info = dir.mlmodel.saved_input_example_info;
  if (!info) return null;
  try {
    const ex = await readInputExample(dir.dir, info);
    const body = requestFromSavedExample(ex.type, ex.data, ex.params, signature);
    if (body && smallEnough(body)) return body;
  } catch {
    // fall through to the serving example
  }
  try {
    const serving = await readServingInputExample(dir.dir, info);
    if (isObj(serving) && JSON_FORMS.filter((f) => f in serving).length === 1 && smallEnough(serving)) return serving;
  } catch {
    // no usable example
  }
  return null;
}

/** A plausible value of a value type. */
export function sampleValue(t: ValueType): unknown {
  if (typeof t === 'string') {
    switch (t) {
      case 'boolean':
        return true;
      case 'integer':
      case 'long':
        return 1;
      case 'float':
      case 'double':
        return 0.5;
      case 'string':
        return 'text';
      case 'binary':
        return 'aGVsbG8=';
      case 'datetime':
        return '2024-01-01T00:00:00';
    }
  }
  switch (t.type) {
    case 'array':
      return [sampleValue(t.items)];
    case 'object':
      return Object.fromEntries(t.properties.map((p) => [p.name, sampleValue(p.valueType)]));
    case 'map':
      return { key: sampleValue(t.values) };
    case 'any':
      return 'value';
    case 'sparkml_vector':
      return [0.5, 1.5];
  }
}

function sampleElement(dtypeName: string): unknown {
  const d = dtypeFromNumpyName(dtypeName);
  if (d === undefined) return 0;
  switch (dtypeKind(d)) {
    case 'b':
      return true;
    case 'i':
    case 'u':
      return 1;
    case 'f':
      return 0.5;
    case 'U':
    case 'O':
      return 'text';
    case 'S':
      return 'aGVsbG8=';
    case 'M':
      return '2024-01-01T00:00:00';
  }
}

/** A tensor of `t`'s shape (variable dimensions: 1) filled with a sample element, or null if too big. */
export function sampleTensor(t: TensorSpec): unknown {
  const shape = t.shape.map((d) => (d < 0 ? 1 : d));
  if (shape.reduce((a, b) => a * b, 1) > MAX_SYNTH_ELEMENTS) return null;
  const el = sampleElement(t.dtype);
  const build = (dim: number): unknown => (dim === shape.length ? el : Array.from({ length: shape[dim]! }, () => build(dim + 1)));
  return build(0);
}

function sampleParams(params: readonly ParamSpec[] | null): Record<string, unknown> | undefined {
  if (!params || params.length === 0) return undefined;
  return Object.fromEntries(params.map((p) => [p.name, p.default ?? (p.shape ? [sampleValue(p.type)] : sampleValue(p.type))]));
}

function sampleColumns(specs: readonly ColSpec[]): Record<string, unknown> {
  const row = specs.map((s) => sampleValue(s.type));
  const named = specs.every((s) => s.name !== null);
  return { dataframe_split: { ...(named ? { columns: specs.map((s) => s.name) } : {}), data: [row] } };
}

/** A request body made up from the signature: one row of sample values, params at their defaults. */
export function synthesizeExample(signature: ModelSignature | null): Record<string, unknown> | null {
  const inputs = signature?.inputs;
  if (!inputs) return null;
  let body: Record<string, unknown>;
  if (inputs.kind === 'columns') body = sampleColumns(inputs.specs);
  else {
    const tensors = inputs.specs.map((t) => [t.name, sampleTensor(t)] as const);
    if (tensors.some(([, v]) => v === null)) return null;
    body = { inputs: inputs.specs.length === 1 && inputs.specs[0]!.name === null ? tensors[0]![1] : Object.fromEntries(tensors) };
  }
  const params = sampleParams(signature.params);
  return params ? { ...body, params } : body;
}

/** The same request in the other forms worth showing (split → records; a single tensor → instances). */
export function alternativeForms(body: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const params = isObj(body.params) ? { params: body.params } : {};
  const split = body.dataframe_split;
  if (isObj(split) && Array.isArray(split.columns) && Array.isArray(split.data)) {
    const cols = split.columns as unknown[];
    const records = (split.data as unknown[]).map((r) => (Array.isArray(r) ? Object.fromEntries(cols.map((c, j) => [String(c), r[j]])) : {}));
    out.dataframe_records = { dataframe_records: records, ...params };
  }
  if (Array.isArray(body.inputs)) out.instances = { instances: body.inputs, ...params };
  return out;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The request as CSV (header row + rows), when it is a split DataFrame with column names and scalar cells. */
export function csvExample(body: Record<string, unknown>): string | null {
  const split = body.dataframe_split;
  if (!isObj(split) || !Array.isArray(split.columns) || !Array.isArray(split.data)) return null;
  const rows = split.data as unknown[];
  if (!rows.every((r) => Array.isArray(r) && r.every((v) => v === null || typeof v !== 'object'))) return null;
  return [(split.columns as unknown[]).map(csvCell).join(','), ...rows.map((r) => (r as unknown[]).map(csvCell).join(','))].join('\n') + '\n';
}

/** Named examples for the application/json body: the model's own (or a synthesized one) and its other forms. */
export function jsonExamples(body: Record<string, unknown> | null, saved: boolean): Record<string, RequestExample> {
  if (!body) return {};
  const form = Object.keys(body).find((k) => k !== 'params') ?? 'request';
  const main: RequestExample = { summary: saved ? `The model's input example (${form})` : `Synthesized from the signature (${form})`, value: body };
  const alts = Object.entries(alternativeForms(body)).map(([f, v]) => [f, { summary: `The same request as ${f}`, value: v }] as const);
  return { [saved ? 'input_example' : 'synthesized']: main, ...Object.fromEntries(alts) };
}
