/**
 * Side-by-side parts (`TableWriter.write([...parts])`, what the batch scorer writes: input columns
 * next to prediction tensors): named tensors become fixed-size list columns, a part's row
 * validity makes its columns null on those rows, and DuckDB reads every value back.
 */
import { readFile } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Utf8Array } from '../src/batch/string-array.js';
import type { Batch, ColumnBatch, TensorBatch } from '../src/batch/types.js';
import { TableWriteError } from '../src/errors.js';
import { openTableWriter, type TablePart } from '../src/table/index.js';
import { tempDir } from './table-fixtures.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let db: DuckDBInstance;
let duck: DuckDBConnection;
beforeAll(async () => {
  tmp = await tempDir('table-parts');
  db = await DuckDBInstance.create(':memory:');
  duck = await db.connect();
});
afterAll(async () => {
  duck.closeSync();
  db.closeSync();
  await tmp.cleanup();
});

const query = async (sql: string): Promise<Record<string, unknown>[]> => (await duck.runAndReadAll(sql)).getRowObjectsJson();

/** Rows `from..from+n` of the input part: an id, a nullable double (null every 4th row) and a string. */
function inputs(n: number, from: number): ColumnBatch {
  const id = BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i));
  const x = Float64Array.from({ length: n }, (_, i) => (from + i) / 2);
  const valid = Uint8Array.from({ length: n }, (_, i) => ((from + i) % 4 === 0 ? 0 : 1));
  const s = Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => `é${from + i}`));
  return {
    kind: 'columns',
    numRows: n,
    columns: [
      { name: 'id', dtype: 'int64', values: id },
      { name: 'x', dtype: 'float64', values: x, validity: valid },
      { name: 's', dtype: 'str', values: s },
    ],
  };
}

/** Predictions: probabilities [n, 3] and a label [n]. */
function predictions(n: number, from: number): TensorBatch {
  const probs = Float32Array.from({ length: n * 3 }, (_, k) => (from * 3 + k) / 1024);
  const label = BigInt64Array.from({ length: n }, (_, i) => BigInt((from + i) % 3));
  return {
    kind: 'tensors',
    tensors: [
      { name: 'probabilities', dtype: 'float32', shape: [n, 3], values: probs },
      { name: 'label', dtype: 'int64', shape: [n], values: label },
    ],
  };
}

/** Every 5th row's predictions missing. */
const rowValidity = (n: number, from: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => ((from + i) % 5 === 0 ? 0 : 1));

function parts(n: number, from: number): TablePart[] {
  return [{ batch: inputs(n, from) }, { batch: predictions(n, from), rowValidity: rowValidity(n, from) }];
}

function expected(total: number): Record<string, unknown>[] {
  return Array.from({ length: total }, (_, i) => ({
    id: String(i),
    x: i % 4 === 0 ? null : i / 2,
    s: `é${i}`,
    probabilities: i % 5 === 0 ? null : [0, 1, 2].map((k) => (i * 3 + k) / 1024),
    label: i % 5 === 0 ? null : String(i % 3),
  }));
}

