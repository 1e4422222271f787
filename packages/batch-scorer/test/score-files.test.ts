/**
 * `scoreFiles` end to end with real components: real models (MLflow 3.5 fixtures through
 * onnxruntime-node in worker threads and through the Python bridge; js_function models), inputs
 * written by DuckDB and apache-arrow, outputs read back by DuckDB. (The workers run the built
 * packages: `npm run build` first.)
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTableWriter } from '@mlmodel/format/table';
import { BatchCancelledError, BatchScoringError, ChunkScoringError, scoreFiles, type BatchProgress, type ScoreFilesOptions } from '../src/index.js';
import {
  FIXTURES,
  IRIS,
  MARKED_MODEL,
  MARKED_SIGNATURE,
  PYTHON,
  duckWrite,
  irisSql,
  jsModel,
  openDuck,
  pythonToyModel,
  tempDir,
  type Duck,
} from './support.js';

const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { cases: Record<string, { request: unknown; predictions: unknown }[]> };
const tmp = tempDir('score');
let duck: Duck;
let marked: string;

beforeAll(async () => {
  duck = await openDuck();
  marked = await jsModel(tmp.dir, 'marked', MARKED_MODEL, MARKED_SIGNATURE);
});
afterAll(() => {
  duck.close();
  tmp.cleanup();
});

let n = 0;
const out = (ext = 'parquet'): string => tmp.path(`out-${++n}.${ext}`);
const score = (o: ScoreFilesOptions) => scoreFiles({ workers: 2, ...o }).result;
const rowsOf = (path: string, cols = '*', order = 'file_row_number') =>
  duck.query(`SELECT ${cols} FROM read_parquet('${path}', file_row_number = true) ORDER BY ${order}`);
const typesOf = async (path: string) =>
  Object.fromEntries((await duck.query(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).map((r) => [r.column_name, r.column_type]));

/** Temporary files left in a directory (the writer's are hidden: `.name.xxxx.tmp`). */
const hidden = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.'));

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (e: unknown) => e as Error,
  );
}

/** A table of column x (double) = id, except `negative` rows (x = -id - 1) and `special` rows (x = their value: 0.5 crashes, 0.25 is slow). */
async function markedInput(path: string, rows: number, negative: readonly number[] = [], special: Record<number, number> = {}): Promise<void> {
  const cases = [...negative.map((i) => `WHEN i = ${i} THEN -i - 1.0`), ...Object.entries(special).map(([i, v]) => `WHEN i = ${i} THEN ${v}::DOUBLE`)];
  const x = cases.length > 0 ? `CASE ${cases.join(' ')} ELSE i::DOUBLE END` : 'i::DOUBLE';
  await duckWrite(duck, `SELECT i AS id, ${x} AS x FROM range(${rows}) r(i)`, path);
}

