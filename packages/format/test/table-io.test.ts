/**
 * Chunked table I/O on real files: every writer's output read back by the chunked readers
 * (every column kind, nulls, lists, tensors), chunk bounds, empty tables, the writers' temporary
 * file contract, limits, cancellation, and clear errors for corrupt, truncated and unknown input.
 */
import * as arrow from 'apache-arrow';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { Compression, ParquetFile, Table as WasmTable, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchToIPC } from '../src/batch/arrow.js';
import { Utf8Array } from '../src/batch/string-array.js';
import type { Batch, ColumnBatch, TensorBatch } from '../src/batch/types.js';
import type { ColSpec, Schema } from '../src/signature/types.js';
import { parseCsvRequest } from '../src/scoring/csv-request.js';
import { parseScoringRequest } from '../src/scoring/parse.js';
import { batchTransferList, openTableReader, openTableWriter, TableReadError, TableWriteError, type TableFormat } from '../src/table/index.js';
import { expectChunkLayout, expectSameColumns, mixedBatch, readChunks, rowsOf, tempDir, tensorBatch } from './table-fixtures.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('table-io');
});
afterAll(async () => {
  await tmp.cleanup();
});

const cs = (name: string, type: ColSpec['type'], required = false): ColSpec => ({ kind: 'column', name, type, required });

async function writeTable(name: string, batches: readonly Batch[], opts: Parameters<typeof openTableWriter>[1] = {}): Promise<string> {
  const path = tmp.path(name);
  const w = await openTableWriter(path, opts);
  for (const b of batches) await w.write(b);
  await w.close();
  expect(w.rowsWritten).toBe(batches.reduce((s, b) => s + (b.kind === 'columns' ? b.numRows : b.tensors[0]!.shape[0]!), 0));
  return path;
}

async function readError(source: string | Uint8Array, opts: Parameters<typeof openTableReader>[1] = {}): Promise<TableReadError> {
  try {
    const reader = await openTableReader(source, opts);
    for await (const chunk of reader) void chunk;
  } catch (e) {
    expect(e).toBeInstanceOf(TableReadError);
    return e as TableReadError;
  }
  throw new Error('expected the read to fail');
}

