/**
 * text/csv, Parquet and Arrow IPC scoring requests: pandas-like reading, schema typing, and
 * refusal of malformed or oversized bodies.
 */
import * as arrow from 'apache-arrow';
import { ParquetFile, Table as WasmTable, writeParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import type { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { Batch, Column, ColumnBatch } from '../src/batch/types.js';
import { batchToIPC } from '../src/batch/arrow.js';
import { enforceSchema, InputSchemaError } from '../src/enforce/index.js';
import type { ColSpec, Schema, TensorSpec, ValueType } from '../src/signature/types.js';
import { parseScoringRequest, ScoringRequestError, type ScoringRequestOptions } from '../src/scoring/index.js';
import { asColumns, asTensors } from './batch-asserts.js';

const cs = (name: string | null, type: ValueType, required = true): ColSpec => ({ kind: 'column', name, type, required });
const cols = (...specs: ColSpec[]): Schema => ({ kind: 'columns', specs });
const ts = (name: string | null, dtype: string, shape: number[]): TensorSpec => ({ kind: 'tensor', name, dtype, shape });

const enc = new TextEncoder();
const col = (b: ColumnBatch, name: string): Column => {
  const c = b.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name} in ${b.columns.map((x) => x.name).join(', ')}`);
  return c;
};

async function csv(text: string, schema: Schema | null = null): Promise<ColumnBatch> {
  const req = await parseScoringRequest(enc.encode(text), 'text/csv', schema);
  expect(req.format).toBe('csv');
  expect(req.params).toBeNull();
  return asColumns(req.batch as Batch);
}

async function refused(bodyBytes: Uint8Array, type: string, schema: Schema | null = null, opts?: ScoringRequestOptions): Promise<ScoringRequestError> {
  try {
    await parseScoringRequest(bodyBytes, type, schema, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ScoringRequestError);
    return e as ScoringRequestError;
  }
  throw new Error('expected the request to be refused');
}

const CSV_PREFIX =
  'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: ';

describe('text/csv without a schema: pandas read_csv inference', () => {
  it('ints, floats, bools, strings; empty cells are missing', async () => {
    const b = await csv('i,f,b,s,mi\n1,1.5,True,x,1\n-2,2,false,"y, z",\n3,1e3,TRUE,NA,3\n');
    expect(b.numRows).toBe(3);
    expect(b.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['i', 'int64'],
      ['f', 'float64'],
      ['b', 'bool'],
      ['s', 'str'],
      ['mi', 'float64'],
    ]);
    expect(Array.from(col(b, 'i').values as BigInt64Array)).toEqual([1n, -2n, 3n]);
    expect(Array.from(col(b, 'f').values as Float64Array)).toEqual([1.5, 2, 1000]);
    expect(Array.from(col(b, 'b').values as Uint8Array)).toEqual([1, 0, 1]);
    // pandas' NA strings ("NA", "null", "", …) are missing even in string columns.
    expect(Array.from(col(b, 's').validity!)).toEqual([1, 1, 0]);
    expect((col(b, 's').values as Utf8Array).get(1)).toBe('y, z');
    expect(Array.from(col(b, 'mi').values as Float64Array)).toEqual([1, NaN, 3]);
  });

  it('quoting: embedded commas, quotes and newlines; CRLF, blank lines and a BOM', async () => {
    const b = await csv('\ufeffa,b\r\n"he said ""hi""","line1\nline2"\r\n\r\n   \r\nplain,x\r\n');
    expect(b.numRows).toBe(2);
    expect((col(b, 'a').values as Utf8Array).toArray()).toEqual(['he said "hi"', 'plain']);
    expect((col(b, 'b').values as Utf8Array).toArray()).toEqual(['line1\nline2', 'x']);
  });

  it('header: empty names are "Unnamed: i", duplicates are mangled like pandas', async () => {
    const b = await csv(',a,a,b,a\n0,1,2,3,4\n');
    expect(b.columns.map((c) => c.name)).toEqual(['Unnamed: 0', 'a', 'a.1', 'b', 'a.2']);
  });

  it('short rows are padded, long rows are an error; a column with only missing values is float64', async () => {
    const b = await csv('a,b\n1\n2,\n');
    expect(col(b, 'b')).toMatchObject({ dtype: 'float64' });
    expect(Array.from(col(b, 'b').validity!)).toEqual([0, 0]);
    const e = await refused(enc.encode('a,b\n1,2\n1,2,3\n'), 'text/csv');
    expect(e.message).toBe(`${CSV_PREFIX}'Error tokenizing data. C error: Expected 2 fields in line 3, saw 3'`);
  });

  it('a header without rows gives typed empty columns; an empty body has no columns', async () => {
    const b = await csv('x,y\n', cols(cs('x', 'double'), cs('y', 'string')));
    expect(b).toMatchObject({ numRows: 0 });
    expect(b.columns.map((c) => [c.name, c.dtype, c.values.length])).toEqual([
      ['x', 'float64', 0],
      ['y', 'str', 0],
    ]);
    expect((await refused(enc.encode(''), 'text/csv')).message).toBe(`${CSV_PREFIX}'No columns to parse from file'`);
    expect((await refused(enc.encode('\n\n'), 'text/csv')).message).toBe(`${CSV_PREFIX}'No columns to parse from file'`);
  });

  it('an unterminated quote and invalid UTF-8 are 400s', async () => {
    expect((await refused(enc.encode('a\n"abc\n'), 'text/csv')).message).toBe(
      `${CSV_PREFIX}'Error tokenizing data. C error: EOF inside string starting at row 2'`,
    );
    const e = await refused(new Uint8Array([0x61, 0x0a, 0xc3, 0x28]), 'text/csv');
    expect(e.message).toBe(`${CSV_PREFIX}''utf-8' codec can't decode byte 0xc3 in position 2: invalid start byte'`);
  });
});

