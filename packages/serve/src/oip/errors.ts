/** Errors of the Open Inference Protocol codec: every malformed request is a 400 `{"error"}`. */
import { ServeError } from '../errors.js';

/** A request that is not a valid inference request (KServe's `InvalidInput`, 400). */
export class OipRequestError extends ServeError {
  constructor(message: string) {
    super(message, 400, { errorCode: 'BAD_REQUEST' });
  }
}

/** A request body of a media type the inference route does not take (415). */
export class OipUnsupportedMediaTypeError extends ServeError {
  constructor(message: string) {
    super(message, 415, { errorCode: 'BAD_REQUEST' });
  }
}

export function invalid(message: string): OipRequestError {
  return new OipRequestError(message);
}

/** A short description of a JSON value for messages: `the string "a"`, `the number 1.5`, `a list`. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof v === 'boolean' ? '' : 'the number '}${String(v)}`;
    default:
      return 'an object';
  }
}
