/**
 * application/json scoring requests: content types, MLflow's error messages, the four request
 * forms, LLM and type-hint pass-through, params, and casting to the schema.
 */
import { describe, expect, it } from 'vitest';
import type { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { Batch, Column, ColumnBatch, Tensor } from '../src/batch/types.js';
import { enforceSchema, InputSchemaError } from '../src/enforce/index.js';
import { PyFloat } from '../src/pyjson.js';
import type { ColSpec, ParamSpec, Schema, TensorSpec, ValueType } from '../src/signature/types.js';
import {
  parseContentType,
  parseScoringRequest,
  SCORING_PROTOCOL_CHANGE_INFO,
  ScoringRequestError,
  type ScoringRequest,
  type ScoringRequestOptions,
} from '../src/scoring/index.js';
import { asColumns, asTensors } from './batch-asserts.js';

const cs = (name: string | null, type: ValueType, required = true): ColSpec => ({ kind: 'column', name, type, required });
const cols = (...specs: ColSpec[]): Schema => ({ kind: 'columns', specs });
const ts = (name: string | null, dtype: string, shape: number[]): TensorSpec => ({ kind: 'tensor', name, dtype, shape });
const tensors = (...specs: TensorSpec[]): Schema => ({ kind: 'tensors', specs });

const enc = new TextEncoder();

function parse(json: unknown, schema: Schema | null = null, opts?: ScoringRequestOptions): Promise<ScoringRequest> {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  return parseScoringRequest(enc.encode(text), 'application/json', schema, opts);
}

async function parseError(json: unknown, schema: Schema | null = null, opts?: ScoringRequestOptions): Promise<ScoringRequestError> {
  try {
    await parse(json, schema, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ScoringRequestError);
    return e as ScoringRequestError;
  }
  throw new Error('expected the request to be refused');
}

function contentTypeError(header: string | undefined): ScoringRequestError {
  try {
    parseContentType(header);
  } catch (e) {
    expect(e).toBeInstanceOf(ScoringRequestError);
    return e as ScoringRequestError;
  }
  throw new Error('expected a 415');
}

const columns = async (json: unknown, schema: Schema | null = null): Promise<ColumnBatch> => asColumns((await parse(json, schema)).batch as Batch);
const tensorList = async (json: unknown, schema: Schema | null = null): Promise<readonly Tensor[]> =>
  asTensors((await parse(json, schema)).batch as Batch).tensors;
const col = (b: ColumnBatch, name: string): Column => {
  const c = b.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
};

describe('Content-Type (MLflow invocations(), 415s)', () => {
  it('accepts the five types, with or without charset=utf-8 in any case', () => {
    expect(parseContentType('application/json')).toEqual({ mime: 'application/json', params: {} });
    expect(parseContentType(' text/csv ; charset=UTF-8')).toEqual({ mime: 'text/csv', params: { charset: 'UTF-8' } });
    expect(parseContentType('application/vnd.apache.parquet').mime).toBe('application/vnd.apache.parquet');
    expect(parseContentType('application/vnd.apache.arrow.stream').mime).toBe('application/vnd.apache.arrow.stream');
    expect(parseContentType('application/vnd.apache.arrow.file; Charset="utf-8"').mime).toBe('application/vnd.apache.arrow.file');
    expect(parseContentType('application/json;').mime).toBe('application/json');
  });

  it('a charset other than UTF-8 is a 415 with MLflow text', () => {
    const e = contentTypeError('application/json; charset=latin-1');
    expect(e.httpStatus).toBe(415);
    expect(e.message).toBe('The scoring server only supports UTF-8');
  });

  it("MLflow 1.x's format=pandas-split parameter is a 415 explaining the protocol change", () => {
    const e = contentTypeError('application/json; format=pandas-split');
    expect(e.httpStatus).toBe(415);
    expect(e.message).toBe(`Unrecognized content type parameters: format. ${SCORING_PROTOCOL_CHANGE_INFO}`);
  });

  it('MIME types are compared case-sensitively; unknown ones list the supported types', () => {
    for (const h of ['Application/JSON', 'text/plain', 'application/csv']) {
      const e = contentTypeError(h);
      expect(e.httpStatus).toBe(415);
      expect(e.message).toBe(
        "This predictor only supports the following content types: Types: ['text/csv', 'application/json', " +
          `'application/vnd.apache.parquet', 'application/vnd.apache.arrow.stream', 'application/vnd.apache.arrow.file']. Got '${h}'.`,
      );
    }
  });

  it('a missing header is a 415 that says what to send (MLflow: bare 500)', () => {
    for (const h of [undefined, '', '  ']) {
      const e = contentTypeError(h);
      expect(e.httpStatus).toBe(415);
      expect(e.message).toContain('no Content-Type header');
      expect(e.message).toContain('application/json');
    }
  });

  it('parseScoringRequest checks the content type before reading the body', async () => {
    await expect(parseScoringRequest(enc.encode('{}'), 'text/html', null)).rejects.toMatchObject({ httpStatus: 415 });
    await expect(parseScoringRequest(enc.encode('{}'), undefined, null)).rejects.toMatchObject({ httpStatus: 415 });
  });
});

describe('JSON framing errors (MLflow _decode_json_input / infer_and_parse_data)', () => {
  it('invalid JSON: 400 BAD_REQUEST with the JSONDecodeError and the body', async () => {
    const e = await parseError('{"inputs": [1, 2');
    expect(e.httpStatus).toBe(400);
    expect(e.errorCode).toBe('BAD_REQUEST');
    expect(e.message).toBe(
      "Invalid input. Ensure that input is a valid JSON formatted string. Error: 'JSONDecodeError(\"Expecting ',' delimiter: line 1 column 17 (char 16)\")'\n" +
        'Input: \nb\'{"inputs": [1, 2\'\n',
    );
  });

  it('Python json positions: empty body, missing value, trailing data, bad key, line numbers', async () => {
    expect((await parseError('')).message).toContain("JSONDecodeError('Expecting value: line 1 column 1 (char 0)')");
    expect((await parseError('{"a": }')).message).toContain("JSONDecodeError('Expecting value: line 1 column 7 (char 6)')");
    expect((await parseError('{} x')).message).toContain("JSONDecodeError('Extra data: line 1 column 4 (char 3)')");
    expect((await parseError("{'a': 1}")).message).toContain("JSONDecodeError('Expecting property name enclosed in double quotes: line 1 column 2 (char 1)')");
    expect((await parseError('{\n  "a": [1,\n  ]}')).message).toContain("JSONDecodeError('Expecting value: line 3 column 3 (char 15)')");
    expect((await parseError('{"a": "x\ny"}')).message).toContain("JSONDecodeError('Invalid control character at: line 1 column 9 (char 8)')");
    expect((await parseError('{"a": "abc')).message).toContain("JSONDecodeError('Unterminated string starting at: line 1 column 7 (char 6)')");
    expect((await parseError('{"a": "\\q"}')).message).toContain('Invalid \\\\escape');
    expect((await parseError('{"a": 01}')).message).toContain("Expecting ',' delimiter");
  });

  it('a list or a scalar at the top level', async () => {
    const list = await parseError('[[1, 2]]');
    expect(list.message).toMatch(
      /^Invalid input\. The input must be a JSON dictionary with exactly one of the input fields \{('(dataframe_split|dataframe_records|instances|inputs)'(, )?){4}\}\. Received a list\.$/,
    );
    expect((await parseError('5')).message).toContain("Received unexpected input type '<class 'int'>.");
    expect((await parseError('5.5')).message).toContain("Received unexpected input type '<class 'float'>.");
    expect((await parseError('"x"')).message).toContain("Received unexpected input type '<class 'str'>.");
    expect((await parseError('null')).message).toContain("Received unexpected input type '<class 'NoneType'>.");
  });

  it('not exactly one format key: lists the format keys found, with the protocol-change note', async () => {
    const none = await parseError({ data: [[1]], params: {} });
    expect(none.errorCode).toBe('BAD_REQUEST');
    expect(none.message).toContain('The input must be a JSON dictionary with exactly one of the input fields {');
    expect(none.message).toContain(`Received dictionary with input fields: []. ${SCORING_PROTOCOL_CHANGE_INFO}`);
    expect(none.message.startsWith('Invalid input.')).toBe(false);
    const two = await parseError({ inputs: [1], instances: [1], other: 1 });
    expect(two.message).toContain("Received dictionary with input fields: ['inputs', 'instances'].");
  });

  it('other top-level keys are ignored', async () => {
    const req = await parse({ inputs: [1, 2], extra: { x: 1 } });
    expect(req.format).toBe('inputs');
  });

  it('invalid UTF-8 is a clear 400; UTF-16 and UTF-32 bodies are detected like Python json.loads', async () => {
    const bad = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]);
    const e = await parseScoringRequest(bad, 'application/json', null).catch((x: unknown) => x as ScoringRequestError);
    expect(e).toBeInstanceOf(ScoringRequestError);
    expect((e as ScoringRequestError).message).toBe(
      'Invalid input. The request body is not valid UTF-8 text: byte 0xff at offset 2 does not start a valid UTF-8 sequence.',
    );
    const text = '{"inputs": ["héllo"]}';
    const utf16 = new Uint8Array(Buffer.from(text, 'utf16le'));
    const r16 = await parseScoringRequest(utf16, 'application/json', null);
    expect((asTensors(r16.batch as Batch).tensors[0]!.values as Utf8Array).get(0)).toBe('héllo');
    const utf32 = new Uint8Array(text.length * 4);
    const dv = new DataView(utf32.buffer);
    [...text].forEach((ch, i) => dv.setUint32(i * 4, ch.codePointAt(0)!, false));
    const r32 = await parseScoringRequest(utf32, 'application/json', null);
    expect((asTensors(r32.batch as Batch).tensors[0]!.values as Utf8Array).get(0)).toBe('héllo');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"inputs": 1}')]);
    expect((await parseScoringRequest(bom, 'application/json', null)).format).toBe('inputs');
  });
});

