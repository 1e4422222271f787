import { describe, it, expect } from 'vitest';
import { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { Batch, Column, ColumnBatch, Tensor } from '../src/batch/types.js';
import { column, columnBatch, columnFromValues, parseDatetimeNs, tensor, tensorBatch, tensorFromNested } from '../src/batch/values.js';
import type { DType } from '../src/dtype.js';
import { SchemaEnforcementError } from '../src/errors.js';
import type { ColSpec, ParamSpec, PrimitiveType, Schema, TensorSpec, ValueType } from '../src/signature/types.js';
import { dtypeForColumnType, enforceParams, enforceSchema, InputSchemaError, ParamsSchemaError, type EnforceOptions } from '../src/enforce/index.js';
import { asColumns, asTensors } from './batch-asserts.js';

// --- helpers ---------------------------------------------------------------------------------

const cs = (name: string | null, type: ValueType, required: boolean | null = true): ColSpec => ({ kind: 'column', name, type, required });
const cols = (...specs: ColSpec[]): Schema => ({ kind: 'columns', specs });
const tspec = (name: string | null, dtype: string, shape: number[]): TensorSpec => ({ kind: 'tensor', name, dtype, shape });
const tensors = (...specs: TensorSpec[]): Schema => ({ kind: 'tensors', specs });
const one = (c: Column): ColumnBatch => columnBatch([c]);

function enforceError(batch: Batch, schema: Schema, opts?: EnforceOptions): InputSchemaError {
  try {
    enforceSchema(batch, schema, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(InputSchemaError);
    expect(e).toBeInstanceOf(SchemaEnforcementError);
    const err = e as InputSchemaError;
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
    if (!opts?.disableSchemaDetails) expect(err.message).toContain(`Error: ${err.detail}`);
    return err;
  }
  throw new Error('expected enforceSchema to throw');
}

function paramsError(params: unknown, specs: ParamSpec[]): ParamsSchemaError {
  try {
    enforceParams(params, specs);
  } catch (e) {
    expect(e).toBeInstanceOf(ParamsSchemaError);
    return e as ParamsSchemaError;
  }
  throw new Error('expected enforceParams to throw');
}

/** Enforce a one-column batch against a one-column named schema and return the result column. */
function castColumn(c: Column, type: PrimitiveType | ValueType, required = true): Column {
  const out = asColumns(enforceSchema(one(c), cols(cs(c.name, type, required))));
  expect(out.columns).toHaveLength(1);
  return out.columns[0]!;
}

function castDetail(c: Column, type: ValueType, required = true): string {
  return enforceError(one(c), cols(cs(c.name, type, required))).detail;
}

const p = (name: string, type: ParamSpec['type'], dflt: unknown, shape: number[] | null = null): ParamSpec => ({
  name,
  type,
  default: dflt,
  shape,
});

// --- dtypeForColumnType ----------------------------------------------------------------------

describe('dtypeForColumnType', () => {
  it('maps every primitive type to its numpy dtype', () => {
    const expected: Record<PrimitiveType, DType> = {
      boolean: 'bool',
      integer: 'int32',
      long: 'int64',
      float: 'float32',
      double: 'float64',
      string: 'str',
      binary: 'bytes',
      datetime: 'datetime64[ns]',
    };
    for (const [t, d] of Object.entries(expected)) expect(dtypeForColumnType(t as PrimitiveType)).toBe(d);
  });
});

// --- §2.3 cast table -------------------------------------------------------------------------

describe('column casting rules (_enforce_mlflow_datatype)', () => {
  it('passes exact dtype matches through without copying', () => {
    const c = column('a', 'float64', new Float64Array([1.5, 2]));
    const batch = one(c);
    const out = asColumns(enforceSchema(batch, cols(cs('a', 'double'))));
    expect(out.columns[0]).toBe(c);
    expect(out.numRows).toBe(2);
  });

  it('long → integer raises', () => {
    const detail = castDetail(column('a', 'int64', new BigInt64Array([1n, 2n])), 'integer');
    expect(detail).toBe('Incompatible input types for column a. Can not safely convert int64 to int32.');
  });

  it('integer → long is an upcast to int64 (negative values keep their sign)', () => {
    const out = castColumn(column('a', 'int32', new Int32Array([1, -3, 2147483647, -2147483648])), 'long');
    expect(out.dtype).toBe('int64');
    expect(out.values).toBeInstanceOf(BigInt64Array);
    expect([...(out.values as BigInt64Array)]).toEqual([1n, -3n, 2147483647n, -2147483648n]);
  });

  it('uint32 → long is OK', () => {
    const out = castColumn(column('a', 'uint32', new Uint32Array([0, 4294967295])), 'long');
    expect(out.dtype).toBe('int64');
    expect([...(out.values as BigInt64Array)]).toEqual([0n, 4294967295n]);
  });

  it('uint32 → integer raises (unsigned → signed needs a strictly larger target)', () => {
    expect(castDetail(column('a', 'uint32', new Uint32Array([1])), 'integer')).toBe(
      'Incompatible input types for column a. Can not safely convert uint32 to int32.',
    );
  });

  it('uint8 / uint16 → integer and int8 / int16 → integer are OK', () => {
    const a = castColumn(column('a', 'uint16', new Uint16Array([65535])), 'integer');
    expect(a.dtype).toBe('int32');
    expect([...(a.values as Int32Array)]).toEqual([65535]);
    const b = castColumn(column('a', 'int8', new Int8Array([-5])), 'integer');
    expect([...(b.values as Int32Array)]).toEqual([-5]);
  });

  it('double → float raises', () => {
    expect(castDetail(column('a', 'float64', new Float64Array([1.5])), 'float')).toBe(
      'Incompatible input types for column a. Can not safely convert float64 to float32.',
    );
  });

  it('float → double is OK', () => {
    const out = castColumn(column('a', 'float32', new Float32Array([1.5, -0.25])), 'double');
    expect(out.dtype).toBe('float64');
    expect(out.values).toBeInstanceOf(Float64Array);
    expect([...(out.values as Float64Array)]).toEqual([1.5, -0.25]);
  });

  it('int32 → float raises', () => {
    expect(castDetail(column('a', 'int32', new Int32Array([5])), 'float')).toBe(
      'Incompatible input types for column a. Can not safely convert int32 to float32.',
    );
  });

  it('int32 → double is OK and converts the storage', () => {
    const out = castColumn(column('a', 'int32', new Int32Array([1, -2, 3])), 'double');
    expect(out.dtype).toBe('float64');
    expect(out.values).toBeInstanceOf(Float64Array);
    expect([...(out.values as Float64Array)]).toEqual([1, -2, 3]);
  });

  it('int64 → double raises unless every value is 0 or 1', () => {
    expect(castDetail(column('a', 'int64', new BigInt64Array([0n, 2n])), 'double')).toBe(
      'Incompatible input types for column a. Can not safely convert int64 to float64.',
    );
    const ok = castColumn(column('a', 'int64', new BigInt64Array([0n, 1n, 1n])), 'double');
    expect(ok.dtype).toBe('float64');
    expect([...(ok.values as Float64Array)]).toEqual([0, 1, 1]);
    const f32 = castColumn(column('a', 'int64', new BigInt64Array([1n, 0n])), 'float');
    expect(f32.dtype).toBe('float32');
    expect([...(f32.values as Float32Array)]).toEqual([1, 0]);
  });

  it('the 0/1 exception also covers narrower ints (a superset of MLflow, exact either way)', () => {
    const out = castColumn(column('a', 'int32', new Int32Array([0, 1])), 'float');
    expect(out.dtype).toBe('float32');
    expect([...(out.values as Float32Array)]).toEqual([0, 1]);
  });

  it('the 0/1 exception ignores missing values', () => {
    const out = castColumn(column('a', 'int64', new BigInt64Array([1n, 7n, 0n]), new Uint8Array([1, 0, 1])), 'double', false);
    expect(out.dtype).toBe('float64');
    expect([...(out.values as Float64Array)]).toEqual([1, NaN, 0]);
  });

  it('float → int raises for every float and int size', () => {
    for (const [from, values] of [
      ['float64', new Float64Array([1])],
      ['float32', new Float32Array([1])],
    ] as const) {
      for (const t of ['integer', 'long'] as const) {
        const to = t === 'integer' ? 'int32' : 'int64';
        expect(castDetail(column('x', from, values), t)).toBe(`Incompatible input types for column x. Can not safely convert ${from} to ${to}.`);
      }
    }
  });

  it('adds the missing-integer hint for whole floats with NaN', () => {
    const detail = castDetail(column('n', 'float64', new Float64Array([1, NaN, 3])), 'long');
    expect(detail).toMatch(
      /^Incompatible input types for column n\. Can not safely convert float64 to int64\. Hint: the type mismatch is likely caused by missing values/,
    );
    expect(castDetail(column('n', 'float64', new Float64Array([1.5, NaN])), 'long')).not.toContain('Hint');
    expect(castDetail(column('n', 'float64', new Float64Array([1, 2])), 'long')).not.toContain('Hint');
  });

  it('bool → numeric and numeric → bool raise', () => {
    expect(castDetail(column('b', 'bool', new Uint8Array([1, 0])), 'long')).toBe(
      'Incompatible input types for column b. Can not safely convert bool to int64.',
    );
    expect(castDetail(column('b', 'int64', new BigInt64Array([1n])), 'boolean')).toBe(
      'Incompatible input types for column b. Can not safely convert int64 to bool.',
    );
  });

  it('numbers → string and strings → numbers raise', () => {
    expect(castDetail(column('s', 'int64', new BigInt64Array([1n])), 'string')).toBe(
      'Incompatible input types for column s. Can not safely convert int64 to str.',
    );
    expect(castDetail(columnFromValues('s', ['1', '2']), 'long')).toBe('Incompatible input types for column s. Can not safely convert str to int64.');
  });

  it('float16 → double is a same-kind upcast', () => {
    // 0x3c00 = 1.0, 0xc000 = -2.0 in IEEE half precision.
    const out = castColumn(column('h', 'float16', new Uint16Array([0x3c00, 0xc000])), 'double');
    expect(out.dtype).toBe('float64');
    expect([...(out.values as Float64Array)]).toEqual([1, -2]);
  });
});

describe('object columns (infer_objects first)', () => {
  it('all-int objects become int64 for long', () => {
    const out = castColumn(columnFromValues('o', [1, 2], 'object'), 'long');
    expect(out.dtype).toBe('int64');
    expect([...(out.values as BigInt64Array)]).toEqual([1n, 2n]);
  });

  it('int objects then follow the int64 rules (int64 → integer raises)', () => {
    expect(castDetail(columnFromValues('o', [1, 2], 'object'), 'integer')).toBe(
      'Incompatible input types for column o. Can not safely convert int64 to int32.',
    );
  });

  it('mixed int/float objects become float64 for double', () => {
    const out = castColumn(columnFromValues('o', [1, 2.5, 3], 'object'), 'double');
    expect(out.dtype).toBe('float64');
    expect([...(out.values as Float64Array)]).toEqual([1, 2.5, 3]);
  });

  it('bool objects become bool', () => {
    const out = castColumn(columnFromValues('o', [true, false], 'object'), 'boolean');
    expect(out.dtype).toBe('bool');
    expect([...(out.values as Uint8Array)]).toEqual([1, 0]);
  });

  it('boolean accepts a mixed object column as is (like MLflow)', () => {
    const c = columnFromValues('o', [true, 'x'], 'object');
    expect(castColumn(c, 'boolean')).toBe(c);
  });

  it('string accepts object columns of strings and converts them to str storage', () => {
    const out = castColumn(columnFromValues('o', ['a', null, 'ü'], 'object'), 'string', false);
    expect(out.dtype).toBe('str');
    expect(out.values).toBeInstanceOf(Utf8Array);
    expect((out.values as Utf8Array).get(2)).toBe('ü');
    expect([...out.validity!]).toEqual([1, 0, 1]);
  });

  it('string rejects object columns holding non-strings', () => {
    expect(castDetail(columnFromValues('o', ['a', 1], 'object'), 'string')).toBe(
      'Incompatible input types for column o. Can not safely convert object to str.',
    );
  });

  it('mixed objects cannot become numbers', () => {
    expect(castDetail(columnFromValues('o', [1, 'x'], 'object'), 'long')).toBe(
      'Incompatible input types for column o. Can not safely convert object to int64.',
    );
  });

  it('an all-null optional object column takes the target dtype', () => {
    const out = castColumn(columnFromValues('o', [null, null], 'object'), 'long', false);
    expect(out.dtype).toBe('int64');
    expect([...out.validity!]).toEqual([0, 0]);
  });
});

describe('datetime and binary columns', () => {
  it('str columns of ISO strings become datetime64[ns]', () => {
    const out = castColumn(columnFromValues('d', ['2024-01-02', '2024-01-02T03:04:05.123456789', '1969-12-31 23:59:59']), 'datetime');
    expect(out.dtype).toBe('datetime64[ns]');
    const v = out.values as BigInt64Array;
    expect(v[0]).toBe(parseDatetimeNs('2024-01-02'));
    expect(v[1]).toBe(BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1_000_000n + 123_456_789n);
    expect(v[2]).toBe(-1_000_000_000n);
  });

  it('object columns of Dates and ISO strings become datetime64[ns]', () => {
    const out = castColumn(columnFromValues('d', [new Date(Date.UTC(2020, 1, 29)), '2020-03-01', null], 'object'), 'datetime', false);
    expect(out.dtype).toBe('datetime64[ns]');
    expect((out.values as BigInt64Array)[0]).toBe(BigInt(Date.UTC(2020, 1, 29)) * 1_000_000n);
    expect((out.values as BigInt64Array)[1]).toBe(BigInt(Date.UTC(2020, 2, 1)) * 1_000_000n);
    expect([...out.validity!]).toEqual([1, 1, 0]);
  });

  it('datetime64[ns] passes through', () => {
    const c = column('d', 'datetime64[ns]', new BigInt64Array([5n]));
    expect(castColumn(c, 'datetime')).toBe(c);
  });

  it('unparseable and timezone-aware strings fail with the column named', () => {
    expect(castDetail(columnFromValues('d', ['2024-01-01', 'yesterday']), 'datetime')).toBe(
      "Failed to convert column d from type str to DataType.datetime. Row 1: cannot parse 'yesterday' as a datetime.",
    );
    expect(castDetail(columnFromValues('d', ['2024-02-30']), 'datetime')).toContain('cannot parse');
    expect(castDetail(columnFromValues('d', ['2024-01-01T00:00:00Z']), 'datetime')).toContain(
      'only contains timezone-naive datetime objects; row 0 has a timezone',
    );
  });

  it('numbers do not become datetimes', () => {
    expect(castDetail(column('d', 'int64', new BigInt64Array([1n])), 'datetime')).toBe(
      'Incompatible input types for column d. Can not safely convert int64 to datetime64[ns].',
    );
  });

  it('bytes → binary is accepted as is; object bytes become bytes storage', () => {
    const c = column('b', 'bytes', BinaryArray.fromBuffers([new Uint8Array([1, 2]), new Uint8Array([])]));
    expect(castColumn(c, 'binary')).toBe(c);
    const out = castColumn(columnFromValues('b', [new Uint8Array([9])], 'object'), 'binary');
    expect(out.dtype).toBe('bytes');
    expect([...(out.values as BinaryArray).get(0)]).toEqual([9]);
  });

  it('str → binary raises', () => {
    expect(castDetail(columnFromValues('b', ['aGk=']), 'binary')).toBe('Incompatible input types for column b. Can not safely convert str to bytes.');
  });
});

// --- columns: names, optional, nulls ---------------------------------------------------------

describe('named column schemas', () => {
  const schema = cols(cs('a', 'long'), cs('b', 'double'), cs('c', 'string', false));

  it('reports missing required inputs and extra inputs like MLflow', () => {
    const batch = columnBatch([columnFromValues('x', [1]), columnFromValues('y', [2])]);
    const err = enforceError(batch, schema);
    expect(err.detail).toBe("Model is missing inputs ['a', 'b']. Note that there were extra inputs: ['x', 'y'].");
    expect(err.message).toBe(
      "Failed to enforce schema of data '{'x': [1], 'y': [2]}' with schema '['a': long (required), 'b': double (required), " +
        "'c': string (optional)]'. Error: Model is missing inputs ['a', 'b']. Note that there were extra inputs: ['x', 'y'].",
    );
  });

  it('without extras the message has no note', () => {
    expect(enforceError(columnBatch([columnFromValues('a', [1])]), schema).detail).toBe("Model is missing inputs ['b'].");
  });

  it('drops extra columns with a warning, skips absent optional columns, orders by schema', () => {
    const warnings: string[] = [];
    const b = columnFromValues('b', [0.5, 1.5]);
    const a = columnFromValues('a', [1, 2]);
    const batch = columnBatch([columnFromValues('zzz', ['q', 'r']), b, a]);
    const out = asColumns(enforceSchema(batch, schema, { onWarning: (m) => warnings.push(m) }));
    expect(out.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(out.columns[0]).toBe(a);
    expect(out.columns[1]).toBe(b);
    expect(out.numRows).toBe(2);
    expect(warnings).toEqual(["Found extra inputs in the model input that are not defined in the model signature: `['zzz']`. These inputs will be ignored."]);
  });

  it('keeps present optional columns', () => {
    const out = asColumns(enforceSchema(columnBatch([columnFromValues('c', ['x']), columnFromValues('a', [1]), columnFromValues('b', [2.5])]), schema));
    expect(out.columns.map((c) => c.name)).toEqual(['a', 'b', 'c']);
  });

  it('complex columns without a `required` key are optional (MLflow quirk)', () => {
    const out = asColumns(enforceSchema(columnBatch([columnFromValues('a', [1])]), cols(cs('a', 'long'), cs('q', { type: 'any' }, null))));
    expect(out.columns.map((c) => c.name)).toEqual(['a']);
  });

  it('rejects nulls in a required column, naming the column and the types', () => {
    const detail = castDetail(columnFromValues('a', [1, null, null]), 'long');
    expect(detail).toBe(
      'Incompatible input types for column a. The column is required by the model signature but has 2 missing value(s) ' +
        '(first at row 1): expected long, received int64 with missing values.',
    );
    expect(castDetail(columnFromValues('s', ['x', null]), 'string')).toContain('column s');
    expect(castDetail(columnFromValues('o', [true, null], 'object'), 'boolean')).toContain('received object with missing values');
  });

  it('accepts nulls in optional columns and keeps the validity mask', () => {
    const out = castColumn(columnFromValues('a', [1, null, 3]), 'long', false);
    expect(out.dtype).toBe('int64');
    expect([...out.validity!]).toEqual([1, 0, 1]);
  });

  it('accepts nulls as NaN in float columns, as pandas does', () => {
    const c = column('a', 'float64', new Float64Array([1, 0, 2]), new Uint8Array([1, 0, 1]));
    const out = castColumn(c, 'double');
    expect(out.dtype).toBe('float64');
    expect([...(out.values as Float64Array)]).toEqual([1, NaN, 2]);
    expect([...(c.values as Float64Array)]).toEqual([1, 0, 2]); // input untouched
    const up = castColumn(column('a', 'int32', new Int32Array([4, 0]), new Uint8Array([1, 0])), 'double');
    expect([...(up.values as Float64Array)]).toEqual([4, NaN]);
  });

  it('bounds the message size however large the input is', () => {
    const n = 200_000;
    const big = column('a', 'float64', new Float64Array(n).fill(1.25));
    const extra = Array.from({ length: 500 }, (_, i) => column(`extra_column_${i}`, 'float64', new Float64Array(n)));
    const err = enforceError(columnBatch([big, ...extra]), cols(cs('a', 'long'), cs('b', 'long')));
    expect(err.message.length).toBeLessThan(1000);
    expect(err.detail).toMatch(/^Model is missing inputs \['b'\]\. Note that there were extra inputs: \['extra_column_0', /);
  });

  it('supports MLFLOW_DISABLE_SCHEMA_DETAILS', () => {
    const err = enforceError(columnBatch([columnFromValues('x', [1])]), schema, { disableSchemaDetails: true });
    expect(err.message).toBe('Failed to enforce model input schema. Please check your input data.');
    expect(err.detail).toBe('Input schema validation failed. Mismatched or missing input(s). Note that there were extra inputs provided.');
  });
});

describe('unnamed column schemas', () => {
  const schema = cols(cs(null, 'long'), cs(null, 'double'));

  it('checks only the column count, with MLflow message', () => {
    expect(enforceError(columnBatch([columnFromValues('0', [1])]), schema).detail).toBe(
      'Model inference is missing inputs. The model signature declares 2 inputs  but the provided value only has 1 inputs. ' +
        'Note: the inputs were not named in the signature so we can only verify their count.',
    );
  });

  it('matches by position, keeps original names and ignores extra trailing columns', () => {
    const batch = columnBatch([
      column('p', 'int32', new Int32Array([1, 2])),
      column('q', 'float32', new Float32Array([0.5, 1])),
      columnFromValues('r', ['x', 'y']),
    ]);
    const out = asColumns(enforceSchema(batch, schema));
    expect(out.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['p', 'int64'],
      ['q', 'float64'],
    ]);
    expect([...(out.columns[0]!.values as BigInt64Array)]).toEqual([1n, 2n]);
  });

  it('warns about the ignored trailing columns', () => {
    const warnings: string[] = [];
    enforceSchema(columnBatch([columnFromValues('0', [1]), columnFromValues('1', [2.5]), columnFromValues('2', [3])]), schema, {
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual(['The input has 3 columns but the model signature declares 2 unnamed inputs; the extra trailing columns are ignored.']);
  });

  it('names the positional column in cast errors', () => {
    const batch = columnBatch([columnFromValues('0', [1]), columnFromValues('1', ['x'])]);
    expect(enforceError(batch, schema).detail).toBe('Incompatible input types for column 1. Can not safely convert str to float64.');
  });
});

describe('tensor input for column schemas', () => {
  it('a single 2-D tensor is DataFrame(ndarray): columns 0, 1, … that a named schema does not have (MLflow)', () => {
    const t = tensorFromNested(null, [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const err = enforceError(tensorBatch([t]), cols(cs('a', 'long'), cs('b', 'long')));
    expect(err.detail).toBe("Model is missing inputs ['a', 'b']. Note that there were extra inputs: [0, 1].");
    expect(err.message).toContain("Failed to enforce schema of data 'array([[1, 2], [3, 4], [5, 6]], dtype=int64)'");
  });

  it('a 1-D tensor is one column labelled 0: a named single-column schema does not have it either', () => {
    const t = tensor(null, 'int32', [3], new Int32Array([1, 2, 3]));
    expect(enforceError(tensorBatch([t]), cols(cs('x', 'double'))).detail).toBe("Model is missing inputs ['x']. Note that there were extra inputs: [0].");
  });

  it('unnamed column schemas still take the columns of a 2-D tensor by position', () => {
    const t = tensorFromNested(null, [
      [1, 2],
      [3, 4],
    ]);
    const out = asColumns(enforceSchema(tensorBatch([t]), cols(cs(null, 'long'), cs(null, 'long'))));
    expect(out.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['0', 'int64'],
      ['1', 'int64'],
    ]);
    expect([...(out.columns[1]!.values as BigInt64Array)]).toEqual([2n, 4n]);
  });

  it('maps named tensors by name, like a dict → DataFrame', () => {
    const a = tensor('a', 'float64', [2], new Float64Array([1, 2]));
    const b = tensor('b', 'str', [2], Utf8Array.fromStrings(['x', 'y']));
    const out = asColumns(enforceSchema(tensorBatch([b, a]), cols(cs('a', 'double'), cs('b', 'string'))));
    expect(out.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(out.columns[0]!.values).toBe(a.values);
  });

  it('makes one row of named tensors when a column is an Array', () => {
    const q = tensor('q', 'str', [2], Utf8Array.fromStrings(['x', 'y']));
    const out = asColumns(enforceSchema(tensorBatch([q]), cols(cs('q', { type: 'array', items: 'string' }))));
    expect(out.numRows).toBe(1);
    expect(out.columns[0]!.values).toEqual([['x', 'y']]);
  });

  it('rejects tensors of rank > 2', () => {
    const t = tensor(null, 'float64', [1, 2, 2], new Float64Array(4));
    expect(enforceError(tensorBatch([t]), cols(cs('a', 'double'))).detail).toBe(
      'This model contains a column-based signature, which suggests a DataFrame input. There was an error casting the input data ' +
        'to a DataFrame: Must pass 2-d input. shape=(1, 2, 2)',
    );
  });
});

// --- complex types ---------------------------------------------------------------------------

describe('Array / Object / Map / Any columns', () => {
  const arrStr: ValueType = { type: 'array', items: 'string' };

  it('accepts arrays of strings', () => {
    const out = castColumn(columnFromValues('q', [['a', 'b'], []], 'object'), arrStr);
    expect(out.dtype).toBe('object');
    expect(out.values).toEqual([['a', 'b'], []]);
  });

  it('rejects non-string items and non-list values', () => {
    expect(castDetail(columnFromValues('q', [['a'], ['b', 1]], 'object'), arrStr)).toBe(
      'Incompatible input types for column q. Value at row 1 does not match type Array(string): ' +
        'Failed to enforce schema of data `1` with dtype `string` (received type int)',
    );
    expect(castDetail(columnFromValues('q', ['abc']), arrStr)).toBe(
      'Incompatible input types for column q. Value at row 0 does not match type Array(string): Expected data to be list or numpy array, got str',
    );
  });

  it('optional arrays accept null and empty lists; required arrays reject null', () => {
    const out = castColumn(columnFromValues('q', [null, [], ['z']], 'object'), arrStr, false);
    expect(out.values).toEqual([null, [], ['z']]);
    expect([...out.validity!]).toEqual([0, 1, 1]);
    expect(castDetail(columnFromValues('q', [null], 'object'), arrStr)).toContain('Expected data to be list or numpy array, got NoneType');
  });

  it('checks nested numeric items with the JS scalar rules', () => {
    const t: ValueType = { type: 'array', items: { type: 'array', items: 'integer' } };
    expect(castColumn(columnFromValues('m', [[[1, 2], [3]]], 'object'), t).values).toEqual([[[1, 2], [3]]]);
    expect(castDetail(columnFromValues('m', [[[1.5]]], 'object'), t)).toContain(
      'Failed to enforce schema of data `1.5` with dtype `integer` (received type float)',
    );
    expect(castDetail(columnFromValues('m', [[[2 ** 31]]], 'object'), t)).toContain('with dtype `integer`');
    const dbl = castColumn(columnFromValues('d', [[1, 2.5]], 'object'), { type: 'array', items: 'double' });
    expect(dbl.values).toEqual([[1, 2.5]]);
    expect(castDetail(columnFromValues('d', [[true]], 'object'), { type: 'array', items: 'double' })).toContain('(received type bool)');
  });

  const obj: ValueType = {
    type: 'object',
    properties: [
      { name: 'a', valueType: 'string', required: true },
      { name: 'inner', valueType: { type: 'object', properties: [{ name: 'x', valueType: 'long', required: true }] }, required: false },
      { name: 'when', valueType: 'datetime', required: false },
    ],
  };

  it('accepts matching objects and converts nested datetimes', () => {
    const out = castColumn(columnFromValues('o', [{ a: 'hi', inner: { x: 3 }, when: '2024-05-06' }], 'object'), obj);
    expect(out.values).toEqual([{ a: 'hi', inner: { x: 3 }, when: new Date(Date.UTC(2024, 4, 6)) }]);
  });

  it('reports missing required properties', () => {
    expect(castDetail(columnFromValues('o', [{ inner: { x: 1 } }], 'object'), obj)).toBe(
      "Incompatible input types for column o. Value at row 0 does not match type {a: string (required), inner: {x: long (required)} (optional), when: datetime (optional)}: Missing required properties: {'a'}",
    );
  });

  it('reports properties not in the schema (objects are strict)', () => {
    expect(castDetail(columnFromValues('o', [{ a: 'x', z: 1, y: 2 }], 'object'), obj)).toContain(
      "Invalid properties not defined in the schema found: {'y', 'z'}",
    );
  });

  it('reports nested failures with the key, expected and received types', () => {
    expect(castDetail(columnFromValues('o', [{ a: 'x', inner: { y: 1 } }], 'object'), obj)).toContain(
      "Failed to enforce schema for key `inner`. Expected type object, received type dict: Missing required properties: {'x'}",
    );
    expect(castDetail(columnFromValues('o', [{ a: 'x', inner: { x: 'no' } }], 'object'), obj)).toContain(
      'Failed to enforce schema for key `inner`. Expected type object, received type dict: ' +
        'Failed to enforce schema for key `x`. Expected type long, received type str: ' +
        'Failed to enforce schema of data `no` with dtype `long` (received type str)',
    );
    // An optional object property accepts None and {} (MLflow semantics).
    expect(
      castColumn(
        columnFromValues(
          'o',
          [
            { a: 'x', inner: {} },
            { a: 'y', inner: null },
          ],
          'object',
        ),
        obj,
      ).values,
    ).toEqual([
      { a: 'x', inner: {} },
      { a: 'y', inner: null },
    ]);
    expect(castDetail(columnFromValues('o', [{ a: 5 }], 'object'), obj)).toContain(
      'Failed to enforce schema for key `a`. Expected type string, received type int: Failed to enforce schema of data `5` with dtype `string`',
    );
    expect(castDetail(columnFromValues('o', [['a']], 'object'), obj)).toContain("Failed to enforce schema of '['a']' with type '{a: string (required)");
  });

  const mapLong: ValueType = { type: 'map', values: 'long' };

  it('accepts maps of the value type', () => {
    const out = castColumn(columnFromValues('m', [{ x: 1, y: 2 }, {}], 'object'), mapLong);
    expect(out.values).toEqual([{ x: 1, y: 2 }, {}]);
  });

  it('rejects maps with values of another type and non-dict values', () => {
    expect(castDetail(columnFromValues('m', [{ x: 1, y: 'two' }], 'object'), mapLong)).toContain(
      'Failed to enforce schema of data `two` with dtype `long` (received type str)',
    );
    expect(castDetail(columnFromValues('m', [[1]], 'object'), mapLong)).toContain('Expected data to be a dict, got list');
    const mapArr: ValueType = { type: 'map', values: { type: 'array', items: 'string' } };
    expect(castDetail(columnFromValues('m', [{ k: 'notalist' }], 'object'), mapArr)).toContain('Expected data to be list or numpy array, got str');
  });

  it('Any accepts anything, including nulls in required columns, without copying', () => {
    const c = columnFromValues('x', [1, 'a', null, { b: [1] }], 'object');
    expect(castColumn(c, { type: 'any' })).toBe(c);
    const arrAny = castColumn(columnFromValues('y', [null, [], [1, 'a']], 'object'), { type: 'array', items: { type: 'any' } });
    expect(arrAny.values).toEqual([null, [], [1, 'a']]);
  });

  it('does not mutate the input objects', () => {
    const cell = { a: 'x', when: '2024-01-01' };
    castColumn(columnFromValues('o', [cell], 'object'), obj);
    expect(cell.when).toBe('2024-01-01');
  });
});

// --- tensors ---------------------------------------------------------------------------------

describe('tensor schemas', () => {
  it('passes matching named tensors through by name, in schema order', () => {
    const a = tensor('a', 'float32', [2, 3], new Float32Array(6));
    const b = tensor('b', 'int64', [2], new BigInt64Array(2));
    const out = asTensors(enforceSchema(tensorBatch([b, a]), tensors(tspec('a', 'float32', [-1, 3]), tspec('b', 'int64', [-1]))));
    expect(out.tensors[0]).toBe(a);
    expect(out.tensors[1]).toBe(b);
  });

  it('reports missing named tensors and warns about extra ones', () => {
    const a = tensor('a', 'float32', [1], new Float32Array(1));
    const z = tensor('z', 'float32', [1], new Float32Array(1));
    expect(enforceError(tensorBatch([a, z]), tensors(tspec('a', 'float32', [-1]), tspec('b', 'float32', [-1]))).detail).toBe(
      "Model is missing inputs ['b']. Note that there were extra inputs: ['z'].",
    );
    const warnings: string[] = [];
    const out = asTensors(enforceSchema(tensorBatch([a, z]), tensors(tspec('a', 'float32', [-1])), { onWarning: (m) => warnings.push(m) }));
    expect(out.tensors).toEqual([a]);
    expect(warnings[0]).toContain("`['z']`");
  });

  it('maps a single unnamed tensor onto a single named spec', () => {
    const t = tensor(null, 'float64', [2], new Float64Array([1, 2]));
    const out = asTensors(enforceSchema(tensorBatch([t]), tensors(tspec('x', 'float64', [-1]))));
    expect(out.tensors[0]!.name).toBe('x');
    expect(out.tensors[0]!.values).toBe(t.values);
  });

  it('checks the shape with python tuple formatting', () => {
    const t = tensor(null, 'float32', [2, 3], new Float32Array(6));
    expect(enforceError(tensorBatch([t]), tensors(tspec(null, 'float32', [-1, 4]))).detail).toBe(
      'Shape of input (2, 3) does not match expected shape (-1, 4).',
    );
    const v = tensor(null, 'float32', [3], new Float32Array(3));
    expect(enforceError(tensorBatch([v]), tensors(tspec(null, 'float32', [-1, 4]))).detail).toBe('Shape of input (3,) does not match expected shape (-1, 4).');
  });

  it('accepts any size in -1 dimensions', () => {
    const t = tensor(null, 'float32', [5, 2, 7], new Float32Array(70));
    const out = asTensors(enforceSchema(tensorBatch([t]), tensors(tspec(null, 'float32', [-1, 2, -1]))));
    expect(out.tensors[0]).toBe(t);
  });

  it('never casts tensors: the dtype must match exactly', () => {
    const t = tensor(null, 'int64', [1, 4], new BigInt64Array(4));
    const err = enforceError(tensorBatch([t]), tensors(tspec(null, 'float32', [-1, 4])));
    expect(err.detail).toBe('dtype of input int64 does not match expected dtype float32');
    expect(err.message).toBe(
      "Failed to enforce schema of data 'array([[0, 0, 0, 0]], dtype=int64)' with schema '[Tensor('float32', (-1, 4))]'. " +
        'Error: dtype of input int64 does not match expected dtype float32',
    );
  });

  it('has MLflow’s ragged-array escapes', () => {
    const ragged = tensor(null, 'object', [2], [[1, 2], [3]]);
    expect(asTensors(enforceSchema(tensorBatch([ragged]), tensors(tspec(null, 'object', [-1])))).tensors[0]).toBe(ragged);
    expect(asTensors(enforceSchema(tensorBatch([ragged]), tensors(tspec(null, 'float64', [-1, -1])))).tensors[0]).toBe(ragged);
    const anything = tensor(null, 'int32', [2, 2], new Int32Array(4));
    expect(asTensors(enforceSchema(tensorBatch([anything]), tensors(tspec(null, 'object', [-1])))).tensors[0]).toBe(anything);
  });

  it('rejects several tensors for an unnamed schema', () => {
    const a = tensor('a', 'float32', [1], new Float32Array(1));
    const b = tensor('b', 'float32', [1], new Float32Array(1));
    expect(enforceError(tensorBatch([a, b]), tensors(tspec(null, 'float32', [-1]))).detail).toContain(
      'This model contains a tensor-based model signature with no input names',
    );
  });
});

describe('column batches given to tensor schemas', () => {
  it('reshapes and casts a single scalar column (-1,) / (-1, 1)', () => {
    const out = asTensors(enforceSchema(columnBatch([columnFromValues('x', [1, 2, 3])]), tensors(tspec(null, 'float32', [-1, 1]))));
    const t = out.tensors[0]!;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3, 1]);
    expect([...(t.values as Float32Array)]).toEqual([1, 2, 3]);
  });

  it('requires (-1,) or (-1, 1) for scalar columns', () => {
    expect(enforceError(columnBatch([columnFromValues('x', [1])]), tensors(tspec(null, 'float32', [-1, 3]))).detail).toBe(
      "The input pandas dataframe column 'None' contains scalar values, which requires the shape to be (-1,) or (-1, 1), but got tensor spec shape of (-1, 3).",
    );
  });

  it('stacks several columns into (n, k) with the common dtype', () => {
    const batch = columnBatch([column('a', 'int64', new BigInt64Array([1n, 2n])), column('b', 'float64', new Float64Array([0.5, 1.5]))]);
    const t = asTensors(enforceSchema(batch, tensors(tspec(null, 'float64', [-1, 2])))).tensors[0]!;
    expect(t.dtype).toBe('float64');
    expect(t.shape).toEqual([2, 2]);
    expect([...(t.values as Float64Array)]).toEqual([1, 0.5, 2, 1.5]);
    const ints = columnBatch([column('a', 'int32', new Int32Array([1, -2])), column('b', 'int64', new BigInt64Array([3n, 4n]))]);
    const ti = asTensors(enforceSchema(ints, tensors(tspec(null, 'int64', [-1, 2])))).tensors[0]!;
    expect([...(ti.values as BigInt64Array)]).toEqual([1n, 3n, -2n, 4n]);
  });

  it('rejects a stacked dtype that differs from the spec', () => {
    const batch = columnBatch([column('a', 'int64', new BigInt64Array([1n])), column('b', 'float64', new Float64Array([0.5]))]);
    expect(enforceError(batch, tensors(tspec(null, 'float32', [-1, 2]))).detail).toBe('dtype of input float64 does not match expected dtype float32');
  });

  it('requires shape (-1, ncols) for several columns', () => {
    const batch = columnBatch([columnFromValues('a', [1]), columnFromValues('b', [2]), columnFromValues('c', [3])]);
    expect(enforceError(batch, tensors(tspec(null, 'int64', [-1, 2]))).detail).toContain(
      'the input DataFrame passed had 3 columns and an input shape of (-1, 2)',
    );
  });

  it('vstacks list cells and casts them to the spec dtype', () => {
    const batch = columnBatch([
      columnFromValues(
        'img',
        [
          [1, 2, 3, 4],
          [5, 6, 7, 8.5],
        ],
        'object',
      ),
    ]);
    const t = asTensors(enforceSchema(batch, tensors(tspec('img', 'float32', [-1, 2, 2])))).tensors[0]!;
    expect(t.name).toBe('img');
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 2, 2]);
    expect([...(t.values as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8.5]);
  });

  it('rejects list cells of the wrong length', () => {
    const batch = columnBatch([
      columnFromValues(
        'v',
        [
          [1, 2, 3],
          [4, 5],
        ],
        'object',
      ),
    ]);
    expect(enforceError(batch, tensors(tspec('v', 'float64', [-1, 3]))).detail).toBe(
      "The value in the Input DataFrame column 'v' could not be converted to the expected shape of: '(-1, 3)'. Ensure that each of " +
        "the input list elements are of uniform length and that the data can be coerced to the tensor type 'float64'",
    );
  });

  it('needs fixed inner dimensions for DataFrame input', () => {
    const batch = columnBatch([columnFromValues('v', [[1, 2]], 'object')]);
    expect(enforceError(batch, tensors(tspec('v', 'float64', [-1, -1]))).detail).toBe(
      'For pandas dataframe input, the first dimension of shape must be a variable dimension and other dimensions must be fixed, ' +
        'but in model signature the shape of input v is (-1, -1).',
    );
  });

  it('matches named specs to columns and checks names', () => {
    const batch = columnBatch([columnFromValues('a', [1.5, 2.5]), columnFromValues('b', [1, 2])]);
    const out = asTensors(enforceSchema(batch, tensors(tspec('b', 'int32', [-1]), tspec('a', 'float64', [-1]))));
    expect(out.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['b', 'int32', [2]],
      ['a', 'float64', [2]],
    ]);
    expect([...(out.tensors[0]!.values as Int32Array)]).toEqual([1, 2]);
    expect(enforceError(batch, tensors(tspec('c', 'int32', [-1]))).detail).toBe(
      "Model is missing inputs ['c']. Note that there were extra inputs: ['a', 'b'].",
    );
  });

  it('rejects an empty DataFrame for an unnamed tensor schema', () => {
    expect(enforceError(columnBatch([], 0), tensors(tspec(null, 'float64', [-1]))).detail).toBe('Input DataFrame is empty.');
  });
});

// --- params ----------------------------------------------------------------------------------

describe('enforceParams', () => {
  const specs = [
    p('temperature', 'double', 0.5),
    p('max_tokens', 'long', 100),
    p('stop', 'string', null, [-1]),
    p('when', 'datetime', '2023-06-26T00:00:00'),
    p('flag', 'boolean', false),
  ];

  it('ignores params without a ParamSchema, with a warning', () => {
    const warnings: string[] = [];
    expect(enforceParams({ a: 1 }, null, { onWarning: (m) => warnings.push(m) })).toEqual({});
    expect(warnings).toEqual([
      '`params` can only be specified at inference time if the model signature defines a params schema. ' +
        "This model does not define a params schema. Ignoring provided params: ['a']",
    ]);
    expect(enforceParams('junk', undefined, { onWarning: (m) => warnings.push(m) })).toEqual({});
    expect(warnings[1]).toContain('Ignoring invalid params (not a dictionary).');
    expect(enforceParams({}, null, { onWarning: (m) => warnings.push(m) })).toEqual({});
    expect(enforceParams(null, null, { onWarning: (m) => warnings.push(m) })).toEqual({});
    expect(warnings).toHaveLength(2);
  });

  it('requires a dictionary', () => {
    expect(paramsError([1], specs).message).toBe("Parameters must be a dictionary. Got type 'list'.");
    expect(paramsError('x', specs).message).toBe("Parameters must be a dictionary. Got type 'str'.");
  });

  it('applies defaults and drops unknown keys with a warning', () => {
    const warnings: string[] = [];
    const out = enforceParams({ temperature: 0.9, bogus: 1 }, specs, { onWarning: (m) => warnings.push(m) });
    expect(out).toEqual({ temperature: 0.9, max_tokens: 100, stop: null, when: new Date(Date.UTC(2023, 5, 26)), flag: false });
    expect(Object.keys(out)).toEqual(['temperature', 'max_tokens', 'stop', 'when', 'flag']);
    expect(warnings[0]).toBe(
      "Unrecognized params ['bogus'] are ignored for inference. Supported params are: {'flag', 'max_tokens', 'stop', 'temperature', 'when'}. " +
        'To enable them, please add corresponding schema in ModelSignature.',
    );
    expect(enforceParams(undefined, specs).max_tokens).toBe(100);
  });

  it('allows integer → long/float/double and float → double, rejects the reverse', () => {
    const out = enforceParams({ i: 3, f: 2, d: 7, l: 9007199254740993n }, [p('i', 'integer', 0), p('f', 'float', 0), p('d', 'double', 0), p('l', 'long', 0)]);
    expect(out).toEqual({ i: 3, f: 2, d: 7, l: 9007199254740993n });
    expect(paramsError({ max_tokens: 1.5 }, specs).invalid).toEqual([
      {
        name: 'max_tokens',
        message:
          "Failed to validate type and shape for 'max_tokens': long (default: 100), error: Can not safely convert `<class 'float'>` to `DataType.long` for value `1.5`",
      },
    ]);
  });

  it('rejects strings for numbers, numbers for strings and numbers for booleans', () => {
    const err = paramsError({ temperature: 'invalid', flag: 1 }, specs);
    expect(err.invalid.map((i) => i.name)).toEqual(['temperature', 'flag']);
    expect(err.invalid[0]!.message).toContain("Can not safely convert `<class 'str'>` to `DataType.double` for value `invalid`");
    expect(err.invalid[1]!.message).toContain("Can not safely convert `<class 'int'>` to `DataType.boolean` for value `1`");
    // Aggregated into one message, each entry a (name, message) tuple.
    expect(err.message).toMatch(
      /^Invalid parameters found: \{\('temperature', "Failed to validate type and shape for 'temperature': double .*\), \('flag', ".*"\)\}$/,
    );
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
  });

  it('passes None through for scalar params', () => {
    expect(enforceParams({ temperature: null }, specs).temperature).toBeNull();
  });

  it('parses datetime params from ISO strings and Dates', () => {
    expect(enforceParams({ when: '2024-02-29T12:30:00' }, specs).when).toEqual(new Date(Date.UTC(2024, 1, 29, 12, 30)));
    const d = new Date(Date.UTC(2020, 0, 1));
    expect(enforceParams({ when: d }, specs).when).toBe(d);
    expect(paramsError({ when: 'invalid_value1' }, specs).invalid[0]!.message).toContain(
      "Failed to convert value `invalid_value1` from type `<class 'str'>` to `DataType.datetime`",
    );
  });

  it('checks list params element by element', () => {
    expect(enforceParams({ stop: ['a', 'b'] }, specs).stop).toEqual(['a', 'b']);
    expect(enforceParams({ stop: [] }, specs).stop).toEqual([]);
    expect(paramsError({ stop: 'a' }, specs).invalid[0]!.message).toBe(
      "Value must be a 1D array with shape (-1,) for param 'stop': string (default: None) (shape: (-1,)), received str with ndim 0",
    );
    expect(paramsError({ stop: [['a']] }, specs).invalid[0]!.message).toContain('received list with ndim 2');
    expect(paramsError({ stop: ['a', 2] }, specs).invalid[0]!.message).toBe(
      "Failed to validate type and shape for 'stop': string (default: None) (shape: (-1,)), error: " +
        "Can not safely convert `<class 'int'>` to `DataType.string` for value `2`",
    );
  });

  it('rejects non-scalars for scalar params', () => {
    expect(paramsError({ max_tokens: [1] }, specs).invalid[0]!.message).toContain('Value must be a scalar for type `DataType.long`, got `[1]`');
  });

  it('checks object params like Object columns and returns the original value', () => {
    const objSpec = p(
      'cfg',
      {
        type: 'object',
        properties: [
          { name: 'k', valueType: 'long', required: true },
          { name: 'm', valueType: 'string', required: false },
        ],
      },
      { k: 1 },
    );
    const value = { k: 2, m: 'x' };
    expect(enforceParams({ cfg: value }, [objSpec]).cfg).toBe(value);
    const dflt = enforceParams({}, [objSpec]).cfg;
    expect(dflt).toEqual({ k: 1 });
    expect(dflt).not.toBe(objSpec.default); // defaults are copied, so models cannot mutate them
    expect(paramsError({ cfg: { m: 'x' } }, [objSpec]).invalid[0]!.message).toContain("Missing required properties: {'k'}");
    expect(paramsError({ cfg: { k: 1, z: 1 } }, [objSpec]).invalid[0]!.message).toContain("Invalid properties not defined in the schema found: {'z'}");
  });

  it('handles a __proto__ param name safely', () => {
    const params = JSON.parse('{"__proto__": 5}') as unknown;
    const out = enforceParams(params, [p('__proto__', 'long', 0)]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe(5);
  });
});

// --- misc ------------------------------------------------------------------------------------

describe('error shape', () => {
  it('wraps the reason with short reprs of the data and the schema', () => {
    const c = column('s', 'str', Utf8Array.fromStrings(['x'.repeat(10_000)]));
    const err = enforceError(one(c), cols(cs('s', 'long')));
    expect(err.message.startsWith("Failed to enforce schema of data '{'s': ['xxxx")).toBe(true);
    expect(err.message.length).toBeLessThan(600);
    expect(err.detail).toBe('Incompatible input types for column s. Can not safely convert str to int64.');
  });

  it('renders named tensors and complex types in the schema repr', () => {
    const t: Tensor = tensor('a', 'float64', [1], new Float64Array([1]));
    const err = enforceError(tensorBatch([t]), cols(cs('a', { type: 'map', values: 'long' })));
    expect(err.message).toContain("with schema '['a': Map(str -> DataType.long) (required)]'");
    expect(err.message).toContain("data '{'a': array([1], dtype=float64)}'");
  });
});
