/**
 * Batches moved to a worker thread and back: the transferable form survives structured clone,
 * the transfer list moves (not copies) every buffer, and chunks read from a file move one by one.
 */
import { writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchToIPC } from '../src/batch/arrow.js';
import { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { Batch, ColumnBatch, TensorBatch } from '../src/batch/types.js';
import { batchFromTransferable, batchToTransferable, batchTransferList, openTableReader, type TransferableBatch } from '../src/table/index.js';
import { columnValues, expectSameColumns, mixedBatch, tempDir } from './table-fixtures.js';

/**
 * A worker that receives `{batch}` in transferable form, checks it can read it (sums the float64
 * values, decodes the strings from their bytes), doubles every float64 value in place, and sends
 * the batch back transferring the same buffers. It answers `{batch, sum, strings, detachedAfterSend}`.
 */
const WORKER = String.raw`
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ batch }) => {
  let sum = 0;
  const strings = [];
  const buffers = new Set();
  const add = (v) => { if (v && ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer); };
  const parts = batch.kind === 'columns' ? batch.columns : batch.tensors;
  for (const c of parts) {
    if (c.dtype === 'float64') for (let i = 0; i < c.values.length; i++) { sum += Number.isNaN(c.values[i]) ? 0 : c.values[i]; c.values[i] *= 2; }
    if (c.dtype === 'str') {
      const { offsets, bytes } = c.values;
      const dec = new TextDecoder();
      for (let i = 0; i + 1 < offsets.length; i++) strings.push(dec.decode(bytes.subarray(offsets[i], offsets[i + 1])));
    }
    if (ArrayBuffer.isView(c.values)) add(c.values); else if (!Array.isArray(c.values)) { add(c.values.offsets); add(c.values.bytes); }
    add(c.validity);
  }
  const list = [...buffers];
  parentPort.postMessage({ batch, sum, strings }, list);
  parentPort.postMessage({ detachedAfterSend: list.every((b) => b.byteLength === 0), count: list.length });
});
`;

let worker: Worker;
beforeAll(() => {
  worker = new Worker(WORKER, { eval: true });
});
afterAll(async () => {
  await worker.terminate();
});

/** Send a batch to the worker (transferring it) and get it back. */
function roundTrip(batch: Batch): Promise<{ batch: Batch; sum: number; strings: string[]; detachedAfterSend: boolean; count: number; sent: ArrayBuffer[] }> {
  return new Promise((resolve, reject) => {
    const replies: Record<string, unknown>[] = [];
    const onMessage = (m: Record<string, unknown>): void => {
      replies.push(m);
      if (replies.length < 2) return;
      worker.off('message', onMessage);
      resolve({ ...(replies[0] as object), ...(replies[1] as object), batch: batchFromTransferable(replies[0]!.batch as TransferableBatch), sent } as never);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    const sent = batchTransferList(batch);
    worker.postMessage({ batch: batchToTransferable(batch) }, sent);
  });
}

describe('batches across worker threads', () => {
  it('a column batch of every kind goes to a worker and back: buffers moved both ways, classes rebuilt, values intact', async () => {
    const batch = mixedBatch(1000);
    const expected = mixedBatch(1000);
    const x = expected.columns.find((c) => c.name === 'x')!;
    (x.values as Float64Array).forEach((v, i, a) => (a[i] = v * 2));
    const expectedSum = (mixedBatch(1000).columns.find((c) => c.name === 'x')!.values as Float64Array).reduce((s, v) => s + (Number.isNaN(v) ? 0 : v), 0);
    const expectedStrings = columnValues(batch.columns.find((c) => c.name === 's')!).map((v) => v ?? '');

    const r = await roundTrip(batch);
    // Moved, not copied: the sender's buffers are detached (and so is the batch that used them).
    expect(r.sent.length).toBeGreaterThanOrEqual(10);
    expect(r.sent.every((b) => b.byteLength === 0)).toBe(true);
    expect(batch.columns.find((c) => c.name === 'id')!.values.length).toBe(0);
    expect(r.detachedAfterSend).toBe(true);
    expect(r.count).toBe(r.sent.length);
    // The worker could read it, and what comes back is a real batch again.
    expect(r.sum).toBe(expectedSum);
    expect(r.strings).toEqual(expectedStrings);
    const back = r.batch as ColumnBatch;
    expect(back.columns.find((c) => c.name === 's')!.values).toBeInstanceOf(Utf8Array);
    expect(back.columns.find((c) => c.name === 'b')!.values).toBeInstanceOf(BinaryArray);
    expectSameColumns(back, expected);
  });

  it('a tensor batch goes and comes back', async () => {
    const t: TensorBatch = {
      kind: 'tensors',
      tensors: [
        { name: 'x', dtype: 'float64', shape: [2, 2], values: Float64Array.from([1, 2, 3, 4]) },
        { name: 'words', dtype: 'str', shape: [2], values: Utf8Array.fromStrings(['α', 'β']) },
      ],
    };
    const r = await roundTrip(t);
    const back = r.batch as TensorBatch;
    expect(back.tensors.map((x) => [x.name, x.shape])).toEqual([
      ['x', [2, 2]],
      ['words', [2]],
    ]);
    expect(Array.from(back.tensors[0]!.values as Float64Array)).toEqual([2, 4, 6, 8]);
    expect((back.tensors[1]!.values as Utf8Array).toArray()).toEqual(['α', 'β']);
  });

  it('chunks read from a file move to a worker one at a time; the chunks still to come stay intact', async () => {
    const tmp = await tempDir('transfer');
    try {
      const all = mixedBatch(1000);
      await writeFile(tmp.path('t.arrows'), batchToIPC(all, 'stream'));
      const reader = await openTableReader(tmp.path('t.arrows'), { batchRows: 128 });
      const back: Batch[] = [];
      for await (const chunk of reader) back.push((await roundTrip(chunk.batch)).batch);
      const x = all.columns.find((c) => c.name === 'x')!;
      const doubled = {
        ...all,
        columns: all.columns.map((c) => (c === x ? { ...x, values: (x.values as Float64Array).map((v) => v * 2) } : c)),
      } as ColumnBatch;
      const { concatBatches } = await import('../src/batch/combine.js');
      expectSameColumns(concatBatches(back), doubled);
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('batchTransferList', () => {
  it('lists each buffer once, and leaves out shared memory and object columns', () => {
    const shared = new Float64Array(8);
    const sab = new Float64Array(new SharedArrayBuffer(32));
    const b: ColumnBatch = {
      kind: 'columns',
      numRows: 4,
      columns: [
        { name: 'a', dtype: 'float64', values: shared.subarray(0, 4) },
        { name: 'b', dtype: 'float64', values: shared.subarray(4, 8), validity: Uint8Array.from([1, 1, 0, 1]) },
        { name: 'c', dtype: 'float64', values: sab },
        { name: 'o', dtype: 'object', values: [new Uint8Array(4), 1, 'x', null] },
      ],
    };
    const list = batchTransferList(b);
    expect(list).toHaveLength(2);
    expect(list[0]).toBe(shared.buffer);
    expect(list).not.toContain(sab.buffer as unknown as ArrayBuffer);
    expect(batchTransferList(batchToTransferable(b))).toEqual(list);
  });

  it('the transferable form shares the batch’s memory (no copy) and converts back losslessly', () => {
    const b = mixedBatch(50);
    const t = batchToTransferable(b);
    if (t.kind !== 'columns') throw new Error('expected columns');
    expect(t.columns[0]!.values).toBe(b.columns[0]!.values);
    const s = t.columns[5]!.values as { offsets: Int32Array; bytes: Uint8Array };
    expect(s.bytes).toBe((b.columns[5]!.values as Utf8Array).bytes);
    expect(s.offsets).toBe((b.columns[5]!.values as Utf8Array).offsets);
    expectSameColumns(batchFromTransferable(structuredClone(t)), mixedBatch(50));
  });
});
