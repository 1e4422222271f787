import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { DType } from '../src/dtype.js';
import { ModelFormatError } from '../src/errors.js';
import { arrowTableFromIPC, batchFromArrow, batchFromIPC, batchToArrow, batchToIPC, recordBatchToBatch } from '../src/batch/arrow.js';
import { BinaryArray, Utf8Array } from '../src/batch/string-array.js';
import type { Batch, Column, ColumnBatch, Storage, TensorBatch } from '../src/batch/types.js';
import { column, columnBatch, columnFromValues, columnValue, parseDatetimeNs, tensor, tensorBatch, tensorFromNested } from '../src/batch/values.js';
import { asColumns, asTensors } from './batch-asserts.js';

// ---------- helpers ----------

/** Row values of a column (null where invalid). */
function rowsOf(c: Column): unknown[] {
  return Array.from({ length: c.values.length }, (_, i) => columnValue(c, i));
}

function hasNulls(c: Column): boolean {
  return c.validity !== undefined && c.validity.includes(0);
}

/** Same names, dtypes, null positions and values (NaN, -0, bigint and bytes compared exactly). */
function expectSameColumns(actual: Batch, expected: ColumnBatch): void {
  const got = asColumns(actual);
  expect(got.numRows).toBe(expected.numRows);
  expect(got.columns.map((c) => [c.name, c.dtype])).toEqual(expected.columns.map((c) => [c.name, c.dtype]));
  got.columns.forEach((c, i) => {
    const e = expected.columns[i]!;
    expect(hasNulls(c), c.name).toBe(hasNulls(e));
    expect(rowsOf(c), c.name).toEqual(rowsOf(e));
  });
}

