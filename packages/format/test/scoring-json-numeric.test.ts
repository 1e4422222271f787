/**
 * The numeric fast path of the JSON request parser (json-numeric.ts): for every body, with and
 * without a schema, the fast path gives exactly what the generic parser gives — the same tensors
 * or columns (dtype, shape, name, pandas label kind, the bytes of the values, -0 and NaN included)
 * or the same error — and it really skips boxing for the numeric arrays it takes.
 */
import { describe, expect, it } from 'vitest';
import type { Column, ModelInput, Tensor } from '../src/batch/types.js';
import { hasNumericLabel } from '../src/enforce/labels.js';
import type { ColSpec, Schema, TensorSpec, ValueType } from '../src/signature/types.js';
import { parseJsonRequest, ScoringRequestError, type ScoringRequest } from '../src/scoring/index.js';
import { decodeJson } from '../src/scoring/json-text.js';
import { NumericArray } from '../src/scoring/json-numeric.js';
import { rng } from '../../../test/support/test-data.js';

const cs = (name: string | null, type: ValueType): ColSpec => ({ kind: 'column', name, type, required: true });
const ts = (name: string | null, dtype: string, shape: number[]): TensorSpec => ({ kind: 'tensor', name, dtype, shape });
const enc = new TextEncoder();

const SCHEMAS: Record<string, Schema | null> = {
  none: null,
  float32: { kind: 'tensors', specs: [ts(null, 'float32', [-1, -1])] },
  float64: { kind: 'tensors', specs: [ts(null, 'float64', [-1])] },
  int32: { kind: 'tensors', specs: [ts(null, 'int32', [-1, -1])] },
  int64: { kind: 'tensors', specs: [ts(null, 'int64', [-1, -1])] },
  uint8: { kind: 'tensors', specs: [ts(null, 'uint8', [-1])] },
  uint64: { kind: 'tensors', specs: [ts(null, 'uint64', [-1])] },
  bool: { kind: 'tensors', specs: [ts(null, 'bool', [-1])] },
  float16: { kind: 'tensors', specs: [ts(null, 'float16', [-1])] },
  'named tensor': { kind: 'tensors', specs: [ts('x', 'float32', [-1, 4])] },
  'two named tensors': { kind: 'tensors', specs: [ts('x', 'float64', [-1]), ts('y', 'int64', [-1])] },
  'colspec double': { kind: 'columns', specs: [cs('a', 'double')] },
  'colspec long': { kind: 'columns', specs: [cs('a', 'long')] },
  'colspec integer, unnamed': { kind: 'columns', specs: [cs(null, 'integer'), cs(null, 'float')] },
  'colspec boolean': { kind: 'columns', specs: [cs('a', 'boolean')] },
  'colspec string': { kind: 'columns', specs: [cs('a', 'string')] },
  'colspec array': { kind: 'columns', specs: [cs('a', { type: 'array', items: 'double' })] },
  'two colspecs': { kind: 'columns', specs: [cs('a', 'double'), cs('b', 'long')] },
};

/** The data arrays tried under each schema and form. */
const DATA: string[] = [
  '[[5.1, 3.5, 1.4, 0.2], [7, 3.2, 4.7, 1.4]]',
  '[[1,2,3],[4,5,6]]',
  '[1, 2, 3]',
  '[0, 1, 1, 0]',
  '[0.0, 1.0, 1e0]',
  '[-0, -0.0, 0, 0.0]',
  '[1.5, 2.5]',
  '[[1.0, 2.0], [3.0, 4.0]]',
  '[NaN, Infinity, -Infinity, 1]',
  '[1e400, -1e400, 1e-400, 0.1, 1E5, 2e+3, 3e-2]',
  '[5.099999904632568, 0.20000000298023224, 1.399999976158142]',
  '[0.1, 0.2, 0.30000000000000004, 123456789012345678901234567890.5, 1.7976931348623157e308, 5e-324]',
  '[4.35, 0.000123, 9007199254740993.0, 9007199254740992.5, 1234567.1234567891]',
  '[123456789012345, -123456789012345, 255, 256, -1]',
  '[1234567890123456, 9007199254740993]',
  '[3.4028234663852886e38, 3.5e38, -3.5e38, 1e39]',
  '[2147483647, 2147483648, -2147483648, -2147483649]',
  '[9007199254740991, -9007199254740991]',
  '[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]',
  '[ [ 1 , 2 ] ,\n\t[ 3 , 4 ] ]',
  '[[1, 2], [3]]',
  '[[1, 2], 3]',
  '[1, [2]]',
  '[[], []]',
  '[]',
  '[1, "2"]',
  '[1, null]',
  '[true, false]',
  '[1, {"a": 1}]',
  '[01]',
  '[1.]',
  '[1e]',
  '[-]',
  '[1,]',
  '[1 2]',
  '[1, 2',
  '[NaN, nan]',
  '[-Infinity, -Inf]',
  '[[1, 2], [3, 4]',
];