describe('iris_onnx in worker threads', () => {
  const rows = 150_000;
  let input: string;
  beforeAll(async () => {
    input = tmp.path('iris-150k.parquet');
    await duckWrite(duck, irisSql(rows, 0, true), input, 'ROW_GROUP_SIZE 40000');
  });

  it('scores every row in input order, with the predictions onnxruntime gives for the same rows', async () => {
    const output = out();
    const summary = await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [input], output, columns: [...IRIS], batchRows: 20_000 });
    expect(summary).toMatchObject({ rows, rowsWritten: rows, rowsScored: rows, rowsSkipped: 0, rowsNulled: 0, mode: 'threads', workers: 2, flavor: 'onnx' });
    expect(summary.outputBytes).toBeGreaterThan(0);
    expect(await typesOf(output)).toEqual({
      id: 'BIGINT',
      sepal_length: 'FLOAT',
      sepal_width: 'FLOAT',
      petal_length: 'FLOAT',
      petal_width: 'FLOAT',
      probabilities: 'FLOAT[]',
      label: 'BIGINT',
    });
    const got = await rowsOf(output);
    expect(got).toHaveLength(rows);
    expect(got.every((r, i) => r.id === String(i))).toBe(true);

    // onnxruntime directly, on the same float32 values, in one call
    const features = Float32Array.from(got.flatMap((r) => IRIS.map((c) => r[c] as number)));
    const session = await ort.InferenceSession.create(join(FIXTURES, 'iris_onnx', 'model.onnx'));
    const direct = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', features, [rows, 4]) });
    await session.release();
    const label = direct.label!.data as BigInt64Array;
    const probs = direct.probabilities!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < rows; i++) {
      expect(got[i]!.label).toBe(String(label[i]));
      const p = got[i]!.probabilities as number[];
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(p[k]! - probs[i * 3 + k]!));
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(new Set(got.map((r) => r.label))).toEqual(new Set(['0', '1', '2']));
    expect(hidden(tmp.dir)).toEqual([]);
  });

  it('an unnamed tensor signature refuses extra input columns, naming --columns', async () => {
    const output = out();
    const e = await rejection(score({ model: join(FIXTURES, 'iris_onnx'), inputs: [input], output }));
    expect(e).toBeInstanceOf(ChunkScoringError);
    expect(e.message.startsWith(`${input} rows 0–`)).toBe(true);
    expect(e.message).toMatch(
      /the input DataFrame passed had 5 columns and an input shape of \(-1, 4\).* \(choose the input columns the model takes with --columns, or the columns option\)$/,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('returns the golden predictions of MLflow 3.5 (1e-6), and writes Arrow, CSV and JSON lines', async () => {
    const c = GOLDEN.cases.iris_onnx![0]!;
    const data = (c.request as { inputs: number[][] }).inputs;
    const expected = c.predictions as { probabilities: number[][]; label: number[] };
    const golden = tmp.path('iris-golden.parquet');
    await duckWrite(duck, `SELECT * FROM (VALUES ${data.map((r) => `(${r.map((v) => `${v}::FLOAT`).join(', ')})`).join(', ')}) t(${IRIS.join(', ')})`, golden);
    const output = out();
    await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [golden], output, keepColumns: 'none' });
    const got = await rowsOf(output, 'probabilities, label');
    expect(got.map((r) => Number(r.label))).toEqual(expected.label);
    got.forEach((r, i) => (r.probabilities as number[]).forEach((p, k) => expect(Math.abs(p - expected.probabilities[i]![k]!)).toBeLessThanOrEqual(1e-6)));

    const arrowOut = out('arrow');
    await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [golden], output: arrowOut, keepColumns: ['petal_width'] });
    const table = arrow.tableFromIPC(readFileSync(arrowOut));
    expect(table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'petal_width: Float32',
      'probabilities: FixedSizeList[3]<Float32>',
      'label: Int64',
    ]);
    expect(Array.from(table.getChild('label')!.toArray() as BigInt64Array, Number)).toEqual(expected.label);

    const csvOut = out('csv');
    await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [golden], output: csvOut, keepColumns: 'none' });
    const lines = readFileSync(csvOut, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('probabilities,label');
    expect(lines.slice(1).map((l) => Number(l.split(',').at(-1)))).toEqual(expected.label);

    const jsonlOut = out('jsonl');
    await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [golden], output: jsonlOut, keepColumns: 'none' });
    const records = readFileSync(jsonlOut, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: number; probabilities: number[] });
    expect(records.map((r) => r.label)).toEqual(expected.label);
    expect(records[0]!.probabilities).toHaveLength(3);
  });

  it('reads a tensor table (an unnamed [n, 4] float32 tensor) and keeps it as a fixed-size list column', async () => {
    const path = tmp.path('iris-tensor.parquet');
    const w = await openTableWriter(path);
    const values = Float32Array.from({ length: 40 }, (_, k) => [5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5][k % 8]!);
    await w.write({ kind: 'tensors', tensors: [{ name: null, dtype: 'float32', shape: [10, 4], values }] });
    await w.close();
    const output = out();
    await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [path], output });
    expect(await typesOf(output)).toEqual({ tensor: 'FLOAT[]', probabilities: 'FLOAT[]', label: 'BIGINT' });
    const got = await rowsOf(output, 'label');
    expect(got.map((r) => r.label)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? '0' : '2')));
  });
});