describe('text/csv with a schema: read_csv(dtype=…)', () => {
  const specs = [cs('i', 'integer'), cs('l', 'long'), cs('f', 'float'), cs('b', 'boolean'), cs('s', 'string'), cs('t', 'datetime'), cs('bin', 'binary')];
  const schema = cols(...specs);

  it('columns get the schema types; enforcement accepts the batch', async () => {
    const b = await csv('i,l,f,b,s,t,bin,extra\n1,2.0,0.5,true,007,2024-01-31 12:00:00,AAE=,x\n-3,9007199254740993,3,False,abc,2024-02-01,,y\n', schema);
    expect(b.columns.map((c) => c.dtype)).toEqual(['int32', 'int64', 'float32', 'bool', 'str', 'datetime64[ns]', 'bytes', 'str']);
    expect(Array.from(col(b, 'l').values as BigInt64Array)).toEqual([2n, 9007199254740993n]);
    // A string column keeps "007" as text (inference would have made it the integer 7).
    expect((col(b, 's').values as Utf8Array).get(0)).toBe('007');
    expect(Array.from((col(b, 'bin').values as BinaryArray).get(0))).toEqual([0, 1]);
    expect(Array.from(col(b, 'bin').validity!)).toEqual([1, 0]);
    const enforced = asColumns(enforceSchema(b, cols(...specs.map((s) => (s.name === 'bin' ? cs('bin', 'binary', false) : s)))));
    expect(enforced.columns.map((c) => c.name)).toEqual(['i', 'l', 'f', 'b', 's', 't', 'bin']);
  });

  it('values that do not fit the type are a 400 naming the column, the line and the value', async () => {
    const e = await refused(enc.encode('l\n1\n1.5\n'), 'text/csv', cols(cs('l', 'long')));
    expect(e.message).toBe(`${CSV_PREFIX}'Unable to convert column l to type int64: line 3: expected a whole number for int64, got "1.5"'`);
    expect((await refused(enc.encode('i\n3000000000\n'), 'text/csv', cols(cs('i', 'integer')))).message).toContain('within the range of int32');
    expect((await refused(enc.encode('d\nabc\n'), 'text/csv', cols(cs('d', 'double')))).message).toContain('expected a number for float64, got "abc"');
    expect((await refused(enc.encode('b\nyes\n'), 'text/csv', cols(cs('b', 'boolean')))).message).toContain('expected True, False');
  });

  it('missing integers keep a validity mask; enforcement refuses them for required columns', async () => {
    const b = await csv('l\n1\n\n2\nNA\n', cols(cs('l', 'long')));
    expect(col(b, 'l').dtype).toBe('int64');
    expect(Array.from(col(b, 'l').validity!)).toEqual([1, 1, 0]);
    expect(() => enforceSchema(b, cols(cs('l', 'long')))).toThrow(InputSchemaError);
    expect(asColumns(enforceSchema(b, cols(cs('l', 'long', false)))).numRows).toBe(3);
  });

  it('unnamed column schemas type columns by position', async () => {
    const b = await csv('a,b\n1,2\n', cols(cs(null, 'double'), cs(null, 'string')));
    expect(b.columns.map((c) => c.dtype)).toEqual(['float64', 'str']);
  });

  it('tensor and complex schemas are refused like MLflow (pandas_types() raises)', async () => {
    const t = await refused(enc.encode('a\n1\n'), 'text/csv', { kind: 'tensors', specs: [ts(null, 'float32', [-1, 1])] });
    expect(t.httpStatus).toBe(400);
    // MLflow's text, then what to send instead
    expect(t.message).toBe(
      `${CSV_PREFIX}'TensorSpec only supports numpy types, use numpy_type() instead' ` +
        'This model takes a tensor: send it as JSON, e.g. {"inputs": [[...], ...]} with float32 values of shape (-1, 1).',
    );
    const c = await refused(enc.encode('q\n1\n'), 'text/csv', cols(cs('q', { type: 'array', items: 'string' })));
    expect(c.message).toContain("input 'q' has type Array(string), which has no pandas type: send this model JSON instead of CSV");
  });
});

