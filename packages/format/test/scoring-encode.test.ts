/**
 * Response encoding: MLflow's `json.dumps({"predictions": …}, cls=NumpyEncoder)` text, byte for
 * byte, for every dtype; error bodies and statuses.
 */
import { describe, expect, it } from 'vitest';
import { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { ColumnBatch, Tensor, TensorBatch } from '../src/batch/types.js';
import { InputSchemaError } from '../src/enforce/index.js';
import { MlmodelError, ModelFormatError } from '../src/errors.js';
import { floatToHalf } from '../src/float16.js';
import { PyFloat, pyJsonFloat } from '../src/pyjson.js';
import { rng } from '../../../test/support/test-data.js';
import { encodeError, encodeJsonValue, encodePredictions, ScoringRequestError, UNEXPECTED_ERROR_MESSAGE } from '../src/scoring/index.js';

const t = (tensor: Tensor): TensorBatch => ({ kind: 'tensors', tensors: [tensor] });
const unnamed = (dtype: Tensor['dtype'], shape: number[], values: Tensor['values']): TensorBatch => t({ name: null, dtype, shape, values } as Tensor);

describe('floats print like Python repr of the double', () => {
  it('float64: integral values keep .0, exponents follow Python (e-05, e+16)', () => {
    const values = [1, -0, 0, 0.1, 1e-5, 1e-4, 123456789, 9999999999999998, 1e16, 1.5e300, 5e-324, 1.7976931348623157e308, -2.5, NaN, Infinity, -Infinity];
    expect(encodePredictions(unnamed('float64', [values.length], Float64Array.from(values)))).toBe(
      '{"predictions": [1.0, -0.0, 0.0, 0.1, 1e-05, 0.0001, 123456789.0, 9999999999999998.0, 1e+16, 1.5e+300, 5e-324, ' +
        '1.7976931348623157e+308, -2.5, NaN, Infinity, -Infinity]}',
    );
  });

  it("float32 values print as numpy's tolist() gives them: the double nearest the float32", () => {
    expect(encodePredictions(unnamed('float32', [4], Float32Array.from([0.1, 1, 3.4028234663852886e38, 1e-7])))).toBe(
      '{"predictions": [0.10000000149011612, 1.0, 3.4028234663852886e+38, 1.0000000116860974e-07]}',
    );
  });

  it('exponent forms on both sides of the fast paths, as Python repr() writes them', () => {
    // repr() of each value, from CPython 3.11
    const python: [number, string][] = [
      [1e-7, '1e-07'],
      [-1e-7, '-1e-07'],
      [1.5e-7, '1.5e-07'],
      [1e-9, '1e-09'],
      [9.999999e-7, '9.999999e-07'],
      [1e-6, '1e-06'],
      [1.447420139299993e-8, '1.447420139299993e-08'],
      [5e-324, '5e-324'],
      [2.2250738585072014e-308, '2.2250738585072014e-308'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [1e21, '1e+21'],
      [1.5e21, '1.5e+21'],
      [-1e22, '-1e+22'],
      [1e100, '1e+100'],
      [123456789e30, '1.23456789e+38'],
      [0, '0.0'],
      [-0, '-0.0'],
      [Math.fround(3.3e-8), '3.2999999177718564e-08'],
      [Math.fround(1.4e-45), '1.401298464324817e-45'],
      [Math.fround(1e-38), '9.999999350456404e-39'],
      [Math.fround(2e-9), '1.999999943436137e-09'],
    ];
    const got = encodePredictions(unnamed('float64', [python.length], Float64Array.from(python.map(([v]) => v))));
    expect(got).toBe(`{"predictions": [${python.map(([, r]) => r).join(', ')}]}`);
  });

  it('the fast paths agree with the reference repr on random doubles and float32s of every magnitude', () => {
    const rand = rng(11);
    const values: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 640 - 330);
      values.push(x, Math.fround(x));
    }
    const fast = encodePredictions(unnamed('float64', [values.length], Float64Array.from(values)));
    expect(fast).toBe(`{"predictions": [${values.map(pyJsonFloat).join(', ')}]}`);
  });

  it('float16 values too', () => {
    const h = Uint16Array.from([0.1, 1, 65504, -2].map(floatToHalf));
    expect(encodePredictions(unnamed('float16', [4], h))).toBe('{"predictions": [0.0999755859375, 1.0, 65504.0, -2.0]}');
  });
});

