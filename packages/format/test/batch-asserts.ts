import { expect } from 'vitest';
import type { Batch, ColumnBatch, TensorBatch } from '../src/batch/types.js';

/** Assert a batch is column-shaped and narrow its type. */
export function asColumns(b: Batch): ColumnBatch {
  expect(b.kind).toBe('columns');
  return b as ColumnBatch;
}

/** Assert a batch is tensor-shaped and narrow its type. */
export function asTensors(b: Batch): TensorBatch {
  expect(b.kind).toBe('tensors');
  return b as TensorBatch;
}
