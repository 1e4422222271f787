/** Batches, temporary directories and chunk helpers shared by the table tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { concatBatches } from '../src/batch/combine.js';
import { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { Batch, Column, ColumnBatch, TensorBatch } from '../src/batch/types.js';
import { columnValue, toJsonScalar } from '../src/batch/values.js';
import { openTableReader } from '../src/table/reader.js';
import type { TableChunk, TableReaderOptions, TableSource } from '../src/table/types.js';

/** A temporary directory for one test file; `cleanup` removes it. */
export async function tempDir(prefix: string): Promise<{ dir: string; path: (name: string) => string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `mlmodel-${prefix}-`));
  return { dir, path: (name) => join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const mask = (n: number, every: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => ((i + from) % every === 0 ? 0 : 1));

/**
 * `n` rows (ids from `from`) of every column kind: int64, float64 with nulls, float32, int32,
 * bool with nulls, str with nulls (quotes, commas, newlines, non-ASCII), bytes, datetime64[ns]
 * and an object column of number lists.
 */
export function mixedBatch(n: number, from = 0): ColumnBatch {
  const r = (i: number): number => from + i;
  const xValid = mask(n, 7, from);
  const x = Float64Array.from({ length: n }, (_, i) => (xValid[i] ? r(i) * 0.5 - 3 : NaN));
  const okValid = mask(n, 5, from);
  const sValid = mask(n, 11, from);
  const strings = Array.from({ length: n }, (_, i) => (sValid[i] ? `r${r(i)} "q", é${r(i) % 3 === 0 ? '\nsecond line' : ''}` : null));
  const columns: Column[] = [
    { name: 'id', dtype: 'int64', values: BigInt64Array.from({ length: n }, (_, i) => BigInt(r(i))) },
    { name: 'x', dtype: 'float64', values: x, validity: xValid },
    { name: 'f', dtype: 'float32', values: Float32Array.from({ length: n }, (_, i) => r(i) / 8) },
    { name: 'i', dtype: 'int32', values: Int32Array.from({ length: n }, (_, i) => (r(i) % 2 ? -r(i) : r(i))) },
    { name: 'ok', dtype: 'bool', values: Uint8Array.from({ length: n }, (_, i) => (r(i) % 3 === 0 ? 1 : 0)), validity: okValid },
    { name: 's', dtype: 'str', values: Utf8Array.fromStrings(strings), validity: sValid },
    { name: 'b', dtype: 'bytes', values: BinaryArray.fromBuffers(Array.from({ length: n }, (_, i) => Uint8Array.of(r(i) % 256, (r(i) * 7) % 256, 0xff))) },
    { name: 't', dtype: 'datetime64[ns]', values: BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000_000n + BigInt(r(i)) * 1_000_001_000n) },
    { name: 'l', dtype: 'object', values: Array.from({ length: n }, (_, i) => (r(i) % 4 === 0 ? [] : [r(i), r(i) + 0.5])) },
  ];
  return { kind: 'columns', numRows: n, columns };
}

/** `n` rows of an unnamed float32 tensor of shape [n, 3]. */
export function tensorBatch(n: number, from = 0): TensorBatch {
  return {
    kind: 'tensors',
    tensors: [{ name: null, dtype: 'float32', shape: [n, 3], values: Float32Array.from({ length: 3 * n }, (_, k) => from * 3 + k + 0.25) }],
  };
}

/** A column's values as plain JS (null where missing; bigints and bytes kept as they are). */
export function columnValues(c: Column): unknown[] {
  return Array.from({ length: c.values.length }, (_, i) => {
    const v = columnValue(c, i);
    return v instanceof Uint8Array ? Array.from(v) : v;
  });
}

/** Assert two column batches hold the same columns (names, dtypes, values and missing values). */
export function expectSameColumns(actual: Batch, expected: ColumnBatch, names?: readonly string[]): void {
  expect(actual.kind).toBe('columns');
  const a = actual as ColumnBatch;
  expect(a.numRows).toBe(expected.numRows);
  for (const want of expected.columns) {
    if (names && !names.includes(want.name)) continue;
    const got = a.columns.find((c) => c.name === want.name);
    expect(got, `column ${want.name}`).toBeDefined();
    expect(got!.dtype, `dtype of ${want.name}`).toBe(want.dtype);
    expect(columnValues(got!), `values of ${want.name}`).toEqual(columnValues(want));
  }
}

/** JSON-friendly rows of a column batch, for readable equality checks. */
export function rowsOf(b: ColumnBatch): Record<string, unknown>[] {
  return Array.from({ length: b.numRows }, (_, i) => Object.fromEntries(b.columns.map((c) => [c.name, toJsonScalar(c.dtype, columnValue(c, i))])));
}

/** Read a whole table through the chunked reader: its chunks and their concatenation. */
export async function readChunks(
  source: TableSource,
  opts: TableReaderOptions = {},
): Promise<{ chunks: TableChunk[]; batch: Batch; numRows: number | undefined; columns: readonly string[] }> {
  const reader = await openTableReader(source, opts);
  const chunks: TableChunk[] = [];
  for await (const c of reader) chunks.push(c);
  return { chunks, batch: concatBatches(chunks.map((c) => c.batch)), numRows: reader.numRows, columns: reader.schema.columns };
}

/** Chunks are contiguous, in order, of 1..batchRows rows (or a single empty chunk). */
export function expectChunkLayout(chunks: readonly TableChunk[], total: number, batchRows: number): void {
  if (total === 0) {
    expect(chunks.map((c) => c.numRows)).toEqual([0]);
    return;
  }
  let offset = 0;
  for (const c of chunks) {
    expect(c.rowOffset).toBe(offset);
    expect(c.numRows).toBeGreaterThan(0);
    expect(c.numRows).toBeLessThanOrEqual(batchRows);
    offset += c.numRows;
  }
  expect(offset).toBe(total);
}
