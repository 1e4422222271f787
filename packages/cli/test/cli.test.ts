import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/mlmodel.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run the CLI in-process with captured output. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'mlmodel', ...args], {
    out: (s) => (out += s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => (err += s.endsWith('\n') ? s : `${s}\n`),
  });
  return { code, out, err };
}

describe('mlmodel info', () => {
  it('prints flavors, signature table, input example, environment and provenance', async () => {
    const r = await run('info', join(FIXTURES, 'iris_onnx'));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('Flavors:');
    expect(r.out).toMatch(/onnx\s+code=|onnx\s+data=model.onnx/);
    expect(r.out).toMatch(/python_function\s+.*loader_module=mlflow\.onnx/);
    expect(r.out).toMatch(/inputs:\n\s+name\s+type\s+shape\n\s+-+\s+-+\s+-+\n\s+\(unnamed\)\s+tensor\(float32\)\s+\(-1, 4\)/);
    expect(r.out).toMatch(/probabilities\s+tensor\(float32\)\s+\(-1, 3\)/);
    expect(r.out).toMatch(/label\s+tensor\(int64\)\s+\(-1\)/);
    expect(r.out).toContain('ndarray in input_example.json: [[5.099999904632568,3.5,');
    expect(r.out).toContain('python: 3.11.2');
    expect(r.out).toContain('requirements: mlflow==3.5.1, onnx==1.12.0, onnxruntime==1.20.1');
    expect(r.out).toContain('created (UTC):  2026-11-28 01:07:47.169023');
    expect(r.out).toContain('mlflow version: 3.5.2.dev0');
    expect(r.out).toContain('model uuid:     3e2294b428294a6585ea83d68793f333');
  });

  it('shows column signatures with required flags', async () => {
    const r = await run('info', join(FIXTURES, 'churn_pipeline'));
    expect(r.out).toMatch(/plan\s+string\s+required/);
    expect(r.out).toMatch(/tenure_months\s+long\s+required/);
    expect(r.out).toMatch(/monthly_charges\s+double\s+required/);
  });

  it('--json prints structured data', async () => {
    const r = await run('info', join(FIXTURES, 'churn_pipeline'), '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as {
      flavors: Record<string, unknown>;
      signature: { inputs: { name: string; type: string }[] };
      provenance: { model_uuid: string };
    };
    expect(Object.keys(info.flavors)).toEqual(['python_function', 'sklearn']);
    expect(info.signature.inputs.map((c) => `${c.name}:${c.type}`)).toEqual(['plan:string', 'tenure_months:long', 'monthly_charges:double']);
    expect(info.provenance.model_uuid).toBe('d8692d15e38242bb813479f55d2b8783');
  });

  it('a directory without MLmodel is a user error with one line', async () => {
    const r = await run('info', tmp);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^error: .*not a model directory: it has no MLmodel file/);
  });
});

describe('mlmodel validate', () => {
  let broken: string;
  let badExample: string;
  beforeAll(() => {
    broken = join(tmp, 'broken');
    cpSync(join(FIXTURES, 'iris_onnx'), broken, { recursive: true });
    rmSync(join(broken, 'model.onnx'));
    badExample = join(tmp, 'bad-example');
    cpSync(join(FIXTURES, 'iris_onnx'), badExample, { recursive: true });
    writeFileSync(join(badExample, 'input_example.json'), '[[1.0, 2.0, 3.0]]');
  });

  for (const name of ['iris_onnx', 'iris_sklearn', 'churn_pipeline', 'diabetes_tensor']) {
    it(`${name} is valid`, async () => {
      const r = await run('validate', join(FIXTURES, name));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^OK: .* is a valid MLflow model \(flavors: /);
    });
  }

  it('reports a missing model file with the key that refers to it', async () => {
    const r = await run('validate', broken);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/at flavors.onnx.data: refers to "model.onnx", which does not exist/);
    expect(r.err).toMatch(/at flavors.python_function.data: refers to "model.onnx"/);
  });

  it('reports an input example that does not match the signature', async () => {
    const r = await run('validate', badExample, '--json');
    expect(r.code).toBe(1);
    const res = JSON.parse(r.out) as { valid: boolean; problems: string[] };
    expect(res.valid).toBe(false);
    expect(res.problems).toEqual([
      expect.stringMatching(
        /input_example.json: the input example does not match the signature: .*Shape of input \(1, 3\) does not match expected shape \(-1, 4\)/,
      ),
    ]);
  });
});

describe('the mlmodel binary (real process)', () => {
  const haveBuild = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
  const exec = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

  it('is built (the test command builds before testing)', () => {
    expect(haveBuild).toBe(true);
  });

  it('--version and --help exit 0', () => {
    const v = exec('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    for (const args of [['--help'], ['info', '--help'], ['validate', '--help']]) {
      const h = exec(...args);
      expect(h.status, args.join(' ')).toBe(0);
      expect(h.stdout).toContain('Usage: mlmodel');
    }
  });

  it('usage errors exit 2', () => {
    expect(exec('frobnicate').status).toBe(2);
    expect(exec('info').status).toBe(2);
    expect(exec('info', 'a', '--no-such-flag').status).toBe(2);
    expect(exec().status).toBe(2);
  });

  it('flavor options are checked by the flavors before anything loads: a bad value is a usage error', () => {
    const model = join(FIXTURES, 'iris_onnx');
    for (const [args, message] of [
      [['--python-workers', '0'], '--python-workers must be a positive integer, got 0'],
      [['--env-manager', 'pip'], '--env-manager must be local, virtualenv, uv or conda, got pip'],
      [['--flavor-option', 'intraOpNumThreads=-1'], 'intraOpNumThreads'],
    ] as const) {
      const r = exec('predict', '-m', model, '-i', 'nothing.json', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // the flags come from the flavors, with the command's wording
    expect(exec('serve', '--help').stdout).toMatch(/--python-workers <n>\s+Python worker processes per\s+python_function model/);
    expect(exec('predict', '--help').stdout).toMatch(/created before\s+predicting/);
  });

  it('user errors exit 1 with one line and no stack trace', () => {
    const r = exec('validate', join(tmp, 'does-not-exist'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*does-not-exist: model path does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
