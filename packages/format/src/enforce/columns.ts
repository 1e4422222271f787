/**
 * Column-based schemas: coerce the input to a DataFrame-like column batch, check names (or
 * the count for unnamed schemas), then enforce each column's type. The result keeps only the
 * schema's columns, in schema order.
 */
import type { Batch, Column, ColumnBatch, Tensor } from '../batch/types.js';
import { valueAt } from '../batch/values.js';
import type { ColSpec, ValueType } from '../signature/types.js';
import { fail, type EnforceOptions } from './common.js';
import { enforceComplexColumn } from './complex.js';
import { gather, stridedColumn } from './convert.js';
import { nsToDate } from './datetime.js';
import { labelKey, withNumericLabel } from './labels.js';
import { checkDuplicateColumns, checkInputNames } from './names.js';
import { enforcePrimitiveColumn } from './primitive.js';
import { pyTuple, truncate } from './repr.js';

const DATAFRAME_ERROR =
  'This model contains a column-based signature, which suggests a DataFrame input. There was an error casting the input data to a DataFrame: ';

function col(name: string, dtype: Column['dtype'], values: Column['values'], validity?: Uint8Array): Column {
  return { name, dtype, values, validity } as Column;
}

/** Element i of a tensor as a plain JS value (bigints stay bigints, datetimes become Dates). */
function tensorElement(t: Tensor, i: number): unknown {
  if (t.dtype === 'datetime64[ns]') return nsToDate(t.values[i]!);
  return valueAt(t.dtype, t.values, i);
}

/** The sub-tensor starting at `offset` over dims `dim..` as nested JS arrays (numpy `tolist()`). */
function nested(t: Tensor, dim: number, offset: number): unknown {
  if (dim === t.shape.length) return tensorElement(t, offset);
  const n = t.shape[dim]!;
  let stride = 1;
  for (let d = dim + 1; d < t.shape.length; d++) stride *= t.shape[d]!;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = nested(t, dim + 1, offset + i * stride);
  return out;
}

/**
 * `DataFrame(ndarray)`: one unnamed tensor becomes columns labelled 0, 1, …, as in pandas. A named
 * schema then finds none of its columns (MLflow: `Model is missing inputs [...]. Note that there
 * were extra inputs: [0, 1, ...]`); an unnamed schema takes them by position.
 */
function tensorToFrame(t: Tensor): ColumnBatch {
  const rank = t.shape.length;
  if (rank === 0) return { kind: 'columns', numRows: 1, columns: [withNumericLabel(col('0', t.dtype, t.values))] };
  if (rank === 1) return { kind: 'columns', numRows: t.shape[0]!, columns: [withNumericLabel(col('0', t.dtype, t.values))] };
  if (rank !== 2) fail(`${DATAFRAME_ERROR}Must pass 2-d input. shape=${pyTuple(t.shape)}`);
  const [n, k] = t.shape as [number, number];
  const columns: Column[] = [];
  for (let j = 0; j < k; j++) {
    columns.push(withNumericLabel(col(String(j), t.dtype, k === 1 ? t.values : stridedColumn(t.dtype, t.values, n, k, j))));
  }
  return { kind: 'columns', numRows: n, columns };
}

function isArrayOrObject(t: ValueType): boolean {
  return typeof t !== 'string' && (t.type === 'array' || t.type === 'object' || t.type === 'sparkml_vector');
}

/**
 * A dict of named tensors → DataFrame. Like MLflow, it is a single row (each tensor one cell)
 * when a schema column is an Array or Object, or when every tensor is a scalar; otherwise each
 * 1-D tensor is a column, scalars are broadcast, and higher-rank tensors become object columns
 * of nested lists (one per row).
 */
