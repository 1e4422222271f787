/**
 * Shared plumbing for schema enforcement: options, warnings and the error types.
 */
import { SchemaEnforcementError } from '../errors.js';

export interface EnforceOptions {
  /**
   * Called for conditions MLflow only logs as warnings: extra input columns that are dropped,
   * params that are ignored. Defaults to doing nothing.
   */
  readonly onWarning?: (message: string) => void;
  /**
   * MLflow's `MLFLOW_DISABLE_SCHEMA_DETAILS`: when true, data errors carry a fixed message that
   * does not echo the input or the schema. The full inner message stays available as `detail`.
   */
  readonly disableSchemaDetails?: boolean;
}

/**
 * Internal failure raised by the enforcement steps. `enforceSchema` wraps it in an
 * `InputSchemaError`; it never escapes the public functions.
 */
export class EnforceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnforceFailure';
  }
}

export function fail(message: string): never {
  throw new EnforceFailure(message);
}

/**
 * Input data that does not satisfy the model's input schema (MLflow INVALID_PARAMETER_VALUE,
 * HTTP 400, error class SCHEMA_ENFORCEMENT_FAILED). `message` is MLflow's wrapped message;
 * `detail` is just the inner reason, for callers that want to show only that.
 */
export class InputSchemaError extends SchemaEnforcementError {
  readonly detail: string;
  readonly errorClass = 'SCHEMA_ENFORCEMENT_FAILED';

  constructor(message: string, detail: string, cause?: unknown) {
    super(message);
    this.detail = detail;
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  }
}

/** One rejected param, as listed in `Invalid parameters found: …`. */
export interface InvalidParam {
  readonly name: string;
  readonly message: string;
}

/** Params that do not satisfy the model's ParamSchema. `invalid` lists each bad param. */
export class ParamsSchemaError extends SchemaEnforcementError {
  readonly invalid: readonly InvalidParam[];

  constructor(message: string, invalid: readonly InvalidParam[] = []) {
    super(message);
    this.invalid = invalid;
  }
}

/** Assign an own enumerable property even when the key is `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v) || ArrayBuffer.isView(v) || v instanceof Date) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A JS array or a numeric typed array ("list or numpy array"); Uint8Array is bytes, not a list. */
export function isListLike(v: unknown): v is ArrayLike<unknown> {
  if (Array.isArray(v)) return true;
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof Uint8Array);
}

/** numpy's `np.isscalar` for JS values (plus null handled by callers). */
export function isScalarValue(v: unknown): boolean {
  const t = typeof v;
  return t === 'number' || t === 'bigint' || t === 'string' || t === 'boolean' || v instanceof Uint8Array || v instanceof Date;
}
