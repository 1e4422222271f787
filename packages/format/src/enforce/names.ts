/**
 * The named-input check shared by column and tensor schemas (`_enforce_schema` step 2):
 * missing required inputs fail, extra inputs are dropped with a warning.
 */
import { fail, type EnforceOptions } from './common.js';
import { pyStrList } from './repr.js';

export interface NamedSpec {
  readonly name: string;
  readonly required: boolean;
}

export function checkInputNames(specs: readonly NamedSpec[], actualNames: readonly string[], opts: EnforceOptions): void {
  const actual = new Set(actualNames);
  const known = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => s.required && !actual.has(s.name)).map((s) => s.name);
  const extra = [...actual].filter((n) => !known.has(n));
  if (missing.length > 0) {
    if (opts.disableSchemaDetails) {
      fail(`Input schema validation failed. Mismatched or missing input(s).${extra.length > 0 ? ' Note that there were extra inputs provided.' : ''}`);
    }
    let message = `Model is missing inputs ${pyStrList(missing, 1000)}.`;
    if (extra.length > 0) message += ` Note that there were extra inputs: ${pyStrList(extra)}`;
    fail(message);
  }
  if (extra.length > 0) {
    opts.onWarning?.(
      `Found extra inputs in the model input that are not defined in the model signature: \`${pyStrList(extra)}\`. These inputs will be ignored.`,
    );
  }
}