function parquetOf(table: arrow.Table): Uint8Array {
  return writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream')));
}

/**
 * A "dictionary bomb": one string of `entryBytes` referenced by `rows` rows. The file stores the
 * string once (in the dictionary page); its embedded Arrow schema is patched from Dictionary to
 * plain Utf8, so the reader must materialise every row (rows × entryBytes bytes).
 */
async function dictionaryBomb(entryBytes: number, rows: number): Promise<Uint8Array> {
  const dictionary = arrow.vectorFromArray(['x'.repeat(entryBytes)], new arrow.Utf8());
  const vec = arrow.makeVector({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), data: new Int32Array(rows), dictionary } as never);
  const bomb = Buffer.from(parquetOf(new arrow.Table({ s: vec })));
  const plain = parquetOf(new arrow.Table({ s: arrow.vectorFromArray(['y'], new arrow.Utf8()) }));
  const arrowSchema = async (b: Uint8Array): Promise<string> =>
    (await ParquetFile.fromFile(new Blob([b]))).metadata().fileMetadata().keyValueMetadata().get('ARROW:schema') as string;
  const from = await arrowSchema(bomb);
  const to = await arrowSchema(plain);
  const varint = (x: number): Buffer => {
    const out: number[] = [];
    for (; x > 127; x >>>= 7) out.push((x & 127) | 128);
    out.push(x);
    return Buffer.from(out);
  };
  // The footer is Thrift: the key-value string is its varint length followed by the bytes.
  const at = bomb.lastIndexOf(Buffer.from(from));
  const [lenFrom, lenTo] = [varint(from.length), varint(to.length)];
  expect(bomb.subarray(at - lenFrom.length, at).equals(lenFrom)).toBe(true);
  const out = Buffer.concat([bomb.subarray(0, at - lenFrom.length), lenTo, Buffer.from(to), bomb.subarray(at + from.length)]);
  const shrink = lenFrom.length + from.length - (lenTo.length + to.length);
  out.writeInt32LE(out.readInt32LE(out.length - 8) - shrink, out.length - 8);
  return new Uint8Array(out);
}