describe('python_function fixtures through the Python bridge (main thread, a process pool)', () => {
  const python = { python: PYTHON };

  it('iris_sklearn: the golden predictions on every repeat of the golden rows, in order, across chunks and 2 processes', async () => {
    const c = GOLDEN.cases.iris_sklearn![0]!;
    const { columns, data } = (c.request as { dataframe_split: { columns: string[]; data: number[][] } }).dataframe_split;
    const values = data.map((r) => `(${r.join(', ')})`).join(', ');
    const path = tmp.path('iris-sklearn.parquet');
    await duckWrite(duck, `SELECT g.* FROM range(5000) r(i), (VALUES ${values}) g(${columns.join(', ')})`, path);
    const output = out();
    const summary = await score({ model: join(FIXTURES, 'iris_sklearn'), inputs: [path], output, batchRows: 3000, flavorOptions: python });
    expect(summary).toMatchObject({ rows: 20_000, rowsScored: 20_000, mode: 'main', workers: 2, flavor: 'python_function' });
    expect(await typesOf(output)).toEqual({
      sepal_length: 'DOUBLE',
      sepal_width: 'DOUBLE',
      petal_length: 'DOUBLE',
      petal_width: 'DOUBLE',
      prediction: 'BIGINT',
    });
    const got = await rowsOf(output, 'sepal_length, prediction');
    const golden = c.predictions as number[];
    // each row's prediction is the golden one for its flower (DuckDB's cross join repeats the 4 rows in some order)
    const bySepal = new Map(data.map((r, k) => [r[0], golden[k]]));
    expect(got.every((r) => Number(r.prediction) === bySepal.get(r.sepal_length as number))).toBe(true);
  });

  it('churn_pipeline (string, long and double columns): the golden probabilities from Parquet and from CSV', async () => {
    const c = GOLDEN.cases.churn_pipeline![0]!;
    const { data } = (c.request as { dataframe_split: { columns: string[]; data: [string, number, number][] } }).dataframe_split;
    const values = data.map(([p, t, m], k) => `(${k}, '${p}', ${t}, ${m})`).join(', ');
    const sql = `SELECT r.i * 5 + g.k AS id, g.plan, g.tenure_months, g.monthly_charges FROM range(2000) r(i), (VALUES ${values}) g(k, plan, tenure_months, monthly_charges) ORDER BY id`;
    const golden = c.predictions as number[][];
    for (const ext of ['parquet', 'csv']) {
      const path = tmp.path(`churn.${ext}`);
      await duckWrite(duck, sql, path);
      const output = out();
      const summary = await score({ model: join(FIXTURES, 'churn_pipeline'), inputs: [path], output, batchRows: 1500, flavorOptions: python });
      expect(summary.rowsScored).toBe(10_000);
      const types = await typesOf(output);
      expect(types.plan).toBe('VARCHAR');
      expect(types.prediction).toBe('DOUBLE[]');
      const got = await rowsOf(output, 'id, plan, prediction');
      expect(got).toHaveLength(10_000);
      got.forEach((r, i) => {
        expect(r.id).toBe(String(i));
        expect(r.plan).toBe(data[i % 5]![0]);
        expect(r.prediction).toEqual(golden[i % 5]);
      });
    }
  });

  it('a Python worker that dies on a row fails its chunk cleanly: skip goes on with the next chunks, fail names the rows', async () => {
    const model = await pythonToyModel(tmp.dir, 'py-toy');
    const path = tmp.path('py-crash.parquet');
    await markedInput(path, 1000, [], { 450: 0.5 });
    const output = out();
    const summary = await score({ model, inputs: [path], output, batchRows: 100, onError: 'skip', flavorOptions: python });
    // the crash is not searched for row by row: its whole chunk (rows 400–499) is skipped
    expect(summary).toMatchObject({ rows: 1000, rowsScored: 900, rowsSkipped: 100, failureCount: 1 });
    expect(summary.failures[0]).toMatchObject({ file: path, rowStart: 400, rowEnd: 500 });
    expect(summary.failures[0]!.error.message).toMatch(/Python worker #\d died/);
    const got = await rowsOf(output, 'id, prediction');
    expect(got.map((r) => Number(r.id))).toEqual(Array.from({ length: 1000 }, (_, i) => i).filter((i) => i < 400 || i >= 500));
    expect(got.every((r) => r.prediction === Number(r.id) * 2)).toBe(true);

    const e = await rejection(score({ model, inputs: [path], output: out(), batchRows: 100, flavorOptions: python }));
    expect(e).toBeInstanceOf(ChunkScoringError);
    expect(e.message).toMatch(new RegExp(`^${path} rows 400–499: .*Python worker #\\d died`));
  });
});

describe('inputs: several files, directories, globs, formats; kept columns', () => {
  it('reads files in order from a directory, a glob and a list, Parquet, Arrow IPC and CSV alike', async () => {
    const dir = tmp.path('parts');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const ids = (from: number, rows: number) => `SELECT i AS id, i * 3.0 AS x FROM range(${from}, ${from + rows}) r(i)`;
    await duckWrite(duck, ids(0, 3000), join(dir, 'a.parquet'));
    await duckWrite(duck, ids(3000, 2000), join(dir, 'b.parquet'));
    // an Arrow IPC file and stream written by apache-arrow, a CSV by DuckDB
    const table = arrow.tableFromArrays({
      id: BigInt64Array.from({ length: 1500 }, (_, i) => BigInt(5000 + i)),
      x: Float64Array.from({ length: 1500 }, (_, i) => (5000 + i) * 3),
    });
    writeFileSync(join(dir, 'c.arrow'), arrow.tableToIPC(table.slice(0, 1000), 'file'));
    writeFileSync(join(dir, 'sub', 'd.arrows'), arrow.tableToIPC(table.slice(1000), 'stream'));
    await duckWrite(duck, ids(6500, 1000), join(dir, 'sub', 'e.csv'));
    writeFileSync(join(dir, '_SUCCESS'), '');
    writeFileSync(join(dir, 'notes.txt'), 'not a table');

    const viaDir = out();
    const s = await score({ model: marked, inputs: [dir], output: viaDir, batchRows: 700 });
    expect(s).toMatchObject({ files: 5, rows: 7500, rowsWritten: 7500 });
    const got = await rowsOf(viaDir, 'id, x, score');
    got.forEach((r, i) => {
      expect(Number(r.id)).toBe(i);
      expect(r.score).toBe(i * 6);
    });

    const viaGlob = out();
    const g = await score({ model: marked, inputs: [`${dir}/**/*.{csv,arrows}`, `${dir}/*.parquet`], output: viaGlob });
    expect(g.files).toBe(4);
    // the glob's files in path order (sub/d.arrows, sub/e.csv), then a.parquet, b.parquet
    expect((await rowsOf(viaGlob, 'id')).map((r) => Number(r.id))).toEqual([
      ...Array.from({ length: 1500 }, (_, i) => 6000 + i),
      ...Array.from({ length: 5000 }, (_, i) => i),
    ]);

    const viaList = out();
    const l = await score({ model: marked, inputs: [join(dir, 'c.arrow'), join(dir, 'a.parquet')], output: viaList });
    expect(l.files).toBe(2);
    expect((await rowsOf(viaList, 'id')).map((r) => Number(r.id))).toEqual([
      ...Array.from({ length: 1000 }, (_, i) => 5000 + i),
      ...Array.from({ length: 3000 }, (_, i) => i),
    ]);
  });

  it('a CSV file for a tensor-signature model is refused as the server refuses it', async () => {
    const csv = tmp.path('iris.csv');
    await duckWrite(duck, irisSql(10), csv);
    const e = await rejection(score({ model: join(FIXTURES, 'iris_onnx'), inputs: [csv], output: out() }));
    expect(e.message).toBe(`${csv}: TensorSpec only supports numpy types, use numpy_type() instead`);
  });

  it('keeps string, nullable and list columns as they are next to the predictions', async () => {
    const path = tmp.path('mixed.parquet');
    const sql = `SELECT i AS id, i::DOUBLE AS x,
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'ü' || i || ' "q", x' END AS name,
        CASE WHEN i % 3 = 0 THEN NULL ELSE i / 4 END AS maybe,
        CASE WHEN i % 5 = 0 THEN NULL ELSE [i, i + 1, NULL] END AS tags
      FROM range(5000) r(i)`;
    await duckWrite(duck, sql, path);
    const output = out();
    await score({ model: marked, inputs: [path], output, batchRows: 1200 });
    const types = await typesOf(output);
    expect(Object.keys(types)).toEqual(['id', 'x', 'name', 'maybe', 'tags', 'score']);
    expect(types).toMatchObject({ name: 'VARCHAR', maybe: 'DOUBLE', score: 'DOUBLE' });
    const got = await rowsOf(output, 'id, name, maybe, tags, score');
    const want = await duck.query(`SELECT id, name, maybe, tags, x * 2 AS score FROM (${sql}) ORDER BY id`);
    expect(got.map((r) => ({ ...r, tags: r.tags === null ? null : (r.tags as (number | null)[]).map((v) => (v === null ? null : Number(v))) }))).toEqual(
      want.map((r) => ({ ...r, tags: r.tags === null ? null : (r.tags as (string | null)[]).map((v) => (v === null ? null : Number(v))) })),
    );
  });

  it('--keep-columns and --columns name missing columns, with the file and its columns', async () => {
    const path = tmp.path('few.parquet');
    await markedInput(path, 10);
    const e1 = await rejection(score({ model: marked, inputs: [path], output: out(), keepColumns: ['id', 'nope'] }));
    expect(e1).toBeInstanceOf(BatchScoringError);
    expect(e1.message).toBe(`${path} has no column 'nope' (--keep-columns); its columns are 'id', 'x'`);
    const e2 = await rejection(score({ model: marked, inputs: [path], output: out(), columns: ['y'] }));
    expect(e2.message).toBe(`${path} has no column 'y' (--columns); its columns are 'id', 'x'`);
  });

  it('files whose kept columns differ are refused, naming the file and rows; nothing is written', async () => {
    const a = tmp.path('cols-a.parquet');
    const typed = tmp.path('cols-typed.parquet');
    const named = tmp.path('cols-named.parquet');
    await duckWrite(duck, 'SELECT i::DOUBLE AS x, i AS id FROM range(10) r(i)', a);
    await duckWrite(duck, "SELECT i::DOUBLE AS x, 'n' || i AS id FROM range(10) r(i)", typed);
    await duckWrite(duck, 'SELECT i::DOUBLE AS x, i AS key FROM range(10) r(i)', named);
    // Parquet is typed (written here); CSV only has names (written in the output thread)
    for (const [ext, second] of [
      ['parquet', typed],
      ['csv', named],
    ] as const) {
      const output = out(ext);
      const e = await rejection(score({ model: marked, inputs: [a, second], output }));
      expect(e).toBeInstanceOf(BatchScoringError);
      expect(e.message.startsWith(`${second} rows 0–9: cannot be written: ${output}: `), e.message).toBe(true);
      expect(existsSync(output)).toBe(false);
    }
    expect(hidden(tmp.dir)).toEqual([]);
  });

  it('refuses a prediction column that has the name of a kept input column', async () => {
    const path = tmp.path('clash.parquet');
    await duckWrite(duck, 'SELECT i::DOUBLE AS x, 1.5 AS score FROM range(10) r(i)', path);
    const e = await rejection(score({ model: marked, inputs: [path], output: out() }));
    expect(e.message).toMatch(/^the prediction column 'score' has the name of an input column kept in the output/);
    const output = out();
    await score({ model: marked, inputs: [path], output, keepColumns: ['x'] });
    expect((await rowsOf(output, 'x, score')).map((r) => r.score)).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i));
  });

  it('passes params, checked against the signature', async () => {
    const path = tmp.path('params.parquet');
    await markedInput(path, 4);
    const output = out();
    await score({ model: marked, inputs: [path], output, params: { factor: 3 } });
    expect((await rowsOf(output, 'score')).map((r) => r.score)).toEqual([0, 3, 6, 9]);
    const e = await rejection(score({ model: marked, inputs: [path], output: out(), params: { factor: 'big' } }));
    expect(e.message).toMatch(/factor/);
  });
});