describe('JSON values like Python json.loads', () => {
  it('NaN, Infinity and -Infinity tokens are floats; 1e400 is Infinity like float("1e400")', async () => {
    const t = (await tensorList({ inputs: 0 }).then(() => tensorList('{"inputs": [NaN, Infinity, -Infinity, 1e400, 1]}')))[0]!;
    expect(t.dtype).toBe('float64');
    expect(Array.from(t.values as Float64Array)).toEqual([NaN, Infinity, -Infinity, Infinity, 1]);
    // Only the exact tokens: 'nan' and 'Inf' are not JSON.
    expect((await parseError('{"inputs": [nan]}')).message).toContain('Expecting value');
    expect((await parseError('{"inputs": [Inf]}')).message).toContain('Expecting value');
  });

  it('integral float tokens stay floats: [1.0, 2.0] is float64, [1, 2] int64 (numpy inference)', async () => {
    expect((await tensorList('{"inputs": [1.0, 2.0]}'))[0]!.dtype).toBe('float64');
    expect((await tensorList('{"inputs": [1e2, 2]}'))[0]!.dtype).toBe('float64');
    expect((await tensorList('{"inputs": [1, 2]}'))[0]!.dtype).toBe('int64');
    expect((await tensorList('{"inputs": [true, false]}'))[0]!.dtype).toBe('bool');
    expect((await tensorList('{"inputs": [true, 2]}'))[0]!.dtype).toBe('int64');
    expect((await tensorList('{"inputs": [["a", "b"]]}'))[0]!.dtype).toBe('str');
    expect((await tensorList('{"inputs": [1, "a"]}'))[0]!.dtype).toBe('object');
    expect((await tensorList('{"inputs": [1, null]}'))[0]!.dtype).toBe('object');
    expect((await tensorList('{"inputs": []}'))[0]!).toMatchObject({ dtype: 'float64', shape: [0] });
  });

  it('integers beyond 2^53 keep their exact value in int64 columns', async () => {
    const b = await columns('{"dataframe_split": {"columns": ["id"], "data": [[9007199254740993], [-9223372036854775808]]}}', cols(cs('id', 'long')));
    expect(Array.from(col(b, 'id').values as BigInt64Array)).toEqual([9007199254740993n, -9223372036854775808n]);
    const e = await parseError('{"dataframe_split": {"columns": ["id"], "data": [[9223372036854775808]]}}', cols(cs('id', 'long')));
    expect(e.message).toBe(
      "Invalid input. Data is not compatible with model signature. Failed to convert column id to type 'int64'. " +
        "Error: 'row 0: expected an integer within the range of int64, got the integer 9223372036854775808'",
    );
    expect((await parseError(`{"inputs": [${'9'.repeat(5000)}]}`)).message).toContain('more than the limit of 4300');
  });

  it('duplicate keys: the last value wins at the first position (Python dict)', async () => {
    const b = await columns('{"dataframe_records": [{"a": 1, "b": 2, "a": 3}]}');
    expect(b.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(Array.from(col(b, 'a').values as BigInt64Array)).toEqual([3n]);
  });

  it('integer-like keys keep document order (JS objects would sort them first)', async () => {
    const b = await columns('{"dataframe_records": [{"b": 1, "10": 2, "2": 3}]}');
    expect(b.columns.map((c) => c.name)).toEqual(['b', '10', '2']);
    const t = await tensorList('{"inputs": {"z": [1], "1": [2], "a": [3]}}');
    expect(t.map((x) => x.name)).toEqual(['z', '1', 'a']);
  });

  it('a "__proto__" key is an ordinary column name, not a prototype', async () => {
    const b = await columns('{"dataframe_records": [{"__proto__": 5, "x": 1}]}');
    expect(b.columns.map((c) => c.name)).toEqual(['__proto__', 'x']);
    expect(Array.from(col(b, '__proto__').values as BigInt64Array)).toEqual([5n]);
    const req = await parse('{"messages": [], "__proto__": {"polluted": true}}');
    const value = (req.batch as { kind: 'json'; value: Record<string, unknown> }).value;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('dataframe_split', () => {
  it('without columns, columns are named "0".."n-1"', async () => {
    const b = await columns({
      dataframe_split: {
        data: [
          [1, 'a'],
          [2, 'b'],
        ],
      },
    });
    expect(b.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['0', 'int64'],
      ['1', 'str'],
    ]);
  });

  it('index is accepted (and dropped) when its length matches the rows', async () => {
    const b = await columns({ dataframe_split: { columns: ['a'], index: [10, 11], data: [[1], [2]] } });
    expect(b.numRows).toBe(2);
    const e = await parseError({ dataframe_split: { columns: ['a'], index: [1], data: [[1], [2]] } });
    expect(e.message).toBe(
      "Invalid input. Provided dataframe_split field is not a valid dataframe representation in 'split' format. " +
        "Error: 'Length of values (2) does not match length of index (1)'",
    );
  });

  it('shape errors use MLflow messages', async () => {
    expect((await parseError({ dataframe_split: [[1]] })).message).toBe('Invalid input. Dataframe split format must be a dictionary. Got list.');
    expect((await parseError({ dataframe_split: 3 })).message).toBe("Invalid input. Dataframe split format must be a dictionary. Got type <class 'int'>.");
    expect((await parseError({ dataframe_split: { columns: ['a'], rows: [] } })).message).toBe(
      "Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {'columns', 'rows'}.'",
    );
    expect((await parseError({ dataframe_split: { columns: ['a', 'b'], data: [[1, 2, 3]] } })).message).toContain(
      "Error: '2 columns passed, passed data had 3 columns'",
    );
  });

  it('short rows are padded with missing values (float64 NaN without a schema, like pandas)', async () => {
    const b = await columns({ dataframe_split: { columns: ['a', 'b'], data: [[1, 2], [3]] } });
    const c = col(b, 'b');
    expect(c.dtype).toBe('float64');
    expect(Array.from(c.values as Float64Array)).toEqual([2, NaN]);
    expect(Array.from(c.validity!)).toEqual([1, 0]);
  });

  it('list cells become object columns; a single list of scalars is one column', async () => {
    const b = await columns({ dataframe_split: { columns: ['q'], data: [[['a', 'b']], [['c']]] } });
    expect(col(b, 'q')).toMatchObject({ dtype: 'object', values: [['a', 'b'], ['c']] });
    const one = await columns({ dataframe_split: { columns: ['x'], data: [1, 2, 3] } });
    expect(Array.from(col(one, 'x').values as BigInt64Array)).toEqual([1n, 2n, 3n]);
  });
});

describe('dataframe_records', () => {
  it('missing keys are null, columns in order of first appearance', async () => {
    const b = await columns({ dataframe_records: [{ a: 1 }, { b: 'x', a: 2 }, { c: true }] });
    expect(b.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['a', 'float64'],
      ['b', 'str'],
      ['c', 'bool'],
    ]);
    expect(Array.from(col(b, 'a').values as Float64Array)).toEqual([1, 2, NaN]);
    expect(Array.from(col(b, 'b').validity!)).toEqual([0, 1, 0]);
    expect(Array.from(col(b, 'c').validity!)).toEqual([0, 0, 1]);
  });

  it('must be a list', async () => {
    expect((await parseError({ dataframe_records: { a: [1] } })).message).toBe(
      'Invalid input. Dataframe records format must be a list of records. Got dictionary.',
    );
    expect((await parseError({ dataframe_records: 'x' })).message).toBe(
      "Invalid input. Dataframe records format must be a list of records. Got type <class 'str'>.",
    );
    expect((await parseError({ dataframe_records: [{ a: 1 }, [1]] })).message).toContain(
      "Provided dataframe_records field is not a valid dataframe representation in 'records' format.",
    );
  });

  it('an empty list is an empty frame', async () => {
    const b = await columns({ dataframe_records: [] });
    expect(b).toMatchObject({ numRows: 0, columns: [] });
  });
});

describe('casting DataFrame columns to the schema (cast_df_types_according_to_schema)', () => {
  const schema = cols(
    cs('i', 'integer'),
    cs('l', 'long'),
    cs('f', 'float'),
    cs('d', 'double'),
    cs('b', 'boolean'),
    cs('s', 'string'),
    cs('bin', 'binary'),
    cs('t', 'datetime'),
  );

  it('every primitive type, from the JSON a client sends', async () => {
    const b = await columns(
      {
        dataframe_records: [
          { i: 1, l: 2, f: 0.1, d: 3, b: true, s: 'x', bin: 'aGVsbG8=', t: '2024-01-31T12:30:00' },
          { i: 4.0, l: 5, f: 2, d: 0.5, b: 0, s: 'y', bin: 'AAEC\n', t: '2024-02-01' },
        ],
      },
      schema,
    );
    expect(b.columns.map((c) => c.dtype)).toEqual(['int32', 'int64', 'float32', 'float64', 'bool', 'str', 'bytes', 'datetime64[ns]']);
    expect(Array.from(col(b, 'i').values as Int32Array)).toEqual([1, 4]);
    expect(Array.from(col(b, 'f').values as Float32Array)).toEqual([Math.fround(0.1), 2]);
    expect(Array.from(col(b, 'd').values as Float64Array)).toEqual([3, 0.5]);
    expect(Array.from(col(b, 'b').values as Uint8Array)).toEqual([1, 0]);
    expect([...(col(b, 'bin').values as BinaryArray).toArray()].map((x) => Buffer.from(x).toString('hex'))).toEqual(['68656c6c6f', '000102']);
    expect(Array.from(col(b, 't').values as BigInt64Array)).toEqual([
      BigInt(Date.UTC(2024, 0, 31, 12, 30)) * 1_000_000n,
      BigInt(Date.UTC(2024, 1, 1)) * 1_000_000n,
    ]);
    const enforced = asColumns(enforceSchema(b, schema));
    expect(enforced.columns.map((c) => c.dtype)).toEqual(b.columns.map((c) => c.dtype));
  });

  const failure = async (name: string, type: ValueType, value: unknown): Promise<string> =>
    (await parseError({ dataframe_split: { columns: [name], data: [[value]] } }, cols(cs(name, type)))).message;

  it('refuses values that would change silently, naming the column, the row and the value', async () => {
    expect(await failure('n', 'long', 1.5)).toBe(
      "Invalid input. Data is not compatible with model signature. Failed to convert column n to type 'int64'. " +
        "Error: 'row 0: expected a whole number for int64, got the number 1.5'",
    );
    expect(await failure('n', 'integer', 3000000000)).toContain(
      "Failed to convert column n to type 'int32'. Error: 'row 0: expected an integer within the range of int32 [-2147483648, 2147483647], got the number 3000000000'",
    );
    // MLflow's test_parse_with_schema: pandas would store -2147483648 here.
    expect(await failure('n', 'integer', 9007199254740994.0)).toContain('within the range of int32');
    expect(await failure('n', 'double', 'abc')).toContain(
      `Failed to convert column n to type 'float64'. Error: 'row 0: expected a number for float64, got the string "abc"'`,
    );
    // pandas' astype reads numeric strings as int() does, but not "5.0"
    expect(await failure('n', 'long', '5.0')).toContain('expected an integer for int64, got the string "5.0"');
    expect(await failure('n', 'float', 1e39)).toContain('within the range of float32');
    expect(await failure('n', 'boolean', 2)).toContain('expected true, false, 0 or 1 for bool');
    expect(await failure('n', 'binary', 'abc')).toContain("Failed to convert column n to type 'object'. Error: 'row 0: invalid base64: incorrect padding'");
    expect(await failure('n', 'binary', 5)).toContain('expected a base64-encoded string');
    expect(await failure('n', 'datetime', '2024-13-01')).toContain('expected an ISO 8601 date or date-time string');
    expect(await failure('n', 'datetime', '2024-01-01T00:00:00+02:00')).toContain('timezone-naive');
    expect(await failure('n', 'datetime', 1700000000)).toContain('expected an ISO 8601');
  });

  it('missing values stay in a validity mask: enforcement accepts them for optional columns only', async () => {
    const optional = cols(cs('n', 'long', false));
    // NaN is missing in pandas: it counts as a null here too.
    const json = '{"dataframe_split": {"columns": ["n"], "data": [[1], [null], [NaN]]}}';
    const b2 = await columns(json, optional);
    expect(col(b2, 'n')).toMatchObject({ dtype: 'int64' });
    expect(Array.from(col(b2, 'n').validity!)).toEqual([1, 0, 0]);
    expect(asColumns(enforceSchema(b2, optional)).numRows).toBe(3);
    expect(() => enforceSchema(b2, cols(cs('n', 'long')))).toThrow(InputSchemaError);
  });

  it('string columns are not converted (astype(object)): numbers stay numbers for enforcement to refuse', async () => {
    const s = cols(cs('s', 'string'));
    const ok = await columns({ dataframe_split: { columns: ['s'], data: [['a'], [null]] } }, s);
    expect(col(ok, 's').dtype).toBe('str');
    const mixed = await columns({ dataframe_split: { columns: ['s'], data: [['a'], [5]] } }, s);
    expect(col(mixed, 's')).toMatchObject({ dtype: 'object', values: ['a', 5] });
    expect(() => enforceSchema(mixed, s)).toThrow(/Incompatible input types for column s/);
  });

  it('Array / Object / Any columns keep plain values, checked by enforcement', async () => {
    const schema2 = cols(
      cs('q', { type: 'array', items: 'double' }),
      cs('o', { type: 'object', properties: [{ name: 'k', valueType: 'long', required: true }] }),
      cs('a', { type: 'any' }),
    );
    const b = await columns('{"dataframe_records": [{"q": [1.0, 2], "o": {"k": 3}, "a": {"x": [1.5]}}]}', schema2);
    expect(col(b, 'q')).toMatchObject({ dtype: 'object', values: [[1, 2]] });
    expect((col(b, 'q').values as unknown[])[0]).not.toBeInstanceOf(PyFloat);
    expect(col(b, 'o').values).toEqual([{ k: 3 }]);
    expect(asColumns(enforceSchema(b, schema2)).numRows).toBe(1);
  });

  it('unnamed column schemas cast by position; extra columns are inferred', async () => {
    const b = await columns({ dataframe_split: { data: [[1, 2, 'x']] } }, cols(cs(null, 'double'), cs(null, 'long')));
    expect(b.columns.map((c) => c.dtype)).toEqual(['float64', 'int64', 'str']);
  });

  it('tensor schemas: columns are cast to the tensor dtype; list cells are left for reshaping', async () => {
    const b = await columns({ dataframe_split: { data: [[1, 2, 3, 4]] } }, tensors(ts(null, 'float32', [-1, 4])));
    expect(b.columns.map((c) => c.dtype)).toEqual(['float32', 'float32', 'float32', 'float32']);
    expect(asTensors(enforceSchema(b, tensors(ts(null, 'float32', [-1, 4])))).tensors[0]!.shape).toEqual([1, 4]);
    const named = tensors(ts('img', 'float64', [-1, 2]));
    const lists = await columns({ dataframe_split: { columns: ['img'], data: [[[1, 2]], [[3, 4]]] } }, named);
    expect(col(lists, 'img').dtype).toBe('object');
    const t = asTensors(enforceSchema(lists, named)).tensors[0]!;
    expect(t).toMatchObject({ dtype: 'float64', shape: [2, 2] });
  });
});

describe('instances and inputs (parse_tf_serving_input)', () => {
  it('tensor schema: nested list → one tensor with the first spec dtype; scalar → 0-d', async () => {
    const s = tensors(ts(null, 'float32', [-1, 2]));
    const t = (
      await tensorList(
        {
          instances: [
            [1, 2],
            [3, 4.5],
          ],
        },
        s,
      )
    )[0]!;
    expect(t).toMatchObject({ name: null, dtype: 'float32', shape: [2, 2] });
    const scalar = (await tensorList({ inputs: 7 }, s))[0]!;
    expect(scalar).toMatchObject({ dtype: 'float32', shape: [] });
    expect(Array.from(scalar.values as Float32Array)).toEqual([7]);
  });

  it('named tensors from a dict, cast per spec; unknown keys inferred', async () => {
    const s = tensors(ts('a', 'int32', [-1]), ts('b', 'float64', [-1, 2]));
    const t = await tensorList(
      {
        inputs: {
          a: [1, 2],
          b: [
            [1, 2],
            [3, 4],
          ],
          extra: ['x'],
        },
      },
      s,
    );
    expect(t.map((x) => [x.name, x.dtype, x.shape])).toEqual([
      ['a', 'int32', [2]],
      ['b', 'float64', [2, 2]],
      ['extra', 'str', [1]],
    ]);
  });

  it('instances as records → columns; required columns must have equal lengths', async () => {
    const s = tensors(ts('a', 'int64', [-1]), ts('b', 'float64', [-1, 2]));
    const t = await tensorList(
      {
        instances: [
          { a: 1, b: [1, 2] },
          { a: 2, b: [3, 4] },
        ],
      },
      s,
    );
    expect(t.map((x) => [x.name, x.dtype, x.shape])).toEqual([
      ['a', 'int64', [2]],
      ['b', 'float64', [2, 2]],
    ]);
    const e = await parseError({ instances: [{ a: 1, b: [1, 2] }, { a: 2 }] }, s);
    expect(e.message).toBe('Invalid input. The length of values for each input/column name are not the same (a: 2, b: 1)');
  });

  it('single named column schema: a plain list is that column', async () => {
    const s = cols(cs('text', 'string'));
    const t = await tensorList({ inputs: ['a', 'b'] }, s);
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ name: 'text', dtype: 'str', shape: [2] });
    const enforced = asColumns(enforceSchema({ kind: 'tensors', tensors: t }, s));
    expect(enforced.numRows).toBe(2);
  });

  it('column schema + dict of scalars → one row; + list of dicts → records', async () => {
    const s = cols(cs('x', 'double'), cs('y', 'long'));
    const t = await tensorList({ inputs: { x: 1, y: 2 } }, s);
    expect(t.map((x) => [x.name, x.dtype, x.shape])).toEqual([
      ['x', 'float64', []],
      ['y', 'int64', []],
    ]);
    expect(asColumns(enforceSchema({ kind: 'tensors', tensors: t }, s)).numRows).toBe(1);
    const rec = await columns(
      {
        inputs: [
          { x: 1, y: 2 },
          { x: 1.5, y: 3 },
        ],
      },
      s,
    );
    expect(rec.columns.map((c) => c.dtype)).toEqual(['float64', 'int64']);
    expect(asColumns(enforceSchema(rec, s)).numRows).toBe(2);
  });

  it('column schema + nested list: np.array with the FIRST column type, then DataFrame(ndarray) columns 0, 1 (not the schema names)', async () => {
    const s = cols(cs('a', 'double'), cs('b', 'double'));
    const t = (
      await tensorList(
        {
          inputs: [
            [1, 2],
            [3, 4],
          ],
        },
        s,
      )
    )[0]!;
    expect(t).toMatchObject({ name: null, dtype: 'float64', shape: [2, 2] });
    expect(() => enforceSchema({ kind: 'tensors', tensors: [t] }, s)).toThrow("Model is missing inputs ['a', 'b']. Note that there were extra inputs: [0, 1].");
  });

  it('un-named schema refuses a dict with MLflow message', async () => {
    const e = await parseError({ inputs: { a: [1] } }, tensors(ts(null, 'float32', [-1])));
    expect(e.message).toBe(
      'Invalid input. Failed to parse input data. This model contains an un-named  model signature which expects a single ' +
        "n-dimensional array or a single value as input, however, an input of type <class 'dict'> was found.",
    );
  });

  it('casts refuse silent changes, naming the input and element', async () => {
    const s = tensors(ts(null, 'int64', [-1, 2]));
    expect(
      (
        await parseError(
          {
            inputs: [
              [1, 2],
              [3, 4.5],
            ],
          },
          s,
        )
      ).message,
    ).toBe("Invalid input. Failed to convert the input to dtype 'int64': element [1, 1]: expected a whole number for int64, got the number 4.5");
    expect(
      (
        await parseError(
          {
            inputs: [
              [1, 2],
              [3, null],
            ],
          },
          s,
        )
      ).message,
    ).toContain('element [1, 1]: a int64 array cannot hold missing values');
    expect((await parseError({ inputs: [[1, 2], [3]] }, s)).message).toContain(
      'the nested lists do not form a rectangular array (the list at [1] has 1 elements, expected 2)',
    );
    expect((await parseError({ inputs: { a: ['x'] } }, tensors(ts('a', 'float32', [-1])))).message).toBe(
      "Invalid input. Failed to convert input 'a' to dtype 'float32': element [0]: expected a number for float32, got the string \"x\"",
    );
    // float dtypes hold missing values as NaN, like np.array([1.0, None], dtype=float).
    const t = (await tensorList({ inputs: [1, null] }, tensors(ts(null, 'float64', [-1]))))[0]!;
    expect(Array.from(t.values as Float64Array)).toEqual([1, NaN]);
  });

  it('object tensor specs accept ragged lists (1-D object array)', async () => {
    const t = (await tensorList({ inputs: [[1], [2, 3]] }, tensors(ts(null, 'object', [-1]))))[0]!;
    expect(t).toMatchObject({ dtype: 'object', shape: [2], values: [[1], [2, 3]] });
  });

  it('Array column specs keep the list as one cell (one row), as MLflow does for dict input', async () => {
    const s = cols(cs('q', { type: 'array', items: 'string' }));
    const t = await tensorList({ inputs: { q: ['a', 'b'] } }, s);
    expect(t[0]).toMatchObject({ name: 'q', dtype: 'object', shape: [], values: [['a', 'b']] });
    const enforced = asColumns(enforceSchema({ kind: 'tensors', tensors: t }, s));
    expect(enforced.numRows).toBe(1);
    expect(enforced.columns[0]!.values).toEqual([['a', 'b']]);
  });

  it('bytes and str tensors', async () => {
    const t = (await tensorList({ inputs: ['AAE=', 'Ag=='] }, tensors(ts(null, 'bytes', [-1]))))[0]!;
    expect((t.values as BinaryArray).toArray().map((x) => Array.from(x))).toEqual([[0, 1], [2]]);
    const s = (await tensorList({ inputs: [1, 2.5, true] }, tensors(ts(null, 'str', [-1]))))[0]!;
    expect((s.values as Utf8Array).toArray()).toEqual(['1', '2.5', 'True']);
  });
});

describe('params, LLM mode and type-hint signatures', () => {
  const paramSpecs: ParamSpec[] = [{ name: 'temperature', type: 'double', default: 0.5, shape: null }];

  it('params are returned as given (enforcement applies defaults later)', async () => {
    const req = await parse('{"inputs": [1], "params": {"temperature": 1.0, "k": [1, 2]}}');
    expect(req.params).toEqual({ temperature: 1, k: [1, 2] });
    expect(req.params!.temperature).not.toBeInstanceOf(PyFloat);
    expect((await parse({ inputs: [1] })).params).toBeNull();
    const e = await parseError({ inputs: [1], params: [1] });
    expect(e.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toBe("Parameters must be a dictionary. Got type 'list'.");
  });

  it('LLM mode: messages/prompt/input keys; schema params split off; data passed through raw', async () => {
    const req = await parse('{"messages": [{"role": "user", "content": "hi"}], "temperature": 0.2, "max_tokens": 5.0}', null, { paramSpecs });
    expect(req.format).toBe('llm');
    expect(req.batch).toEqual({ kind: 'json', value: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 } });
    expect(req.params).toEqual({ temperature: 0.2 });
    const noSchema = await parse({ prompt: 'x', temperature: 1 });
    expect(noSchema.batch).toEqual({ kind: 'json', value: { prompt: 'x', temperature: 1 } });
    expect(noSchema.params).toEqual({});
    expect((await parse({ input: ['a'] })).format).toBe('llm');
    // `inputs` is not an LLM key.
    expect((await parse({ inputs: ['a'] })).format).toBe('inputs');
  });

  it('type-hint signatures: inputs passed through raw; a missing inputs key is INVALID_PARAMETER_VALUE', async () => {
    const req = await parse('{"inputs": [{"a": 1.0}], "params": {"x": 1}}', cols(cs('a', 'double')), { signatureFromTypeHint: true });
    expect(req).toEqual({ batch: { kind: 'json', value: [{ a: 1 }] }, params: { x: 1 }, format: 'inputs' });
    const e = await parseError({ dataframe_split: { data: [] } }, null, { signatureFromTypeHint: true });
    expect(e.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toBe(
      "Request payload must be a dictionary with 'inputs' key when the model contains a valid type hint. Found keys in payload: dict_keys(['dataframe_split']).",
    );
  });
});