describe('round trips: every writer, read back in chunks', () => {
  const parts = [mixedBatch(700), mixedBatch(900, 700), mixedBatch(401, 1600)];
  const all = mixedBatch(2001);

  for (const [name, format] of [
    ['mixed.parquet', 'parquet'],
    ['mixed.arrow', 'arrow'],
    ['mixed.arrows', 'arrow-stream'],
  ] as const) {
    it(`${format}: every column kind, nulls and lists come back exactly, in chunks of at most batchRows`, async () => {
      const path = await writeTable(name, parts);
      for (const batchRows of [7, 128, 5000]) {
        const { chunks, batch, numRows, columns } = await readChunks(path, { batchRows });
        expect(numRows).toBe(format === 'arrow-stream' ? undefined : 2001);
        expect(columns).toEqual(all.columns.map((c) => c.name));
        expectChunkLayout(chunks, 2001, batchRows);
        expectSameColumns(batch, all);
      }
    });
  }

  it('parquet, arrow and arrow-stream: a tensor batch comes back as tensors, re-chunked along its first dimension', async () => {
    for (const ext of ['parquet', 'arrow', 'arrows']) {
      const path = await writeTable(`tensor.${ext}`, [tensorBatch(10), tensorBatch(25, 10)]);
      const { chunks, batch } = await readChunks(path, { batchRows: 8 });
      expectChunkLayout(chunks, 35, 8);
      expect(chunks.every((c) => c.batch.kind === 'tensors' && c.batch.tensors[0]!.shape[0] === c.numRows)).toBe(true);
      const t = (batch as TensorBatch).tensors[0]!;
      expect({ name: t.name, dtype: t.dtype, shape: t.shape }).toEqual({ name: null, dtype: 'float32', shape: [35, 3] });
      expect(Array.from(t.values as Float32Array)).toEqual(Array.from({ length: 105 }, (_, k) => k + 0.25));
    }
  });

  it('named tensors of several ranks survive Parquet', async () => {
    const n = 6;
    const b: TensorBatch = {
      kind: 'tensors',
      tensors: [
        { name: 'a', dtype: 'float64', shape: [n], values: Float64Array.from({ length: n }, (_, i) => i / 3) },
        { name: 'img', dtype: 'uint8', shape: [n, 2, 2], values: Uint8Array.from({ length: 4 * n }, (_, k) => k) },
      ],
    };
    const { batch } = await readChunks(await writeTable('named.parquet', [b]), { batchRows: 4 });
    const got = (batch as TensorBatch).tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, values: Array.from(t.values as Float64Array) }));
    expect(got).toEqual(b.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, values: Array.from(t.values as Float64Array) })));
  });

  it('csv: with the model schema every typed column comes back (strings with quotes, commas and newlines; missing values)', async () => {
    const path = await writeTable('mixed.csv', parts);
    const schema: Schema = {
      kind: 'columns',
      specs: [
        cs('id', 'long'),
        cs('x', 'double'),
        cs('f', 'float'),
        cs('i', 'integer'),
        cs('ok', 'boolean'),
        cs('s', 'string'),
        cs('b', 'binary'),
        cs('t', 'datetime'),
      ],
    };
    const { chunks, batch } = await readChunks(path, { batchRows: 300, schema });
    expectChunkLayout(chunks, 2001, 300);
    expectSameColumns(batch, all, ['id', 'x', 'f', 'i', 'ok', 's', 'b', 't']);
    // The list column is JSON text in CSV.
    const l = (batch as ColumnBatch).columns.find((c) => c.name === 'l')!;
    expect(l.dtype).toBe('str');
    expect([(l.values as Utf8Array).get(0), (l.values as Utf8Array).get(1)]).toEqual(['[]', '[1, 1.5]']);
  });

  it('csv: the text is what pandas to_csv writes', async () => {
    const b: ColumnBatch = {
      kind: 'columns',
      numRows: 3,
      columns: [
        { name: 'a,b', dtype: 'float64', values: Float64Array.from([1, 0.1, NaN]) },
        { name: 'f32', dtype: 'float32', values: Float32Array.from([0.1, Infinity, -2.5]) },
        { name: 'flag', dtype: 'bool', values: Uint8Array.from([1, 0, 1]), validity: Uint8Array.from([1, 1, 0]) },
        { name: 'n', dtype: 'int64', values: BigInt64Array.from([-(2n ** 63n), 0n, 9007199254740993n]) },
        { name: 's', dtype: 'str', values: Utf8Array.fromStrings(['say "hi"', 'x\ny', null]), validity: Uint8Array.from([1, 1, 0]) },
        { name: 't', dtype: 'datetime64[ns]', values: BigInt64Array.from([0n, 1_500_000n, 86_400_000_000_000n]) },
      ],
    };
    const text = await readFile(await writeTable('pandas.csv', [b]), 'utf8');
    expect(text).toBe(
      '"a,b",f32,flag,n,s,t\n' +
        '1.0,0.1,True,-9223372036854775808,"say ""hi""",1970-01-01 00:00:00\n' +
        '0.1,inf,False,0,"x\ny",1970-01-01 00:00:00.001500\n' +
        ',-2.5,,9007199254740993,,1970-01-02 00:00:00\n',
    );
    // And the CSV reader (pandas' read_csv rules) reads it back as the request parser does.
    const { batch } = await readChunks(tmp.path('pandas.csv'), { batchRows: 2 });
    expect(rowsOf(batch as ColumnBatch)).toEqual(rowsOf(parseCsvRequest(new TextEncoder().encode(text), null).batch as ColumnBatch));
  });

  it('jsonl: one object per row, formatted like the scoring response; tensors laid out like pd.DataFrame(ndarray)', async () => {
    const b: ColumnBatch = {
      kind: 'columns',
      numRows: 2,
      columns: [
        { name: 'x', dtype: 'float64', values: Float64Array.from([1, 0.5]), validity: Uint8Array.from([1, 0]) },
        { name: 'n', dtype: 'int64', values: BigInt64Array.from([3n, 2n ** 60n]) },
        { name: 's', dtype: 'str', values: Utf8Array.fromStrings(['é', 'q"']) },
        { name: 'l', dtype: 'object', values: [[1, 2], { k: null }] },
      ],
    };
    const text = await readFile(await writeTable('rows.jsonl', [b, b]), 'utf8');
    const line1 = '{"x": 1.0, "n": 3, "s": "\\u00e9", "l": [1, 2]}';
    const line2 = '{"x": NaN, "n": 1152921504606846976, "s": "q\\"", "l": {"k": null}}';
    expect(text).toBe(`${line1}\n${line2}\n${line1}\n${line2}\n`);
    const t = await readFile(await writeTable('tensor.jsonl', [tensorBatch(2)]), 'utf8');
    expect(t).toBe('{"0": 0.25, "1": 1.25, "2": 2.25}\n{"0": 3.25, "1": 4.25, "2": 5.25}\n');
  });

  it('parquet compression: zstd, snappy and none are written as asked and read back', async () => {
    const expected = { zstd: Compression.ZSTD, snappy: Compression.SNAPPY, none: Compression.UNCOMPRESSED } as const;
    for (const compression of ['zstd', 'snappy', 'none'] as const) {
      const path = await writeTable(`c-${compression}.parquet`, [mixedBatch(500)], { compression, rowGroupRows: 128 });
      const pf = await ParquetFile.fromFile(new Blob([await readFile(path)]));
      const md = pf.metadata();
      expect(md.numRowGroups()).toBe(4);
      expect(md.rowGroup(0).column(0).compression()).toBe(expected[compression]);
      pf.free();
      expectSameColumns((await readChunks(path, { batchRows: 100 })).batch, mixedBatch(500));
    }
  });

  it('chunks from files own their buffers (each can be transferred without detaching another)', async () => {
    for (const name of ['mixed.parquet', 'mixed.arrow', 'mixed.arrows', 'mixed.csv']) {
      const { chunks } = await readChunks(tmp.path(name), { batchRows: 300 });
      const seen = new Set<ArrayBuffer>();
      for (const c of chunks) {
        for (const buf of batchTransferList(c.batch)) {
          expect(seen.has(buf), `${name}: a buffer shared between chunks`).toBe(false);
          seen.add(buf);
        }
      }
      expect(seen.size).toBeGreaterThan(chunks.length);
    }
  });

  it('wide rows give chunks of fewer rows than batchRows (maxChunkBytes)', async () => {
    const n = 200;
    const big: ColumnBatch = {
      kind: 'columns',
      numRows: n,
      columns: [{ name: 'blob', dtype: 'str', values: Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => `${i}`.padEnd(10_000, 'x'))) }],
    };
    for (const ext of ['parquet', 'arrow', 'arrows', 'csv']) {
      const path = await writeTable(`wide.${ext}`, [big]);
      const { chunks, batch } = await readChunks(path, { batchRows: 1000, maxChunkBytes: 100_000 });
      expectChunkLayout(chunks, n, 1000);
      expect(Math.max(...chunks.map((c) => c.numRows)), ext).toBeLessThanOrEqual(11);
      expect(((batch as ColumnBatch).columns[0]!.values as Utf8Array).get(199)).toBe('199'.padEnd(10_000, 'x'));
    }
  });

  it('in-memory sources read like files', async () => {
    for (const name of ['mixed.parquet', 'mixed.arrow', 'mixed.arrows']) {
      const { chunks, batch } = await readChunks(new Uint8Array(await readFile(tmp.path(name))), { batchRows: 500 });
      expectChunkLayout(chunks, 2001, 500);
      expectSameColumns(batch, all);
    }
    const csv = await readFile(tmp.path('mixed.csv'));
    await expect(openTableReader(new Uint8Array(csv))).rejects.toThrow(/cannot tell the table format .*pass format/);
    const { batch } = await readChunks(new Uint8Array(csv), { format: 'csv', batchRows: 500 });
    expect((batch as ColumnBatch).numRows).toBe(2001);
  });
});

