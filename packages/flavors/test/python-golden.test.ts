import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModelDir, type ModelDir, type TensorBatch } from '@mlmodel/format';
import { ModelRunner } from '../src/runner/index.js';
import { pythonFunctionFlavor, type PythonFunctionModel } from '../src/python/index.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface GoldenText {
  request: string;
  /** MLflow 3.5's predictions as Python's json.dumps writes them (the scoring server's body). */
  expected: string;
  /** The same request run by this interpreter directly (pickle + predict_fn, no bridge), as json.dumps writes it. */
  direct: string;
  golden: unknown;
}

const NAMES = ['iris_sklearn', 'churn_pipeline', 'diabetes_tensor'] as const;
type Name = (typeof NAMES)[number];

/** Every case of the three fixtures, computed by one Python run (importing sklearn takes a second). */
function goldenCases(): Record<Name, GoldenText[]> {
  const script = `
import json, pickle, sys
import numpy as np, pandas as pd
root = sys.argv[1]
fns = {"iris_sklearn": "predict", "churn_pipeline": "predict_proba", "diabetes_tensor": "predict"}
result = {}
for name, fn in fns.items():
    model = pickle.load(open(root + "/" + name + "/model.pkl", "rb"))
    out = result[name] = []
    for c in json.load(open(root + "/golden.json"))["cases"][name]:
        r = c["request"]
        x = pd.DataFrame(**r["dataframe_split"]) if "dataframe_split" in r else np.array(r["inputs"])
        direct = getattr(model, fn)(x).tolist()
        out.append({"request": json.dumps(r), "expected": json.dumps({"predictions": c["predictions"]}),
                    "direct": json.dumps({"predictions": direct}), "golden": c["predictions"]})
print(json.dumps(result))
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, FIXTURES], { encoding: 'utf8' })) as Record<Name, GoldenText[]>;
}

const logs: string[] = [];
const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };

describe('python_function: sklearn models saved by MLflow 3.5', () => {
  const models = {} as Record<Name, PythonFunctionModel>;
  const dirs = {} as Record<Name, ModelDir>;
  const runner = (name: Name): ModelRunner => ModelRunner.fromLoaded(dirs[name], models[name]);
  let golden: Record<Name, GoldenText[]>;

  beforeAll(async () => {
    golden = goldenCases();
    await Promise.all(
      NAMES.map(async (name) => {
        const dir = (dirs[name] = await openModelDir(join(FIXTURES, name)));
        expect(pythonFunctionFlavor.canLoad(dir)).toBe(true);
        models[name] = (await pythonFunctionFlavor.load(dir, { options: { python: PYTHON }, logger })) as PythonFunctionModel;
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(Object.values(models).map((m) => m.close()));
  });

  it.each(NAMES)('%s returns the golden predictions, to the last bit', async (name) => {
    const cases = golden[name];
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const body = (await runner(name).score(Buffer.from(c.request), 'application/json')).body as string;
      // bit-for-bit what this interpreter computes without the bridge
      expect(body).toBe(c.direct);
      if (name === 'diabetes_tensor') {
        // LinearRegression is a BLAS dot product: Debian's reference BLAS here and the OpenBLAS MLflow
        // ran with sum in a different order, so two of the four values differ in the last bits.
        const got = (JSON.parse(body) as { predictions: number[] }).predictions;
        const want = c.golden as number[];
        expect(got).toHaveLength(want.length);
        got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(want[i]!)));
      } else {
        expect(body).toBe(c.expected);
      }
    }
  });

  it.each(NAMES)('%s reports how it was loaded', (name) => {
    const model = models[name];
    expect(model.details).toMatchObject({ backend: 'python', python: PYTHON, loader: 'mlflow.sklearn (built-in)', workers: 1, sklearn: '1.2.1' });
    expect(model.details.predict_fn).toBe(name === 'churn_pipeline' ? 'predict_proba' : 'predict');
    expect(model.pids).toHaveLength(1);
    expect(logs.some((l) => l.includes('python_function: loaded') && l.includes(name))).toBe(true);
  });

  it('keeps int64 labels as int64 and float64 outputs as float64', async () => {
    const ir = golden.iris_sklearn[0]!;
    const out = (await runner('iris_sklearn').score(Buffer.from(ir.request), 'application/json')).prediction as TensorBatch;
    expect(out.kind).toBe('tensors');
    expect(out.tensors[0]!.dtype).toBe('int64');
    expect(out.tensors[0]!.name).toBeNull();
    expect(out.tensors[0]!.shape).toEqual([4]);
    expect(Array.from(out.tensors[0]!.values as BigInt64Array)).toEqual([0n, 1n, 2n, 2n]);

    const ch = golden.churn_pipeline[0]!;
    const cout = (await runner('churn_pipeline').score(Buffer.from(ch.request), 'application/json')).prediction as TensorBatch;
    expect(cout.tensors[0]!.dtype).toBe('float64');
    expect(cout.tensors[0]!.shape).toEqual([5, 2]);
  });
});
