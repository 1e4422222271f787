/**
 * One runner behind every front end: `mlmodel predict` on a 1M-row Parquet file and `mlmodel
 * serve` answering the same bytes on /invocations give byte-identical predictions, for an ONNX
 * model (tensor signature, in-process) and a scikit-learn model (column signature, Python bridge).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, PYTHON, startServe, type ServerProcess } from './support/serve-process.js';
import { rng } from './support/test-data.js';

const ROWS = 1_000_000;
const COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-parity-'));
const input = join(tmp, 'iris-1m.parquet');
let parquet: Buffer;

beforeAll(async () => {
  const arrow = await import('apache-arrow');
  const { Table: WasmTable, writeParquet } = await import('parquet-wasm');
  const next = rng(20261206);
  const columns: Record<string, Float32Array> = {};
  // iris-like ranges, rounded to 0.01 as measured flowers are, so the values repeat as real data does
  for (const [j, name] of COLUMNS.entries()) {
    const scale = [4, 2.5, 6, 2.5][j]!;
    const offset = [4.3, 2, 1, 0.1][j]!;
    columns[name] = Float32Array.from({ length: ROWS }, () => Math.round((offset + next() * scale) * 100) / 100);
  }
  parquet = Buffer.from(writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(arrow.tableFromArrays(columns), 'stream'))));
  writeFileSync(input, parquet);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function predictWithCli(model: string, out: string, extra: string[] = []): string {
  const r = spawnSync(process.execPath, [BIN, 'predict', '-m', join(FIXTURES, model), '-i', input, '-o', out, ...extra], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(out, 'utf8');
}

async function predictWithServer(model: string, extra: string[] = []): Promise<string> {
  let s: ServerProcess | undefined;
  try {
    s = await startServe(['-m', join(FIXTURES, model), ...extra]);
    const r = await fetch(`${s.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/vnd.apache.parquet' }, body: parquet });
    const text = await r.text();
    expect(r.status, text.slice(0, 300)).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json\b/);
    return text;
  } finally {
    s?.kill();
  }
}

describe(`the same ${ROWS.toLocaleString('en')}-row Parquet file through mlmodel predict and mlmodel serve`, () => {
  it('iris_onnx: identical predictions, one per row', async () => {
    const cli = predictWithCli('iris_onnx', join(tmp, 'onnx.json'));
    const served = await predictWithServer('iris_onnx');
    expect(`${served}\n`).toBe(cli);
    const { predictions } = JSON.parse(served) as { predictions: { label: number[]; probabilities: number[][] } };
    expect(predictions.label).toHaveLength(ROWS);
    expect(predictions.probabilities).toHaveLength(ROWS);
    // a real model answered: every class occurs, and each probability row sums to 1
    expect(new Set(predictions.label)).toEqual(new Set([0, 1, 2]));
    for (const i of [0, 1, ROWS / 2, ROWS - 1]) expect(predictions.probabilities[i]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('iris_sklearn (Python bridge): identical predictions, one per row', async () => {
    const cli = predictWithCli('iris_sklearn', join(tmp, 'sklearn.json'), ['--python', PYTHON]);
    const served = await predictWithServer('iris_sklearn', ['--python', PYTHON]);
    expect(`${served}\n`).toBe(cli);
    const { predictions } = JSON.parse(served) as { predictions: number[] };
    expect(predictions).toHaveLength(ROWS);
    expect(new Set(predictions)).toEqual(new Set([0, 1, 2]));
  });
});
