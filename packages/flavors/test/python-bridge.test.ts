import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BinaryArray,
  Utf8Array,
  column,
  columnBatch,
  columnValue,
  encodePredictions,
  parseDatetimeNs,
  tensor,
  tensorBatch,
  type ColumnBatch,
  type TensorBatch,
} from '@mlmodel/format';
import { PythonPool, encodePredictPayload, pythonFunctionFlavor, type PythonFunctionModel } from '../src/python/index.js';
import { PYTHON, toyModel } from './python-support.js';

let root: string;
const logs: string[] = [];
const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };
const models: PythonFunctionModel[] = [];

async function load(name: string, predictFn: string): Promise<PythonFunctionModel> {
  const m = (await pythonFunctionFlavor.load(await toyModel(root, name, predictFn), { options: { python: PYTHON }, logger })) as PythonFunctionModel;
  models.push(m);
  return m;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-pybridge-'));
});
afterAll(async () => {
  await Promise.all(models.map((m) => m.close()));
  await rm(root, { recursive: true, force: true });
});

describe('python_function bridge: data round trips through pandas and numpy', () => {
  let echo: PythonFunctionModel;
  beforeAll(async () => {
    echo = await load('echo', 'echo');
  });

  it('rebuilds a DataFrame from typed columns and returns it column for column', async () => {
    const ns = parseDatetimeNs('2024-02-29T12:34:56.123456789');
    const input = columnBatch([
      column('name', 'str', Utf8Array.fromStrings(['ada', null, 'été ☃']), Uint8Array.of(1, 0, 1)),
      column('count', 'int64', BigInt64Array.of(1n, -(2n ** 62n), 3n)),
      column('score', 'float64', Float64Array.of(0.1, NaN, 1e300)),
      column('small', 'int32', Int32Array.of(7, 8, 9)),
      column('flag', 'bool', Uint8Array.of(1, 0, 1)),
      column('when', 'datetime64[ns]', BigInt64Array.of(ns, 0n, -1n)),
    ]);
    const out = (await echo.predict(input)) as ColumnBatch;
    expect(out.kind).toBe('columns');
    expect(out.numRows).toBe(3);
    expect(out.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['name', 'str'],
      ['count', 'int64'],
      ['score', 'float64'],
      ['small', 'int32'],
      ['flag', 'bool'],
      ['when', 'datetime64[ns]'],
    ]);
    const rows = (i: number) => out.columns.map((c) => columnValue(c, i));
    expect(rows(0)).toEqual(['ada', 1n, 0.1, 7, true, ns]);
    expect(rows(1)).toEqual([null, -(2n ** 62n), NaN, 8, false, 0n]);
    expect(rows(2)).toEqual(['été ☃', 3n, 1e300, 9, true, -1n]);
  });

  it('decodes string columns exactly: dictionary-coded, distinct, empty, non-ASCII, NUL inside a value, nulls', async () => {
    // repeating values travel as a dictionary; distinct ones are split from NUL-joined text in one
    // pass, or row by row when a value holds a NUL itself
    const repeating = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? '' : `v${i % 13}-ü${'x'.repeat(i % 5)}`));
    const distinct = Array.from({ length: 20_000 }, (_, i) => `row ${i} ✓`);
    const nulInside = Array.from({ length: 300 }, (_, i) => `${i % 3}\u0000${i % 2}`);
    for (const values of [repeating, distinct, nulInside, ['a\u0000b', '', 'ü', '\u0000'], ['', '', ''], ['only']]) {
      const validity = Uint8Array.from(values, (_, i) => (i % 11 === 3 ? 0 : 1));
      const out = (await echo.predict(columnBatch([column('s', 'str', Utf8Array.fromStrings(values), validity)]))) as ColumnBatch;
      const got = Array.from({ length: out.numRows }, (_, i) => columnValue(out.columns[0]!, i));
      expect(got).toEqual(values.map((v, i) => (validity[i] ? v : null)));
    }
  });

  it('decodes repeating and distinct bytes columns exactly', async () => {
    const repeating = Array.from({ length: 1000 }, (_, i) => Uint8Array.of(i % 3, 0, 255, i % 2));
    const distinct = Array.from({ length: 300 }, (_, i) => Uint8Array.of(i & 255, i >> 8, 0));
    for (const values of [repeating, distinct]) {
      const out = (await echo.predict(columnBatch([column('b', 'bytes', BinaryArray.fromBuffers(values))]))) as ColumnBatch;
      expect(out.columns[0]!.dtype).toBe('bytes');
      const got = Array.from({ length: out.numRows }, (_, i) => Array.from(columnValue(out.columns[0]!, i) as Uint8Array));
      expect(got).toEqual(values.map((v) => Array.from(v)));
    }
  });

  it('passes an unnamed tensor as an ndarray and named tensors as a dict, shapes kept', async () => {
    const single = tensorBatch([tensor(null, 'float32', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6.5))]);
    const out1 = (await echo.predict(single)) as TensorBatch;
    expect(out1.tensors).toHaveLength(1);
    expect(out1.tensors[0]).toMatchObject({ name: null, dtype: 'float32', shape: [2, 3] });
    expect(Array.from(out1.tensors[0]!.values as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);

    const named = tensorBatch([
      tensor('ids', 'uint64', [2], BigUint64Array.of(1n, 2n ** 64n - 1n)),
      tensor('words', 'str', [2, 1], Utf8Array.fromStrings(['a', 'ü'])),
    ]);
    const out2 = (await echo.predict(named)) as TensorBatch;
    expect(out2.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['ids', 'uint64', [2]],
      ['words', 'str', [2, 1]],
    ]);
    expect(Array.from(out2.tensors[0]!.values as BigUint64Array)).toEqual([1n, 2n ** 64n - 1n]);
    expect((out2.tensors[1]!.values as Utf8Array).toArray()).toEqual(['a', 'ü']);
  });

  it('moves 100,000 rows as raw buffers, bit for bit', async () => {
    const n = 100_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1e-3 + i / 7;
    const out = (await echo.predict(columnBatch([column('x', 'float64', x)]))) as ColumnBatch;
    expect(out.columns[0]!.values).toEqual(x);
  });

  it('keeps shared-memory payloads exact as they grow past and shrink below earlier ones', async () => {
    // the worker maps both shared files and remaps them when a payload outgrows the mapping
    const bytes = (v: unknown): Buffer => Buffer.from((v as Float64Array).buffer, (v as Float64Array).byteOffset, (v as Float64Array).byteLength);
    for (const n of [20_000, 200_000, 9_000, 300_000, 30_000]) {
      const x = Float64Array.from({ length: n }, (_, i) => i * 0.5 - n);
      const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(n - i));
      const out = (await echo.predict(columnBatch([column('x', 'float64', x), column('y', 'int64', y)]))) as ColumnBatch;
      expect(out.numRows).toBe(n);
      expect(out.columns.map((c) => c.dtype)).toEqual(['float64', 'int64']);
      expect(bytes(out.columns[0]!.values).equals(bytes(x))).toBe(true);
      expect(bytes(out.columns[1]!.values).equals(bytes(y))).toBe(true);
    }
  });
});