function expectSameTensors(actual: Batch, expected: TensorBatch): void {
  const got = asTensors(actual);
  expect(got.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(expected.tensors.map((t) => [t.name, t.dtype, t.shape]));
  got.tensors.forEach((t, i) => {
    const e = expected.tensors[i]!;
    if (t.values instanceof Utf8Array || t.values instanceof BinaryArray) {
      expect(t.values.toArray()).toEqual((e.values as Utf8Array | BinaryArray).toArray());
    } else {
      expect(Array.from(t.values as ArrayLike<unknown>)).toEqual(Array.from(e.values as ArrayLike<unknown>));
      expect(t.values.constructor).toBe(e.values.constructor);
    }
  });
}

const viaArrow = (b: Batch): Batch => batchFromArrow(batchToArrow(b));
const viaStream = (b: Batch): Batch => batchFromIPC(batchToIPC(b, 'stream'));
const viaFile = (b: Batch): Batch => batchFromIPC(batchToIPC(b, 'file'));
const ROUND_TRIPS = [
  ['in-memory Arrow', viaArrow],
  ['IPC stream', viaStream],
  ['IPC file', viaFile],
] as const;

const firstData = (t: arrow.Table, name: string): arrow.Data => t.getChild(name)!.data[0]!;

/** The ArrayBuffer behind a typed-array storage. */
const bufferOf = (values: Storage): ArrayBufferLike => (values as ArrayBufferView).buffer;

const ns = (s: string): bigint => parseDatetimeNs(s);

/** One column per dtype; `withNulls` puts a null in row 1 of each. */
function everyDtype(withNulls: boolean): ColumnBatch {
  const spec: [DType, unknown[]][] = [
    ['int8', [-128, 5, 127]],
    ['int16', [-32768, 7, 32767]],
    ['int32', [-2147483648, 0, 2147483647]],
    ['int64', [-(2n ** 63n), 42n, 2n ** 63n - 1n]],
    ['uint8', [0, 1, 255]],
    ['uint16', [0, 2, 65535]],
    ['uint32', [0, 3, 4294967295]],
    ['uint64', [0n, 4n, 2n ** 64n - 1n]],
    ['float32', [1.5, -0, Infinity]],
    ['float64', [Math.PI, -0, -Infinity]],
    ['bool', [true, false, true]],
    ['str', ['héllo wörld', '', '日本語 🎉']],
    ['bytes', [new Uint8Array([0, 255, 128]), new Uint8Array(0), new TextEncoder().encode('xyz')]],
    ['datetime64[ns]', [ns('2024-02-29T12:34:56.123456789'), ns('1969-12-31T23:59:59.999999999'), ns('1970-01-01')]],
  ];
  const cols = spec.map(([dtype, vals]) => columnFromValues(`c_${dtype}`, withNulls ? vals.map((v, i) => (i === 1 ? null : v)) : vals, dtype));
  // float16 is raw half bits: 1.0, -2.0, NaN
  const half = new Uint16Array([0x3c00, 0xc000, 0x7e00]);
  cols.push(column('c_float16', 'float16', half, withNulls ? new Uint8Array([1, 0, 1]) : undefined));
  // float NaN in a valid slot must survive (distinct from null)
  cols.push(columnFromValues('c_nan', [NaN, withNulls ? null : 2, 3], 'float64'));
  cols.push(columnFromValues('c_object', [[1, 2], withNulls ? null : [3], []], 'object'));
  return columnBatch(cols);
}

// ---------- column batches ----------

describe('column batches', () => {
  for (const withNulls of [false, true]) {
    for (const [how, trip] of ROUND_TRIPS) {
      it(`round-trips every dtype ${withNulls ? 'with' : 'without'} nulls (${how})`, () => {
        const batch = everyDtype(withNulls);
        expectSameColumns(trip(batch), batch);
      });
    }
  }

  it('maps dtypes onto the expected Arrow types, in column order', () => {
    const table = batchToArrow(everyDtype(true));
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'c_int8:Int8',
      'c_int16:Int16',
      'c_int32:Int32',
      'c_int64:Int64',
      'c_uint8:Uint8',
      'c_uint16:Uint16',
      'c_uint32:Uint32',
      'c_uint64:Uint64',
      'c_float32:Float32',
      'c_float64:Float64',
      'c_bool:Bool',
      'c_str:Utf8',
      'c_bytes:Binary',
      'c_datetime64[ns]:Timestamp<NANOSECOND>',
      'c_float16:Float16',
      'c_nan:Float64',
      'c_object:List<Float64>',
    ]);
    const ts = table.schema.fields[13]!.type as arrow.Timestamp;
    expect(ts.timezone ?? null).toBeNull();
    // Arrow sees the same values and nulls.
    expect(table.getChild('c_int32')!.toArray()).toEqual(new Int32Array([-2147483648, 0, 2147483647]));
    expect(table.getChild('c_str')!.toJSON()).toEqual(['héllo wörld', null, '日本語 🎉']);
    expect(table.getChild('c_bool')!.toJSON()).toEqual([true, null, true]);
    expect(table.getChild('c_int64')!.nullCount).toBe(1);
    expect(table.getChild('c_float16')!.get(0)).toBe(1);
  });

  it('shares buffers with Arrow in both directions (no copy)', () => {
    const f64 = column('f64', 'float64', new Float64Array([1, 2, 3]));
    const i64 = column('i64', 'int64', new BigInt64Array([1n, -2n, 3n]));
    const i32 = column('i32', 'int32', new Int32Array([7, 8, 9]), new Uint8Array([1, 0, 1]));
    const dt = column('dt', 'datetime64[ns]', new BigInt64Array([1n, 2n, 3n]));
    const s = column('s', 'str', Utf8Array.fromStrings(['ä', '', 'ccc']));
    const b = column('b', 'bytes', BinaryArray.fromBuffers([new Uint8Array([1]), new Uint8Array([2, 3]), new Uint8Array(0)]));
    const batch = columnBatch([f64, i64, i32, dt, s, b]);
    const table = batchToArrow(batch);

    expect(firstData(table, 'f64').values.buffer).toBe(bufferOf(f64.values));
    expect(firstData(table, 'i64').values.buffer).toBe(bufferOf(i64.values));
    expect(firstData(table, 'i32').values.buffer).toBe(bufferOf(i32.values)); // shared even with a validity mask
    expect(firstData(table, 'dt').values.buffer).toBe(bufferOf(dt.values));
    expect(firstData(table, 's').values.buffer).toBe((s.values as Utf8Array).bytes.buffer);
    expect(firstData(table, 's').valueOffsets.buffer).toBe((s.values as Utf8Array).offsets.buffer);
    expect(firstData(table, 'b').values.buffer).toBe((b.values as BinaryArray).bytes.buffer);

    const back = asColumns(batchFromArrow(table));
    expect(back.columns[0]!.values).toBe(f64.values);
    expect(back.columns[1]!.values).toBe(i64.values);
    expect(bufferOf(back.columns[2]!.values)).toBe(bufferOf(i32.values));
    expect(back.columns[3]!.values).toBe(dt.values);
    expect((back.columns[4]!.values as Utf8Array).bytes.buffer).toBe((s.values as Utf8Array).bytes.buffer);
    expect((back.columns[4]!.values as Utf8Array).offsets.buffer).toBe((s.values as Utf8Array).offsets.buffer);
    expect(rowsOf(back.columns[2]!)).toEqual([7, null, 9]);
  });

  it('views Arrow buffers when reading single-chunk data built by apache-arrow', () => {
    const table = new arrow.Table({
      f: arrow.makeVector(new Float32Array([0.5, 1.5, 2.5])),
      i: arrow.makeVector(new Int32Array([1, 2, 3])),
      l: arrow.makeVector(new BigInt64Array([10n, 20n, 30n])),
      s: arrow.vectorFromArray(['x', 'yy', 'zzz'], new arrow.Utf8()),
    });
    const batch = asColumns(batchFromArrow(table));
    expect(batch.columns.map((c) => c.dtype)).toEqual(['float32', 'int32', 'int64', 'str']);
    for (const name of ['f', 'i', 'l'] as const) {
      const col = batch.columns.find((c) => c.name === name)!;
      expect(bufferOf(col.values)).toBe(firstData(table, name).values.buffer);
      expect(col.values.length).toBe(3); // Arrow pads its buffers; our view is trimmed
    }
    expect((batch.columns[3]!.values as Utf8Array).bytes.buffer).toBe(firstData(table, 's').values.buffer);
    expect(rowsOf(batch.columns[0]!)).toEqual([0.5, 1.5, 2.5]);
    expect(rowsOf(batch.columns[2]!)).toEqual([10n, 20n, 30n]);
    expect(rowsOf(batch.columns[3]!)).toEqual(['x', 'yy', 'zzz']);
  });

  it('reads IPC bytes without copying fixed-width columns when the input is aligned', () => {
    const bytes = batchToIPC(columnBatch([column('x', 'float64', new Float64Array([1, 2, 3, 4]))]));
    const col = asColumns(batchFromIPC(bytes)).columns[0]!;
    expect(bufferOf(col.values)).toBe(bytes.buffer);
    expect(Array.from(col.values as Float64Array)).toEqual([1, 2, 3, 4]);
    // An unaligned copy of the same bytes still reads correctly.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(rowsOf(asColumns(batchFromIPC(shifted.subarray(3))).columns[0]!)).toEqual([1, 2, 3, 4]);
  });

  it('handles empty batches, zero-column batches and all-null columns', () => {
    const empty = columnBatch(
      (['int64', 'float32', 'bool', 'str', 'bytes', 'datetime64[ns]', 'object'] as DType[]).map((d) => columnFromValues(`e_${d}`, [], d)),
    );
    for (const [, trip] of ROUND_TRIPS) expectSameColumns(trip(empty), empty);

    const noColumns = columnBatch([], 4);
    for (const [, trip] of ROUND_TRIPS) expect(trip(noColumns)).toEqual({ kind: 'columns', numRows: 4, columns: [] });

    const allNull = columnBatch([columnFromValues('n_str', [null, null], 'str'), columnFromValues('n_obj', [null, null], 'object')]);
    for (const [, trip] of ROUND_TRIPS) expectSameColumns(trip(allNull), allNull);
  });

  it('rejects a column whose length disagrees with numRows', () => {
    const bad: ColumnBatch = { kind: 'columns', numRows: 3, columns: [column('x', 'int32', new Int32Array(2))] };
    expect(() => batchToArrow(bad)).toThrow(ModelFormatError);
    expect(() => batchToArrow(bad)).toThrow(/column "x" has 2 rows but the batch has 3/);
  });

  it('rejects Arrow data whose buffers are shorter than its length', () => {
    const short = arrow.makeData({ type: new arrow.Int32(), length: 1000, data: new Int32Array([1, 2]) });
    expect(() => batchFromArrow(new arrow.Table({ x: new arrow.Vector([short]) }))).toThrow(/column "x": the value buffer is too short for 1000 values/);
    const offsets = arrow.makeData({ type: new arrow.Utf8(), length: 2, valueOffsets: new Int32Array([0, 1, 50]), data: new Uint8Array([97]) });
    expect(() => batchFromArrow(new arrow.Table({ s: new arrow.Vector([offsets]) }))).toThrow(ModelFormatError);
    const dictionary = arrow.vectorFromArray(['a', 'b'], new arrow.Utf8());
    const badIndex = arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8()), length: 2, data: new Int8Array([1, 5]), dictionary });
    expect(() => batchFromArrow(new arrow.Table({ d: new arrow.Vector([badIndex]) }))).toThrow(/dictionary index 5 at row 1/);
  });

  it('puts NaN under null float slots read from Arrow', () => {
    const v = arrow.vectorFromArray([1.5, null, 3], new arrow.Float64());
    const col = asColumns(batchFromArrow(new arrow.Table({ v }))).columns[0]!;
    expect(Array.from(col.validity!)).toEqual([1, 0, 1]);
    expect(Array.from(col.values as Float64Array)).toEqual([1.5, NaN, 3]);
  });
});

