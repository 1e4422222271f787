/**
 * Model inputs and predictions as they cross threads: batches in their transferable form (their
 * buffers moved, `str`/`bytes` storage rebuilt on the other side: format's transfer helpers), JSON
 * values as they are (structured clone).
 */
import {
  batchFromTransferable,
  batchToTransferable,
  batchTransferList,
  type JsonValue,
  type ModelInput,
  type TransferableBatch,
  type TransferableStorage,
} from '@mlmodel/format';

/** A model input or prediction in a form `postMessage` keeps. */
export type WireValue = TransferableBatch | JsonValue;

/**
 * The value to post and the buffers to move with it (they become unusable on this side). An array
 * that views only part of its buffer (a request's rows of a batched model call, a tensor inside a
 * request body) is copied first: moving the buffer would take the other views' data with it.
 */
export function toWire(v: ModelInput): { value: WireValue; transfer: ArrayBuffer[] } {
  if (v.kind === 'json') return { value: v, transfer: [] };
  const value = ownStorage(batchToTransferable(v));
  return { value, transfer: batchTransferList(value) };
}

function owned<T extends ArrayBufferView | undefined>(view: T): T {
  if (view === undefined) return view;
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return view;
  return (view as unknown as { slice(): T }).slice();
}

function ownValues(values: TransferableStorage): TransferableStorage {
  if (Array.isArray(values)) return values;
  if (ArrayBuffer.isView(values)) return owned(values);
  const v = values as { offsets: Int32Array; bytes: Uint8Array };
  return { offsets: owned(v.offsets), bytes: owned(v.bytes) };
}

function ownStorage(b: TransferableBatch): TransferableBatch {
  if (b.kind === 'columns') return { ...b, columns: b.columns.map((c) => ({ ...c, values: ownValues(c.values), validity: owned(c.validity) })) };
  return { ...b, tensors: b.tensors.map((t) => ({ ...t, values: ownValues(t.values) })) };
}

export function fromWire(w: WireValue): ModelInput {
  return w.kind === 'json' ? w : batchFromTransferable(w);
}

/** Elements in an input: what decides whether a model call is large. */
export function inputElements(v: ModelInput): number {
  if (v.kind === 'json') return 0;
  if (v.kind === 'columns') return v.numRows * v.columns.length;
  let n = 0;
  for (const t of v.tensors) n += t.values.length;
  return n;
}

/** The body's bytes in a buffer of their own, to move to a worker (a view on a larger or shared buffer is copied first). */
export function ownedBytes(body: Uint8Array): Uint8Array {
  const buf = body.buffer;
  if (buf instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buf.byteLength) return body;
  return body.slice();
}

/** Where a worker loads its own copy of a model from. */
export interface ModelSource {
  readonly dir: string;
  readonly flavor: string;
  readonly options: Readonly<Record<string, unknown>> | undefined;
}

/** The key a worker keeps its copy of a model under. */
export function modelKey(m: ModelSource): string {
  return JSON.stringify([m.dir, m.flavor, m.options ?? null]);
}
