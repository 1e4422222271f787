/** How Python names and prints decoded JSON values, for MLflow-shaped messages and column labels. */
import { PyFloat, pyFloatRepr } from '../pyjson.js';

/** Python `type(v).__name__` of the value `json.loads` would give. */
export function pyTypeOf(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (v instanceof PyFloat) return 'float';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    default:
      return Array.isArray(v) ? 'list' : 'dict';
  }
}

/** Python `str(type(v))`, e.g. `<class 'int'>`. */
export function pyClassOf(v: unknown): string {
  return `<class '${pyTypeOf(v)}'>`;
}

/** Python `str(v)` of a scalar used as a column label; undefined for lists and dicts (unhashable). */
export function pyStrOfLabel(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return undefined;
}

/** Python `np.isscalar` for decoded JSON values (None is not a scalar). */
export function isPyScalar(v: unknown): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' || v instanceof PyFloat;
}
