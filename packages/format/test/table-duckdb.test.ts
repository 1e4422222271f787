/**
 * An independent Parquet implementation (DuckDB) checks ours both ways: it reads every value of a
 * file our writer wrote, and our chunked reader reads a file DuckDB wrote (row groups larger than
 * a chunk, timestamps in microseconds, nulls, lists).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnBatch } from '../src/batch/types.js';
import { columnValue } from '../src/batch/values.js';
import { openTableWriter } from '../src/table/index.js';
import { expectChunkLayout, mixedBatch, readChunks, tempDir } from './table-fixtures.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let db: DuckDBInstance;
let duck: DuckDBConnection;
beforeAll(async () => {
  tmp = await tempDir('table-duckdb');
  db = await DuckDBInstance.create(':memory:');
  duck = await db.connect();
});
afterAll(async () => {
  duck.closeSync();
  db.closeSync();
  await tmp.cleanup();
});

const query = async (sql: string): Promise<Record<string, unknown>[]> => (await duck.runAndReadAll(sql)).getRowObjectsJson();

describe('DuckDB cross-check', () => {
  it('DuckDB reads every value of a Parquet file our writer wrote (several row groups, zstd)', async () => {
    const path = tmp.path('ours.parquet');
    const w = await openTableWriter(path, { compression: 'zstd', rowGroupRows: 500 });
    for (const [n, from] of [
      [700, 0],
      [900, 700],
      [400, 1600],
    ]) {
      await w.write(mixedBatch(n!, from));
    }
    await w.close();

    const meta = await query(`SELECT count(DISTINCT row_group_id) AS groups, min(compression) AS codec FROM parquet_metadata('${path}')`);
    expect(meta).toEqual([{ groups: '4', codec: 'ZSTD' }]);
    const rows = await query(`SELECT id, x, f, i, ok, s, hex(b) AS b, epoch_ns(t)::VARCHAR AS t, l FROM read_parquet('${path}') ORDER BY id`);
    const all = mixedBatch(2000);
    const col = (name: string) => all.columns.find((c) => c.name === name)!;
    const expected = Array.from({ length: 2000 }, (_, i) => ({
      id: String(i),
      x: columnValue(col('x'), i),
      f: columnValue(col('f'), i),
      i: columnValue(col('i'), i),
      ok: columnValue(col('ok'), i),
      s: columnValue(col('s'), i),
      b: Buffer.from(columnValue(col('b'), i) as Uint8Array)
        .toString('hex')
        .toUpperCase(),
      t: String(columnValue(col('t'), i)),
      l: columnValue(col('l'), i),
    }));
    expect(rows).toEqual(expected);
  });

  it('our chunked reader reads a Parquet file DuckDB wrote', async () => {
    const path = tmp.path('duck.parquet');
    await duck.run(
      `COPY (SELECT i AS id, i * 0.5 AS x, CASE WHEN i % 3 = 0 THEN NULL ELSE 's' || i END AS s, [i, i + 1] AS l,
              TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i) AS t
            FROM range(100000) r(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 30000)`,
    );
    const { chunks, batch, numRows, columns } = await readChunks(path, { batchRows: 4096 });
    expect(numRows).toBe(100_000);
    expect(columns).toEqual(['id', 'x', 's', 'l', 't']);
    expectChunkLayout(chunks, 100_000, 4096);
    const b = batch as ColumnBatch;
    expect(b.columns.map((c) => c.dtype)).toEqual(['int64', 'float64', 'str', 'object', 'datetime64[ns]']);
    const [id, x, s, l, t] = b.columns;
    let idSum = 0n;
    for (const v of id!.values as BigInt64Array) idSum += v;
    expect(idSum).toBe(4_999_950_000n);
    expect((x!.values as Float64Array)[99_999]).toBe(49_999.5);
    expect(Array.from(s!.validity!).filter((v) => v === 0)).toHaveLength(33_334);
    expect([columnValue(s!, 0), columnValue(s!, 1), columnValue(s!, 99_998)]).toEqual([null, 's1', 's99998']);
    expect([columnValue(l!, 0), columnValue(l!, 99_999)]).toEqual([
      [0n, 1n],
      [99_999n, 100_000n],
    ]);
    const epoch2024 = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
    expect([(t!.values as BigInt64Array)[0], (t!.values as BigInt64Array)[12_345]]).toEqual([epoch2024, epoch2024 + 12_345_000n]);
  });
});
