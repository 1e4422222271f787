/**
 * The DataFrame request forms (`dataframe_split`, `dataframe_records`) → a column batch, the way
 * MLflow's `dataframe_from_parsed_json` builds a pandas DataFrame and then
 * `cast_df_types_according_to_schema` casts it:
 *
 * - column order: `columns` (split) or first appearance (records); missing cells are null;
 * - with a schema, each column is cast to its spec's type (`binary` is base64-decoded,
 *   `datetime` parsed from ISO strings, `string` left as is, Array/Object/Map/Any kept as
 *   plain values for enforcement to check); the others are inferred like pandas;
 * - missing values are kept in a validity mask (NaN under it for floats) instead of failing the
 *   cast like pandas' `astype(int64)` does: enforcement then accepts them for optional columns
 *   and rejects them, naming the column, for required ones.
 */
import { dtypeFromNumpyName, type DType } from '../dtype.js';
import type { Column, ColumnBatch } from '../batch/types.js';
import { dtypeForColumnType } from '../enforce/cast-rules.js';
import { isPlainObject } from '../enforce/common.js';
import { withNumericLabel } from '../enforce/labels.js';
import { pyStrSet } from '../enforce/repr.js';
import type { ColSpec, Schema, TensorSpec } from '../signature/types.js';
import { CastFailure, failedTypeConversion, invalidInput, type ScoringRequestError } from './errors.js';
import { castJsonValues, inferColumnDType } from './json-cast.js';
import { NumericArray } from './json-numeric.js';
import { PyFloat } from '../pyjson.js';
import { jsonKeys } from './json-text.js';
import { pyClassOf, pyStrOfLabel } from './py-names.js';

/** How one column is converted. */
type ColumnRule =
  | { readonly kind: 'infer' }
  /** astype(dtype), pandas-style. */
  | { readonly kind: 'cast'; readonly dtype: DType; readonly typeName: string }
  /** MLflow `string` columns: astype(object), i.e. no conversion. */
  | { readonly kind: 'string' }
  /** Kept as plain JS values (complex types, object tensors, list cells of tensor columns). */
  | { readonly kind: 'object' };

/** pandas dtype name MLflow prints for a ColSpec's type (`DataType.to_pandas()`). */
function pandasTypeName(t: ColSpec['type']): string {
  if (typeof t !== 'string') return 'object';
  return t === 'string' || t === 'binary' ? 'object' : dtypeForColumnType(t);
}

function ruleForColSpec(spec: ColSpec): ColumnRule {
  const t = spec.type;
  if (typeof t !== 'string') return { kind: 'object' };
  if (t === 'string') return { kind: 'string' };
  return { kind: 'cast', dtype: dtypeForColumnType(t), typeName: pandasTypeName(t) };
}

function ruleForTensorSpec(spec: TensorSpec, first: unknown): ColumnRule {
  // Columns holding lists are reshaped by enforcement, not cast here (MLflow skips them too).
  if (Array.isArray(first)) return { kind: 'object' };
  const dtype = dtypeFromNumpyName(spec.dtype);
  if (dtype === undefined || dtype === 'object') return { kind: 'object' };
  return { kind: 'cast', dtype, typeName: spec.dtype };
}

/** Makes the error for a failed column conversion (the message differs per request form). */
export type ColumnErrorFactory = (column: string, typeName: string, detail: string) => ScoringRequestError;

/**
 * Build typed columns from per-column JSON values, casting by the schema like
 * `cast_df_types_according_to_schema` (named specs by name; a single unnamed tensor spec for every
 * column; unnamed column specs by position). Columns the schema does not mention are inferred.
 */
export function castFrame(
  names: readonly string[],
  values: readonly unknown[][],
  numRows: number,
  schema: Schema | null,
  onError: ColumnErrorFactory = failedTypeConversion,
  numericLabels?: readonly boolean[],
): ColumnBatch {
  const rules = columnRules(names, (j) => values[j]![0], schema, numericLabels);
  const columns = names.map((name, j) => {
    const c = buildColumn(name, values[j]!, rules[j]!, onError);
    return numericLabels?.[j] ? withNumericLabel(c) : c;
  });
  return { kind: 'columns', numRows, columns };
}

