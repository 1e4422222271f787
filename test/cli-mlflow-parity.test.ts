/**
 * End to end, through the real `mlmodel` binary: MLflow habits and parity details around the model
 * path and files (issue #11): trailing slashes, the model's own input_example.json, CSV to tensor
 * models, what the server logs about ONNX providers and Python workers, and `mlmodel build`
 * errors that name the user's files rather than the temporary build directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, PYTHON, startServe, type ServerProcess } from './support/serve-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-parity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mlmodel(args: string[], cwd = tmp): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: '', cwd, timeout: 120_000 });
}

describe('a model path with a trailing slash is the same model (info, validate, predict, serve)', () => {
  const abs = join(FIXTURES, 'iris_onnx');
  const forms = [`${abs}/`, `${pathToFileURL(abs).href}/`, 'iris_onnx/'];

  for (const form of forms) {
    it(`validate and info: ${form}`, () => {
      const v = mlmodel(['validate', form], FIXTURES);
      expect(v.stderr).toBe('');
      expect(v.stdout.trim()).toBe(`OK: ${abs} is a valid MLflow model (flavors: onnx, python_function)`);
      const i = mlmodel(['info', form, '--json'], FIXTURES);
      expect(i.status).toBe(0);
      expect((JSON.parse(i.stdout) as { path: string }).path).toBe(abs);
    });
  }

  it('serve -m name=path/ loads it', async () => {
    const server = await startServe(['-m', `iris=${abs}/`]);
    try {
      const res = await fetch(`${server.url}/v2/models/iris/ready`);
      expect(res.status).toBe(200);
    } finally {
      server.kill();
    }
  });
});

describe("predict -i the model's own input_example.json", () => {
  for (const name of ['iris_onnx', 'iris_sklearn', 'churn_pipeline', 'diabetes_tensor']) {
    it(`${name}: scores it like its serving_input_example.json`, () => {
      const dir = join(FIXTURES, name);
      const viaExample = mlmodel(['predict', '-m', dir, '-i', join(dir, 'input_example.json'), '--python', PYTHON]);
      expect(viaExample.stderr).toBe('');
      expect(viaExample.status).toBe(0);
      const viaServing = mlmodel(['predict', '-m', dir, '-i', join(dir, 'serving_input_example.json'), '--python', PYTHON]);
      expect(viaExample.stdout).toBe(viaServing.stdout);
    });
  }

  it("a copy elsewhere is not the model's file: the error says which files are requests", () => {
    const dir = join(FIXTURES, 'iris_onnx');
    const copy = join(tmp, 'input_example.json');
    writeFileSync(copy, '[[5.1, 3.5, 1.4, 0.2]]');
    const r = mlmodel(['predict', '-m', dir, '-i', copy]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: Invalid input\. The input must be a JSON dictionary with exactly one of the input fields .*Received a list\./);
    expect(r.stderr).toContain(`send ${join(dir, 'serving_input_example.json')}, or that input_example.json itself, which mlmodel predict converts)`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('info names the request form of the example', () => {
    const r = mlmodel(['info', join(FIXTURES, 'iris_sklearn')]);
    expect(r.stdout).toMatch(
      /Input example:\n\s+dataframe in input_example.json: .*\n\s+as a request: serving_input_example.json \(for a server; mlmodel predict -i takes either file\)/,
    );
  });
});

describe('CSV to a tensor-signature model', () => {
  it("keeps MLflow's message and says what to send", () => {
    const csv = join(tmp, 'diabetes.csv');
    writeFileSync(csv, 'age,sex\n0.03,0.05\n');
    const r = mlmodel(['predict', '-m', join(FIXTURES, 'diabetes_tensor'), '-i', csv, '--python', PYTHON]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Error: 'TensorSpec only supports numpy types, use numpy_type() instead'");
    expect(r.stderr).toContain('This model takes a tensor: send it as JSON, e.g. {"inputs": [[...], ...]} with float64 values of shape (-1, 10).');
  });
});

describe('what the server logs about its models', () => {
  let server: ServerProcess | undefined;
  afterEach(() => {
    server?.kill();
    server = undefined;
  });

  it('ONNX models saved by MLflow: no CUDA warning at --log-level warn', async () => {
    server = await startServe(['-m', join(FIXTURES, 'iris_onnx'), '-m', `again=${join(FIXTURES, 'iris_onnx')}`], { logLevel: 'warn' });
    expect(server.stdout()).not.toContain('CUDAExecutionProvider');
  });

  it('at info: said once for two models, and every model line names its model', async () => {
    const s = (server = await startServe(['-m', join(FIXTURES, 'iris_onnx'), '-m', `sk=${join(FIXTURES, 'iris_sklearn')}`, '--python', PYTHON], {
      logLevel: 'info',
    }));
    // log lines arrive asynchronously: wait for the one that says every model is ready
    for (let i = 0; i < 100 && !s.stdout().includes('model(s) ready'); i++) await new Promise((r) => setTimeout(r, 50));
    const msgs = s
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    const cuda = msgs.filter((m) => m.msg.includes('CUDAExecutionProvider'));
    expect(cuda).toHaveLength(1);
    expect(cuda[0]!.level).toBe(30); // info
    expect(msgs.some((m) => m.msg.startsWith('[iris_onnx] onnx: loaded model.onnx'))).toBe(true);
    expect(msgs.some((m) => /^\[iris_sklearn\] python_function: started worker #\d+ \(pid \d+\)/.test(m.msg))).toBe(true);
    expect(msgs.some((m) => m.msg.startsWith('[iris_sklearn] python_function: loaded'))).toBe(true);
  });
});

describe("mlmodel build errors name the user's files", () => {
  it('a module whose predict fails: the message names the module the user gave, not the build directory', () => {
    const src = join(tmp, 'js-src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'boom.mjs'), 'export async function load() { return { predict() { throw new Error(`boom in ${import.meta.url}`); } }; }\n');
    const example = join(tmp, 'boom-example.json');
    writeFileSync(example, JSON.stringify({ dataframe_records: [{ x: 1 }] }));
    const out = join(tmp, 'boom-model');
    const r = mlmodel(['build', '--js', join(src, 'boom.mjs'), '--input-example', example, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `error: the input example does not work with this model: js_function model ${join(src, 'boom.mjs')}: predict failed: boom in ${join(src, 'boom.mjs')}\n`,
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('a file that is gone with the build directory is named at the output path asked for', () => {
    const src = join(tmp, 'js-art');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'reads.mjs'), 'export async function load(ctx) { throw new Error(`cannot open ${ctx.artifacts.table}`); }\n');
    writeFileSync(join(src, 'table.txt'), 'x\n');
    const out = join(tmp, 'reads-model');
    const r = mlmodel(['build', '--js', join(src, 'reads.mjs'), '--artifact', `table=${join(src, 'table.txt')}`, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot open ${join(out, 'artifacts', 'table')}`);
    expect(r.stderr).not.toContain('partial');
  });
});
