/** Tiny python_function model directories for the bridge tests, built with the real interpreter. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMLmodel, openModelDir, writeMLmodel, type ModelDir } from '@mlmodel/format';

export const PYTHON = '/usr/bin/python3';

/** The model class: each method is a predict_fn the tests point at. */
const TOY_MODELS = `
import os, sys, time
import numpy as np
import pandas as pd


class Toy:
    def echo(self, x):
        return x

    def fail(self, x):
        raise ValueError("feature 'x' must be positive, got %r" % (float(np.asarray(x, dtype=float).ravel()[0]),))

    def slow(self, x):
        time.sleep(float(np.asarray(x, dtype=float).ravel()[0]))
        return np.array([os.getpid()], dtype=np.int64)

    def chatty(self, x):
        print("printed to stdout by predict")
        sys.stderr.write("written to stderr by predict\\n")
        return np.arange(3, dtype=np.int32)

    def series(self, x):
        return pd.Series([1.5, 2.5], name="score")

    def listy(self, x):
        return [{"a": 1, "b": "x"}, np.int64(3), 0.1]

    def named(self, x):
        return {"labels": np.array([1, 2], dtype=np.int64), "names": np.array(["a", "\\u00e9t\\u00e9"])}
`;

const PICKLE_IT = `
import pickle, sys
sys.path.insert(0, sys.argv[1])
import toy_models
with open(sys.argv[2], "wb") as f:
    pickle.dump(toy_models.Toy(), f)
`;

export interface ToyOptions {
  readonly loaderModule?: string;
  /** Bytes to write as model.pkl instead of a real pickle. */
  readonly pickle?: Uint8Array;
  readonly mlflowVersion?: string;
}

/** A model directory whose python_function flavor calls `Toy().<predictFn>`. */
export async function toyModel(root: string, name: string, predictFn: string, opts: ToyOptions = {}): Promise<ModelDir> {
  const dir = join(root, name);
  const code = join(dir, 'code');
  await mkdir(code, { recursive: true });
  await writeFile(join(code, 'toy_models.py'), TOY_MODELS);
  const pkl = join(dir, 'model.pkl');
  if (opts.pickle) await writeFile(pkl, opts.pickle);
  else execFileSync(PYTHON, ['-c', PICKLE_IT, code, pkl]);
  await writeMLmodel(
    dir,
    createMLmodel({
      flavors: {
        python_function: {
          loader_module: opts.loaderModule ?? 'mlflow.sklearn',
          model_path: 'model.pkl',
          predict_fn: predictFn,
          code: 'code',
          python_version: '3.11.2',
        },
      },
      mlflow_version: opts.mlflowVersion ?? '3.5.1',
    }),
  );
  return openModelDir(dir);
}

/** Whether a process exists (a zombie still does: it is reaped only by its parent). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Child processes of this test process that run the worker script, as `pid stat args` lines (zombies have stat Z). */
export function workerChildren(): string[] {
  // ps exits 1 when nothing matches
  const r = spawnSync('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('mlmodel_worker.py') || / Z/.test(l));
}