/** How each column is converted (`castFrame`'s rules); `first(j)` is column j's first value. */
function columnRules(names: readonly string[], first: (j: number) => unknown, schema: Schema | null, numericLabels?: readonly boolean[]): ColumnRule[] {
  const rules: ColumnRule[] = names.map(() => ({ kind: 'infer' }));
  if (schema !== null && schema.specs.length > 0) {
    const named = schema.specs.every((s) => s.name !== null);
    if (named) {
      const byName = new Map<string, ColSpec | TensorSpec>();
      for (const s of schema.specs) if (!byName.has(s.name!)) byName.set(s.name!, s);
      names.forEach((n, j) => {
        // a numeric pandas label (0, 1, …) is never a schema name, even a name like '0'
        const s = numericLabels?.[j] ? undefined : byName.get(n);
        if (s) rules[j] = s.kind === 'column' ? ruleForColSpec(s) : ruleForTensorSpec(s, first(j));
      });
    } else if (schema.kind === 'tensors') {
      const s = schema.specs[0]!;
      names.forEach((_, j) => (rules[j] = ruleForTensorSpec(s, first(j))));
    } else {
      const k = Math.min(schema.specs.length, names.length);
      for (let j = 0; j < k; j++) rules[j] = ruleForColSpec(schema.specs[j]!);
    }
  }
  return rules;
}

function buildColumn(name: string, values: readonly unknown[], rule: ColumnRule, onError: ColumnErrorFactory): Column {
  let dtype: DType;
  let typeName: string;
  switch (rule.kind) {
    case 'infer':
      dtype = inferColumnDType(values);
      typeName = dtype;
      break;
    case 'cast':
      dtype = rule.dtype;
      typeName = rule.typeName;
      break;
    case 'string':
      dtype = values.every((v) => v === null || v === undefined || typeof v === 'string') ? 'str' : 'object';
      typeName = 'object';
      break;
    case 'object':
      dtype = 'object';
      typeName = 'object';
      break;
  }
  try {
    const { values: storage, validity } = castJsonValues(values, dtype, { nulls: 'mask', where: (i) => `row ${i}` });
    return { name, dtype, values: storage, validity } as Column;
  } catch (e) {
    if (e instanceof CastFailure) throw onError(name, typeName, e.message);
    throw e;
  }
}

// --- shapes of the input --------------------------------------------------------------------

/** A column label as pandas would show it (we keep labels as strings). */
function label(v: unknown): string | undefined {
  return pyStrOfLabel(v);
}

/** Per-column values of a list of records: columns in order of first appearance, missing cells null. */
export function recordsToColumns(rows: readonly Record<string, unknown>[]): { names: string[]; values: unknown[][] } {
  const n = rows.length;
  const index = new Map<string, number>();
  const names: string[] = [];
  const values: unknown[][] = [];
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    for (const k of jsonKeys(row)) {
      let j = index.get(k);
      if (j === undefined) {
        j = names.length;
        index.set(k, j);
        names.push(k);
        values.push(new Array<unknown>(n).fill(null));
      }
      values[j]![i] = row[k];
    }
  }
  return { names, values };
}

type RowsShape = 'empty' | 'lists' | 'records' | 'scalars' | 'mixed';

function rowsShape(rows: readonly unknown[]): RowsShape {
  if (rows.length === 0) return 'empty';
  let shape: RowsShape | undefined;
  for (const r of rows) {
    const s: RowsShape = Array.isArray(r) ? 'lists' : isPlainObject(r) ? 'records' : 'scalars';
    if (shape === undefined) shape = s;
    else if (shape !== s) return 'mixed';
  }
  return shape!;
}