describe('application/vnd.apache.parquet', () => {
  it('types, nulls and timestamps survive; no params', async () => {
    const table = new arrow.Table({
      n: arrow.makeVector(BigInt64Array.from([1n, 2n, 3n])),
      x: arrow.makeVector(Float32Array.from([0.5, 1.5, 2.5])),
      s: arrow.vectorFromArray(['a', null, 'c'], new arrow.Utf8()),
      ok: arrow.vectorFromArray([true, false, null], new arrow.Bool()),
      t: arrow.vectorFromArray([new Date(Date.UTC(2024, 0, 31)), new Date(Date.UTC(2024, 1, 1)), null], new arrow.TimestampMicrosecond()),
    });
    const req = await parseScoringRequest(parquetOf(table), 'application/vnd.apache.parquet', null);
    expect(req).toMatchObject({ format: 'parquet', params: null });
    const b = asColumns(req.batch as Batch);
    expect(b.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['n', 'int64'],
      ['x', 'float32'],
      ['s', 'str'],
      ['ok', 'bool'],
      ['t', 'datetime64[ns]'],
    ]);
    expect(Array.from(col(b, 's').validity!)).toEqual([1, 0, 1]);
    expect(Array.from(col(b, 't').values as BigInt64Array).slice(0, 2)).toEqual([1706659200000000000n, 1706745600000000000n]);
  });

  it('columns are not cast: an int64 column for a double spec is left to enforcement (0/1 only, like MLflow)', async () => {
    const schema = cols(cs('v', 'double'));
    const ints = await parseScoringRequest(parquetOf(arrow.tableFromArrays({ v: BigInt64Array.from([1n, 2n]) })), 'application/vnd.apache.parquet', schema);
    expect(asColumns(ints.batch as Batch).columns[0]!.dtype).toBe('int64');
    expect(() => enforceSchema(ints.batch as Batch, schema)).toThrow(/Can not safely convert int64 to float64/);
    const zeroOne = await parseScoringRequest(parquetOf(arrow.tableFromArrays({ v: BigInt64Array.from([0n, 1n]) })), 'application/vnd.apache.parquet', schema);
    expect(asColumns(enforceSchema(zeroOne.batch as Batch, schema)).columns[0]!.dtype).toBe('float64');
  });

  it("pandas index columns (the 'pandas' metadata's index_columns) are dropped, as read_parquet makes them the index", async () => {
    const base = arrow.tableFromArrays({ a: Float64Array.from([1, 2]), __index_level_0__: BigInt64Array.from([10n, 11n]) });
    const meta = new Map([['pandas', JSON.stringify({ index_columns: ['__index_level_0__'], columns: [] })]]);
    const table = new arrow.Table(
      new arrow.Schema(base.schema.fields, meta),
      base.batches.map((rb) => new arrow.RecordBatch(new arrow.Schema(base.schema.fields, meta), rb.data)),
    );
    const b = asColumns((await parseScoringRequest(parquetOf(table), 'application/vnd.apache.parquet', null)).batch as Batch);
    expect(b.columns.map((c) => c.name)).toEqual(['a']);
  });

  it('large files come back exactly (several record batches reassembled in order)', async () => {
    const n = 200_000;
    const v = new Float64Array(n).map((_, i) => i * 0.5);
    const ids = new BigInt64Array(n).map((_, i) => BigInt(i));
    const req = await parseScoringRequest(parquetOf(arrow.tableFromArrays({ v, ids })), 'application/vnd.apache.parquet', null);
    const b = asColumns(req.batch as Batch);
    expect(b.numRows).toBe(n);
    // Byte comparison: vitest's deep equality is slow on 200k-element typed arrays.
    const bytesOf = (a: Float64Array | BigInt64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytesOf(col(b, 'v').values as Float64Array).equals(bytesOf(v))).toBe(true);
    expect(bytesOf(col(b, 'ids').values as BigInt64Array).equals(bytesOf(ids))).toBe(true);
  });

  it('an empty table keeps its columns', async () => {
    const table = arrow.tableFromArrays({ a: new Float64Array(0) });
    const b = asColumns((await parseScoringRequest(parquetOf(table), 'application/vnd.apache.parquet', null)).batch as Batch);
    expect(b.numRows).toBe(0);
    expect(b.columns.map((c) => [c.name, c.dtype])).toEqual([['a', 'float64']]);
  });

  it('a 1 MB file that decodes to 300 MB stops at maxDecodedBytes (413)', async () => {
    const bomb = await dictionaryBomb(1 << 20, 300);
    expect(bomb.byteLength).toBeLessThan(1.1 * (1 << 20));
    const e = await refused(bomb, 'application/vnd.apache.parquet', null, { maxDecodedBytes: 100 * 1024 * 1024 });
    expect(e.httpStatus).toBe(413);
    expect(e.message).toBe(`The request is too large: the decoded Parquet data exceeds the limit of ${100 * 1024 * 1024} bytes.`);
  });

  it('a decode that takes longer than the timeout is stopped (413); the next request gets a fresh decoder', async () => {
    const slow = await dictionaryBomb(1 << 20, 1000);
    const e = await refused(slow, 'application/vnd.apache.parquet', null, { parquetTimeoutMs: 50 });
    expect(e.httpStatus).toBe(413);
    expect(e.message).toBe('The request is too large: the Parquet data could not be decoded: decoding took longer than 50 ms.');
    const ok = await parseScoringRequest(parquetOf(arrow.tableFromArrays({ a: Float64Array.from([1]) })), 'application/vnd.apache.parquet', null);
    expect(asColumns(ok.batch as Batch).numRows).toBe(1);
  });

  it('a file that expands beyond the 4 GiB decoder memory kills only the decoder worker (413); the next request works', async () => {
    // A 1 MiB entry on 4200 rows: one slice of 4.2 GB, more than the wasm memory can hold.
    const bomb = await dictionaryBomb(1 << 20, 4200);
    const e = await refused(bomb, 'application/vnd.apache.parquet');
    expect(e.httpStatus).toBe(413);
    expect(e.message).toMatch(
      /^The request is too large: the Parquet data could not be decoded: the decoder failed \(.+\), most likely because the data expands beyond its memory\.$/,
    );
    const ok = await parseScoringRequest(parquetOf(arrow.tableFromArrays({ a: Float64Array.from([1, 2]) })), 'application/vnd.apache.parquet', null);
    expect(asColumns(ok.batch as Batch).numRows).toBe(2);
  }, 180_000);

  it('a string column with a dictionary decodes quickly and exactly (200k rows)', async () => {
    const n = 200_000;
    const cats = ['alpha', 'beta', 'gamma', 'delta'];
    const strings = Array.from({ length: n }, (_, i) => cats[i % 4]!);
    const bytes = parquetOf(new arrow.Table({ c: arrow.vectorFromArray(strings, new arrow.Utf8()), x: arrow.makeVector(new Float64Array(n).fill(1.5)) }));
    const t0 = performance.now();
    const b = asColumns((await parseScoringRequest(bytes, 'application/vnd.apache.parquet', null)).batch as Batch);
    const ms = performance.now() - t0;
    expect(b.numRows).toBe(n);
    const c = col(b, 'c').values as Utf8Array;
    expect([c.get(0), c.get(1), c.get(n - 1)]).toEqual(['alpha', 'beta', 'delta']);
    expect(ms).toBeLessThan(5000);
  });

  it('row and decoded-size limits are 413s', async () => {
    const bytes = parquetOf(arrow.tableFromArrays({ a: new Float64Array(1000) }));
    const rows = await refused(bytes, 'application/vnd.apache.parquet', null, { maxParquetRows: 999 });
    expect(rows.httpStatus).toBe(413);
    expect(rows.message).toBe('The request is too large: the Parquet file declares 1000 rows, more than the limit of 999.');
    const size = await refused(bytes, 'application/vnd.apache.parquet', null, { maxDecodedBytes: 4000 });
    expect(size.httpStatus).toBe(413);
    expect(size.message).toContain('the decoded Parquet data exceeds the limit of 4000 bytes');
  });
});