// ---------- object columns ----------

describe('object columns', () => {
  const cases: [string, unknown[], string][] = [
    ['lists of numbers', [[1, 2.5, -0], [], null, [NaN, Infinity]], 'List<Float64>'],
    ['nested lists with nulls', [[[1, null], []], null, [[3]], [null]], 'List<List<Float64>>'],
    ['lists of strings', [['a', 'ü'], [''], [null]], 'List<Utf8>'],
    ['lists of bigints', [[1n, 2n ** 62n], [-3n]], 'List<Int64>'],
    ['lists of bytes', [[new Uint8Array([1, 2])], [new Uint8Array(0)]], 'List<Binary>'],
    [
      'lists of bools',
      [
        [true, false],
        [null, true],
      ],
      'List<Bool>',
    ],
    ['dicts', [{ a: 1, b: 'x', c: [1, 2] }, null, { a: null, b: 'y', c: [] }], 'Struct<{a:Float64, b:Utf8, c:List<Float64>}>'],
    ['empty dicts', [{}, {}], 'Struct<{}>'],
    ['lists of dicts', [[{ k: 'v', n: 1 }], [], [{ k: 'w', n: null }]], 'List<Struct<{k:Utf8, n:Float64}>>'],
    ['mixed values', [1, 'two', [3], { four: 4 }, null, true], 'Utf8'],
    ['dicts with different keys', [{ a: 1 }, { b: 2 }], 'Utf8'],
    [
      'dicts with the same keys in another order',
      [
        { a: 1, b: 2 },
        { b: 3, a: 4 },
      ],
      'Utf8',
    ],
    ['lists mixing numbers and bigints', [[1, 2n]], 'Utf8'],
    [
      'values JSON cannot hold',
      [[1n, NaN, -0, -Infinity, new Uint8Array([9, 8]), new Date(Date.UTC(2020, 0, 2))], { big: 2n ** 70n, s: 'x' }, { '$mlmodel:bigint': 'not a tag' }],
      'Utf8',
    ],
    ['scalars only', [1, 2, 3], 'Utf8'],
  ];

  for (const [label, values, arrowType] of cases) {
    it(`round-trips ${label} exactly (as ${arrowType})`, () => {
      const batch = columnBatch([
        columnFromValues('o', values, 'object'),
        columnFromValues(
          'after',
          values.map((_, i) => i),
          'int32',
        ),
      ]);
      const table = batchToArrow(batch);
      const field = table.schema.fields[0]!;
      expect(String(field.type)).toBe(arrowType);
      expect(field.metadata.get('mlmodel:json')).toBe(arrowType === 'Utf8' ? '1' : undefined);
      for (const [, trip] of ROUND_TRIPS) {
        const back = asColumns(trip(batch));
        expectSameColumns(back, batch);
        expect(back.columns[0]!.values).toEqual(values.map((v) => v ?? null));
      }
    });
  }

  it('treats rows masked by validity as null', () => {
    const col = column('o', 'object', [[1], [2], { a: 1 }], new Uint8Array([1, 0, 1]));
    const back = asColumns(viaArrow(columnBatch([col]))).columns[0]!;
    expect(back.values).toEqual([[1], null, { a: 1 }]);
    expect(Array.from(back.validity!)).toEqual([1, 0, 1]);
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "y": [1, "a"]}') as unknown;
    const back = asColumns(viaStream(columnBatch([columnFromValues('o', [value, 5], 'object')]))).columns[0]!;
    const row = (back.values as unknown[])[0] as object;
    expect(Object.keys(row)).toEqual(['__proto__', 'y']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it('rejects invalid JSON in an mlmodel:json column with ModelFormatError', () => {
    const field = new arrow.Field('o', new arrow.Utf8(), true, new Map([['mlmodel:json', '1']]));
    const data = arrow.makeData({ type: new arrow.Utf8(), length: 1, valueOffsets: new Int32Array([0, 4]), data: new TextEncoder().encode('{bad') });
    const schema = new arrow.Schema([field]);
    const table = new arrow.Table(schema, [new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct([field]), length: 1, children: [data] }))]);
    expect(() => batchFromArrow(table)).toThrow(ModelFormatError);
    expect(() => batchFromArrow(table)).toThrow(/column "o", row 0: invalid JSON/);
  });
});