/** Columns of a list of row lists (`pd.DataFrame(list_of_lists)`): short rows are padded with nulls. */
function listsToColumns(rows: readonly unknown[][], width: number): unknown[][] {
  const values: unknown[][] = [];
  for (let j = 0; j < width; j++) {
    const col = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      col[i] = j < r.length ? r[j] : null;
    }
    values.push(col);
  }
  return values;
}

/**
 * `pd.DataFrame(data=rows, columns=columns)` for the shapes JSON can express. Throws a message.
 * `positional`: the columns are pandas' default 0, 1, … (rows of lists or values without `columns`).
 */
function frameFromRows(rows: readonly unknown[], columns: readonly string[] | undefined): { names: string[]; values: unknown[][]; positional?: boolean } {
  const shape = rowsShape(rows);
  switch (shape) {
    case 'empty':
      return { names: columns ? [...columns] : [], values: (columns ?? []).map(() => []) };
    case 'lists': {
      const lists = rows as unknown[][];
      let width = 0;
      for (const r of lists) width = Math.max(width, r.length);
      if (columns && columns.length !== width) throw new CastFailure(`${columns.length} columns passed, passed data had ${width} columns`);
      if (columns) return { names: [...columns], values: listsToColumns(lists, width) };
      return { names: Array.from({ length: width }, (_, j) => String(j)), values: listsToColumns(lists, width), positional: true };
    }
    case 'records': {
      const rec = recordsToColumns(rows as Record<string, unknown>[]);
      if (!columns) return rec;
      const at = new Map(rec.names.map((n, j) => [n, j]));
      return {
        names: [...columns],
        values: columns.map((c) => {
          const j = at.get(c);
          return j === undefined ? new Array<unknown>(rows.length).fill(null) : rec.values[j]!;
        }),
      };
    }
    case 'scalars':
      if (columns && columns.length !== 1) {
        throw new CastFailure(`Shape of passed values is (${rows.length}, 1), indices imply (${rows.length}, ${columns.length})`);
      }
      return columns ? { names: [...columns], values: [[...rows]] } : { names: ['0'], values: [[...rows]], positional: true };
    case 'mixed':
      throw new CastFailure('the rows mix lists, records and single values; every row must have the same form');
  }
}

function typeMessage(v: unknown): string {
  return `type ${pyClassOf(v)}`;
}

/** `dataframe_split`: `{"columns": [...], "data": [[...], ...], "index": [...]}`. */
export function dataframeFromSplit(input: unknown, schema: Schema | null): ColumnBatch {
  if (!isPlainObject(input)) {
    throw invalidInput(`Dataframe split format must be a dictionary. Got ${Array.isArray(input) ? 'list' : typeMessage(input)}.`);
  }
  const keys = jsonKeys(input);
  if (!keys.includes('data') || keys.some((k) => k !== 'data' && k !== 'columns' && k !== 'index')) {
    throw invalidInput(`Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got ${pyStrSet(keys)}.'`);
  }
  const notFrame = (detail: string): ScoringRequestError =>
    invalidInput(`Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '${detail}'`);
  const data = input.data;
  if (data !== null && !Array.isArray(data)) throw notFrame(`'data' must be a list of rows, got ${describeShape(data)}`);
  const rows = (data ?? []) as unknown[];
  let columns: string[] | undefined;
  let numericColumns: boolean[] | undefined;
  if (input.columns !== null && input.columns !== undefined) {
    if (!Array.isArray(input.columns)) throw notFrame(`'columns' must be a list of column names, got ${describeShape(input.columns)}`);
    numericColumns = input.columns.map((c) => typeof c === 'number' || typeof c === 'bigint' || c instanceof PyFloat);
    columns = input.columns.map((c, j) => {
      const l = label(c);
      if (l === undefined) throw notFrame(`column name ${j} must be a string or a number, got ${describeShape(c)}`);
      return l;
    });
  }
  const index = input.index;
  if (index !== null && index !== undefined) {
    if (!Array.isArray(index)) throw notFrame(`'index' must be a list, got ${describeShape(index)}`);
    if (index.length !== rows.length) throw notFrame(`Length of values (${rows.length}) does not match length of index (${index.length})`);
  }
  let frame: { names: string[]; values: unknown[][]; positional?: boolean };
  try {
    frame = frameFromRows(rows, columns);
  } catch (e) {
    if (e instanceof CastFailure) throw notFrame(e.message);
    throw e;
  }
  // pandas labels: 0, 1, … without `columns`; numbers given in `columns` stay numbers
  const numeric = frame.positional ? frame.names.map(() => true) : numericColumns;
  return castFrame(frame.names, frame.values, rows.length, schema, failedTypeConversion, numeric);
}

