/**
 * Element types: onnxruntime-node's tensor type names ↔ our (numpy-named) dtypes, and the casts
 * the flavor applies when a batch's dtype differs from the graph's declared input type.
 */
import { isSafeCast, type DType } from '@mlmodel/format';

/** Tensor element types onnxruntime-node reports in its input/output metadata. */
export type OrtElementType =
  'float32' | 'float64' | 'float16' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool' | 'string' | 'int4' | 'uint4';

const ORT_TO_DTYPE: Readonly<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
  string: 'str',
};

/** ONNX's own spelling (`tensor(float)`), as onnxruntime writes it in its errors and MLflow in its docs. */
const ONNX_TYPE_NAME: Readonly<Record<string, string>> = {
  float32: 'float',
  float64: 'double',
  float16: 'float16',
  string: 'string',
};

/** Our dtype for an ORT element type; undefined for types the batch cannot hold (int4, uint4). */
export function dtypeOfOrtType(t: string): DType | undefined {
  return ORT_TO_DTYPE[t];
}

/** The ORT element type that holds our dtype, or undefined (bytes, datetimes, objects). */
export function ortTypeOfDType(d: DType): OrtElementType | undefined {
  if (d === 'str') return 'string';
  const t = d as string;
  return t in ORT_TO_DTYPE ? (t as OrtElementType) : undefined;
}

/** `tensor(float)` style name of an ORT element type. */
export function onnxTypeName(t: string): string {
  return `tensor(${ONNX_TYPE_NAME[t] ?? t})`;
}

/**
 * Whether the flavor converts `from` into `to` before feeding the graph: MLflow's lossless
 * upcasts (`isSafeCast`: int32 → int64, float32 → float64, small ints → float64, …) plus the one
 * lossy cast MLflow's ONNX wrapper performs itself, float64 → float32 for `tensor(float)` inputs.
 * `object` columns holding strings feed `string` inputs. Everything else (float → int, string →
 * number, int64 → float32…) is refused.
 */
export function canFeed(from: DType, to: DType): boolean {
  if (from === to) return true;
  if (from === 'float64' && to === 'float32') return true;
  if (to === 'str') return from === 'object';
  if (from === 'str' || from === 'bytes' || from === 'object' || from === 'datetime64[ns]') return false;
  if (from === 'bool' || to === 'bool') return false;
  return isSafeCast(from, to);
}