// ---------- tensor batches ----------

describe('tensor batches', () => {
  const rank1 = tensor('r1', 'float32', [4], new Float32Array([1, 2, 3, 4]));
  const rank2 = tensor(
    'r2',
    'int64',
    [4, 3],
    BigInt64Array.from({ length: 12 }, (_, i) => BigInt(i - 5)),
  );
  const rank3 = tensor(
    'r3',
    'float64',
    [4, 2, 3],
    Float64Array.from({ length: 24 }, (_, i) => i / 7),
  );

  it('encodes tensors as nested FixedSizeLists sharing the flat buffer', () => {
    const table = batchToArrow(tensorBatch([rank1, rank2, rank3]));
    expect(table.numRows).toBe(4);
    expect(table.schema.metadata.get('mlmodel:batch')).toBe('tensors');
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Float32', 'FixedSizeList[3]<Int64>', 'FixedSizeList[2]<FixedSizeList[3]<Float64>>']);
    expect(table.schema.fields.map((f) => f.metadata.get('mlmodel:tensor_shape'))).toEqual(['[4]', '[4,3]', '[4,2,3]']);
    expect(firstData(table, 'r1').values.buffer).toBe(bufferOf(rank1.values));
    expect(firstData(table, 'r2').children[0]!.values.buffer).toBe(bufferOf(rank2.values));
    expect(firstData(table, 'r3').children[0]!.children[0]!.values.buffer).toBe(bufferOf(rank3.values));
    // Row 1 of r3 as Arrow sees it.
    const row = table.getChild('r3')!.get(1) as arrow.Vector;
    expect(Array.from(row, (v) => Array.from(v as arrow.Vector))).toEqual([
      [6 / 7, 7 / 7, 8 / 7],
      [9 / 7, 10 / 7, 11 / 7],
    ]);
  });

  for (const [how, trip] of ROUND_TRIPS) {
    it(`round-trips named tensors of rank 1, 2 and 3 (${how})`, () => {
      const batch = tensorBatch([rank1, rank2, rank3]);
      expectSameTensors(trip(batch), batch);
    });

    it(`round-trips an unnamed tensor, a 0-d tensor and other dtypes (${how})`, () => {
      const unnamed = tensorBatch([
        tensorFromNested(
          null,
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          'float32',
        ),
      ]);
      expectSameTensors(trip(unnamed), unnamed);

      const scalar = tensorBatch([tensor('s', 'int32', [], new Int32Array([42]))]);
      expectSameTensors(trip(scalar), scalar);

      const mixed = tensorBatch([
        tensorFromNested(
          'words',
          [
            ['a', 'bé'],
            ['', '🎉'],
          ],
          'str',
        ),
        tensorFromNested(
          'flags',
          [
            [true, false, true],
            [false, false, true],
          ],
          'bool',
        ),
        tensorFromNested('half', [[0x3c00], [0xc000]], 'float16'),
        tensorFromNested('u64', [2n ** 64n - 1n, 0n], 'uint64'),
        tensorFromNested('when', ['2020-01-01T00:00:00.000000001', '1900-01-01'], 'datetime64[ns]'),
        tensor('raw', 'bytes', [2], BinaryArray.fromBuffers([new Uint8Array([1]), new Uint8Array([2, 3])])),
      ]);
      expectSameTensors(trip(mixed), mixed);
    });

    it(`round-trips object tensors and tensors with a zero dimension (${how})`, () => {
      const objects = tensorBatch([tensor('o', 'object', [2, 2], [[1], { a: 'b' }, 'text', null])]);
      const back = asTensors(trip(objects));
      expect(back.tensors[0]!.shape).toEqual([2, 2]);
      expect(back.tensors[0]!.values).toEqual([[1], { a: 'b' }, 'text', null]);

      const zeroRows = tensorBatch([tensor('z', 'float64', [0, 3], new Float64Array(0)), tensor('y', 'int8', [0], new Int8Array(0))]);
      expectSameTensors(trip(zeroRows), zeroRows);
      const zeroInner = tensorBatch([tensor('z', 'float32', [3, 0, 2], new Float32Array(0))]);
      expectSameTensors(trip(zeroInner), zeroInner);
      expectSameTensors(trip(tensorBatch([])), tensorBatch([]));
    });
  }

  it('marks unnamed tensors in metadata and restores name null', () => {
    const t = tensor(null, 'float64', [2, 2], new Float64Array([1, 2, 3, 4]));
    const table = batchToArrow(tensorBatch([t]));
    expect(table.schema.fields[0]!.name).toBe('tensor');
    expect(table.schema.fields[0]!.metadata.get('mlmodel:unnamed')).toBe('1');
    const back = asTensors(batchFromArrow(table)).tensors[0]!;
    expect(back.name).toBeNull();
    expect(back.values).toBe(t.values); // zero-copy back as well
  });

  it('decodes a slice of a tensor table (first dimension from the row count)', () => {
    const table = batchToArrow(tensorBatch([rank2, rank3]));
    const back = asTensors(batchFromArrow(table.slice(1, 3)));
    expect(back.tensors.map((t) => t.shape)).toEqual([
      [2, 3],
      [2, 2, 3],
    ]);
    expect(Array.from(back.tensors[0]!.values as BigInt64Array)).toEqual([-2n, -1n, 0n, 1n, 2n, 3n]);
    expect(Array.from(back.tensors[1]!.values as Float64Array)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 6) / 7));
  });

  it('requires every tensor to share its first dimension', () => {
    const batch = tensorBatch([tensor('a', 'float32', [2, 2], new Float32Array(4)), tensor('b', 'float32', [3], new Float32Array(3))]);
    expect(() => batchToArrow(batch)).toThrow(ModelFormatError);
    expect(() => batchToArrow(batch)).toThrow(/tensor "b" has 3 rows .* tensor "a" has 2/);
  });

  it('reads a FixedSizeList column without tensor metadata as an object column of arrays', () => {
    const table = batchToArrow(tensorBatch([rank2]));
    const plain = new arrow.Table({ r2: table.getChild('r2')! }); // same data, no mlmodel metadata
    expect(plain.schema.metadata.size).toBe(0);
    const col = asColumns(batchFromArrow(plain)).columns[0]!;
    expect(col.dtype).toBe('object');
    expect((col.values as unknown[])[0]).toEqual([-5n, -4n, -3n]);
    expect((col.values as unknown[])[3]).toEqual([4n, 5n, 6n]);
  });
});