/** A comparable summary of a parse: tensors with their value bytes, or the error. */
function outcome(body: Uint8Array, schema: Schema | null, fast: boolean): unknown {
  let req: ScoringRequest;
  try {
    req = parseJsonRequest(body, { schema, numericFastPathMinBytes: fast ? 0 : Number.POSITIVE_INFINITY });
  } catch (e) {
    if (!(e instanceof ScoringRequestError)) throw e;
    return { error: e.message, status: e.httpStatus, code: e.errorCode };
  }
  return { format: req.format, params: req.params, batch: describeInput(req.batch) };
}

function valueBytes(v: unknown): unknown {
  return ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : v;
}

function describeInput(b: ModelInput): unknown {
  if (b.kind === 'json') return b;
  if (b.kind === 'columns') {
    return {
      numRows: b.numRows,
      columns: b.columns.map((c: Column) => ({
        name: c.name,
        dtype: c.dtype,
        numericLabel: hasNumericLabel(c),
        values: valueBytes(c.values),
        validity: valueBytes(c.validity),
      })),
    };
  }
  return b.tensors.map((t: Tensor) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: valueBytes(t.values) }));
}

function expectSame(text: string, schema: Schema | null): void {
  const body = enc.encode(text);
  expect(outcome(body, schema, true), `${text} with ${JSON.stringify(schema)}`).toEqual(outcome(body, schema, false));
}