describe('faults', () => {
  it('a schema mismatch names the column, the file and the rows; nothing is written', async () => {
    const path = tmp.path('churn-bad.parquet');
    await duckWrite(duck, `SELECT 3 AS tenure_months, 10.5 AS monthly_charges FROM range(10)`, path);
    const output = out();
    const e = await rejection(score({ model: join(FIXTURES, 'churn_pipeline'), inputs: [path], output, flavorOptions: { python: PYTHON } }));
    expect(e).toBeInstanceOf(ChunkScoringError);
    expect(e.message).toBe(`${path} rows 0–9: Model is missing inputs ['plan'].`);
    const typed = tmp.path('churn-typed.parquet');
    await duckWrite(duck, `SELECT 'pro' AS plan, 'long' AS tenure_months, 10.5 AS monthly_charges FROM range(10)`, typed);
    const e2 = await rejection(score({ model: join(FIXTURES, 'churn_pipeline'), inputs: [typed], output, flavorOptions: { python: PYTHON } }));
    expect(e2.message).toMatch(/^.* rows 0–9: Incompatible input types for column tenure_months\./);
    expect(existsSync(output)).toBe(false);
  });

  it('a corrupt Parquet file or one that is not Parquet fails the run, naming the file; nothing is written', async () => {
    const good = tmp.path('good.parquet');
    await duckWrite(duck, irisSql(20_000), good, 'ROW_GROUP_SIZE 5000');
    const bytes = readFileSync(good);
    const corrupt = tmp.path('corrupt.parquet');
    const broken = Buffer.from(bytes);
    // overwrite the middle of the column data with garbage (the footer stays valid)
    broken.fill(0xab, Math.floor(bytes.length * 0.3), Math.floor(bytes.length * 0.6));
    writeFileSync(corrupt, broken);
    const truncated = tmp.path('truncated.parquet');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    const text = tmp.path('text.parquet');
    writeFileSync(text, 'this is not parquet\n');
    for (const bad of [corrupt, truncated, text]) {
      const output = out();
      const e = await rejection(score({ model: join(FIXTURES, 'iris_onnx'), inputs: [good, bad], output }));
      expect(e.message.startsWith(`${bad}: `), e.message).toBe(true);
      expect(existsSync(output)).toBe(false);
    }
    expect(hidden(tmp.dir)).toEqual([]);
  });

  it('empty files: skipped among others; alone, an empty table with the signature columns', async () => {
    const empty = tmp.path('empty.parquet');
    await duckWrite(duck, `${irisSql(0)}`, empty);
    const full = tmp.path('five.parquet');
    await duckWrite(duck, irisSql(5), full);
    const output = out();
    const s = await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [empty, full, empty], output });
    expect(s).toMatchObject({ rows: 5, rowsWritten: 5 });
    const onlyEmpty = out();
    const e = await score({ model: join(FIXTURES, 'iris_onnx'), inputs: [empty], output: onlyEmpty });
    expect(e).toMatchObject({ rows: 0, rowsWritten: 0 });
    expect(await duck.query(`SELECT count(*)::INT AS n FROM read_parquet('${onlyEmpty}')`)).toEqual([{ n: 0 }]);
    expect(await typesOf(onlyEmpty)).toEqual({
      sepal_length: 'FLOAT',
      sepal_width: 'FLOAT',
      petal_length: 'FLOAT',
      petal_width: 'FLOAT',
      probabilities: 'FLOAT[]',
      label: 'BIGINT',
    });
    // a header-only CSV, and a model whose output signature has named columns
    const emptyCsv = tmp.path('empty.csv');
    writeFileSync(emptyCsv, 'x,id\n');
    const fromCsv = out();
    expect(await score({ model: marked, inputs: [emptyCsv], output: fromCsv, keepColumns: ['id'] })).toMatchObject({ rows: 0, rowsWritten: 0 });
    // (a column without values is text, as pandas reads a header-only CSV)
    expect(await typesOf(fromCsv)).toEqual({ id: 'VARCHAR', score: 'DOUBLE' });
  });

  describe('--on-error', () => {
    const bad = [1234, 5000, 5001, 9999];
    let path: string;
    beforeAll(async () => {
      path = tmp.path('marked-10k.parquet');
      await markedInput(path, 10_000, bad);
    });

    it('fail (default) stops at the first failing chunk, naming its rows and the model error', async () => {
      const output = out();
      const e = await rejection(score({ model: marked, inputs: [path], output, batchRows: 2000 }));
      expect(e).toBeInstanceOf(ChunkScoringError);
      expect(e.message).toMatch(new RegExp(`^${path} rows 0–1999: .*x must not be negative, got -1235`));
      expect(existsSync(output)).toBe(false);
    });

    it('skip leaves out exactly the failing rows (found by halving the chunks) and reports each', async () => {
      const output = out();
      const s = await score({ model: marked, inputs: [path], output, batchRows: 2000, onError: 'skip' });
      expect(s).toMatchObject({ rows: 10_000, rowsWritten: 9996, rowsScored: 9996, rowsSkipped: 4, failureCount: 4 });
      expect(s.failures.map((f) => [f.rowStart, f.rowEnd])).toEqual([
        [1234, 1235],
        [5000, 5001],
        [5001, 5002],
        [9999, 10_000],
      ]);
      expect(s.failures[0]!.error.message).toContain('x must not be negative, got -1235');
      const ids = (await rowsOf(output, 'id, score')).map((r) => {
        expect(r.score).toBe(Number(r.id) * 2);
        return Number(r.id);
      });
      expect(ids).toEqual(Array.from({ length: 10_000 }, (_, i) => i).filter((i) => !bad.includes(i)));
    });

    it('null keeps every row, with null predictions on exactly the failing rows; progress carries the failures', async () => {
      const output = out();
      const job = scoreFiles({ model: marked, inputs: [path], output, workers: 2, batchRows: 2000, onError: 'null', progressIntervalMs: 50 });
      const snapshots: BatchProgress[] = [];
      for await (const p of job.progress) snapshots.push(p);
      const s = await job.result;
      expect(s).toMatchObject({ rows: 10_000, rowsWritten: 10_000, rowsScored: 9996, rowsNulled: 4 });
      const got = await rowsOf(output, 'id, x, score');
      got.forEach((r, i) => {
        expect(r.id).toBe(String(i));
        expect(r.score).toBe(bad.includes(i) ? null : 2 * i);
      });
      expect(snapshots.flatMap((p) => p.failures).map((f) => f.rowStart)).toEqual([1234, 5000, 5001, 9999]);
      expect(snapshots.at(-1)).toMatchObject({ phase: 'done', rowsDone: 10_000, rowsNulled: 4, fraction: 1, totalRows: 10_000 });
      expect(snapshots.map((p) => p.phase)).toContain('scoring');
      for (let i = 1; i < snapshots.length; i++) expect(snapshots[i]!.rowsDone).toBeGreaterThanOrEqual(snapshots[i - 1]!.rowsDone);
    });

    it('a file whose every row fails is skipped whole after a bounded search; the other files are scored', async () => {
      const allBad = tmp.path('all-bad.parquet');
      await markedInput(
        allBad,
        3000,
        Array.from({ length: 3000 }, (_, i) => i),
      );
      const good = tmp.path('good-1k.parquet');
      await markedInput(good, 1000);
      const output = out();
      const started = performance.now();
      const s = await score({ model: marked, inputs: [allBad, good], output, batchRows: 1000, onError: 'skip' });
      expect(s).toMatchObject({ rows: 4000, rowsScored: 1000, rowsSkipped: 3000, rowsWritten: 1000 });
      // every row fails differently (its own value in the message): single rows first, then the rest of each chunk whole
      expect(s.failureCount).toBeGreaterThan(3);
      expect(s.failures.every((f) => f.file === allBad && f.error.message.includes('x must not be negative'))).toBe(true);
      expect(performance.now() - started).toBeLessThan(30_000);
      // with nulls nothing can be learnt about the prediction columns when no row of the first chunks scores
      const e = await rejection(score({ model: marked, inputs: [allBad], output: out(), batchRows: 1000, onError: 'null' }));
      expect(e.message).toMatch(
        /^with --on-error null the prediction columns must be known from a scored row, but no row of the first \d+ chunks could be scored; first failure: /,
      );
      const e2 = await rejection(score({ model: marked, inputs: [allBad], output: out(), batchRows: 1000, onError: 'skip' }));
      expect(e2.message).toMatch(/^no row could be scored \(3000 skipped\); first failure: /);
    });

    it('a worker thread that dies fails its chunk cleanly: fail names the rows, skip goes on', async () => {
      const crash = tmp.path('thread-crash.parquet');
      await markedInput(crash, 3000, [], { 1500: 0.5 });
      const e = await rejection(score({ model: marked, inputs: [crash], output: out(), batchRows: 500 }));
      expect(e.message).toMatch(new RegExp(`^${crash} rows 1500–1999: a worker thread stopped while scoring these rows`));
      const output = out();
      const s = await score({ model: marked, inputs: [crash], output, batchRows: 500, onError: 'skip' });
      expect(s).toMatchObject({ rowsScored: 2500, rowsSkipped: 500 });
      expect((await rowsOf(output, 'id')).map((r) => Number(r.id))).toEqual(Array.from({ length: 3000 }, (_, i) => i).filter((i) => i < 1500 || i >= 2000));
    });
  });

  it('cancel() with every thread busy lets each running chunk finish before its thread is stopped', async () => {
    // piscina 5.3's own close stops every thread once any one chunk ends: a thread stopped in the
    // middle of an onnxruntime call aborts the process, so the scorer must wait for all of them
    const dir = tmp.path('cancel-busy');
    const marks = join(dir, 'marks');
    mkdirSync(marks, { recursive: true });
    const source = `
import { writeFileSync } from 'node:fs';
const mark = (name) => writeFileSync(${JSON.stringify(marks)} + '/' + name, '');
export function load() {
  return {
    predict(input) {
      const x = input.columns.find((c) => c.name === 'x').values;
      const name = x[0] === 0.75 ? 'slow' : x[0] === 0.625 ? 'quick' : null;
      if (name) mark(name + '-started');
      const end = Date.now() + (name === 'slow' ? 1500 : name === 'quick' ? 300 : 5);
      while (Date.now() < end);
      if (name) mark(name + '-done');
      return { kind: 'columns', numRows: x.length, columns: [{ name: 'score', dtype: 'float64', values: Float64Array.from(x) }] };
    },
  };
}
`;
    const model = await jsModel(tmp.dir, 'slow-chunks', source, MARKED_SIGNATURE);
    const input = join(dir, 'in.parquet');
    // chunk 0 (rows 0–9) is slow, chunk 1 (rows 10–19) quick, the rest take 5 ms each
    await markedInput(input, 400, [], Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i, i < 10 ? 0.75 : 0.625])));
    const job = scoreFiles({ model, inputs: [input], output: join(dir, 'out.parquet'), workers: 2, batchRows: 10 });
    job.result.catch(() => undefined);
    const started = performance.now();
    while (!(existsSync(join(marks, 'slow-started')) && existsSync(join(marks, 'quick-started')))) {
      if (performance.now() - started > 20_000) throw new Error('the two chunks did not start');
      await new Promise((r) => setTimeout(r, 5));
    }
    job.cancel('test');
    expect(await rejection(job.result)).toBeInstanceOf(BatchCancelledError);
    expect(existsSync(join(marks, 'quick-done'))).toBe(true);
    // the slow chunk was still running when the quick one ended: its thread was not stopped under it
    expect(existsSync(join(marks, 'slow-done'))).toBe(true);
  });

  for (const ext of ['parquet', 'csv']) {
    it(`cancel() stops the run: BatchCancelledError, no ${ext} output and no temporary file`, async () => {
      const dir = tmp.path(`cancel-${ext}`);
      mkdirSync(dir);
      const input = join(dir, 'in.parquet');
      await markedInput(input, 4000, [], Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [i, 0.25])));
      const output = join(dir, `out.${ext}`);
      const job = scoreFiles({ model: marked, inputs: [input], output, workers: 2, batchRows: 20, progressIntervalMs: 20 });
      const started = performance.now();
      for await (const p of job.progress) if (p.rowsDone > 0) break;
      job.cancel('test');
      const e = await rejection(job.result);
      expect(e).toBeInstanceOf(BatchCancelledError);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(readdirSync(dir)).toEqual(['in.parquet']);
    });
  }
});