// ---------- Arrow data from elsewhere ----------

describe('Arrow tables built by apache-arrow', () => {
  it('decodes dictionary strings, dates and timestamps of every unit', () => {
    const day = 86_400_000;
    const table = arrow.tableFromArrays({
      name: ['a', 'b', 'a', 'c'],
      when: [new Date(0), new Date(day), new Date(-day), new Date(1.5 * day)],
      score: new Float64Array([0.1, 0.2, 0.3, 0.4]),
    });
    expect(String(table.getChild('name')!.type)).toMatch(/^Dictionary/);
    const batch = asColumns(batchFromArrow(table));
    expect(batch.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['name', 'str'],
      ['when', 'datetime64[ns]'],
      ['score', 'float64'],
    ]);
    expect(rowsOf(batch.columns[0]!)).toEqual(['a', 'b', 'a', 'c']);
    expect(rowsOf(batch.columns[1]!)).toEqual([0n, 86_400_000_000_000n, -86_400_000_000_000n, 129_600_000_000_000n]);

    const cols = {
      d32: arrow.vectorFromArray([new Date(3 * day), null], new arrow.DateDay()),
      d64: arrow.vectorFromArray([new Date(2 * day), new Date(-day)], new arrow.DateMillisecond()),
      tsS: arrow.makeVector({ type: new arrow.TimestampSecond(), data: new BigInt64Array([1n, -2n]) } as never),
      tsUs: arrow.makeVector({ type: new arrow.TimestampMicrosecond('UTC'), data: new BigInt64Array([1_500_000n, 7n]) } as never),
      tsNs: arrow.makeVector({ type: new arrow.TimestampNanosecond(), data: new BigInt64Array([5n, 6n]) } as never),
      dict: arrow.vectorFromArray(['x', null], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8())),
    };
    const more = asColumns(batchFromArrow(new arrow.Table(cols)));
    expect(more.columns.map((c) => c.dtype)).toEqual(['datetime64[ns]', 'datetime64[ns]', 'datetime64[ns]', 'datetime64[ns]', 'datetime64[ns]', 'str']);
    expect(more.columns.map(rowsOf)).toEqual([
      [3n * 86_400_000_000_000n, null],
      [2n * 86_400_000_000_000n, -86_400_000_000_000n],
      [1_000_000_000n, -2_000_000_000n],
      [1_500_000_000n, 7_000n],
      [5n, 6n],
      ['x', null],
    ]);
  });

  it('rejects timestamps outside the datetime64[ns] range instead of wrapping', () => {
    const far = arrow.makeVector({ type: new arrow.TimestampSecond(), data: new BigInt64Array([0n, 10n ** 11n]) } as never);
    expect(() => batchFromArrow(new arrow.Table({ far }))).toThrow(/column "far", row 1: .* out of the datetime64\[ns\] range/);
  });

  it('decodes LargeUtf8, LargeBinary, FixedSizeBinary, Utf8View, Decimal and Null', () => {
    const n = 3;
    const large = arrow.makeData({
      type: new arrow.LargeUtf8(),
      length: n,
      valueOffsets: new BigInt64Array([0n, 3n, 3n, 5n]),
      data: new TextEncoder().encode('hébc'),
    });
    const largeBin = arrow.makeData({
      type: new arrow.LargeBinary(),
      length: n,
      valueOffsets: new BigInt64Array([0n, 1n, 3n, 3n]),
      data: new Uint8Array([7, 8, 9]),
    });
    const fixed = arrow.makeData({ type: new arrow.FixedSizeBinary(2), length: n, data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    const view = arrow.vectorFromArray(['short', 'a string longer than twelve bytes', ''], new arrow.Utf8View()).data[0]!;
    // Decimal(scale 2): 123.45, -0.07, 1e10 (two's complement little-endian 32-bit words)
    const dec = arrow.makeData({
      type: new arrow.Decimal(2, 20, 128),
      length: n,
      data: new Uint32Array([12345, 0, 0, 0, 0xfffffff9, 0xffffffff, 0xffffffff, 0xffffffff, 0xd4a51000, 0xe8, 0, 0]),
    });
    const nul = arrow.makeData({ type: new arrow.Null(), length: n });
    const vectors = { large, largeBin, fixed, view, dec, nul };
    const table = new arrow.Table(Object.fromEntries(Object.entries(vectors).map(([k, d]) => [k, new arrow.Vector([d as arrow.Data])])));
    const batch = asColumns(batchFromArrow(table));
    expect(batch.columns.map((c) => c.dtype)).toEqual(['str', 'bytes', 'bytes', 'str', 'float64', 'object']);
    expect(batch.columns.map(rowsOf)).toEqual([
      ['hé', '', 'bc'],
      [new Uint8Array([7]), new Uint8Array([8, 9]), new Uint8Array(0)],
      [new Uint8Array([1, 2]), new Uint8Array([3, 4]), new Uint8Array([5, 6])],
      ['short', 'a string longer than twelve bytes', ''],
      [123.45, -0.07, 1e10],
      [null, null, null],
    ]);
  });

  it('decodes List, FixedSizeList, Struct and Map columns into JS values', () => {
    const list = arrow.vectorFromArray([[1, 2], [], null, [3.5]], new arrow.List(new arrow.Field('item', new arrow.Float32(), true)));
    const fsl = arrow.vectorFromArray(
      [
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ],
      new arrow.FixedSizeList(2, new arrow.Field('item', new arrow.Int32())),
    );
    const struct = arrow.vectorFromArray([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
      { a: 3, b: null },
      { a: 4, b: 'z' },
    ]);
    const map = arrow.vectorFromArray(
      [
        new Map([['k', 1]]),
        new Map<string, number>(),
        null,
        new Map([
          ['p', 2],
          ['q', 3],
        ]),
      ],
      new arrow.Map_(
        new arrow.Field(
          'entries',
          new arrow.Struct<{ key: arrow.Utf8; value: arrow.Int32 }>([
            new arrow.Field('key', new arrow.Utf8(), false),
            new arrow.Field('value', new arrow.Int32(), true),
          ]),
        ),
      ),
    );
    const batch = asColumns(batchFromArrow(new arrow.Table({ list, fsl, struct, map })));
    expect(batch.columns.map((c) => c.dtype)).toEqual(['object', 'object', 'object', 'object']);
    expect(batch.columns[0]!.values).toEqual([[1, 2], [], null, [3.5]]);
    expect(Array.from(batch.columns[0]!.validity!)).toEqual([1, 1, 0, 1]);
    expect(batch.columns[1]!.values).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    expect(batch.columns[2]!.values).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
      { a: 3, b: null },
      { a: 4, b: 'z' },
    ]);
    expect(batch.columns[3]!.values).toEqual([{ k: 1 }, {}, null, { p: 2, q: 3 }]);
  });

  it('concatenates multi-chunk tables (numbers, nulls, strings, dictionaries, lists)', () => {
    // Same types (one Dictionary instance, so one dictionary id) so that both batches share a schema.
    const dictType = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
    const listType = new arrow.List(new arrow.Field('item', new arrow.Float64(), true));
    const rb1 = new arrow.Table({
      x: arrow.makeVector(new Int32Array([1, 2])),
      s: arrow.vectorFromArray(['a', null], new arrow.Utf8()),
      d: arrow.vectorFromArray(['p', 'q'], dictType),
      l: arrow.vectorFromArray([[1], [2, 3]], listType),
    }).batches[0]!;
    const rb2 = new arrow.Table({
      x: arrow.makeVector(new Int32Array([3, 4, 5])),
      s: arrow.vectorFromArray(['ü', '', 'c'], new arrow.Utf8()),
      d: arrow.vectorFromArray(['q', 'r', 'p'], dictType),
      l: arrow.vectorFromArray([[], null, [4]], listType),
    }).batches[0]!;
    const table = new arrow.Table([rb1, rb2]);
    expect(table.batches.length).toBe(2);
    const batch = asColumns(batchFromArrow(table));
    expect(batch.numRows).toBe(5);
    expect(batch.columns.map(rowsOf)).toEqual([
      [1, 2, 3, 4, 5],
      ['a', null, 'ü', '', 'c'],
      ['p', 'q', 'q', 'r', 'p'],
      [[1], [2, 3], [], null, [4]],
    ]);
    expect(batch.columns[0]!.values).toBeInstanceOf(Int32Array);
    // The same through an IPC stream, where the second dictionary is a replacement dictionary batch
    // (which apache-arrow refuses to write in the file format).
    expect(asColumns(batchFromIPC(arrow.tableToIPC(table, 'stream'))).columns.map(rowsOf)).toEqual(batch.columns.map(rowsOf));

    // Each record batch alone.
    expect(rowsOf(asColumns(recordBatchToBatch(rb2)).columns[1]!)).toEqual(['ü', '', 'c']);
    expect(rowsOf(asColumns(batchFromArrow(rb1)).columns[2]!)).toEqual(['p', 'q']);
  });

  it('reads sliced Arrow data correctly', () => {
    const table = new arrow.Table({
      b: arrow.vectorFromArray([true, false, null, true, false, true, true, false, true, false], new arrow.Bool()),
      s: arrow.vectorFromArray(['a', 'bb', 'ccc', null, 'e', 'f', 'g', 'h', 'i', 'j'], new arrow.Utf8()),
      f: arrow.vectorFromArray([0, 1, 2, 3, 4, 5, 6, 7, 8, null], new arrow.Float64()),
    });
    const batch = asColumns(batchFromArrow(table.slice(2, 9)));
    expect(batch.numRows).toBe(7);
    expect(batch.columns.map(rowsOf)).toEqual([
      [null, true, false, true, true, false, true],
      ['ccc', null, 'e', 'f', 'g', 'h', 'i'],
      [2, 3, 4, 5, 6, 7, 8],
    ]);
  });
});