describe('other dtypes', () => {
  it('ints of every width; 64-bit ints exactly', () => {
    expect(encodePredictions(unnamed('int8', [2], Int8Array.from([-128, 127])))).toBe('{"predictions": [-128, 127]}');
    expect(encodePredictions(unnamed('uint32', [1], Uint32Array.from([4294967295])))).toBe('{"predictions": [4294967295]}');
    const big = BigInt64Array.from([9223372036854775807n, -9223372036854775808n, 9007199254740993n, -1n, 4294967296n, -4294967297n]);
    expect(encodePredictions(unnamed('int64', [6], big))).toBe(
      '{"predictions": [9223372036854775807, -9223372036854775808, 9007199254740993, -1, 4294967296, -4294967297]}',
    );
    expect(encodePredictions(unnamed('uint64', [2], BigUint64Array.from([18446744073709551615n, 5n])))).toBe('{"predictions": [18446744073709551615, 5]}');
  });

  it('bool, str (ensure_ascii escapes), bytes (base64.encodebytes), datetime (Timestamp.isoformat)', () => {
    expect(encodePredictions(unnamed('bool', [2], Uint8Array.from([1, 0])))).toBe('{"predictions": [true, false]}');
    const s = Utf8Array.fromStrings(['plain', 'qu"ote\\ \n\t\u0001', 'héllo €', '😀']);
    expect(encodePredictions(unnamed('str', [4], s))).toBe('{"predictions": ["plain", "qu\\"ote\\\\ \\n\\t\\u0001", "h\\u00e9llo \\u20ac", "\\ud83d\\ude00"]}');
    const bytes = new Uint8Array(100).map((_, i) => i);
    const b64 = Buffer.from(bytes).toString('base64');
    expect(encodePredictions(unnamed('bytes', [2], BinaryArray.fromBuffers([Uint8Array.from([104, 105]), bytes])))).toBe(
      `{"predictions": ["aGk=\\n", "${b64.slice(0, 76)}\\n${b64.slice(76)}\\n"]}`,
    );
    const ns = [1706704200000000000n, 1706704200123000000n, 1706704200123456789n, -1n];
    expect(encodePredictions(unnamed('datetime64[ns]', [4], BigInt64Array.from(ns)))).toBe(
      '{"predictions": ["2024-01-31T12:30:00", "2024-01-31T12:30:00.123000", "2024-01-31T12:30:00.123456789", "1969-12-31T23:59:59.999999999"]}',
    );
  });

  it('object tensors hold JSON values: dicts, lists, bigints, bytes, dates, integral numbers as ints', () => {
    const values = [{ a: 1, b: [1.5, null], c: 'x' }, 12345678901234567890n, new Uint8Array([1]), new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 5)), new PyFloat(2)];
    expect(encodePredictions(unnamed('object', [5], values))).toBe(
      '{"predictions": [{"a": 1, "b": [1.5, null], "c": "x"}, 12345678901234567890, "AQ==\\n", "2024-01-01T00:00:00.005000", 2.0]}',
    );
  });

  it('shapes: 0-d → scalar, 3-d nesting, empty dimensions', () => {
    expect(encodePredictions(unnamed('float64', [], Float64Array.from([2])))).toBe('{"predictions": 2.0}');
    expect(encodePredictions(unnamed('int32', [2, 2, 2], Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8])))).toBe(
      '{"predictions": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}',
    );
    expect(encodePredictions(unnamed('float32', [0, 3], new Float32Array(0)))).toBe('{"predictions": []}');
    expect(encodePredictions(unnamed('float32', [2, 0], new Float32Array(0)))).toBe('{"predictions": [[], []]}');
  });
});

describe('prediction kinds', () => {
  it('named tensors → dict in tensor order; unwrapped drops the predictions key', () => {
    const p: TensorBatch = {
      kind: 'tensors',
      tensors: [
        { name: 'z', dtype: 'int64', shape: [1], values: BigInt64Array.from([1n]) },
        { name: 'a', dtype: 'float64', shape: [1], values: Float64Array.from([1]) },
      ],
    };
    expect(encodePredictions(p)).toBe('{"predictions": {"z": [1], "a": [1.0]}}');
    expect(encodePredictions(p, { unwrapped: true })).toBe('{"z": [1], "a": [1.0]}');
  });

  it('column batch → records (to_dict(orient="records")): NaN for missing floats, null otherwise', () => {
    const b: ColumnBatch = {
      kind: 'columns',
      numRows: 3,
      columns: [
        { name: 'label', dtype: 'str', values: Utf8Array.fromStrings(['a', '', 'c']), validity: Uint8Array.from([1, 0, 1]) },
        { name: 'score', dtype: 'float64', values: Float64Array.from([0.5, 1, NaN]), validity: Uint8Array.from([1, 1, 0]) },
        { name: 'n', dtype: 'int64', values: BigInt64Array.from([1n, 2n, 3n]), validity: Uint8Array.from([1, 0, 1]) },
        { name: 'ok', dtype: 'bool', values: Uint8Array.from([1, 0, 1]) },
      ],
    };
    expect(encodePredictions(b)).toBe(
      '{"predictions": [{"label": "a", "score": 0.5, "n": 1, "ok": true}, {"label": null, "score": 1.0, "n": null, "ok": false}, ' +
        '{"label": "c", "score": NaN, "n": 3, "ok": true}]}',
    );
    expect(
      encodePredictions({ kind: 'columns', numRows: 0, columns: b.columns.map((c) => ({ ...c, values: c.values.slice(0, 0), validity: undefined }) as never) }),
    ).toBe('{"predictions": []}');
  });

  it('JSON output as is (LLM responses unwrapped)', () => {
    const chat = { choices: [{ index: 0, message: { role: 'assistant', content: 'Hé' } }], usage: { total: 3 }, skipped: undefined, score: 0.25 };
    expect(encodePredictions({ kind: 'json', value: chat }, { unwrapped: true })).toBe(
      '{"choices": [{"index": 0, "message": {"role": "assistant", "content": "H\\u00e9"}}], "usage": {"total": 3}, "score": 0.25}',
    );
    expect(encodePredictions({ kind: 'json', value: ['a', 1, NaN, -Infinity, 1e21, null, true] })).toBe(
      '{"predictions": ["a", 1, NaN, -Infinity, 1000000000000000000000, null, true]}',
    );
    expect(encodeJsonValue(new Map([['k', Float32Array.from([0.5, 1])]]))).toBe('{"k": [0.5, 1.0]}');
  });

  it('a circular structure is a TypeError, not a stack overflow', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => encodePredictions({ kind: 'json', value: a })).toThrow(/circular/);
    expect(() => encodePredictions({ kind: 'json', value: { f: () => 1 } })).toThrow('Object of type function is not JSON serializable');
  });
});

