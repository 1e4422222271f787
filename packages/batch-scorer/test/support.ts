/**
 * Shared pieces of the batch scorer's tests: DuckDB (the independent reader and writer of the
 * files), iris-like inputs, small real models (js_function modules that fail, crash or take time
 * on marked rows; a python_function model that kills its process on a marked row).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { jsFunctionFlavor } from '@mlmodel/flavors';
import { createMLmodel, parseSignature, writeMLmodel } from '@mlmodel/format';

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const IRIS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

/** A temporary directory removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `mlmodel-batch-${prefix}-`));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Duck {
  readonly conn: DuckDBConnection;
  query(sql: string): Promise<Record<string, unknown>[]>;
  run(sql: string): Promise<void>;
  close(): void;
}

export async function openDuck(): Promise<Duck> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  return {
    conn,
    query: async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson(),
    run: async (sql) => void (await conn.run(sql)),
    close: () => {
      conn.closeSync();
      db.closeSync();
    },
  };
}

/**
 * SQL for `rows` iris-like flowers as float32 columns (values rounded to 0.01, as measured flowers
 * are), numbered from `from` by an `id` column when `withId`.
 */
export function irisSql(rows: number, from = 0, withId = false): string {
  const col = (j: number, name: string): string => {
    const scale = [4, 2.5, 6, 2.5][j]!;
    const offset = [4.3, 2, 1, 0.1][j]!;
    // a deterministic pseudo-random value per row and column
    return `round(${offset} + ((hash(i * 4 + ${j}) % 10007) / 10007.0) * ${scale}, 2)::FLOAT AS ${name}`;
  };
  return `SELECT ${withId ? 'i AS id, ' : ''}${IRIS.map((n, j) => col(j, n)).join(', ')} FROM range(${from}, ${from + rows}) r(i)`;
}

/** Write a query's result as a file with DuckDB (Parquet, or CSV with a header). */
export async function duckWrite(duck: Duck, sql: string, path: string, opts = ''): Promise<void> {
  const format = path.endsWith('.csv') ? 'csv, HEADER true' : 'parquet';
  await duck.run(`COPY (${sql}) TO '${path}' (FORMAT ${format}${opts ? `, ${opts}` : ''})`);
}

/** A js_function model directory from module source text (its `load` returns `{predict}`), with a signature. */
export async function jsModel(root: string, name: string, source: string, signature: { inputs: string; outputs?: string; params?: string }): Promise<string> {
  const src = join(root, `${name}-src`);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'model.mjs'), source);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const saved = await jsFunctionFlavor.save!({ modulePath: join(src, 'model.mjs') }, dir);
  await writeMLmodel(dir, createMLmodel({ flavors: saved.flavors, signature: parseSignature({ outputs: null, params: null, ...signature }) }));
  return dir;
}

/**
 * Column x (double) → score = factor·x (param `factor`, default 2); rows with x < 0 make predict
 * throw (a model exception), x = 0.5 ends the worker thread, x = 0.25 takes 20 ms.
 */
export const MARKED_MODEL = `
export function load() {
  return {
    predict(input, params) {
      const factor = params.factor ?? 2;
      const x = input.columns.find((c) => c.name === 'x').values;
      const score = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        if (x[i] < 0) throw new Error('x must not be negative, got ' + x[i]);
        if (x[i] === 0.5) process.exit(7);
        if (x[i] === 0.25) { const end = Date.now() + 20; while (Date.now() < end); }
        score[i] = factor * x[i];
      }
      return { kind: 'columns', numRows: x.length, columns: [{ name: 'score', dtype: 'float64', values: score }] };
    },
  };
}
`;

export const MARKED_SIGNATURE = {
  inputs: JSON.stringify([{ type: 'double', name: 'x', required: true }]),
  outputs: JSON.stringify([{ type: 'double', name: 'score', required: true }]),
  params: JSON.stringify([{ name: 'factor', type: 'double', default: 2.0, shape: null }]),
};

/** The Python toy: `score` doubles column x; a row with x = 0.5 kills the worker process (os._exit). */
const PY_TOY = `
import os
import numpy as np


class Toy:
    def score(self, df):
        x = df["x"].to_numpy(dtype=float)
        if (x == 0.5).any():
            os._exit(3)
        return x * 2
`;

const PICKLE_IT = `
import pickle, sys
sys.path.insert(0, sys.argv[1])
import py_toy
with open(sys.argv[2], "wb") as f:
    pickle.dump(py_toy.Toy(), f)
`;

/** A python_function model directory (loaded by the bridge's built-in sklearn-style loader) whose predict_fn is `Toy.score`. */
export async function pythonToyModel(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  const code = join(dir, 'code');
  mkdirSync(code, { recursive: true });
  writeFileSync(join(code, 'py_toy.py'), PY_TOY);
  execFileSync(PYTHON, ['-c', PICKLE_IT, code, join(dir, 'model.pkl')]);
  await writeMLmodel(
    dir,
    createMLmodel({
      flavors: {
        python_function: { loader_module: 'mlflow.sklearn', model_path: 'model.pkl', predict_fn: 'score', code: 'code', python_version: '3.11.2' },
      },
      signature: parseSignature({ inputs: MARKED_SIGNATURE.inputs, outputs: null, params: null }),
      mlflow_version: '3.5.1',
    }),
  );
  return dir;
}
