/**
 * Side-by-side parts (`TablePart`) as the writers take them: checks shared by every format (same
 * rows, row validity of the right length, no column name twice). No Arrow code here.
 */
import type { Batch } from '../batch/types.js';
import { batchRows } from '../batch/values.js';
import { TableWriteError } from '../errors.js';
import type { TablePart, TableRows } from './types.js';

export function isPartList(rows: TableRows): rows is readonly TablePart[] {
  return Array.isArray(rows);
}

/** Column names a part contributes (tensors by name; an unnamed tensor as the writers name it). */
function partNames(batch: Batch): string[] {
  return batch.kind === 'columns' ? batch.columns.map((c) => c.name) : batch.tensors.map((t, k) => t.name ?? String(k));
}

/** The rows a write holds; for parts, checks that they fit together (a TableWriteError otherwise). */
export function tableRowCount(rows: TableRows, path: string): number {
  if (!isPartList(rows)) return batchRows(rows as Batch);
  if (rows.length === 0) throw new TableWriteError(path, 'a write of side-by-side parts needs at least one part');
  const n = batchRows(rows[0]!.batch);
  const seen = new Set<string>();
  rows.forEach((part, k) => {
    const got = batchRows(part.batch);
    if (got !== n) throw new TableWriteError(path, `part ${k + 1} has ${got} rows, part 1 has ${n}: side-by-side parts must cover the same rows`);
    if (part.rowValidity !== undefined && part.rowValidity.length !== n) {
      throw new TableWriteError(path, `part ${k + 1} has a row validity of ${part.rowValidity.length} entries for ${n} rows`);
    }
    for (const name of partNames(part.batch)) {
      if (seen.has(name)) throw new TableWriteError(path, `column "${name}" appears twice among the side-by-side parts: every column needs its own name`);
      seen.add(name);
    }
  });
  return n;
}

/** `a AND b` of two one-byte-per-row masks (either may be absent: all valid). */
export function andValidity(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! !== 0 && b[i]! !== 0 ? 1 : 0;
  return out;
}
