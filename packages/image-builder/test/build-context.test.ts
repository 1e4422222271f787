/**
 * The build context on disk (what generate-dockerfile writes, through the real CLI) and the
 * Dockerfile in it; the model checks that run before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModelForImage } from '../src/model-check.js';
import { renderDockerfile } from '../src/dockerfile.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'mlmodel.js');
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-context-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mlmodel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Dockerfile instructions (continuation lines joined), without comments. */
function instructions(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

describe('mlmodel generate-dockerfile', () => {
  it('writes a self-contained context for an ONNX model: Dockerfile, runtime, model', () => {
    const dir = join(tmp, 'onnx-context');
    const r = mlmodel(['generate-dockerfile', '-m', join(FIXTURES, 'iris_onnx'), '-d', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${dir}: Dockerfile, runtime/ \\(\\d+ packages, [\\d.]+ MB\\), model/\\n  build   docker build -t NAME ${dir}`));
    expect(readdirSync(dir).sort()).toEqual(['Dockerfile', 'build', 'model', 'runtime']);
    expect(readdirSync(join(dir, 'model')).sort()).toEqual(readdirSync(join(FIXTURES, 'iris_onnx')).sort());
    // the fixture's read-only files become readable plain files
    expect(statSync(join(dir, 'model', 'model.onnx')).mode & 0o777).toBe(0o644);
    expect(existsSync(join(dir, 'runtime', 'node_modules', '@mlmodel', 'cli', 'dist', 'main.js'))).toBe(true);
    expect(existsSync(join(dir, 'runtime', 'container', 'entry.js'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'runtime', 'package.json'), 'utf8'))).toMatchObject({ type: 'module' });
    expect(existsSync(join(dir, 'runtime', 'node_modules', '@tensorflow'))).toBe(false);
    expect(existsSync(join(dir, 'build', 'python'))).toBe(false);

    const ins = instructions(readFileSync(join(dir, 'Dockerfile'), 'utf8'));
    expect(ins[0]).toBe('ARG BASE_IMAGE=node:20-bookworm-slim');
    expect(ins.filter((l) => l.startsWith('FROM '))).toEqual(['FROM ${BASE_IMAGE}']);
    expect(ins).toContain('COPY runtime/ /opt/mlmodel/');
    expect(ins).toContain('COPY model/ /opt/ml/model/');
    expect(ins).toContain('USER 10001:10001');
    expect(ins).toContain('ENTRYPOINT ["node", "/opt/mlmodel/container/entry.js"]');
    expect(ins).toContain('CMD ["serve"]');
    expect(ins.find((l) => l.startsWith('LABEL '))).toMatch(/com\.amazonaws\.sagemaker\.capabilities\.accept-bind-to-port="true"/);
    expect(ins.find((l) => l.startsWith('ENV '))).toMatch(/MLMODEL_MODEL_NAME="iris_onnx".*ORT_DISABLE_TELEMETRY="1"/);
    // the server runs as the unprivileged user: the last USER is it, and nothing after it runs as root
    expect(ins.filter((l) => l.startsWith('USER ')).pop()).toBe('USER 10001:10001');
  });

  it('a python_function context: a Python stage, the model requirements, the build-time check', () => {
    const dir = join(tmp, 'sklearn-context');
    const r = mlmodel([
      'generate-dockerfile',
      '-m',
      join(FIXTURES, 'iris_sklearn'),
      '-d',
      dir,
      '--base-image',
      'my-registry/node-python:20',
      '--env-manager',
      'local',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--build-arg PIP_INDEX_URL=URL/);
    expect(readFileSync(join(dir, 'build', 'python', 'requirements.txt'), 'utf8')).toBe(
      readFileSync(join(FIXTURES, 'iris_sklearn', 'requirements.txt'), 'utf8').trimEnd() + '\n',
    );
    expect(readFileSync(join(dir, 'build', 'python', 'skip.txt'), 'utf8')).toBe('mlflow\nmlflow-skinny\n');
    expect(readFileSync(join(dir, 'build', 'python', 'python-version.txt'), 'utf8')).toBe('3.11.2\n');
    const ins = instructions(readFileSync(join(dir, 'Dockerfile'), 'utf8'));
    expect(ins[0]).toBe('ARG BASE_IMAGE=my-registry/node-python:20');
    expect(ins.filter((l) => l.startsWith('FROM '))).toEqual(['FROM ${BASE_IMAGE} AS python', 'FROM python AS python-env', 'FROM python']);
    expect(ins).toContain('RUN sh /opt/mlmodel-build/python/make_env.sh local');
    expect(ins).toContain('COPY --from=python-env /opt/mlmodel/python/ /opt/mlmodel/python/');
    expect(ins.find((l) => l.includes('--mode verify'))).toBeDefined();
    expect(ins.find((l) => l.startsWith('ENV '))).toMatch(/MLMODEL_PYTHON="\/opt\/mlmodel\/python\/bin\/python"/);
    expect(existsSync(join(dir, 'runtime', 'node_modules', 'onnxruntime-node'))).toBe(false);
    expect(existsSync(join(dir, 'runtime', 'node_modules', '@mlmodel', 'flavors', 'python', 'mlmodel_worker.py'))).toBe(true);
  });

  it('a generic context (no -m) for the flavors asked for', () => {
    const dir = join(tmp, 'generic-context');
    const r = mlmodel(['generate-dockerfile', '--flavors', 'tfjs,js_function', '-d', dir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ directory: dir, flavors: ['tfjs', 'js_function'], model: null, baseImage: 'node:20-bookworm-slim' });
    expect(existsSync(join(dir, 'model'))).toBe(false);
    expect(existsSync(join(dir, 'runtime', 'node_modules', '@tensorflow', 'tfjs-core'))).toBe(true);
    expect(instructions(readFileSync(join(dir, 'Dockerfile'), 'utf8'))).not.toContain('COPY model/ /opt/ml/model/');
  });

  it('usage and user errors: one line, exit 2 or 1, nothing written', () => {
    let r = mlmodel(['generate-dockerfile', '-d', join(tmp, 'none')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: give a model (-m MODEL), or the flavors a generic image serves (--flavors onnx,tfjs,js_function,python_function)\n');
    r = mlmodel(['generate-dockerfile', '--flavors', 'onnx,keras', '-d', join(tmp, 'none')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("error: --flavors: unknown flavor 'keras'; an image can serve onnx, tfjs, js_function, python_function\n");
    r = mlmodel(['generate-dockerfile', '-m', join(FIXTURES, 'iris_onnx'), '--env-manager', 'conda', '-d', join(tmp, 'none')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: option '--env-manager <name>' argument 'conda' is invalid/);
    const full = join(tmp, 'onnx-context');
    r = mlmodel(['generate-dockerfile', '-m', join(FIXTURES, 'iris_onnx'), '-d', full]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${full} is not empty: give a new or empty directory for the build context\n`);
    expect(existsSync(join(tmp, 'none'))).toBe(false);
  });
});

describe('checkModelForImage', () => {
  it('picks the flavor mlmodel serve would: native first, python_function as the fallback, --flavor to override', async () => {
    expect((await checkModelForImage(join(FIXTURES, 'iris_onnx'))).flavor).toBe('onnx');
    expect((await checkModelForImage(join(FIXTURES, 'iris_onnx'), { flavor: 'python_function' })).flavor).toBe('python_function');
    const sk = await checkModelForImage(join(FIXTURES, 'iris_sklearn'));
    expect(sk.flavor).toBe('python_function');
    expect(sk.python?.requirements).toContain('scikit-learn==1.2.1');
    expect(sk.python?.skip).toEqual(['mlflow', 'mlflow-skinny']);
  });

  it('a model that is broken, unreadable or of no servable flavor fails with one line', async () => {
    const broken = join(tmp, 'broken');
    cpSync(join(FIXTURES, 'iris_sklearn'), broken, { recursive: true });
    chmodSync(broken, 0o755);
    rmSync(join(broken, 'model.pkl'), { force: true });
    await expect(checkModelForImage(broken)).rejects.toThrow(
      `${broken} is broken: ${join(broken, 'MLmodel')} at flavors.python_function.model_path: refers to "model.pkl", which does not exist in the model directory`,
    );
    await expect(checkModelForImage(join(tmp, 'missing'))).rejects.toThrow(/missing: model path does not exist/);
    await expect(checkModelForImage(join(FIXTURES, 'iris_onnx'), { flavor: 'tfjs' })).rejects.toThrow(
      /^flavor 'tfjs' cannot load .*: the model has flavors onnx, python_function$/,
    );
    chmodSync(join(broken, 'MLmodel'), 0o644);
    writeFileSync(join(broken, 'MLmodel'), 'flavors:\n  h2o:\n    data: model.h2o\n');
    writeFileSync(join(broken, 'model.h2o'), 'not really');
    await expect(checkModelForImage(broken)).rejects.toThrow(/no flavor can load/);
  });
});

describe('renderDockerfile', () => {
  it('uses only instructions the classic builder and BuildKit both run, in exec form', () => {
    const text = renderDockerfile({
      baseImage: 'node:20-bookworm-slim',
      flavors: ['python_function'],
      model: { name: 'm', flavor: 'python_function' },
      mlmodelVersion: '0.1.0',
    });
    expect(text).not.toMatch(/^# syntax=/m); // a syntax line would make BuildKit pull a frontend image
    expect(text).not.toMatch(/--chmod|--link|RUN --mount/);
    for (const l of instructions(text).filter((x) => /^(ENTRYPOINT|CMD|HEALTHCHECK)/.test(x))) expect(l).toMatch(/\[".*"\]$/);
  });
});