// ---------- IPC ----------

describe('IPC', () => {
  const sample = (): Batch =>
    columnBatch([
      columnFromValues('id', [1n, 2n, 3n], 'int64'),
      columnFromValues('name', ['ä', null, 'c'], 'str'),
      columnFromValues('meta', [{ a: [1] }, 'x', null], 'object'),
    ]);

  it('writes the stream and file formats', () => {
    const stream = batchToIPC(sample());
    const file = batchToIPC(sample(), 'file');
    expect(new TextDecoder().decode(file.subarray(0, 6))).toBe('ARROW1');
    expect(new TextDecoder().decode(file.subarray(file.length - 6))).toBe('ARROW1');
    expect(Array.from(stream.subarray(0, 4))).toEqual([255, 255, 255, 255]);
    expectSameColumns(batchFromIPC(stream), sample() as ColumnBatch);
    expectSameColumns(batchFromIPC(file), sample() as ColumnBatch);
    expect(arrowTableFromIPC(stream).numRows).toBe(3);
  });

  it('reads IPC written by apache-arrow directly (multi-batch stream)', () => {
    const rb1 = arrow.tableFromArrays({ v: new Float64Array([1, 2]) }).batches[0]!;
    const rb2 = arrow.tableFromArrays({ v: new Float64Array([3]) }).batches[0]!;
    const bytes = arrow.tableToIPC(new arrow.Table([rb1, rb2]));
    expect(rowsOf(asColumns(batchFromIPC(bytes)).columns[0]!)).toEqual([1, 2, 3]);
  });

  const expectFormatError = (bytes: Uint8Array, pattern?: RegExp): void => {
    let caught: unknown;
    try {
      batchFromIPC(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ModelFormatError);
    if (pattern) expect((caught as Error).message).toMatch(pattern);
  };

  it('throws ModelFormatError for empty and garbage input', () => {
    expectFormatError(new Uint8Array(0), /empty/);
    expectFormatError(new Uint8Array([1, 2, 3, 4, 5]));
    expectFormatError(new Uint8Array(200).fill(0xff));
    expectFormatError(new Uint8Array(200));
    expectFormatError(new TextEncoder().encode('{"not": "arrow"}'), /not Arrow IPC/);
    expectFormatError(new TextEncoder().encode('ARROW1 but not really a file at all, just text'), /truncated|footer|malformed/);
    let seed = 12345;
    for (let k = 0; k < 50; k++) {
      const junk = Uint8Array.from({ length: 64 + k * 13 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      expectFormatError(junk);
    }
    // A valid stream header followed by garbage.
    const stream = batchToIPC(sample());
    const damaged = stream.slice();
    damaged.fill(0xab, 16, 200);
    expectFormatError(damaged);
  });

  it('never fails with anything but ModelFormatError when any single byte is corrupted', () => {
    // Includes corrupted flatbuffer vector lengths, which make apache-arrow allocate without bound.
    const batch = columnBatch([
      ...(sample() as ColumnBatch).columns,
      columnFromValues('l', [[1], [2, 3], null], 'object'),
      columnFromValues('b', [true, null, false], 'bool'),
    ]);
    for (const format of ['stream', 'file'] as const) {
      const bytes = batchToIPC(batch, format);
      for (let pos = 0; pos < bytes.length; pos++) {
        for (const value of [0x00, 0x0a, 0x7f, 0xff]) {
          if (bytes[pos] === value) continue;
          const damaged = bytes.slice();
          damaged[pos] = value;
          try {
            const b = batchFromIPC(damaged);
            // Damage that survives validation (e.g. in a value) still yields a consistent batch.
            expect(asColumns(b).columns.every((c) => c.values.length === (b as ColumnBatch).numRows)).toBe(true);
          } catch (err) {
            if (!(err instanceof ModelFormatError)) throw new Error(`${format} byte ${pos} = ${value}: ${String(err)}`, { cause: err });
          }
        }
      }
    }
  });

  it('throws ModelFormatError for truncated streams and files', () => {
    for (const format of ['stream', 'file'] as const) {
      const bytes = batchToIPC(sample(), format);
      expectFormatError(bytes.subarray(0, 8), /truncated/);
      expectFormatError(bytes.subarray(0, 100), /truncated/);
      expectFormatError(bytes.subarray(0, bytes.length - 20), /truncated|malformed/);
      // Every prefix either fails with ModelFormatError or — only for a stream cut exactly between
      // messages, which the format cannot detect — decodes to a valid prefix of the data.
      let failures = 0;
      for (let len = 1; len < bytes.length; len++) {
        try {
          const b = asColumns(batchFromIPC(bytes.subarray(0, len)));
          expect(format).toBe('stream');
          expect([0, 3]).toContain(b.numRows);
        } catch (err) {
          expect(err).toBeInstanceOf(ModelFormatError);
          failures++;
        }
      }
      expect(failures).toBeGreaterThanOrEqual(bytes.length - 4);
    }
  });
});