describe('empty tables', () => {
  it('a table without rows reads as one 0-row chunk with its columns and dtypes', async () => {
    for (const ext of ['parquet', 'arrow', 'arrows']) {
      const path = await writeTable(`empty.${ext}`, [mixedBatch(0)]);
      const { chunks, numRows, columns } = await readChunks(path);
      expect(chunks.map((c) => [c.rowOffset, c.numRows])).toEqual([[0, 0]]);
      expect(numRows).toBe(ext === 'arrows' ? undefined : 0);
      expect(columns).toEqual(mixedBatch(0).columns.map((c) => c.name));
      expect((chunks[0]!.batch as ColumnBatch).columns.map((c) => c.dtype)).toEqual(mixedBatch(0).columns.map((c) => c.dtype));
    }
    await writeFile(tmp.path('header.csv'), 'a,b\n');
    const csv = await readChunks(tmp.path('header.csv'), { schema: { kind: 'columns', specs: [cs('a', 'double')] } });
    expect(csv.columns).toEqual(['a', 'b']);
    expect((csv.batch as ColumnBatch).columns.map((c) => [c.name, c.dtype, c.values.length])).toEqual([
      ['a', 'float64', 0],
      ['b', 'object', 0],
    ]);
  });

  it('empty files are refused, naming the file and the problem', async () => {
    for (const [name, message] of [
      ['zero.parquet', 'not a Parquet file: it must start and end with the 4 bytes "PAR1" and hold a footer'],
      ['zero.arrow', 'Arrow IPC data is empty'],
      ['zero.arrows', 'Arrow IPC data is empty'],
      ['zero.csv', 'No columns to parse from file'],
    ]) {
      await writeFile(tmp.path(name!), '');
      const e = await readError(tmp.path(name!));
      expect(e.message).toBe(`${tmp.path(name!)}: ${message}`);
      expect(e.problem).toBe('invalid');
    }
  });

  it('writing no batch is an error for Parquet and Arrow (no columns to write), and leaves no file', async () => {
    for (const ext of ['parquet', 'arrow', 'arrows']) {
      const w = await openTableWriter(tmp.path(`none.${ext}`));
      await expect(w.close()).rejects.toThrow(/no batch was written/);
      expect((await readdir(tmp.dir)).filter((f) => f === `none.${ext}` || f.startsWith(`.none.${ext}.`))).toEqual([]);
    }
    const w = await openTableWriter(tmp.path('none.csv'));
    await w.close();
    expect((await stat(tmp.path('none.csv'))).size).toBe(0);
  });
});

