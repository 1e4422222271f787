/**
 * Columns in and out: choosing the model's input columns and the input columns kept in the
 * output (`columns`, `keepColumns`), turning a prediction into named output columns, and filling
 * the rows of failed ranges with nulls.
 *
 * Prediction columns are named from the output signature, like spark_udf's results: a named
 * tensor or output keeps its name; unnamed ones take the signature's name for that output, else
 * `prediction` (one output) or their index (several). A tensor of shape [rows, …] becomes a
 * fixed-size list column (nested for more dimensions); a model that returns a table gives its
 * columns as they are.
 */
import {
  dtypeForColumnType,
  allocate,
  batchRows,
  concatBatches,
  isDType,
  slicePrediction,
  type Batch,
  type Column,
  type Prediction,
  type Schema,
  type Tensor,
} from '@mlmodel/format';
import { BatchScoringError } from './errors.js';

/** Which input columns go to the output: all of them, none, or these. */
export type KeepColumns = 'all' | 'none' | readonly string[];

/** Names of a batch's columns (tensor names; an unnamed tensor is `tensor`, as Arrow files name it). */
export function columnNames(batch: Batch): string[] {
  return batch.kind === 'columns' ? batch.columns.map((c) => c.name) : batch.tensors.map((t) => t.name ?? 'tensor');
}

/** The named columns (or tensors) of a batch, in the order asked; a missing one is an error naming the file and what it has. */
export function selectColumns(batch: Batch, names: readonly string[], file: string, what: string): Batch {
  const have = columnNames(batch);
  const missing = names.filter((n) => !have.includes(n));
  if (missing.length > 0) {
    throw new BatchScoringError(
      `${file} has no column ${missing.map((m) => `'${m}'`).join(', ')} (${what}); its columns are ${have.map((h) => `'${h}'`).join(', ') || 'none'}`,
    );
  }
  if (batch.kind === 'columns') return { kind: 'columns', numRows: batch.numRows, columns: names.map((n) => batch.columns[have.indexOf(n)]!) };
  return { kind: 'tensors', tensors: names.map((n) => batch.tensors[have.indexOf(n)]!) };
}

/** The input columns kept in the output, or null for none. Unnamed tensors get the name `tensor`. */
export function keptColumns(batch: Batch, keep: KeepColumns, file: string): Batch | null {
  if (keep === 'none') return null;
  const b = keep === 'all' ? batch : selectColumns(batch, keep, file, '--keep-columns');
  if (b.kind === 'tensors' && b.tensors.some((t) => t.name === null))
    return { kind: 'tensors', tensors: b.tensors.map((t) => ({ ...t, name: t.name ?? 'tensor' }) as Tensor) };
  return b;
}

/** The names the output signature gives its outputs (null where it names none), or null without an output signature. */
export function outputNames(outputs: Schema | null): (string | null)[] | null {
  return outputs === null ? null : outputs.specs.map((s) => s.name);
}

/**
 * A prediction for `rows` input rows as named output columns: a column batch as it is, a tensor
 * batch with every tensor named. A prediction that does not have one row per input row is an error.
 */
export function predictionColumns(p: Prediction, rows: number, names: readonly (string | null)[] | null): Batch {
  if (p.kind === 'json') {
    if (Array.isArray(p.value) && p.value.length === rows) {
      return { kind: 'columns', numRows: rows, columns: [{ name: names?.[0] ?? 'prediction', dtype: 'object', values: p.value as unknown[] }] };
    }
    throw new BatchScoringError('the model returned JSON that is not one value per row; batch scoring needs one prediction per input row');
  }
  if (p.kind === 'columns') {
    if (p.numRows !== rows)
      throw new BatchScoringError(`the model returned ${p.numRows} rows for ${rows} input rows; batch scoring needs one prediction per input row`);
    return p;
  }
  const single = p.tensors.length === 1;
  const tensors = p.tensors.map((t, k) => {
    if (t.shape.length === 0 || t.shape[0] !== rows) {
      const name = t.name ?? `output ${k}`;
      throw new BatchScoringError(
        `the model's ${name} has shape [${t.shape.join(', ')}] for ${rows} input rows; batch scoring needs one prediction per input row (a first dimension of ${rows})`,
      );
    }
    const name = t.name ?? names?.[k] ?? (single ? 'prediction' : String(k));
    return (t.name === name ? t : { ...t, name }) as Tensor;
  });
  return { kind: 'tensors', tensors };
}

/** `n` rows shaped like `template` (same columns, dtypes and per-row shapes), zero-filled: the values under null rows. */
export function zeroRows(template: Batch, n: number): Batch {
  if (template.kind === 'columns') {
    return { kind: 'columns', numRows: n, columns: template.columns.map((c) => ({ name: c.name, dtype: c.dtype, values: allocate(c.dtype, n) }) as Column) };
  }
  return {
    kind: 'tensors',
    tensors: template.tensors.map((t) => {
      const rest = t.shape.slice(1);
      const width = rest.reduce((a, b) => a * b, 1);
      return { name: t.name, dtype: t.dtype, shape: [n, ...rest], values: allocate(t.dtype, n * width) } as Tensor;
    }),
  };
}

/** Prediction columns with 0 rows from the output signature (for a run whose inputs hold no rows), or null when the signature cannot say. */
export function emptyPredictionColumns(outputs: Schema | null): Batch | null {
  if (outputs === null || outputs.specs.length === 0) return null;
  const single = outputs.specs.length === 1;
  if (outputs.kind === 'tensors') {
    const tensors: Tensor[] = [];
    for (const [k, s] of outputs.specs.entries()) {
      const rest = s.shape.slice(1);
      if (!isDType(s.dtype) || rest.some((d) => d < 0)) return null;
      tensors.push({ name: s.name ?? (single ? 'prediction' : String(k)), dtype: s.dtype, shape: [0, ...rest], values: allocate(s.dtype, 0) } as Tensor);
    }
    return { kind: 'tensors', tensors };
  }
  const columns: Column[] = [];
  for (const [k, s] of outputs.specs.entries()) {
    const dtype = typeof s.type === 'string' ? dtypeForColumnType(s.type) : 'object';
    columns.push({ name: s.name ?? (single ? 'prediction' : String(k)), dtype, values: allocate(dtype, 0) } as Column);
  }
  return { kind: 'columns', numRows: 0, columns };
}

/** Rows `start..end` of a row-aligned batch (views). */
export function sliceRows(batch: Batch, start: number, end: number): Batch {
  if (start === 0 && end === batchRows(batch)) return batch;
  return slicePrediction(batch, batchRows(batch), start, end) as Batch;
}

/** Batches of the same layout, one after the other (the single one as it is). */
export function concatRows(parts: readonly Batch[]): Batch {
  return parts.length === 1 ? parts[0]! : concatBatches(parts);
}