describe('the numeric fast path gives what the generic parser gives', () => {
  for (const [schemaName, schema] of Object.entries(SCHEMAS)) {
    it(`schema: ${schemaName}`, () => {
      for (const data of DATA) {
        for (const form of ['inputs', 'instances']) {
          expectSame(`{"${form}": ${data}}`, schema);
          expectSame(`{"params": {"k": 1}, "${form}": ${data}}`, schema);
        }
      }
    });
  }

  it('dataframe_split: rows of numbers under every kind of schema, with and without columns and index', () => {
    const splitSchemas: (Schema | null)[] = [
      null,
      { kind: 'columns', specs: [cs('a', 'double'), cs('b', 'long')] },
      { kind: 'columns', specs: [cs('a', 'float'), cs('b', 'integer')] },
      { kind: 'columns', specs: [cs('a', 'boolean'), cs('b', 'double')] },
      { kind: 'columns', specs: [cs('a', 'string'), cs('b', 'double')] },
      { kind: 'columns', specs: [cs('0', 'double'), cs('1', 'long')] },
      { kind: 'columns', specs: [cs(null, 'double'), cs(null, 'integer')] },
      { kind: 'tensors', specs: [ts(null, 'float32', [-1, 2])] },
      { kind: 'tensors', specs: [ts('a', 'float64', [-1]), ts('b', 'int32', [-1])] },
      { kind: 'columns', specs: [cs('a', { type: 'array', items: 'double' })] },
    ];
    const datas = [
      '[[1, 2], [3, 4]]',
      '[[1.5, 2], [3, 4.0]]',
      '[[0, 1], [1, 0]]',
      '[[NaN, 1], [2, -0]]',
      '[[1, 2.5], [3e400, 4]]',
      '[[1, 2], [3]]',
      '[1, 2, 3]',
      '[[1, 2, 3]]',
      '[[[1], [2]]]',
      '[[1, 2], [3, "x"]]',
    ];
    const columnsOf = [undefined, '["a", "b"]', '["a"]', '[0, 1]', '["0", "1"]', '[1.5, true]', '[{}, "b"]', '"ab"'];
    for (const schema of splitSchemas) {
      for (const data of datas) {
        for (const columns of columnsOf) {
          const parts = [`"data": ${data}`];
          if (columns !== undefined) parts.unshift(`"columns": ${columns}`);
          expectSame(`{"dataframe_split": {${parts.join(', ')}}}`, schema);
        }
        expectSame(`{"dataframe_split": {"index": [0, 1], "data": ${data}}}`, schema);
        expectSame(`{"dataframe_split": {"index": [0], "data": ${data}}}`, schema);
        expectSame(`{"dataframe_split": {"data": ${data}, "extra": 1}}`, schema);
        expectSame(`{"dataframe_split": {"data": ${data}}, "params": {"p": [1, 2]}}`, schema);
      }
    }
  });

  it('other request shapes around numeric arrays: several forms, LLM keys, params, nested places, duplicates', () => {
    const bodies = [
      '{"inputs": [1, 2], "instances": [3, 4]}',
      '{"inputs": [1, 2], "prompt": "hi"}',
      '{"inputs": [1, 2], "params": [1]}',
      '{"inputs": [1, 2], "params": {"inputs": [1, 2]}}',
      '{"inputs": [1, 2], "inputs": [3.5]}',
      '{"inputs": {"x": [1, 2], "y": [3, 4]}}',
      '{"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}',
      '{"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}, "inputs": [1]}',
      '{"dataframe_split": [[1, 2]], "x": {"data": [[1, 2]]}}',
      '{"x": {"data": [[1, 2]]}, "dataframe_split": {"data": [[1, 2]]}}',
      '{"x": {"inputs": [1, 2]}}',
      '[{"inputs": [1, 2]}]',
      '{"inputs": [1, 2]} x',
      `{"inputs": ${'['.repeat(70)}1${']'.repeat(70)}}`,
      `{"inputs": ${'['.repeat(63)}1${']'.repeat(63)}}`,
    ];
    for (const text of bodies) for (const schema of [null, SCHEMAS.float32!, SCHEMAS['two named tensors']!]) expectSame(text, schema);
  });

  it('random numeric arrays: every token form, any nesting, with and without schemas', () => {
    const next = rng(11);
    const token = (): string => {
      const r = next();
      const sign = next() < 0.3 ? '-' : '';
      if (r < 0.25) return `${sign}${Math.floor(next() * 10 ** Math.floor(next() * 16))}`;
      if (r < 0.5) return `${sign}${(next() * 10 ** Math.floor(next() * 8 - 4)).toPrecision(1 + Math.floor(next() * 17))}`;
      if (r < 0.6) return `${sign}${Math.floor(next() * 1000)}.0`;
      if (r < 0.7) return `${sign}${Math.floor(next() * 100)}e${Math.floor(next() * 60 - 30)}`;
      if (r < 0.75) return ['NaN', 'Infinity', '-Infinity'][Math.floor(next() * 3)]!;
      if (r < 0.8) return String(Math.fround(next() * 10));
      return `${sign}${Math.floor(next() * 256)}`;
    };
    for (let n = 0; n < 300; n++) {
      const rank = 1 + Math.floor(next() * 3);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(next() * 4));
      const build = (d: number): string =>
        d === rank ? token() : `[${Array.from({ length: shape[d]! }, () => build(d + 1)).join(next() < 0.5 ? ',' : ', ')}]`;
      const text = `{"inputs": ${build(0)}}`;
      for (const schema of [SCHEMAS.none!, SCHEMAS.float32!, SCHEMAS.float64!, SCHEMAS.int64!, SCHEMAS.int32!, SCHEMAS.bool!, SCHEMAS['named tensor']!]) {
        expectSame(text, schema ?? null);
      }
    }
  });

  it('leaves the numeric array unboxed: one NumericArray, filled straight into the dtype', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `[${i}.5, ${i}, 1e-3, -${i}.25]`).join(',');
    const decoded = decodeJson(enc.encode(`{"inputs": [${rows}], "params": {"a": [1, 2]}}`), { numericArrays: true });
    expect(decoded.numericArrays).toBe(1);
    const arr = (decoded.value as { inputs: unknown }).inputs;
    expect(arr).toBeInstanceOf(NumericArray);
    expect((arr as NumericArray).shape).toEqual([1000, 4]);
    expect((arr as NumericArray).intOnly).toBe(false);
    expect(Array.from((arr as NumericArray).floatAt)).toEqual([1, 0, 1, 1]);
    const f32 = (arr as NumericArray).fill('float32') as Float32Array;
    expect(f32).toBeInstanceOf(Float32Array);
    expect(Array.from(f32.subarray(4, 8))).toEqual([1.5, 1, Math.fround(1e-3), -1.25]);

    const split = decodeJson(enc.encode(`{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [${rows}]}}`), { numericArrays: true });
    expect(split.numericArrays).toBe(1);
    expect((split.value as { dataframe_split: { data: unknown } }).dataframe_split.data).toBeInstanceOf(NumericArray);
  });
});