describe('side-by-side parts', () => {
  it('Parquet: DuckDB reads the input columns, the fixed-size list predictions and the nulled rows', async () => {
    const path = tmp.path('parts.parquet');
    const w = await openTableWriter(path, { rowGroupRows: 300 });
    await w.write(parts(250, 0));
    await w.write(parts(500, 250));
    await w.close();
    expect(w.rowsWritten).toBe(750);
    const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`);
    expect(types).toEqual([
      { column_name: 'id', column_type: 'BIGINT' },
      { column_name: 'x', column_type: 'DOUBLE' },
      { column_name: 's', column_type: 'VARCHAR' },
      { column_name: 'probabilities', column_type: 'FLOAT[]' },
      { column_name: 'label', column_type: 'BIGINT' },
    ]);
    const rows = await query(`SELECT * FROM read_parquet('${path}') ORDER BY id`);
    expect(rows).toEqual(expected(750));
  });

  it('Arrow IPC: the predictions are FixedSizeList<float32>[3] with the row nulls, and no tensor markers', async () => {
    const path = tmp.path('parts.arrow');
    const w = await openTableWriter(path);
    await w.write(parts(10, 0));
    await w.close();
    const table = arrow.tableFromIPC(await readFile(path));
    expect(table.schema.metadata.size).toBe(0);
    const probs = table.schema.fields.find((f) => f.name === 'probabilities')!;
    expect(String(probs.type)).toBe('FixedSizeList[3]<Float32>');
    expect(probs.metadata.size).toBe(0);
    const col = table.getChild('probabilities')!;
    expect(col.get(0)).toBeNull();
    expect(Array.from(col.get(1) as Iterable<number>)).toEqual([3, 4, 5].map((v) => v / 1024));
    expect(table.getChild('x')!.get(4)).toBeNull();
    expect(table.getChild('label')!.get(5)).toBeNull();
  });

  it('CSV and JSON lines: tensors as lists, missing rows as empty fields / null', async () => {
    const csv = tmp.path('parts.csv');
    const w = await openTableWriter(csv);
    await w.write(parts(2, 0));
    await w.close();
    expect(await readFile(csv, 'utf8')).toBe('id,x,s,probabilities,label\n0,,é0,,\n1,0.5,é1,"[0.0029296875, 0.00390625, 0.0048828125]",1\n');
    const jsonl = tmp.path('parts.jsonl');
    const j = await openTableWriter(jsonl);
    await j.write(parts(2, 0));
    await j.close();
    const lines = (await readFile(jsonl, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines[0]!.replace(/NaN/g, 'null'))).toEqual({ id: 0, x: null, s: 'é0', probabilities: null, label: null });
    expect(JSON.parse(lines[1]!)).toEqual({ id: 1, x: 0.5, s: 'é1', probabilities: [0.0029296875, 0.00390625, 0.0048828125], label: 1 });
  });

  it("dictionary 'auto' dictionary-encodes the top-level non-float columns only", async () => {
    const path = tmp.path('auto.parquet');
    const w = await openTableWriter(path, { dictionary: 'auto' });
    await w.write(parts(1000, 0));
    await w.close();
    const encodings = await query(
      `SELECT path_in_schema AS col, bool_or(encodings LIKE '%DICTIONARY%') AS dict FROM parquet_metadata('${path}') GROUP BY ALL ORDER BY ALL`,
    );
    expect(Object.fromEntries(encodings.map((r) => [String(r.col).split(', ')[0], r.dict]))).toEqual({
      id: true,
      x: false,
      s: true,
      probabilities: false,
      label: true,
    });
    expect(await query(`SELECT * FROM read_parquet('${path}') ORDER BY id`)).toEqual(expected(1000));
    await expect(openTableWriter(tmp.path('bad-dict.parquet'), { dictionary: 'yes' as never }).then((x) => x.write(parts(1, 0)))).rejects.toThrow(
      /dictionary must be true, false or 'auto'/,
    );
  });

  it('refuses parts of different lengths, a column name twice, and a row validity of the wrong length', async () => {
    const w = await openTableWriter(tmp.path('bad.parquet'));
    await expect(w.write([{ batch: inputs(3, 0) }, { batch: predictions(2, 0) }])).rejects.toThrow(
      /part 2 has 2 rows, part 1 has 3: side-by-side parts must cover the same rows/,
    );
    await w.abort();
    const w2 = await openTableWriter(tmp.path('bad2.parquet'));
    const dup: Batch = { kind: 'columns', numRows: 3, columns: [{ name: 's', dtype: 'float64', values: new Float64Array(3) }] };
    await expect(w2.write([{ batch: inputs(3, 0) }, { batch: dup }])).rejects.toThrow(TableWriteError);
    await w2.abort();
    const w3 = await openTableWriter(tmp.path('bad3.parquet'));
    await expect(w3.write([{ batch: inputs(3, 0), rowValidity: new Uint8Array(2) }])).rejects.toThrow(/row validity of 2 entries for 3 rows/);
    await w3.abort();
  });
});
