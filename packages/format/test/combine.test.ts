import { describe, expect, it } from 'vitest';
import { batchLayoutKey, concatBatches, slicePrediction } from '../src/batch/combine.js';
import type { ColumnBatch, TensorBatch } from '../src/batch/types.js';
import { columnBatch, columnFromValues, columnValue, tensor, tensorBatch } from '../src/batch/values.js';
import type { Utf8Array } from '../src/batch/string-array.js';

const cols = (names: string[], ints: number[], floats: (number | null)[]): ColumnBatch =>
  columnBatch([columnFromValues('s', names, 'str'), columnFromValues('i', ints, 'int64'), columnFromValues('f', floats, 'float64')]);

describe('batch concatenation and slicing', () => {
  it('concatenates column batches row-wise (strings, ints, floats, validity) and slices them back', () => {
    const a = cols(['x', 'héllo'], [1, 2], [0.5, null]);
    const b = cols(['', 'z', 'w'], [3, 4, 5], [1.5, 2.5, 3.5]);
    expect(batchLayoutKey(a)).toBe(batchLayoutKey(b));
    const m = concatBatches([a, b]) as ColumnBatch;
    expect(m.numRows).toBe(5);
    expect((m.columns[0]!.values as Utf8Array).toArray()).toEqual(['x', 'héllo', '', 'z', 'w']);
    expect(Array.from(m.columns[1]!.values as BigInt64Array)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect([0, 1, 2, 3, 4].map((i) => columnValue(m.columns[2]!, i))).toEqual([0.5, null, 1.5, 2.5, 3.5]);

    const back = slicePrediction(m, 5, 2, 5) as ColumnBatch;
    expect(back.numRows).toBe(3);
    expect((back.columns[0]!.values as Utf8Array).toArray()).toEqual(['', 'z', 'w']);
    expect([0, 1, 2].map((i) => columnValue(back.columns[2]!, i))).toEqual([1.5, 2.5, 3.5]);
  });

  it('concatenates tensors along the first axis and slices whole rows', () => {
    const a = tensorBatch([tensor('x', 'float32', [1, 2, 2], new Float32Array([1, 2, 3, 4]))]);
    const b = tensorBatch([tensor('x', 'float32', [2, 2, 2], new Float32Array([5, 6, 7, 8, 9, 10, 11, 12]))]);
    const m = concatBatches([a, b]) as TensorBatch;
    expect(m.tensors[0]!.shape).toEqual([3, 2, 2]);
    const part = slicePrediction(m, 3, 1, 3) as TensorBatch;
    expect(part.tensors[0]!.shape).toEqual([2, 2, 2]);
    expect(Array.from(part.tensors[0]!.values as Float32Array)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('gives different layout keys to batches that cannot be merged', () => {
    const a = tensorBatch([tensor('x', 'float32', [1, 2], new Float32Array(2))]);
    expect(batchLayoutKey(a)).not.toBe(batchLayoutKey(tensorBatch([tensor('x', 'float32', [1, 3], new Float32Array(3))])));
    expect(batchLayoutKey(a)).not.toBe(batchLayoutKey(tensorBatch([tensor('x', 'float64', [1, 2], new Float64Array(2))])));
    expect(batchLayoutKey(a)).not.toBe(batchLayoutKey(tensorBatch([tensor('y', 'float32', [1, 2], new Float32Array(2))])));
    expect(batchLayoutKey(tensorBatch([tensor(null, 'float32', [], new Float32Array(1))]))).toBeNull();
    expect(batchLayoutKey(cols(['a'], [1], [1]))).not.toBe(batchLayoutKey(columnBatch([columnFromValues('s', ['a'], 'str')])));
  });

  it('splits JSON predictions only when they are one value per row', () => {
    expect(slicePrediction({ kind: 'json', value: [1, 2, 3] }, 3, 1, 2)).toEqual({ kind: 'json', value: [2] });
    expect(slicePrediction({ kind: 'json', value: 6 }, 3, 0, 1)).toBeNull();
    expect(slicePrediction({ kind: 'json', value: [1, 2] }, 3, 0, 1)).toBeNull();
    expect(slicePrediction(tensorBatch([tensor('y', 'float32', [2], new Float32Array(2))]), 3, 0, 1)).toBeNull();
  });

  it('concatenates object columns without flattening their list values', () => {
    const a = columnBatch([columnFromValues('o', [[1, 2]], 'object')]);
    const b = columnBatch([columnFromValues('o', [[3], [4, 5]], 'object')]);
    const m = concatBatches([a, b]) as ColumnBatch;
    expect(m.columns[0]!.values).toEqual([[1, 2], [3], [4, 5]]);
  });
});
