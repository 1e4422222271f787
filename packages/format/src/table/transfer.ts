/**
 * Moving batches between threads (`worker.postMessage(value, transferList)`, piscina's `move`).
 *
 * Typed arrays survive structured clone as they are, but `str` and `bytes` storage are class
 * instances (`Utf8Array`, `BinaryArray`) that arrive as plain `{offsets, bytes}` objects without
 * their methods. `batchToTransferable` gives a plain form (same buffers, nothing copied) and
 * `batchFromTransferable` rebuilds the classes on the other side. `batchTransferList` lists the
 * distinct ArrayBuffers under a batch's arrays so they move instead of being copied.
 *
 * Transferring detaches those buffers in the sender: the batch — and anything else viewing the
 * same buffers (another chunk sliced as a view, the Arrow table it came from) — becomes unusable
 * there. Chunks from the file readers own their buffers; chunks of in-memory Arrow bytes are views
 * on those bytes. `object` columns hold plain JS values and are copied (structured clone).
 */
import * as workerThreads from 'node:worker_threads';
import type { DType } from '../dtype.js';
import { BinaryArray, Utf8Array, VarBinaryArray } from '../batch/string-array.js';
import type { Batch, Column, Storage, Tensor } from '../batch/types.js';

/** `str`/`bytes` storage as a plain object; everything else as is. */
export type TransferableStorage = Exclude<Storage, VarBinaryArray> | { readonly offsets: Int32Array; readonly bytes: Uint8Array };

export interface TransferableColumn {
  readonly name: string;
  readonly dtype: DType;
  readonly values: TransferableStorage;
  readonly validity?: Uint8Array | undefined;
}

export interface TransferableTensor {
  readonly name: string | null;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: TransferableStorage;
}

/** A batch in a form that survives structured clone (plain objects, typed arrays, JS values). */
export type TransferableBatch =
  | { readonly kind: 'columns'; readonly numRows: number; readonly columns: readonly TransferableColumn[] }
  | { readonly kind: 'tensors'; readonly tensors: readonly TransferableTensor[] };

function plain(values: Storage): TransferableStorage {
  return values instanceof VarBinaryArray ? { offsets: values.offsets, bytes: values.bytes } : values;
}

function rebuild(dtype: DType, values: TransferableStorage): Storage {
  if (dtype === 'str' || dtype === 'bytes') {
    if (values instanceof VarBinaryArray) return values as Utf8Array | BinaryArray;
    const { offsets, bytes } = values as { offsets: Int32Array; bytes: Uint8Array };
    return dtype === 'str' ? new Utf8Array(offsets, bytes) : new BinaryArray(offsets, bytes);
  }
  return values as Storage;
}

/** The batch with its `str`/`bytes` storage as plain `{offsets, bytes}` objects (no data is copied). */
export function batchToTransferable(batch: Batch): TransferableBatch {
  if (batch.kind === 'columns') {
    return {
      kind: 'columns',
      numRows: batch.numRows,
      columns: batch.columns.map((c) => ({ name: c.name, dtype: c.dtype, values: plain(c.values), validity: c.validity })),
    };
  }
  return { kind: 'tensors', tensors: batch.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, values: plain(t.values) })) };
}

/** The batch again after structured clone: `str`/`bytes` storage back to `Utf8Array`/`BinaryArray` (no data is copied). */
export function batchFromTransferable(t: TransferableBatch): Batch {
  if (t.kind === 'columns') {
    const columns = t.columns.map((c) => ({ name: c.name, dtype: c.dtype, values: rebuild(c.dtype, c.values), validity: c.validity }) as Column);
    return { kind: 'columns', numRows: t.numRows, columns };
  }
  return {
    kind: 'tensors',
    tensors: t.tensors.map((x) => ({ name: x.name, dtype: x.dtype, shape: [...x.shape], values: rebuild(x.dtype, x.values) }) as Tensor),
  };
}

/** Buffers Node refuses to move (pooled `Buffer` memory): Node ≥ 21 can tell (and throws on them); Node 20 ignores them in a transfer list. */
const untransferable = (workerThreads as { isMarkedAsUntransferable?: (o: object) => boolean }).isMarkedAsUntransferable;

/**
 * The distinct ArrayBuffers under a batch's typed arrays (values, offsets, string bytes, validity
 * masks), for a transfer list. SharedArrayBuffers (shared, not moved), detached buffers and
 * buffers Node marks untransferable are left out; `object` columns' values are not searched.
 */
export function batchTransferList(batch: Batch | TransferableBatch): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (view: ArrayBufferView | undefined): void => {
    if (!view) return;
    const buf = view.buffer;
    if (!(buf instanceof ArrayBuffer) || seen.has(buf)) return;
    if ((buf as ArrayBuffer & { detached?: boolean }).detached === true) return;
    if (untransferable?.(buf)) return;
    seen.add(buf);
  };
  const addStorage = (values: TransferableStorage | Storage): void => {
    if (Array.isArray(values)) return;
    if (ArrayBuffer.isView(values)) add(values);
    else {
      const v = values as { offsets: Int32Array; bytes: Uint8Array };
      add(v.offsets);
      add(v.bytes);
    }
  };
  if (batch.kind === 'columns') {
    for (const c of batch.columns) {
      addStorage(c.values);
      add(c.validity);
    }
  } else {
    for (const t of batch.tensors) addStorage(t.values);
  }
  return [...seen];
}