describe('corrupt, truncated and unknown input', () => {
  it('truncated Parquet files are refused before decoding; a damaged footer gives parquet-wasm’s reason', async () => {
    const good = await readFile(await writeTable('good.parquet', [mixedBatch(300)]));
    for (const cut of [3, 100, good.length - 1, good.length - 9]) {
      await writeFile(tmp.path('cut.parquet'), good.subarray(0, cut));
      const e = await readError(tmp.path('cut.parquet'));
      expect(e.message).toBe(`${tmp.path('cut.parquet')}: not a Parquet file: it must start and end with the 4 bytes "PAR1" and hold a footer`);
    }
    const footer = Buffer.from(good);
    footer.writeInt32LE(good.length * 2, good.length - 8); // footer length past the start of the file
    await writeFile(tmp.path('footer.parquet'), footer);
    const e = await readError(tmp.path('footer.parquet'));
    expect(e.problem).toBe('invalid');
    expect(e.message.startsWith(`${tmp.path('footer.parquet')}: `)).toBe(true);
    expect(e.detail.length).toBeGreaterThan(10);
  });

  it('corrupt Parquet pages: bytes give the decoder’s error, a file ends the decoder worker — never the process', async () => {
    const good = await readFile(tmp.path('good.parquet'));
    const bad = Buffer.from(good);
    for (let k = 200; k < 4000; k += 97) bad[k] = bad[k]! ^ 0x5a;
    await writeFile(tmp.path('pages.parquet'), bad);
    const fromBytes = await readError(new Uint8Array(bad));
    expect(fromBytes.problem).toBe('invalid');
    expect(fromBytes.message).toMatch(/^Parquet data: .+/);
    // parquet-wasm's file reader aborts its wasm instance on a bad page instead of reporting it.
    const fromFile = await readError(tmp.path('pages.parquet'));
    expect(fromFile.problem).toBe('decoder');
    expect(fromFile.detail).toMatch(/^the Parquet decoder failed \(RuntimeError: .+\) while decoding the rows from 0 on: the file is corrupt/);
    // The next read works.
    expect((await readChunks(tmp.path('good.parquet'))).batch.kind).toBe('columns');
  });

  it('truncated and corrupted Arrow files and streams always fail with a TableReadError', async () => {
    const batch = mixedBatch(50);
    for (const format of ['file', 'stream'] as const) {
      const bytes = batchToIPC(batch, format);
      const name = tmp.path(`fuzz.${format === 'file' ? 'arrow' : 'arrows'}`);
      for (let cut = 1; cut < bytes.length; cut += 53) {
        await writeFile(name, bytes.subarray(0, cut));
        const e = await readError(name);
        expect(e.message.startsWith(`${name}: `)).toBe(true);
        expect(e.detail).toMatch(/truncated|not Arrow IPC data|malformed|short|outside/);
      }
      let seed = 7;
      const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let k = 0; k < 60; k++) {
        const b = Buffer.from(bytes);
        for (let f = 0; f < 3; f++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        await writeFile(name, b);
        try {
          const reader = await openTableReader(name);
          for await (const chunk of reader) void chunk;
        } catch (e) {
          expect(e, `flip ${k} of ${format}`).toBeInstanceOf(TableReadError);
        }
      }
    }
  });

  it('the stream and file format messages say what is wrong', async () => {
    const stream = batchToIPC(mixedBatch(20), 'stream');
    await writeFile(tmp.path('half.arrows'), stream.subarray(0, Math.floor(stream.length / 2)));
    expect((await readError(tmp.path('half.arrows'))).detail).toMatch(/^Arrow IPC stream is truncated: /);
    await writeFile(tmp.path('text.arrows'), 'a,b\n1,2\n');
    expect((await readError(tmp.path('text.arrows'))).detail).toMatch(/not Arrow IPC data/);
    const file = batchToIPC(mixedBatch(20), 'file');
    await writeFile(tmp.path('notail.arrow'), file.subarray(0, file.length - 3));
    expect((await readError(tmp.path('notail.arrow'))).detail).toBe('Arrow IPC file is truncated (no trailing ARROW1 magic)');
  });

  it('files that do not exist, directories, unknown formats and JSON lines are refused clearly', async () => {
    const missing = await readError(tmp.path('missing.parquet'));
    expect(missing).toMatchObject({ problem: 'io', errorCode: 'RESOURCE_DOES_NOT_EXIST' });
    expect(missing.message).toBe(`${tmp.path('missing.parquet')}: no such file or directory`);
    expect((await readError(tmp.dir, { format: 'csv' })).message).toBe(`${tmp.dir}: expected a file but found a directory`);
    await writeFile(tmp.path('data.txt'), 'a\n1\n');
    expect((await readError(tmp.path('data.txt'))).detail).toMatch(/cannot tell the table format .*pass format \(parquet, arrow, arrow-stream or csv\)/);
    expect((await readChunks(tmp.path('data.txt'), { format: 'csv' })).batch.kind).toBe('columns');
    await writeFile(tmp.path('rows.ndjson'), '{}\n');
    expect((await readError(tmp.path('rows.ndjson'))).detail).toMatch(/JSON lines files can be written but not read/);
    // The magic bytes win over the extension.
    await writeFile(tmp.path('really-parquet.csv'), await readFile(tmp.path('good.parquet')));
    expect((await readChunks(tmp.path('really-parquet.csv'))).batch.kind).toBe('columns');
  });
});

