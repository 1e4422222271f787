/**
 * CSV and JSON-lines output of batches.
 *
 * CSV follows `DataFrame.to_csv(index=False)`: a header row, `,` separators, fields quoted only
 * when they hold `,`, `"` or a line break (quotes doubled), `\n` line ends; missing values and NaN
 * are empty fields; bools `True`/`False`; floats in Python's `repr` (float32 in its shortest
 * form, like numpy); infinities `inf`/`-inf`; datetimes `2024-01-31 12:00:00[.ffffff]`; bytes as
 * base64 (which the CSV reader decodes for `binary` schema columns); other values as JSON.
 *
 * JSON lines write one `{"column": value, …}` object per row with the scoring response encoder's
 * formatting (`encodeRecordLines`: Python `json.dumps` style, `NaN` for missing floats).
 *
 * Tensor batches are written as columns the way `pd.DataFrame(ndarray)` would lay them out: an
 * unnamed 2-d tensor gives columns `0`, `1`, …; an unnamed 1-d tensor one column `0`; a named
 * tensor its own column; rows of higher-rank tensors are nested lists (JSON).
 */
import type { DType } from '../dtype.js';
import { halfToFloat } from '../float16.js';
import { BinaryArray, Utf8Array, VarBinaryArray } from '../batch/string-array.js';
import type { Batch, Column, ColumnBatch, Storage, Tensor } from '../batch/types.js';
import { valueAt } from '../batch/values.js';
import { encodeJsonValue, encodeRecordLines, isoFromNs, pyJsonFloatFast } from '../scoring/encode.js';
import { TableWriteError } from '../errors.js';
import { andValidity, isPartList } from './table-parts.js';
import type { TableRows } from './types.js';

const encoder = new TextEncoder();

/** A tensor batch laid out as columns (see the module comment); a column batch as is. */
export function tensorsAsColumns(batch: Batch, path: string): ColumnBatch {
  if (batch.kind === 'columns') return batch;
  const rows = batch.tensors[0] ? (batch.tensors[0].shape.length === 0 ? 1 : batch.tensors[0].shape[0]!) : 0;
  const columns: Column[] = [];
  batch.tensors.forEach((t, k) => {
    const label = t.name ?? String(k);
    const shape = t.shape.length === 0 ? [1] : t.shape;
    if (shape[0] !== rows)
      throw new TableWriteError(
        path,
        `tensor ${label} has ${shape[0]} rows, the first tensor ${rows}: tensors must share their first dimension to be written as a table`,
      );
    if (shape.length === 1) {
      columns.push({ name: t.name ?? String(columns.length), dtype: t.dtype, values: t.values } as Column);
      return;
    }
    const width = shape.slice(1).reduce((a, b) => a * b, 1);
    if (shape.length === 2 && t.name === null) {
      for (let j = 0; j < width; j++) columns.push(stridedColumn(String(columns.length), t, j, width, rows));
      return;
    }
    const values = new Array<unknown>(rows);
    for (let i = 0; i < rows; i++) values[i] = nestedRow(t, shape, i * width);
    columns.push({ name: label, dtype: 'object', values } as Column);
  });
  return { kind: 'columns', numRows: rows, columns };
}

/**
 * Side-by-side parts as one column batch: each part laid out as columns (named tensors of rank
 * ≥ 2 as nested lists), with the part's row validity added to its columns' own.
 */
export function partsAsColumns(rows: TableRows, path: string): ColumnBatch {
  if (!isPartList(rows)) return tensorsAsColumns(rows as Batch, path);
  const columns: Column[] = [];
  let numRows = 0;
  for (const part of rows) {
    const b = tensorsAsColumns(part.batch, path);
    numRows = b.numRows;
    for (const c of b.columns) columns.push(part.rowValidity === undefined ? c : ({ ...c, validity: andValidity(c.validity, part.rowValidity) } as Column));
  }
  return { kind: 'columns', numRows, columns };
}

function jsValue(t: Tensor, i: number): unknown {
  return t.dtype === 'float16' ? halfToFloat((t.values as Uint16Array)[i]!) : valueAt(t.dtype, t.values, i);
}

/** Column `j` of a 2-d tensor of `width` columns, with the tensor's dtype. */
function stridedColumn(name: string, t: Tensor, j: number, width: number, rows: number): Column {
  const v = t.values;
  let values: Storage;
  if (v instanceof VarBinaryArray) {
    const joined = VarBinaryArray.fromByteArrays(Array.from({ length: rows }, (_, i) => v.bytesAt(i * width + j)));
    values = v instanceof Utf8Array ? new Utf8Array(joined.offsets, joined.bytes) : new BinaryArray(joined.offsets, joined.bytes);
  } else if (Array.isArray(v)) {
    values = Array.from({ length: rows }, (_, i) => v[i * width + j]);
  } else {
    const src = v as Float64Array;
    const out = new (src.constructor as new (n: number) => Float64Array)(rows);
    for (let i = 0; i < rows; i++) out[i] = src[i * width + j]!;
    values = out;
  }
  return { name, dtype: t.dtype, values } as Column;
}