function tensorDictToFrame(ts: readonly Tensor[], specs: readonly ColSpec[]): ColumnBatch {
  const oneRow = specs.some((s) => isArrayOrObject(s.type)) || ts.every((t) => t.shape.length === 0);
  if (oneRow) {
    const columns = ts.map((t) => (t.shape.length === 0 ? col(t.name!, t.dtype, t.values) : col(t.name!, 'object', [nested(t, 0, 0)])));
    return { kind: 'columns', numRows: 1, columns };
  }
  let n = -1;
  for (const t of ts) {
    if (t.shape.length === 0) continue;
    if (n >= 0 && t.shape[0] !== n) fail(`${DATAFRAME_ERROR}All arrays must be of the same length`);
    n = t.shape[0]!;
  }
  const columns = ts.map((t) => {
    if (t.shape.length === 0)
      return col(
        t.name!,
        t.dtype,
        gather(t.dtype, t.values, n, () => 0),
      );
    if (t.shape.length === 1) return col(t.name!, t.dtype, t.values);
    const stride = t.values.length / n;
    const rows = new Array<unknown>(n);
    for (let i = 0; i < n; i++) rows[i] = nested(t, 1, i * stride);
    return col(t.name!, 'object', rows);
  });
  return { kind: 'columns', numRows: n, columns };
}

/** Step 1 of `_enforce_schema` for column schemas: whatever the input, make it a column batch. */
export function toColumnBatch(batch: Batch, specs: readonly ColSpec[]): ColumnBatch {
  if (batch.kind === 'columns') return batch;
  const ts = batch.tensors;
  if (ts.length === 0) return { kind: 'columns', numRows: 0, columns: [] };
  if (ts.length === 1 && ts[0]!.name === null) return tensorToFrame(ts[0]!);
  if (ts.some((t) => t.name === null)) fail(`${DATAFRAME_ERROR}a dict input needs a name for every array`);
  return tensorDictToFrame(ts, specs);
}

/** Enforce one column's type. `required` follows MLflow: only `required: true` is required. */
export function enforceColumn(c: Column, type: ValueType, required: boolean, label: string): Column {
  return typeof type === 'string' ? enforcePrimitiveColumn(c, type, required, label) : enforceComplexColumn(c, type, required, label);
}

export function enforceColumnSchema(batch: Batch, specs: readonly ColSpec[], opts: EnforceOptions): ColumnBatch {
  const named = specs.length > 0 && specs[0]!.name !== null;
  const frame = toColumnBatch(batch, specs);

  if (named) {
    const byName = new Map<string, Column>();
    for (const c of frame.columns) if (!byName.has(labelKey(c))) byName.set(labelKey(c), c);
    checkInputNames(
      specs.map((s) => ({ name: s.name!, required: s.required === true })),
      [...byName.values()],
      opts,
    );
    const declared = new Set(specs.map((s) => s.name!));
    checkDuplicateColumns(frame.columns, (name) => declared.has(name));
    const columns: Column[] = [];
    for (const s of specs) {
      const c = byName.get(s.name!);
      if (c === undefined) continue; // optional and absent
      columns.push(enforceColumn(c, s.type, s.required === true, s.name!));
    }
    return { kind: 'columns', numRows: frame.numRows, columns };
  }

  const have = frame.columns.length;
  if (have < specs.length) {
    fail(
      `Model inference is missing inputs. The model signature declares ${specs.length} inputs  but the provided value only has ` +
        `${have} inputs. Note: the inputs were not named in the signature so we can only verify their count.`,
    );
  }
  const taken = new Set(frame.columns.slice(0, specs.length).map(labelKey));
  checkDuplicateColumns(frame.columns, (name) => taken.has(name));
  if (have > specs.length) {
    opts.onWarning?.(
      `The input has ${have} columns but the model signature declares ${specs.length} unnamed inputs; ` + `the extra trailing columns are ignored.`,
    );
  }
  // Unnamed entries are always required (MLflow enforces them with required=True).
  const columns = specs.map((s, i) => {
    const c = frame.columns[i]!;
    return enforceColumn(c, s.type, true, truncate(c.name, 200));
  });
  return { kind: 'columns', numRows: frame.numRows, columns };
}
