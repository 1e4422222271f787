import type { DType } from '../dtype.js';
import type { Batch, Prediction } from '../batch/types.js';
import type { ColSpec, ParamSpec, PrimitiveType, Schema, TensorSpec, ValueType } from './types.js';

/** The MLflow column type of a dtype (mlflow.types.utils inference rules). */
export function columnTypeForDType(d: DType): ValueType {
  const map: Partial<Record<DType, PrimitiveType>> = {
    bool: 'boolean',
    int8: 'integer',
    int16: 'integer',
    int32: 'integer',
    uint8: 'integer',
    uint16: 'integer',
    int64: 'long',
    uint32: 'long',
    float16: 'float',
    float32: 'float',
    float64: 'double',
    str: 'string',
    bytes: 'binary',
    'datetime64[ns]': 'datetime',
  };
  return map[d] ?? { type: 'any' };
}

/**
 * Infer a schema from a batch the way `mlflow.models.infer_signature` does: columns → ColSpecs
 * (optional when they hold nulls), tensors → TensorSpecs with a variable first dimension.
 */
export function inferSchema(batch: Batch): Schema {
  if (batch.kind === 'columns') {
    const specs: ColSpec[] = batch.columns.map((c) => ({
      kind: 'column',
      name: c.name,
      type: columnTypeForDType(c.dtype),
      required: !(c.validity && c.validity.includes(0)),
    }));
    return { kind: 'columns', specs };
  }
  const specs: TensorSpec[] = batch.tensors.map((t) => ({
    kind: 'tensor',
    name: t.name,
    dtype: t.dtype,
    shape: t.shape.length === 0 ? [] : [-1, ...t.shape.slice(1)],
  }));
  return { kind: 'tensors', specs };
}

/** The output schema of a prediction, or null when it is free-form JSON (MLflow then infers nothing useful). */
export function inferOutputSchema(p: Prediction): Schema | null {
  return p.kind === 'json' ? null : inferSchema(p);
}

/**
 * Parse `name=type:default` (the CLI's `--param`): `type` is an MLflow primitive, optionally with
 * `[]` for a 1-D list param (shape [-1]); `default` is JSON when it parses as JSON, else a string.
 */
export function parseParamArg(arg: string): ParamSpec {
  const m = /^([^=]+)=([a-z]+)(\[\])?(?::(.*))?$/s.exec(arg);
  if (!m) throw new TypeError(`expected name=type[:default] (e.g. temperature=double:0.5 or stops=string[]:["."]), got ${JSON.stringify(arg)}`);
  const [, name, type, list, raw] = m;
  const types: PrimitiveType[] = ['boolean', 'integer', 'long', 'float', 'double', 'string', 'datetime'];
  if (!types.includes(type as PrimitiveType)) throw new TypeError(`param ${name}: type must be one of ${types.join(', ')}, got ${JSON.stringify(type)}`);
  let def: unknown = null;
  if (raw !== undefined && raw !== '') {
    try {
      def = JSON.parse(raw);
    } catch {
      def = raw;
    }
  }
  if (list && def !== null && !Array.isArray(def)) def = [def];
  return { name: name!.trim(), type: type as ParamSpec['type'], default: def, shape: list ? [-1] : null };
}
