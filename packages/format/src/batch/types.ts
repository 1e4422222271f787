import type { DType } from '../dtype.js';
import type { BinaryArray, Utf8Array } from './string-array.js';

/**
 * Storage for each dtype: typed arrays for fixed-width values (numpy's memory layout,
 * row-major for tensors), Arrow-style offset buffers for strings and bytes, and plain JS
 * values only for `object` (nested lists, dicts, mixed JSON).
 */
export interface StorageOf {
  bool: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  /** IEEE half floats, raw bits. */
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  str: Utf8Array;
  bytes: BinaryArray;
  /** Nanoseconds since the Unix epoch, timezone-naive (numpy datetime64[ns]). */
  'datetime64[ns]': BigInt64Array;
  object: unknown[];
}

export type Storage = StorageOf[DType];

/**
 * One named column of a table-like batch. `validity`, when present, has one byte per row:
 * 1 = value present, 0 = null/missing. Absent means every row is valid.
 */
export type Column = {
  [D in DType]: {
    readonly name: string;
    readonly dtype: D;
    readonly values: StorageOf[D];
    readonly validity?: Uint8Array | undefined;
  };
}[DType];

/** An n-dimensional tensor, row-major. `name` is null for MLflow's unnamed single-tensor inputs. */
export type Tensor = {
  [D in DType]: {
    readonly name: string | null;
    readonly dtype: D;
    readonly shape: readonly number[];
    readonly values: StorageOf[D];
  };
}[DType];

/** Column-oriented data (a DataFrame in MLflow's terms). */
export interface ColumnBatch {
  readonly kind: 'columns';
  readonly numRows: number;
  readonly columns: readonly Column[];
}

/** One unnamed tensor, or several named ones (an ndarray or dict of ndarrays in MLflow's terms). */
export interface TensorBatch {
  readonly kind: 'tensors';
  readonly tensors: readonly Tensor[];
}

/** The one in-memory representation of model input and output shared by every front end and flavor. */
export type Batch = ColumnBatch | TensorBatch;

/** A JS value of one element, as returned by `valueAt`. */
export type Scalar = boolean | number | bigint | string | Uint8Array | null | unknown;

/** Data that is not tabular or tensor-shaped (a dict of strings, a list of chat messages, …): passed and serialized as JSON as is. */
export interface JsonValue {
  readonly kind: 'json';
  readonly value: unknown;
}

/** Alias of JsonValue, for output sites. */
export type JsonOutput = JsonValue;

/** What a model's predict receives: a batch, or raw JSON (MLflow's unified-LLM requests and type-hinted models). */
export type ModelInput = Batch | JsonValue;

/** What a model's predict returns: a batch (tensors or columns) or arbitrary JSON. */
export type Prediction = Batch | JsonValue;
