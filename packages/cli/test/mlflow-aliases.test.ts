/**
 * `mlflow models predict|serve` habits, through the real `mlmodel` binary: MLflow's long flags as
 * aliases (`--model-uri`, `--input-path`, `--output-path`, `--env-manager` with `uv`, `--no-conda`),
 * `serve -h HOST` (help stays `--help`), input from stdin without `-i`, and model paths with a
 * trailing slash or as `file://` URIs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServerProcess } from '../../../test/support/serve-process.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/mlmodel.js', import.meta.url));
const IRIS_ONNX = join(FIXTURES, 'iris_onnx');
const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { cases: Record<string, { request: unknown; predictions: unknown }[]> };
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-aliases-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const request = join(tmp, 'iris-request.json');
writeFileSync(request, JSON.stringify(GOLDEN.cases.iris_onnx![0]!.request));

function mlmodel(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: opts.input ?? '', env: opts.env ?? process.env, timeout: 60_000 });
}

function labels(stdout: string): unknown {
  return (JSON.parse(stdout) as { predictions: { label: unknown } }).predictions.label;
}
const GOLDEN_LABELS = (GOLDEN.cases.iris_onnx![0]!.predictions as { label: unknown }).label;

describe("mlmodel predict takes MLflow's flags", () => {
  it('--model-uri, --input-path and --output-path', () => {
    const out = join(tmp, 'predictions.json');
    const r = mlmodel(['predict', '--model-uri', IRIS_ONNX, '--input-path', request, '--output-path', out, '--content-type', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(labels(readFileSync(out, 'utf8'))).toEqual(GOLDEN_LABELS);
  });

  it('reads stdin without -i, as mlflow models predict does', () => {
    const r = mlmodel(['predict', '-m', IRIS_ONNX], { input: JSON.stringify(GOLDEN.cases.iris_onnx![0]!.request) });
    expect(r.stderr).toBe('');
    expect(labels(r.stdout)).toEqual(GOLDEN_LABELS);
  });

  it('a model path with a trailing slash, or a file:// URI with one', () => {
    for (const model of [`${IRIS_ONNX}/`, `${pathToFileURL(IRIS_ONNX).href}/`]) {
      const r = mlmodel(['predict', '-m', model, '-i', request]);
      expect(r.stderr, model).toBe('');
      expect(labels(r.stdout), model).toEqual(GOLDEN_LABELS);
    }
  });

  it('an option and its alias with different values is a usage error; the same value is fine', () => {
    const r = mlmodel(['predict', '-m', IRIS_ONNX, '--model-uri', join(FIXTURES, 'iris_sklearn'), '-i', request]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: -m\/--model and --model-uri are the same option: give one of them/);
    expect(mlmodel(['predict', '-m', IRIS_ONNX, '--model-uri', IRIS_ONNX, '-i', request]).status).toBe(0);
    const io = mlmodel(['predict', '-m', IRIS_ONNX, '-i', request, '--input-path', 'other.json']);
    expect(io.status).toBe(2);
    expect(io.stderr).toContain('-i/--input and --input-path are the same option');
    expect(mlmodel(['predict', '-i', request]).stderr).toContain("required option '-m, --model <model>' (or --model-uri) not specified");
  });

  it('--no-conda means --env-manager local (and contradicts another manager)', () => {
    expect(mlmodel(['predict', '-m', IRIS_ONNX, '-i', request, '--no-conda']).status).toBe(0);
    expect(mlmodel(['predict', '-m', IRIS_ONNX, '-i', request, '--no-conda', '--env-manager', 'local']).status).toBe(0);
    const r = mlmodel(['predict', '-m', IRIS_ONNX, '-i', request, '--no-conda', '--env-manager', 'conda']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--no-conda means --env-manager local, but --env-manager conda was given too');
    expect(mlmodel(['predict', '--help']).stdout).toMatch(/--no-conda\s+MLflow's alias for --env-manager local/);
  });

  it('--env-manager uv is a virtualenv made with uv (here: uv is not installed, and the error says so)', () => {
    const env = { ...process.env, PATH: '/usr/bin:/bin', MLMODEL_ENV_ROOT: join(tmp, 'envs') };
    const sk = join(FIXTURES, 'iris_sklearn');
    const r = mlmodel(['predict', '-m', sk, '-i', join(sk, 'serving_input_example.json'), '--env-manager', 'uv'], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: --env-manager uv needs uv on PATH \(see https:\/\/docs\.astral\.sh\/uv\/\), or use --env-manager virtualenv/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("mlmodel serve takes MLflow's flags", () => {
  let server: ServerProcess | undefined;
  afterEach(() => {
    server?.kill();
    server = undefined;
  });

  it('--model-uri (with a trailing slash), -h HOST and --no-conda; /invocations answers', async () => {
    server = await startServe(['--model-uri', `${IRIS_ONNX}/`, '-h', '127.0.0.1', '--no-conda']);
    const res = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(GOLDEN.cases.iris_onnx![0]!.request),
    });
    expect(res.status).toBe(200);
    expect(labels(await res.text())).toEqual(GOLDEN_LABELS);
  });

  it('--help (not -h) prints help; -h needs a host; the old -H still works as --host', async () => {
    const h = mlmodel(['serve', '--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/-h, --host <host>/);
    expect(h.stdout).toMatch(/--model-uri <\[name\[:version\]=\]path>\s+same as --model/);
    expect(h.stdout).toMatch(/--no-conda\s+MLflow's alias for --env-manager local/);
    expect(h.stdout).not.toMatch(/-h, --help/);
    const bare = mlmodel(['serve', '-m', IRIS_ONNX, '-h']);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain("option '-h, --host <host>' argument missing");
    server = await startServe(['-m', IRIS_ONNX, '-H', '127.0.0.1']);
    expect((await fetch(`${server.url}/ping`)).status).toBe(200);
  });

  it('usage errors: no model, or -m and --model-uri that disagree', () => {
    expect(mlmodel(['serve']).stderr).toContain("required option '-m, --model <[name[:version]=]path>' (or --model-uri) not specified");
    const r = mlmodel(['serve', '-m', IRIS_ONNX, '--model-uri', join(FIXTURES, 'iris_sklearn')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('-m/--model and --model-uri are the same option');
  });
});
