/**
 * Column labels that pandas holds as numbers rather than strings. A batch names every column with
 * a string; a DataFrame built without column names (`pd.DataFrame(ndarray)`, `dataframe_split`
 * without `columns`) has the integer labels 0, 1, … and JSON `columns` may hold numbers too.
 * Only messages care: MLflow prints such labels bare (`extra inputs: [0, 1]`), strings quoted.
 */
import type { Column } from '../batch/types.js';

const numericLabels = new WeakSet<Column>();

/** Mark a column whose label is a number in pandas (its `name` is that number's text). */
export function withNumericLabel<C extends Column>(c: C): C {
  numericLabels.add(c);
  return c;
}

/** Whether the column's pandas label is a number. */
export function hasNumericLabel(c: Column): boolean {
  return numericLabels.has(c);
}

/**
 * The key a column is matched to the schema's names by: its name, except for numeric labels,
 * which never equal a schema's (string) names, as in pandas (`0` is not `'0'`).
 */
export function labelKey(c: Column): string {
  return numericLabels.has(c) ? `\u0000${c.name}` : c.name;
}