function nestedRow(t: Tensor, shape: readonly number[], offset: number): unknown {
  const build = (dim: number, off: number): [unknown, number] => {
    const n = shape[dim]!;
    const out = new Array<unknown>(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = jsValue(t, off + i);
      return [out, off + n];
    }
    let o = off;
    for (let i = 0; i < n; i++) [out[i], o] = build(dim + 1, o);
    return [out, o];
  };
  return build(1, offset)[0];
}

// --- CSV --------------------------------------------------------------------------------------

const NEEDS_QUOTES = /[",\r\n]/;

function quote(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function csvFloat(x: number): string {
  if (Number.isNaN(x)) return '';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return pyJsonFloatFast(x);
}

/** The shortest decimal that reads back as the same float32 (numpy's repr of a float32). */
function csvFloat32(x: number): string {
  if (!Number.isFinite(x)) return csvFloat(x);
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return pyJsonFloatFast(y);
  }
  return pyJsonFloatFast(x);
}

/** Writes element i of a storage as a CSV field (unquoted text; `quote` is applied by the caller where needed). */
function csvCell(dtype: DType, values: Storage): (i: number) => string {
  switch (dtype) {
    case 'float64': {
      const v = values as Float64Array;
      return (i) => csvFloat(v[i]!);
    }
    case 'float32': {
      const v = values as Float32Array;
      return (i) => csvFloat32(v[i]!);
    }
    case 'float16': {
      const v = values as Uint16Array;
      return (i) => csvFloat32(halfToFloat(v[i]!));
    }
    case 'bool': {
      const v = values as Uint8Array;
      return (i) => (v[i] ? 'True' : 'False');
    }
    case 'str': {
      const v = values as Utf8Array;
      return (i) => quote(v.get(i));
    }
    case 'bytes': {
      const v = values as BinaryArray;
      return (i) => Buffer.from(v.bytesAt(i)).toString('base64');
    }
    case 'datetime64[ns]': {
      const v = values as BigInt64Array;
      return (i) => isoFromNs(v[i]!).replace('T', ' ');
    }
    case 'object': {
      const v = values as unknown[];
      return (i) => {
        const x = v[i];
        if (x === null || x === undefined) return '';
        if (typeof x === 'string') return quote(x);
        if (typeof x === 'number') return csvFloat(x);
        if (typeof x === 'boolean') return x ? 'True' : 'False';
        return quote(encodeJsonValue(x));
      };
    }
    default: {
      const v = values as unknown as ArrayLike<number | bigint>;
      return (i) => String(v[i]!);
    }
  }
}

function csvColumnWriter(c: Column): (i: number) => string {
  const cell = csvCell(c.dtype, c.values);
  const validity = c.validity;
  return validity ? (i) => (validity[i] === 0 ? '' : cell(i)) : cell;
}

/** CSV output: the header with the first batch, then rows; every batch must have the first one's columns. */
export class CsvEncoder {
  private names: readonly string[] | undefined;

  constructor(private readonly path: string) {}

  /** The CSV text of a batch (with the header before the first one). */
  encode(batch: TableRows): Uint8Array {
    const b = partsAsColumns(batch, this.path);
    const names = b.columns.map((c) => c.name);
    let out = '';
    if (this.names === undefined) {
      this.names = names;
      out = `${names.map(quote).join(',')}\n`;
    } else if (names.length !== this.names.length || names.some((n, j) => n !== this.names![j])) {
      throw new TableWriteError(
        this.path,
        `a batch has the columns [${names.join(', ')}], the first one had [${this.names.join(', ')}]: every batch of a CSV file must have the same columns`,
      );
    }
    const cells = b.columns.map(csvColumnWriter);
    const k = cells.length;
    const lines: string[] = [];
    for (let i = 0; i < b.numRows; i++) {
      let line = k > 0 ? cells[0]!(i) : '';
      for (let j = 1; j < k; j++) line += `,${cells[j]!(i)}`;
      lines.push(line);
    }
    if (lines.length > 0) out += `${lines.join('\n')}\n`;
    return encoder.encode(out);
  }
}

/** JSON lines: one object per row. */
export function encodeJsonLines(batch: TableRows, path: string): Uint8Array {
  return encoder.encode(encodeRecordLines(partsAsColumns(batch, path)));
}
