/**
 * The named-input check shared by column and tensor schemas (`_enforce_schema` step 2):
 * missing required inputs fail, extra inputs are dropped with a warning. Also the duplicate-column
 * check: pandas keeps duplicate labels, and MLflow then fails on them (see `checkDuplicateColumns`).
 */
import type { Column } from '../batch/types.js';
import { fail, type EnforceOptions } from './common.js';
import { labelKey } from './labels.js';
import { labelRepr, pyReprList, pyStrList, pyStrRepr } from './repr.js';

export interface NamedSpec {
  readonly name: string;
  readonly required: boolean;
}

/**
 * `actual` lists the input's names; columns (rather than bare names) print their labels as pandas
 * holds them (`[0, 1]` for a DataFrame built without column names).
 */
export function checkInputNames(specs: readonly NamedSpec[], actual: readonly (string | Column)[], opts: EnforceOptions): void {
  const nameOf = (a: string | Column): string => (typeof a === 'string' ? a : labelKey(a));
  const actualNames = new Set(actual.map(nameOf));
  const known = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => s.required && !actualNames.has(s.name)).map((s) => s.name);
  const listed = new Set<string>();
  const extra = actual.filter((a) => {
    const n = nameOf(a);
    if (known.has(n) || listed.has(n)) return false;
    listed.add(n);
    return true;
  });
  if (missing.length > 0) {
    if (opts.disableSchemaDetails) {
      fail(`Input schema validation failed. Mismatched or missing input(s).${extra.length > 0 ? ' Note that there were extra inputs provided.' : ''}`);
    }
    let message = `Model is missing inputs ${pyStrList(missing, 1000)}.`;
    if (extra.length > 0) message += ` Note that there were extra inputs: ${extraList(extra)}.`;
    fail(message);
  }
  if (extra.length > 0) {
    opts.onWarning?.(
      `Found extra inputs in the model input that are not defined in the model signature: \`${extraList(extra)}\`. These inputs will be ignored.`,
    );
  }
}

function extraList(extra: readonly (string | Column)[]): string {
  return pyReprList(extra.map((a) => (typeof a === 'string' ? pyStrRepr(a, 80) : labelRepr(a))));
}

/**
 * Refuse an input with two columns of the same name when the schema reads that name (`used`;
 * for unnamed schemas, every name among the first columns it takes). pandas keeps duplicate
 * labels, `df[name]` is then a DataFrame rather than a column, and MLflow fails with
 * `'DataFrame' object has no attribute 'dtype'`; duplicates the schema never reads are dropped
 * with the other extra columns, as MLflow drops them.
 */
export function checkDuplicateColumns(columns: readonly Column[], used: (key: string, index: number) => boolean): void {
  const seen = new Map<string, number>();
  for (const c of columns) seen.set(labelKey(c), (seen.get(labelKey(c)) ?? 0) + 1);
  columns.forEach((c, j) => {
    const count = seen.get(labelKey(c))!;
    if (count > 1 && used(labelKey(c), j)) {
      fail(
        `The input has ${count} columns named ${labelRepr(c)}. The model signature reads this column, so it must appear only once: ` +
          'rename or drop the duplicates.',
      );
    }
  });
}
