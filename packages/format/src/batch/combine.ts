/**
 * Row-wise concatenation and slicing of batches: what adaptive batching needs to merge several
 * requests into one model call and hand each request its own rows of the result.
 */
import { VarBinaryArray, type BinaryArray, type Utf8Array } from './string-array.js';
import type { Batch, Column, ColumnBatch, Prediction, Storage, Tensor, TensorBatch } from './types.js';
import { batchRows } from './values.js';

type TypedArray = Exclude<Storage, VarBinaryArray | unknown[]>;

/**
 * A key equal for two batches exactly when they can be concatenated row-wise: same kind, same
 * column or tensor names in the same order, same dtypes, same per-row tensor shape. Null for
 * batches without a shared leading row dimension (0-d tensors, named tensors of unequal length).
 */
export function batchLayoutKey(batch: Batch): string | null {
  if (batch.kind === 'columns') {
    return `c|${batch.columns.map((c) => `${c.name}\u0000${c.dtype}`).join('\u0001')}`;
  }
  const rows = batchRows(batch);
  const parts: string[] = [];
  for (const t of batch.tensors) {
    if (t.shape.length === 0 || t.shape[0] !== rows) return null;
    parts.push(`${t.name ?? ''}\u0000${t.dtype}\u0000${t.shape.slice(1).join(',')}`);
  }
  return `t|${parts.join('\u0001')}`;
}

function concatTyped(parts: readonly TypedArray[]): TypedArray {
  const first = parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const Ctor = first.constructor as new (n: number) => TypedArray;
  const out = new Ctor(n);
  let pos = 0;
  for (const p of parts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, pos);
    pos += p.length;
  }
  return out;
}

function concatVarBinary(parts: readonly VarBinaryArray[]): VarBinaryArray {
  let rows = 0;
  let bytes = 0;
  for (const p of parts) {
    rows += p.length;
    bytes += p.offsets[p.length]! - p.offsets[0]!;
  }
  const offsets = new Int32Array(rows + 1);
  const data = new Uint8Array(bytes);
  let row = 0;
  let pos = 0;
  for (const p of parts) {
    const base = p.offsets[0]!;
    const end = p.offsets[p.length]!;
    data.set(p.bytes.subarray(base, end), pos);
    for (let i = 1; i <= p.length; i++) offsets[row + i] = p.offsets[i]! - base + pos;
    row += p.length;
    pos += end - base;
  }
  const Ctor = parts[0]!.constructor as new (o: Int32Array, b: Uint8Array) => VarBinaryArray;
  return new Ctor(offsets, data);
}

/** Concatenate storages of one dtype. */
export function concatStorage(parts: readonly Storage[]): Storage {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  if (first instanceof VarBinaryArray) return concatVarBinary(parts as readonly VarBinaryArray[]) as Utf8Array | BinaryArray;
  if (Array.isArray(first)) return ([] as unknown[]).concat(...(parts as unknown[][]));
  return concatTyped(parts as TypedArray[]);
}

/** Rows `start..end` of a storage holding `width` elements per row (a view where the storage allows one). */
export function sliceStorage(values: Storage, start: number, end: number, width = 1): Storage {
  if (values instanceof VarBinaryArray) return values.slice(start, end);
  if (Array.isArray(values)) return values.slice(start * width, end * width);
  return (values as TypedArray).subarray(start * width, end * width);
}

function concatValidity(cols: readonly Column[]): Uint8Array | undefined {
  if (cols.every((c) => !c.validity)) return undefined;
  let n = 0;
  for (const c of cols) n += c.values.length;
  const out = new Uint8Array(n).fill(1);
  let pos = 0;
  for (const c of cols) {
    if (c.validity) out.set(c.validity, pos);
    pos += c.values.length;
  }
  return out;
}

/** Concatenate batches that share a `batchLayoutKey` row-wise. */
export function concatBatches(batches: readonly Batch[]): Batch {
  const first = batches[0];
  if (!first) throw new RangeError('concatBatches needs at least one batch');
  if (batches.length === 1) return first;
  if (first.kind === 'columns') {
    const all = batches as readonly ColumnBatch[];
    const columns = first.columns.map((c, j) => {
      const cols = all.map((b) => b.columns[j]!);
      return { name: c.name, dtype: c.dtype, values: concatStorage(cols.map((x) => x.values)), validity: concatValidity(cols) } as Column;
    });
    let numRows = 0;
    for (const b of all) numRows += b.numRows;
    return { kind: 'columns', numRows, columns };
  }
  const all = batches as readonly TensorBatch[];
  const tensors = first.tensors.map((t, j) => {
    const parts = all.map((b) => b.tensors[j]!);
    let rows = 0;
    for (const p of parts) rows += p.shape[0]!;
    return { name: t.name, dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], values: concatStorage(parts.map((p) => p.values)) } as Tensor;
  });
  return { kind: 'tensors', tensors };
}

function rowWidth(t: Tensor): number {
  let w = 1;
  for (let i = 1; i < t.shape.length; i++) w *= t.shape[i]!;
  return w;
}

/**
 * Rows `start..end` of a prediction computed for `totalRows` input rows, or null when the
 * prediction is not row-aligned with its input (so it cannot be split between requests).
 */
export function slicePrediction(p: Prediction, totalRows: number, start: number, end: number): Prediction | null {
  if (p.kind === 'json') {
    return Array.isArray(p.value) && p.value.length === totalRows ? { kind: 'json', value: p.value.slice(start, end) } : null;
  }
  if (p.kind === 'columns') {
    if (p.numRows !== totalRows) return null;
    const columns = p.columns.map(
      (c) => ({ name: c.name, dtype: c.dtype, values: sliceStorage(c.values, start, end), validity: c.validity?.subarray(start, end) }) as Column,
    );
    return { kind: 'columns', numRows: end - start, columns };
  }
  const tensors: Tensor[] = [];
  for (const t of p.tensors) {
    if (t.shape.length === 0 || t.shape[0] !== totalRows) return null;
    tensors.push({
      name: t.name,
      dtype: t.dtype,
      shape: [end - start, ...t.shape.slice(1)],
      values: sliceStorage(t.values, start, end, rowWidth(t)),
    } as Tensor);
  }
  return { kind: 'tensors', tensors };
}
