/**
 * Decoded OIP inputs → the model's input batch, following the model's signature:
 * - tensor signatures: a TensorBatch (one unnamed tensor for MLflow's unnamed single input,
 *   else tensors by name); each input's datatype must be the one the metadata announces;
 * - column signatures (ColSpecs): a ColumnBatch, one column per input named by the input (MLServer's
 *   `pd` content type); shapes [rows] and [rows, 1] are plain columns, wider inputs hold one
 *   list per row; MLflow's enforcement then casts them by its safe-cast rules;
 * - no signature: one unnamed tensor for a single input named `input-0`, else named tensors.
 * The signature itself is enforced later, on the one predict path every route shares.
 */
import {
  Utf8Array,
  dtypeFromNumpyName,
  storageFromValues,
  valueAt,
  type BinaryArray,
  type ColSpec,
  type Column,
  type DType,
  type ModelInput,
  type ModelSignature,
  type Storage,
  type Tensor,
  type TensorSpec,
} from '@mlmodel/format';
import { fixedDType, tensorSpecDatatype } from './datatype.js';
import { invalid } from './errors.js';
import { defaultName } from './metadata.js';
import type { DecodedInput } from './request.js';
import { shapeText } from './tensor-data.js';

/** BYTES elements as strings (zero-copy), bytes, or plain JS strings. */
function bytesAs(values: BinaryArray, as: 'str' | 'bytes' | 'object'): Storage {
  if (as === 'bytes') return values;
  const text = new Utf8Array(values.offsets, values.bytes);
  return as === 'str' ? text : text.toArray();
}

/** The dtype and storage of an input as sent: BYTES as `str`, or `bytes` when base64 / binary. */
function natural(input: DecodedInput, wantBytes: boolean): { dtype: DType; values: Storage } {
  if (input.datatype !== 'BYTES') return { dtype: fixedDType(input.datatype), values: input.values };
  const bytes = wantBytes || input.contentType === 'base64';
  return { dtype: bytes ? 'bytes' : 'str', values: bytesAs(input.values as BinaryArray, bytes ? 'bytes' : 'str') };
}

function makeTensor(name: string | null, dtype: DType, shape: readonly number[], values: Storage): Tensor {
  return { name, dtype, shape, values } as Tensor;
}

function elements(dtype: DType, values: Storage): unknown[] {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < out.length; i++) out[i] = valueAt(dtype, values, i);
  return out;
}

/** One input as the tensor its spec asks for: the datatype must match, BYTES become the spec's string type. */
function tensorForSpec(input: DecodedInput, name: string | null, spec: TensorSpec | undefined): Tensor {
  const wanted = spec ? dtypeFromNumpyName(spec.dtype) : undefined;
  if (!spec || wanted === undefined) {
    const { dtype, values } = natural(input, false);
    return makeTensor(name, dtype, input.shape, values);
  }
  if (wanted === 'object') {
    const { dtype, values } = natural(input, false);
    return makeTensor(name, 'object', input.shape, elements(dtype, values));
  }
  const expected = tensorSpecDatatype(spec).datatype;
  if (input.datatype !== expected) {
    throw invalid(`input '${input.name}': datatype ${input.datatype} does not match the model's ${expected} for this input (shape ${shapeText(spec.shape)})`);
  }
  if (input.datatype !== 'BYTES') return makeTensor(name, wanted, input.shape, input.values);
  const bytes = input.values as BinaryArray;
  if (wanted === 'datetime64[ns]') {
    try {
      return makeTensor(name, wanted, input.shape, storageFromValues(wanted, bytesAs(bytes, 'object') as string[]).values);
    } catch (e) {
      throw invalid(`input '${input.name}': ${(e as Error).message}`);
    }
  }
  return makeTensor(name, wanted, input.shape, bytesAs(bytes, wanted === 'bytes' ? 'bytes' : 'str'));
}

function toTensors(inputs: readonly DecodedInput[], specs: readonly TensorSpec[] | null): ModelInput {
  if (specs === null) {
    const only = inputs.length === 1 && inputs[0]!.name === defaultName('input', 0);
    return { kind: 'tensors', tensors: inputs.map((x) => tensorForSpec(x, only ? null : x.name, undefined)) };
  }
  if (specs.length > 0 && specs[0]!.name === null) {
    if (inputs.length !== 1) {
      throw invalid(`This model takes a single unnamed input ('${defaultName('input', 0)}'), but the request has ${inputs.length} inputs`);
    }
    return { kind: 'tensors', tensors: [tensorForSpec(inputs[0]!, null, specs[0])] };
  }
  const byName = new Map(specs.map((s) => [s.name, s] as const));
  return { kind: 'tensors', tensors: inputs.map((x) => tensorForSpec(x, x.name, byName.get(x.name))) };
}

/** Rows `[i*width, (i+1)*width)` of flat elements as nested lists following `inner` dims. */
function nest(flat: readonly unknown[], start: number, inner: readonly number[]): unknown[] {
  const [n, ...rest] = inner;
  const out = new Array<unknown>(n!);
  const stride = rest.reduce((a, d) => a * d, 1);
  for (let i = 0; i < n!; i++) out[i] = rest.length === 0 ? flat[start + i] : nest(flat, start + i * stride, rest);
  return out;
}

function toColumns(inputs: readonly DecodedInput[], specs: readonly ColSpec[]): ModelInput {
  const named = specs.length > 0 && specs[0]!.name !== null;
  const byName = new Map(specs.map((s) => [s.name, s] as const));
  let rows = -1;
  const columns = inputs.map((input, i): Column => {
    const n = input.shape.length === 0 ? 1 : input.shape[0]!;
    if (rows >= 0 && n !== rows) {
      throw invalid(
        `input '${input.name}' has ${n} rows (shape ${shapeText(input.shape)}), but '${inputs[0]!.name}' has ${rows}: every input of this model is a column of one table`,
      );
    }
    rows = n;
    const spec = named ? byName.get(input.name) : specs[i];
    const { dtype, values } = natural(input, spec?.type === 'binary');
    const inner = input.shape.slice(1);
    if (inner.every((d) => d === 1)) return { name: input.name, dtype, values } as Column;
    const flat = elements(dtype, values);
    const width = inner.reduce((a, d) => a * d, 1);
    const cells = new Array<unknown>(n);
    for (let r = 0; r < n; r++) cells[r] = nest(flat, r * width, inner);
    return { name: input.name, dtype: 'object', values: cells } as Column;
  });
  return { kind: 'columns', numRows: rows, columns };
}

/** The model input for decoded OIP inputs, shaped by the model's input schema. */
export function toModelInput(inputs: readonly DecodedInput[], signature: ModelSignature | null): ModelInput {
  const schema = signature?.inputs ?? null;
  if (schema?.kind === 'columns') return toColumns(inputs, schema.specs);
  return toTensors(inputs, schema?.kind === 'tensors' ? schema.specs : null);
}
