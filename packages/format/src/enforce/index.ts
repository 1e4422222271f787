/**
 * MLflow schema enforcement on our batch type (reference §2.3 / §2.4).
 *
 * - `enforceSchema(batch, schema)` returns the batch the model receives, or throws an
 *   `InputSchemaError` whose message is MLflow's `Failed to enforce schema of data '…' with
 *   schema '…'. Error: …` and whose `detail` is the inner reason alone.
 * - `enforceParams(params, specs)` returns the params the model receives, or throws a
 *   `ParamsSchemaError` (`Invalid parameters found: …`).
 * - Both accept `{ onWarning }` to surface what MLflow only logs (dropped columns, ignored params).
 */
import type { Batch, ColumnBatch, TensorBatch } from '../batch/types.js';
import type { Schema } from '../signature/types.js';
import { InputSchemaError, type EnforceOptions } from './common.js';
import { enforceColumnSchema } from './columns.js';
import { batchRepr, schemaRepr } from './repr.js';
import { enforceTensorSchema } from './tensors.js';

export { dtypeForColumnType, isSafeCast } from './cast-rules.js';
export { enforceParams } from './params.js';
export { enforceValue } from './complex.js';
export { withNumericLabel, hasNumericLabel } from './labels.js';
export { InputSchemaError, ParamsSchemaError, type EnforceOptions, type InvalidParam } from './common.js';

/**
 * Enforce `schema` on `batch` the way MLflow's `_enforce_schema` does before `predict`:
 * column schemas give a column batch with exactly the schema's columns (in schema order for
 * named schemas), cast by MLflow's safe-cast rules; tensor schemas give tensors whose shape
 * and dtype match the specs. Columns and tensors that already match are passed through
 * without copying.
 */
export function enforceSchema(batch: Batch, schema: Extract<Schema, { kind: 'columns' }>, options?: EnforceOptions): ColumnBatch;
export function enforceSchema(batch: Batch, schema: Extract<Schema, { kind: 'tensors' }>, options?: EnforceOptions): TensorBatch;
export function enforceSchema(batch: Batch, schema: Schema, options?: EnforceOptions): Batch;
export function enforceSchema(batch: Batch, schema: Schema, options: EnforceOptions = {}): Batch {
  try {
    return schema.kind === 'tensors' ? enforceTensorSchema(batch, schema.specs, options) : enforceColumnSchema(batch, schema.specs, options);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    const message = options.disableSchemaDetails
      ? 'Failed to enforce model input schema. Please check your input data.'
      : `Failed to enforce schema of data '${batchRepr(batch)}' with schema '${schemaRepr(schema)}'. Error: ${detail}`;
    throw new InputSchemaError(message, detail, e);
  }
}
