/**
 * Row ranges of batches for chunking: slicing (as views, or as copies that own their buffers so
 * a chunk can be transferred to a worker without detaching its neighbours) and byte sizes.
 */
import { VarBinaryArray } from '../batch/string-array.js';
import type { Batch, Column, Storage, Tensor } from '../batch/types.js';
import { batchRows } from '../batch/values.js';

type TypedArray = Exclude<Storage, VarBinaryArray | unknown[]>;

/** Whether every tensor has the batch's row count as its first dimension (only such batches can be cut into row ranges). */
export function rowAligned(batch: Batch): boolean {
  if (batch.kind === 'columns') return true;
  const rows = batchRows(batch);
  return batch.tensors.every((t) => t.shape.length > 0 && t.shape[0] === rows);
}

function storageBytes(values: Storage): number {
  if (values instanceof VarBinaryArray) return values.offsets.byteLength + (values.offsets[values.length]! - values.offsets[0]!);
  if (Array.isArray(values)) return values.length * 16;
  return (values as TypedArray).byteLength;
}

/** Approximate bytes a batch's values take (object columns count 16 bytes a value). */
export function batchByteSize(batch: Batch): number {
  let total = 0;
  if (batch.kind === 'columns') {
    for (const c of batch.columns) total += storageBytes(c.values) + (c.validity?.byteLength ?? 0);
  } else {
    for (const t of batch.tensors) total += storageBytes(t.values);
  }
  return total;
}

function sliceStorage(values: Storage, start: number, end: number, copy: boolean): Storage {
  if (values instanceof VarBinaryArray) {
    const view = values.slice(start, end);
    if (!copy) return view;
    const Ctor = values.constructor as new (o: Int32Array, b: Uint8Array) => VarBinaryArray;
    return new Ctor(view.offsets, view.bytes.slice()) as Storage;
  }
  if (Array.isArray(values)) return values.slice(start, end);
  const t = values as TypedArray;
  return copy ? t.slice(start, end) : t.subarray(start, end);
}

/**
 * Rows `start..end` of a row-aligned batch (see `rowAligned`). With `copy`, every array of the
 * result is a fresh copy owning its buffer; otherwise typed arrays are views on the original's.
 */
export function sliceBatch(batch: Batch, start: number, end: number, copy: boolean): Batch {
  if (batch.kind === 'columns') {
    const columns = batch.columns.map(
      (c) =>
        ({
          name: c.name,
          dtype: c.dtype,
          values: sliceStorage(c.values, start, end, copy),
          validity: c.validity && (copy ? c.validity.slice(start, end) : c.validity.subarray(start, end)),
        }) as Column,
    );
    return { kind: 'columns', numRows: end - start, columns };
  }
  const tensors = batch.tensors.map((t) => {
    let width = 1;
    for (let d = 1; d < t.shape.length; d++) width *= t.shape[d]!;
    return {
      name: t.name,
      dtype: t.dtype,
      shape: [end - start, ...t.shape.slice(1)],
      values: sliceStorage(t.values, start * width, end * width, copy),
    } as Tensor;
  });
  return { kind: 'tensors', tensors };
}

/**
 * Cut a batch into pieces of at most `maxRows` rows and about `maxBytes` bytes (by its average
 * row size). A batch that is small enough, or not row-aligned, is returned whole.
 */
export function* splitBatch(batch: Batch, maxRows: number, maxBytes: number, copy: boolean): Generator<Batch> {
  const rows = batchRows(batch);
  const perRow = rows > 0 ? batchByteSize(batch) / rows : 0;
  const step = Math.max(1, Math.min(maxRows, perRow > 0 ? Math.floor(maxBytes / perRow) : Infinity));
  if (rows <= step || !rowAligned(batch)) {
    yield batch;
    return;
  }
  for (let start = 0; start < rows; start += step) yield sliceBatch(batch, start, Math.min(rows, start + step), copy);
}
