import type { ErrorObject, ValidateFunction } from 'ajv';
import { validate } from './validator.generated.js';
import { ModelFormatError } from '../errors.js';

/**
 * The MLmodel JSON schema lives in mlmodel-schema.json: the parts of an MLmodel file whose shape is
 * fixed. Flavor blocks we do not know are only required to be mappings; the flavors we load
 * natively are checked in full. It is compiled ahead of time into validator.generated.ts (see
 * scripts/generate-validator.mjs), so validating never loads ajv's compiler.
 */
const validator = validate as unknown as ValidateFunction;

/** Dotted key path (`flavors.onnx.data`) from ajv's JSON pointer. */
function keyPath(err: ErrorObject): string {
  const parts = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'required') parts.push(String((err.params as { missingProperty: string }).missingProperty));
  return parts.join('.') || '(top level)';
}

function describe(err: ErrorObject): string {
  switch (err.keyword) {
    case 'required':
      return 'is required but missing';
    case 'type':
      return `expected ${String((err.params as { type: string | string[] }).type)
        .split(',')
        .join(' or ')}`;
    case 'minProperties':
      return 'must contain at least one entry';
    case 'enum':
      return `expected one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'additionalProperties':
      return `unexpected key ${JSON.stringify((err.params as { additionalProperty: string }).additionalProperty)}`;
    case 'oneOf':
      return 'expected a string (legacy) or a mapping with conda/virtualenv';
    default:
      return err.message ?? 'is invalid';
  }
}

/** Validate a parsed MLmodel mapping; throws ModelFormatError naming the file, key path and expectation. */
export function validateMLmodelDict(d: unknown, file?: string): void {
  const v = validator;
  if (v(d)) return;
  const err = v.errors?.[0];
  if (!err) throw new ModelFormatError('invalid MLmodel file', { file });
  throw new ModelFormatError(describe(err), { file, keyPath: keyPath(err) });
}
