/**
 * Params enforcement (`_enforce_params_schema`, `ParamSpec.validate_type_and_shape`,
 * `_enforce_param_datatype`; reference §2.4).
 */
import type { ParamSpec, ParamType, PrimitiveType } from '../signature/types.js';
import { EnforceFailure, fail, isListLike, isPlainObject, isScalarValue, ParamsSchemaError, setOwn, type EnforceOptions, type InvalidParam } from './common.js';
import { enforceObject } from './complex.js';
import { nsToDate, parseIsoDatetime } from './datetime.js';
import { pyClassName, pyStr, pyStrList, pyStrRepr, pyStrSet, pyTuple, pyTypeName, typeRepr } from './repr.js';

/** MLflow's `repr(ParamSpec)`: `'name': long (default: 1) (shape: (-1,))`. */
export function paramSpecRepr(spec: ParamSpec): string {
  const shape = spec.shape !== null ? ` (shape: ${pyTuple(spec.shape)})` : '';
  return `${pyStrRepr(spec.name, 80)}: ${typeRepr(spec.type)} (default: ${pyStr(spec.default, 100)})${shape}`;
}

/** `_enforce_param_datatype`: one scalar param value. Returns the value the model receives. */
function enforceParamDatatype(value: unknown, t: PrimitiveType): unknown {
  if (value === null || value === undefined) return null;
  const cannotConvert = (): never => fail(`Failed to convert value \`${pyStr(value, 100)}\` from type \`${pyClassName(value)}\` to \`DataType.${t}\``);
  if (t === 'datetime') {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? cannotConvert() : value;
    if (typeof value !== 'string') return cannotConvert();
    const p = parseIsoDatetime(value);
    if (p === undefined || p === 'timezone') return cannotConvert();
    return nsToDate(p.ns);
  }
  if (!isScalarValue(value)) fail(`Value must be a scalar for type \`DataType.${t}\`, got \`${pyStr(value, 100)}\``);
  switch (t) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'integer':
    case 'long':
      // Python ints only: JSON cannot tell 1.0 from 1, so any integral number counts.
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
      break;
    case 'float':
    case 'double':
      // integer → float/double and long → float/double are allowed conversions.
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      break;
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'binary':
      if (value instanceof Uint8Array) return value;
      break;
  }
  return fail(`Can not safely convert \`${pyClassName(value)}\` to \`DataType.${t}\` for value \`${pyStr(value, 100)}\``);
}

/** numpy's `np.array(value).ndim` for JS values (approximate for ragged lists). */
function ndim(value: unknown): number {
  if (!isListLike(value)) return 0;
  if (value.length === 0) return 1;
  let inner = Infinity;
  for (let i = 0; i < value.length; i++) inner = Math.min(inner, ndim(value[i]));
  return 1 + inner;
}

function isVectorShape(shape: readonly number[] | null): boolean {
  return shape !== null && shape.length === 1 && shape[0] === -1;
}

function enforceOne(value: unknown, type: ParamType): unknown {
  if (typeof type === 'string') return enforceParamDatatype(value, type);
  // Objects are validated strictly, but the model gets the original value (as MLflow does).
  enforceObject(value, type, true);
  return value;
}

/** `ParamSpec.validate_type_and_shape`. */
function validateTypeAndShape(spec: ParamSpec, value: unknown): unknown {
  const vector = isVectorShape(spec.shape);
  if (vector && (!isListLike(value) || ndim(value) !== 1)) {
    fail(`Value must be a 1D array with shape (-1,) for param ${paramSpecRepr(spec)}, received ${pyTypeName(value)} with ndim ${ndim(value)}`);
  }
  if (spec.shape === null || vector) {
    try {
      if (spec.shape === null) return enforceOne(value, spec.type);
      const list = value as ArrayLike<unknown>;
      const out = new Array<unknown>(list.length);
      for (let i = 0; i < list.length; i++) out[i] = enforceOne(list[i], spec.type);
      return out;
    } catch (e) {
      if (!(e instanceof EnforceFailure)) throw e;
      fail(`Failed to validate type and shape for ${paramSpecRepr(spec)}, error: ${e.message}`);
    }
  }
  return fail(
    'Shape must be None for scalar or dictionary value, or (-1,) for 1D array value ' +
      `for ParamSpec ${paramSpecRepr(spec)}), received ${pyTuple(spec.shape ?? [])}`,
  );
}

/** A spec's default as the model receives it (converted like a provided value; copied when mutable). */
function defaultValue(spec: ParamSpec): unknown {
  const d = spec.default;
  let v: unknown = d;
  try {
    v = validateTypeAndShape(spec, d);
  } catch (e) {
    if (!(e instanceof EnforceFailure)) throw e;
  }
  return v !== null && typeof v === 'object' && !(v instanceof Date) && v === d ? structuredClone(v) : v;
}

/**
 * MLflow's params enforcement. Returns the params the model receives: known keys validated and
 * converted, unknown keys dropped (warning), missing keys set to their defaults. Without a
 * ParamSchema every param is ignored (warning) and `{}` is returned. Throws a
 * `ParamsSchemaError` (INVALID_PARAMETER_VALUE) listing every invalid param.
 *
 * Datetime params are returned as JS `Date`s (naive values read as UTC).
 */
export function enforceParams(params: unknown, specs: readonly ParamSpec[] | null | undefined, options: EnforceOptions = {}): Record<string, unknown> {
  if (specs === null || specs === undefined) {
    if (params === null || params === undefined || (isPlainObject(params) && Object.keys(params).length === 0)) return {};
    const info = isPlainObject(params) ? `Ignoring provided params: ${pyStrList(Object.keys(params))}` : 'Ignoring invalid params (not a dictionary).';
    options.onWarning?.(
      '`params` can only be specified at inference time if the model signature defines a params schema. ' +
        `This model does not define a params schema. ${info}`,
    );
    return {};
  }
  const given = params ?? {};
  if (!isPlainObject(given)) throw new ParamsSchemaError(`Parameters must be a dictionary. Got type '${pyTypeName(given)}'.`);

  const allowed = new Set(specs.map((s) => s.name));
  const keys = Object.keys(given);
  const ignored = keys.filter((k) => !allowed.has(k));
  if (ignored.length > 0) {
    options.onWarning?.(
      `Unrecognized params ${pyStrList(ignored)} are ignored for inference. Supported params are: ${pyStrSet([...allowed])}. ` +
        'To enable them, please add corresponding schema in ModelSignature.',
    );
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) if (allowed.has(k)) setOwn(out, k, given[k]);

  const invalid: InvalidParam[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) continue;
    seen.add(spec.name);
    if (Object.hasOwn(out, spec.name)) {
      try {
        setOwn(out, spec.name, validateTypeAndShape(spec, out[spec.name]));
      } catch (e) {
        if (!(e instanceof EnforceFailure)) throw e;
        invalid.push({ name: spec.name, message: e.message });
      }
    } else {
      setOwn(out, spec.name, defaultValue(spec));
    }
  }
  if (invalid.length > 0) {
    const items = invalid.map((p) => `(${pyStrRepr(p.name, 80)}, ${pyStrRepr(p.message, 2000)})`).join(', ');
    throw new ParamsSchemaError(`Invalid parameters found: {${items}}`, invalid);
  }
  return out;
}