describe('encodeError: MLflow error bodies and statuses', () => {
  it('request errors: JSON 400/413, text/plain 415', () => {
    expect(encodeError(new ScoringRequestError('Invalid input. bad "x" é'))).toEqual({
      status: 400,
      contentType: 'application/json',
      body: '{"error_code": "BAD_REQUEST", "message": "Invalid input. bad \\"x\\" \\u00e9"}',
    });
    expect(encodeError(new ScoringRequestError('too big', { httpStatus: 413 })).status).toBe(413);
    expect(encodeError(new ScoringRequestError('The scoring server only supports UTF-8', { httpStatus: 415 }))).toEqual({
      status: 415,
      contentType: 'text/plain; charset=utf-8',
      body: 'The scoring server only supports UTF-8',
    });
  });

  it('typed errors map their error_code through ERROR_CODE_TO_HTTP_STATUS', () => {
    const schemaError = new InputSchemaError(
      "Failed to enforce schema of data '…' with schema '…'. Error: Model is missing inputs ['a'].",
      "Model is missing inputs ['a'].",
    );
    expect(encodeError(schemaError)).toEqual({
      status: 400,
      contentType: 'application/json',
      body: `{"error_code": "INVALID_PARAMETER_VALUE", "message": "Failed to enforce schema of data '\\u2026' with schema '\\u2026'. Error: Model is missing inputs ['a']."}`,
    });
    expect(encodeError(new ModelFormatError('gone', { errorCode: 'RESOURCE_DOES_NOT_EXIST' })).status).toBe(404);
    expect(encodeError(new MlmodelError('boom', 'INTERNAL_ERROR')).status).toBe(500);
    expect(encodeError(new MlmodelError('nope', 'NOT_IMPLEMENTED')).status).toBe(501);
  });

  it("anything else is MLflow's generic BAD_REQUEST; the stack trace only on request", () => {
    const err = new TypeError('x is undefined');
    expect(encodeError(err)).toEqual({
      status: 400,
      contentType: 'application/json',
      body: `{"error_code": "BAD_REQUEST", "message": "${UNEXPECTED_ERROR_MESSAGE}"}`,
    });
    const withStack = JSON.parse(encodeError(err, { includeStackTrace: true }).body) as Record<string, string>;
    expect(Object.keys(withStack)).toEqual(['error_code', 'message', 'stack_trace']);
    expect(withStack.stack_trace).toContain('TypeError: x is undefined');
  });
});

describe('large outputs (speed is measured in bench/scoring)', () => {
  it('a 4096×3 float32 tensor', () => {
    const values = new Float32Array(4096 * 3).map((_, i) => Math.sin(i) * 10);
    const text = encodePredictions(unnamed('float32', [4096, 3], values));
    const back = (JSON.parse(text) as { predictions: number[][] }).predictions;
    expect(back).toHaveLength(4096);
    expect(back.flat().every((v, i) => v === values[i])).toBe(true);
  });

  it('a 10,000-row batch of 4 columns (float64, int64, str, bool)', () => {
    const n = 10_000;
    const b: ColumnBatch = {
      kind: 'columns',
      numRows: n,
      columns: [
        { name: 'score', dtype: 'float64', values: new Float64Array(n).map((_, i) => i / 7) },
        { name: 'id', dtype: 'int64', values: new BigInt64Array(n).map((_, i) => BigInt(i) * 1000003n) },
        { name: 'label', dtype: 'str', values: Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => `class_${i % 10}`)) },
        { name: 'flag', dtype: 'bool', values: new Uint8Array(n).map((_, i) => i % 2) },
      ],
    };
    const text = encodePredictions(b);
    const back = (JSON.parse(text) as { predictions: Record<string, unknown>[] }).predictions;
    expect(back[9999]).toEqual({ score: 9999 / 7, id: 9999 * 1000003, label: 'class_9', flag: true });
  });
});
