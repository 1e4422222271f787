/**
 * MLflow's column type rules (`_enforce_mlflow_datatype`, reference §2.3) as a pure dtype table.
 *
 * | from → to                        | verdict                                   |
 * |----------------------------------|-------------------------------------------|
 * | same dtype                       | OK, passed through                        |
 * | same kind, itemsize ≤ target     | OK (int32 → int64, float32 → float64, …)  |
 * | unsigned → signed, itemsize <    | OK (uint32 → int64; uint32 → int32 fails) |
 * | (u)int itemsize ≤ 4 → float64    | OK (int64 → float64 fails)                |
 * | int with only 0/1 → float32/64   | OK (value-dependent, see `allZeroOrOne`)  |
 * | float → int, wider → narrower    | fails                                     |
 */
import { dtypeItemSize, dtypeKind, type DType } from '../dtype.js';
import type { PrimitiveType } from '../signature/types.js';

/** The dtype a column of MLflow type `t` holds (MLflow's `DataType.to_numpy()`). */
export function dtypeForColumnType(t: PrimitiveType): DType {
  switch (t) {
    case 'boolean':
      return 'bool';
    case 'integer':
      return 'int32';
    case 'long':
      return 'int64';
    case 'float':
      return 'float32';
    case 'double':
      return 'float64';
    case 'string':
      return 'str';
    case 'binary':
      return 'bytes';
    case 'datetime':
      return 'datetime64[ns]';
  }
}

export function isIntegerDType(d: DType): boolean {
  const k = dtypeKind(d);
  return k === 'i' || k === 'u';
}

export function isFloatDType(d: DType): boolean {
  return dtypeKind(d) === 'f';
}

/**
 * Whether `from` converts to `to` without looking at the values (MLflow's `is_upcast`).
 * Exact matches are true. The 0/1 integer → float exception needs the values: see `allZeroOrOne`.
 */
export function isSafeCast(from: DType, to: DType): boolean {
  if (from === to) return true;
  const fk = dtypeKind(from);
  const tk = dtypeKind(to);
  const fs = dtypeItemSize(from);
  const ts = dtypeItemSize(to);
  if (fk === tk) return (fk === 'i' || fk === 'u' || fk === 'f') && fs <= ts;
  if (fk === 'u' && tk === 'i') return fs < ts;
  // MLflow allows (u)int → float64 for itemsize ≤ 6, i.e. int8/16/32 and uint8/16/32.
  if ((fk === 'i' || fk === 'u') && to === 'float64') return fs <= 6;
  return false;
}

/** Whether the value-dependent 0/1 exception can apply: integer column → float32/float64. */
export function zeroOneCastApplies(from: DType, to: DType): boolean {
  return isIntegerDType(from) && (to === 'float32' || to === 'float64');
}