describe('application/vnd.apache.arrow.stream / .file', () => {
  it('a tensor batch written with batchToIPC comes back as tensors', async () => {
    const values = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const ipc = batchToIPC({ kind: 'tensors', tensors: [{ name: null, dtype: 'float32', shape: [3, 2], values }] });
    const req = await parseScoringRequest(ipc, 'application/vnd.apache.arrow.stream', null);
    const t = asTensors(req.batch as Batch).tensors[0]!;
    expect(t).toMatchObject({ name: null, dtype: 'float32', shape: [3, 2] });
    expect(Array.from(t.values as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a dictionary column that would decode to more than maxDecodedBytes is a 413 before decoding', async () => {
    const big = 'x'.repeat(1 << 20);
    const dictionary = arrow.vectorFromArray([big], new arrow.Utf8());
    const vec = arrow.makeVector({
      type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
      data: new Int32Array(2048),
      dictionary,
    } as never);
    const ipc = arrow.tableToIPC(new arrow.Table({ s: vec }), 'stream');
    expect(ipc.byteLength).toBeLessThan(2 * 1024 * 1024);
    const e = await refused(ipc, 'application/vnd.apache.arrow.stream');
    expect(e.httpStatus).toBe(413);
    expect(e.message).toBe(`The request is too large: the decoded data exceeds the limit of ${1024 * 1024 * 1024} bytes.`);
    // The same column with few rows decodes fine.
    const small = arrow.makeVector({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), data: new Int32Array(3), dictionary } as never);
    const ok = await parseScoringRequest(arrow.tableToIPC(new arrow.Table({ s: small }), 'stream'), 'application/vnd.apache.arrow.stream', null);
    expect((asColumns(ok.batch as Batch).columns[0]!.values as Utf8Array).get(2)).toHaveLength(1 << 20);
  });

  it('timezone-aware timestamps for a datetime column are refused like MLflow enforcement does', async () => {
    const field = new arrow.Field('t', new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, 'UTC'));
    const data = arrow.makeData({ type: field.type, length: 1, data: BigInt64Array.from([0n]) } as never);
    const schema = new arrow.Schema([field]);
    const table = new arrow.Table(
      schema,
      new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: 1, children: [data] })),
    );
    const ipc = arrow.tableToIPC(table, 'stream');
    const e = await refused(ipc, 'application/vnd.apache.arrow.stream', cols(cs('t', 'datetime')));
    expect(e.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toContain("Column 't' holds timezone-aware timestamps (timezone UTC)");
    // Without a datetime spec the instants are read as naive UTC values.
    const b = asColumns((await parseScoringRequest(ipc, 'application/vnd.apache.arrow.stream', null)).batch as Batch);
    expect(b.columns[0]!.dtype).toBe('datetime64[ns]');
  });
});