describe('python_function bridge: busy-waiting and tracing', () => {
  it('answers the same with busy-waiting off', async () => {
    const m = (await pythonFunctionFlavor.load(await toyModel(root, 'echo-nospin', 'echo'), {
      options: { python: PYTHON, replySpinUs: 0, idleSpinUs: 0 },
      logger,
    })) as PythonFunctionModel;
    models.push(m);
    const out = (await m.predict(tensorBatch([tensor(null, 'int32', [3], Int32Array.of(1, 2, 3))]))) as TensorBatch;
    expect(Array.from(out.tensors[0]!.values as Int32Array)).toEqual([1, 2, 3]);
  });

  it('refuses a busy-wait bound that is not a non-negative integer', async () => {
    const dir = await toyModel(root, 'echo-badspin', 'echo');
    await expect(pythonFunctionFlavor.load(dir, { options: { python: PYTHON, idleSpinUs: -1 }, logger })).rejects.toThrow(
      /options.idleSpinUs must be a non-negative integer/,
    );
  });

  it('writes per-request timestamps from the worker when MLMODEL_BRIDGE_TRACE names a file', async () => {
    const file = join(root, 'trace.txt');
    const pool = new PythonPool(
      {
        model_dir: (await toyModel(root, 'echo-trace', 'echo')).dir,
        python_function: { loader_module: 'mlflow.sklearn', model_path: 'model.pkl', predict_fn: 'echo', code: 'code' },
        sklearn: null,
        mlflow_version: null,
        use_mlflow: 'never',
      },
      {
        python: PYTHON,
        workers: 1,
        timeoutMs: 60_000,
        loadTimeoutMs: 60_000,
        replySpinUs: 0,
        idleSpinUs: 0,
        logger,
        env: { ...process.env, MLMODEL_BRIDGE_TRACE: file },
      },
    );
    await pool.start();
    const pid = pool.pids()[0]!;
    await pool.predict(encodePredictPayload(tensorBatch([tensor(null, 'int32', [1], Int32Array.of(7))]), null));
    await pool.close();
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const phases = lines.filter(([side, p, id]) => side === 'py' && Number(p) === pid && id === '2').map((l) => l[3]);
    expect(phases).toEqual(['woke', 'read', 'built', 'predicted', 'encoded', 'replied']);
  });
});

describe('python_function bridge: outputs the way the scoring server serializes them', () => {
  it('a Series becomes one column named after it', async () => {
    const m = await load('series', 'series');
    const out = await m.predict(tensorBatch([tensor(null, 'float64', [1], Float64Array.of(0))]));
    expect(encodePredictions(out)).toBe('{"predictions": [{"score": 1.5}, {"score": 2.5}]}');
  });

  it('a list of mixed values becomes JSON', async () => {
    const m = await load('listy', 'listy');
    const out = await m.predict(tensorBatch([tensor(null, 'float64', [1], Float64Array.of(0))]));
    expect(out).toEqual({ kind: 'json', value: [{ a: 1, b: 'x' }, 3, 0.1] });
  });

  it('a dict of ndarrays becomes named tensors', async () => {
    const m = await load('named', 'named');
    const out = await m.predict(tensorBatch([tensor(null, 'float64', [1], Float64Array.of(0))]));
    expect(encodePredictions(out)).toBe('{"predictions": {"labels": [1, 2], "names": ["a", "\\u00e9t\\u00e9"]}}');
  });

  it("keeps the protocol clean when predict prints, and forwards the worker's stderr to the logger", async () => {
    const m = await load('chatty', 'chatty');
    const out = (await m.predict(tensorBatch([tensor(null, 'float64', [1], Float64Array.of(0))]))) as TensorBatch;
    expect(out.tensors[0]!.dtype).toBe('int32');
    expect(Array.from(out.tensors[0]!.values as Int32Array)).toEqual([0, 1, 2]);
    // stderr arrives asynchronously from the result
    for (let i = 0; i < 50 && !logs.some((l) => l.includes('written to stderr by predict')); i++) await new Promise((r) => setTimeout(r, 20));
    // each line names the model (its directory) and the worker
    expect(logs.some((l) => /^\[chatty\] \[python worker \d+\] printed to stdout by predict$/.test(l))).toBe(true);
    expect(logs.some((l) => /^\[chatty\] \[python worker \d+\] written to stderr by predict$/.test(l))).toBe(true);
  });
});