describe('limits and cancellation', () => {
  it('maxRows and maxDecodedBytes are too-large errors (Parquet: from the footer, before decoding)', async () => {
    const parquet = await readError(tmp.path('mixed.parquet'), { maxRows: 2000 });
    expect(parquet).toMatchObject({ problem: 'too-large', numRows: 2001, limit: 2000 });
    expect(parquet.detail).toBe('the Parquet file declares 2001 rows, more than the limit of 2000');
    for (const name of ['mixed.csv', 'mixed.arrows']) {
      expect(await readError(tmp.path(name), { maxRows: 1000, batchRows: 100 })).toMatchObject({ problem: 'too-large', what: 'rows', limit: 1000 });
      expect(await readError(tmp.path(name), { maxDecodedBytes: 10_000, batchRows: 100 })).toMatchObject({ problem: 'too-large', limit: 10_000 });
    }
    expect(await readError(tmp.path('mixed.parquet'), { maxDecodedBytes: 10_000, batchRows: 100 })).toMatchObject({ problem: 'too-large', limit: 10_000 });
  });

  it('an AbortSignal stops a read between chunks and while the decoder works', async () => {
    for (const name of ['mixed.parquet', 'mixed.arrow', 'mixed.csv']) {
      const ac = new AbortController();
      const reader = await openTableReader(tmp.path(name), { batchRows: 100, signal: ac.signal });
      let seen = 0;
      const e = await (async () => {
        for await (const chunk of reader) {
          seen += chunk.numRows;
          if (seen >= 300) ac.abort();
        }
      })().catch((x: unknown) => x);
      expect(e, name).toBeInstanceOf(TableReadError);
      expect((e as TableReadError).problem).toBe('aborted');
      expect(seen).toBeLessThan(2001);
    }
    const done = new AbortController();
    done.abort();
    expect(await openTableReader(tmp.path('mixed.parquet'), { signal: done.signal }).catch((x: unknown) => x)).toMatchObject({ problem: 'aborted' });
  });

  it('a model schema refuses timezone-aware timestamps for datetime columns, like MLflow', async () => {
    const field = new arrow.Field('t', new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, 'UTC'));
    const data = arrow.makeData({ type: field.type, length: 1, data: BigInt64Array.from([0n]) } as never);
    const schema = new arrow.Schema([field]);
    const table = new arrow.Table(
      schema,
      new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: 1, children: [data] })),
    );
    await writeFile(tmp.path('tz.parquet'), writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream'))));
    const e = await readError(tmp.path('tz.parquet'), { schema: { kind: 'columns', specs: [cs('t', 'datetime')] } });
    expect(e.problem).toBe('schema');
    expect(e.detail).toMatch(/^Column 't' holds timezone-aware timestamps \(timezone UTC\)/);
    expect((await readChunks(tmp.path('tz.parquet'))).batch).toMatchObject({ kind: 'columns', numRows: 1 });
  });

  it('a reader can be closed before the end, and iterated only once', async () => {
    const reader = await openTableReader(tmp.path('mixed.parquet'), { batchRows: 10 });
    for await (const chunk of reader) {
      expect(chunk.numRows).toBe(10);
      break;
    }
    await reader.close();
    await expect(async () => {
      for await (const chunk of reader) void chunk;
    }).rejects.toThrow(/iterated only once/);
  });
});