/**
 * `dataframeFromSplit` for a split whose `data` is a `NumericArray` of rows (or of single values):
 * the same columns, labels and dtypes, each column written straight into typed storage. Undefined
 * when the generic path must decide (anything unusual, a column kept as strings or plain values, a
 * value its dtype refuses); it then also reports the errors.
 */
export function numericSplitFrame(input: unknown, schema: Schema | null): ColumnBatch | undefined {
  if (!isPlainObject(input)) return undefined;
  const data = input.data;
  if (!(data instanceof NumericArray) || data.shape.length > 2) return undefined;
  if (jsonKeys(input).some((k) => k !== 'data' && k !== 'columns' && k !== 'index')) return undefined;
  const rows = data.length;
  const width = data.shape.length === 1 ? 1 : data.shape[1]!;
  let names: string[];
  let numeric: boolean[];
  if (input.columns === null || input.columns === undefined) {
    // pandas' positional labels 0, 1, …
    names = Array.from({ length: width }, (_, j) => String(j));
    numeric = names.map(() => true);
  } else {
    if (!Array.isArray(input.columns) || input.columns.length !== width) return undefined;
    const labels = input.columns.map(label);
    if (labels.some((l) => l === undefined)) return undefined;
    names = labels as string[];
    numeric = input.columns.map((c) => typeof c === 'number' || typeof c === 'bigint' || c instanceof PyFloat);
  }
  const index = input.index;
  if (index !== null && index !== undefined && (!Array.isArray(index) || index.length !== rows)) return undefined;
  // every cell is a number, which is all a tensor spec's rule looks at
  const rules = columnRules(names, () => 0, schema, numeric);
  const dtypes: DType[] = [];
  for (let j = 0; j < width; j++) {
    const rule = rules[j]!;
    if (rule.kind === 'infer') dtypes.push(data.floatAt[j] ? 'float64' : 'int64');
    else if (rule.kind === 'cast') dtypes.push(rule.dtype);
    else return undefined;
  }
  const storage = data.fillColumns(dtypes);
  if (storage === undefined) return undefined;
  const columns = names.map((name, j) => {
    const c = { name, dtype: dtypes[j]!, values: storage[j]! } as Column;
    return numeric[j] ? withNumericLabel(c) : c;
  });
  return { kind: 'columns', numRows: rows, columns };
}

/** `dataframe_records`: `[{"col": value, ...}, ...]`. */
export function dataframeFromRecords(input: unknown, schema: Schema | null): ColumnBatch {
  if (!Array.isArray(input)) {
    throw invalidInput(`Dataframe records format must be a list of records. Got ${isPlainObject(input) ? 'dictionary' : typeMessage(input)}.`);
  }
  let frame: { names: string[]; values: unknown[][]; positional?: boolean };
  try {
    frame = frameFromRows(input, undefined);
  } catch (e) {
    if (e instanceof CastFailure) {
      throw invalidInput(`Provided dataframe_records field is not a valid dataframe representation in 'records' format. Error: '${e.message}'`);
    }
    throw e;
  }
  return castFrame(frame.names, frame.values, input.length, schema, failedTypeConversion, frame.positional ? frame.names.map(() => true) : undefined);
}

function describeShape(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'an object';
  if (typeof v === 'string' || typeof v === 'boolean') return `a ${typeof v}`;
  return 'a number';
}
