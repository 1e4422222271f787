/**
 * `application/json` scoring requests (MLflow's `_parse_json_data`):
 *
 * 1. The body must decode to a JSON object (a list or a scalar gets MLflow's message).
 * 2. Unified LLM mode: any top-level `messages`, `prompt` or `input` key. Keys named in the
 *    model's ParamSchema become params, everything else is the data, passed through as JSON.
 * 3. Type-hint signatures: the `inputs` value is passed through as JSON.
 * 4. Otherwise exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`
 *    (other keys are ignored), plus optional `params`.
 *
 * Bodies of at least `numericFastPathMinBytes` take the fast path for numeric data: the decoder
 * leaves rectangular numeric arrays as `NumericArray`s, written straight into typed storage by the
 * same rules (json-numeric.ts). When a request cannot use them (another form, a value the dtype
 * refuses), the body is decoded again the generic way, so answers and errors are the same.
 */
import type { JsonValue } from '../batch/types.js';
import { isPlainObject, setOwn } from '../enforce/common.js';
import { pyStrList } from '../enforce/repr.js';
import type { ParamSpec, Schema } from '../signature/types.js';
import {
  invalidInput,
  JSON_FORMAT_KEYS,
  LLM_KEYS,
  REQUIRED_INPUT_FORMAT,
  SCORING_PROTOCOL_CHANGE_INFO,
  ScoringRequestError,
  type JsonFormatKey,
} from './errors.js';
import { dataframeFromRecords, dataframeFromSplit, numericSplitFrame } from './json-frames.js';
import { NumericArray } from './json-numeric.js';
import { castSchemaType, numericTensorBatch, parseInstances } from './json-tensors.js';
import { decodeJson, jsonKeys, plainJson } from './json-text.js';
import { pyClassOf, pyTypeOf } from './py-names.js';
import type { ScoringRequest } from './types.js';

export interface JsonRequestOptions {
  /** The model's input schema (null: infer dtypes). */
  readonly schema: Schema | null;
  /** The model's ParamSchema: in LLM mode, top-level keys it names are params. */
  readonly paramSpecs?: readonly ParamSpec[] | null;
  /** The signature came from type hints (`is_signature_from_type_hint`): `inputs` is passed through raw. */
  readonly signatureFromTypeHint?: boolean;
  /** Deepest allowed JSON nesting (default 64). */
  readonly maxDepth?: number;
  /** Bodies of at least this many bytes parse numeric data into typed arrays directly (default 64 KiB). */
  readonly numericFastPathMinBytes?: number;
}

/** Below this, boxing every number costs less than scanning numeric arrays twice. */
export const DEFAULT_NUMERIC_FAST_PATH_MIN_BYTES = 64 * 1024;

function asParams(v: unknown): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) {
    throw new ScoringRequestError(`Parameters must be a dictionary. Got type '${pyTypeOf(v)}'.`, { errorCode: 'INVALID_PARAMETER_VALUE' });
  }
  return plainJson(v) as Record<string, unknown>;
}

/** Parse an `application/json` scoring request body. */
export function parseJsonRequest(body: Uint8Array, opts: JsonRequestOptions): ScoringRequest {
  if (body.byteLength >= (opts.numericFastPathMinBytes ?? DEFAULT_NUMERIC_FAST_PATH_MIN_BYTES)) {
    const decoded = decodeJson(body, { maxDepth: opts.maxDepth, numericArrays: true });
    if (decoded.numericArrays === 0) return requestFromJson(decoded.value, opts);
    const fast = numericRequest(decoded.value, opts);
    if (fast !== undefined) return fast;
  }
  return requestFromJson(decodeJson(body, { maxDepth: opts.maxDepth }).value, opts);
}

/**
 * A request whose data is a `NumericArray`, as `requestFromJson` would build it from the boxed
 * values; undefined when this request needs the generic path (another form, a refused value).
 */
function numericRequest(top: unknown, opts: JsonRequestOptions): ScoringRequest | undefined {
  if (opts.signatureFromTypeHint || !isPlainObject(top)) return undefined;
  const keys = jsonKeys(top);
  if (keys.some((k) => (LLM_KEYS as readonly string[]).includes(k))) return undefined;
  const formatKeys = keys.filter((k): k is JsonFormatKey => (JSON_FORMAT_KEYS as readonly string[]).includes(k));
  if (formatKeys.length !== 1) return undefined;
  const format = formatKeys[0]!;
  const input = top[format];
  let batch: ScoringRequest['batch'] | undefined;
  if ((format === 'inputs' || format === 'instances') && input instanceof NumericArray) batch = numericTensorBatch(input, opts.schema);
  else if (format === 'dataframe_split') batch = numericSplitFrame(input, opts.schema);
  if (batch === undefined) return undefined;
  return { batch, params: asParams(top.params), format };
}

/** The request in a decoded JSON body (MLflow's `_parse_json_data`). */
function requestFromJson(top: unknown, opts: JsonRequestOptions): ScoringRequest {
  if (Array.isArray(top)) throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received a list.`);
  if (!isPlainObject(top)) throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received unexpected input type '${pyClassOf(top)}.`);
  const keys = jsonKeys(top);

  if (keys.some((k) => (LLM_KEYS as readonly string[]).includes(k))) {
    const paramNames = new Set((opts.paramSpecs ?? []).map((p) => p.name));
    const data: Record<string, unknown> = {};
    const params: Record<string, unknown> = {};
    for (const k of keys) setOwn(paramNames.has(k) ? params : data, k, plainJson(top[k]));
    return { batch: { kind: 'json', value: data } satisfies JsonValue, params, format: 'llm' };
  }

  const formatKeys = keys.filter((k): k is JsonFormatKey => (JSON_FORMAT_KEYS as readonly string[]).includes(k));
  const params = asParams(top.params);

  if (opts.signatureFromTypeHint) {
    if (!formatKeys.includes('inputs')) {
      throw new ScoringRequestError(
        "Request payload must be a dictionary with 'inputs' key when the model contains a valid type hint. " +
          `Found keys in payload: dict_keys(${pyStrList(formatKeys)}).`,
        { errorCode: 'INVALID_PARAMETER_VALUE' },
      );
    }
    return { batch: { kind: 'json', value: plainJson(top.inputs) }, params, format: 'inputs' };
  }

  if (formatKeys.length !== 1) {
    throw new ScoringRequestError(`${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${pyStrList(formatKeys)}. ${SCORING_PROTOCOL_CHANGE_INFO}`);
  }
  const format = formatKeys[0]!;
  const input = top[format];
  const schema = opts.schema;
  switch (format) {
    case 'dataframe_split':
      return { batch: dataframeFromSplit(input, schema), params, format };
    case 'dataframe_records':
      return { batch: dataframeFromRecords(input, schema), params, format };
    case 'instances':
      return { batch: parseInstances(input, schema), params, format };
    case 'inputs':
      return { batch: castSchemaType(input, schema), params, format };
  }
}