describe('writers: temporary file, atomic rename, abort', () => {
  it('the destination appears only on close; until then a temporary sibling holds the data', async () => {
    for (const format of ['parquet', 'arrow', 'arrow-stream', 'csv', 'jsonl'] as TableFormat[]) {
      const path = tmp.path(`atomic-${format}.out`);
      const w = await openTableWriter(path, { format });
      await w.write(mixedBatch(100));
      const during = await readdir(tmp.dir);
      expect(during).not.toContain(`atomic-${format}.out`);
      expect(during.filter((f) => f.startsWith(`.atomic-${format}.out.`) && f.endsWith('.tmp'))).toHaveLength(1);
      await w.close();
      const after = await readdir(tmp.dir);
      expect(after).toContain(`atomic-${format}.out`);
      expect(after.filter((f) => f.startsWith(`.atomic-${format}.out.`))).toEqual([]);
      if (format !== 'jsonl') expect((await readChunks(path, { format })).batch).toMatchObject({ numRows: 100 });
    }
  });

  it('abort removes the temporary file and leaves an existing destination alone', async () => {
    await writeFile(tmp.path('keep.parquet'), 'old');
    const w = await openTableWriter(tmp.path('keep.parquet'));
    await w.write(mixedBatch(10));
    await w.abort();
    await w.abort();
    expect(await readFile(tmp.path('keep.parquet'), 'utf8')).toBe('old');
    expect((await readdir(tmp.dir)).filter((f) => f.startsWith('.keep.parquet.'))).toEqual([]);
    await expect(w.write(mixedBatch(1))).rejects.toThrow(/the writer is aborted/);
  });

  it('a batch that does not match the first one is refused, naming the column; the writer must then be aborted', async () => {
    const w = await openTableWriter(tmp.path('mismatch.parquet'));
    await w.write(mixedBatch(10));
    const other = mixedBatch(10);
    const changed: ColumnBatch = {
      ...other,
      columns: other.columns.map((c) => (c.name === 'i' ? { name: 'i', dtype: 'float64', values: new Float64Array(10) } : c)),
    };
    await expect(w.write(changed)).rejects.toThrow(/batch 2 does not match the first batch: column "i" has Arrow type Float64, in the first batch Int32/);
    await expect(w.close()).rejects.toThrow(TableWriteError);
    await w.abort();
    expect((await readdir(tmp.dir)).filter((f) => f.includes('mismatch.parquet'))).toEqual([]);
    const csv = await openTableWriter(tmp.path('mismatch.csv'));
    await csv.write(mixedBatch(2));
    await expect(csv.write({ kind: 'columns', numRows: 0, columns: [] })).rejects.toThrow(/every batch of a CSV file must have the same columns/);
    await csv.abort();
  });

  it('writes run in call order even when not awaited', async () => {
    const w = await openTableWriter(tmp.path('order.arrows'));
    const pending = [0, 1, 2, 3, 4].map((k) => w.write(mixedBatch(50, 50 * k)));
    await Promise.all(pending);
    await w.close();
    expectSameColumns((await readChunks(tmp.path('order.arrows'))).batch, mixedBatch(250));
  });

  it('bad options and unknown formats are refused', async () => {
    await expect(openTableWriter(tmp.path('x.txt'))).rejects.toThrow(/cannot tell the table format from the file name/);
    await expect(openTableWriter(tmp.path('x.csv'), { compression: 'zstd' })).rejects.toThrow(/only supported for Parquet/);
    await expect(openTableWriter(tmp.path('x.parquet'), { rowGroupRows: 0 })).rejects.toThrow(/rowGroupRows must be a positive whole number/);
    await expect(openTableWriter(tmp.path('no/such/dir/x.parquet'))).rejects.toThrow(/cannot create .*no such file or directory/);
    expect((await readdir(tmp.dir)).filter((f) => f.startsWith('.x.'))).toEqual([]);
  });
});

describe('concurrency', () => {
  it('parallel Parquet requests (one shared decoder, one read at a time) and file readers (a decoder each) all get their own rows', async () => {
    const bodies = [0, 1, 2, 3, 4, 5].map((k) => writeParquet(WasmTable.fromIPCStream(batchToIPC(mixedBatch(300 + k, 1000 * k), 'stream'))));
    const files = await Promise.all([0, 1, 2].map((k) => writeTable(`par-${k}.parquet`, [mixedBatch(500 + k, 5000 * k)])));
    const [requests, reads] = await Promise.all([
      Promise.all(bodies.map((b) => parseScoringRequest(b, 'application/vnd.apache.parquet', null))),
      Promise.all(files.map((f) => readChunks(f, { batchRows: 64 }))),
    ]);
    requests.forEach((r, k) => expectSameColumns(r.batch as Batch, mixedBatch(300 + k, 1000 * k)));
    reads.forEach((r, k) => expectSameColumns(r.batch, mixedBatch(500 + k, 5000 * k)));
  });
});
