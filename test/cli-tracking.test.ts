/**
 * End to end, through the real `mlmodel` binary: `build --experiment` logs the model to a run
 * (MLflow 3 logged model + files + params; run_id and model_id in MLmodel) on a FAKE MLflow
 * tracking server over HTTP and in a local ./mlruns; `runs:/` and `models:/name@alias` resolve for
 * info, predict and serve; `runs list|show` and `models list|show`; a hostile artifact listing is
 * refused with a one-line error. (The fake is checked against recordings of a real MLflow server
 * in packages/tracking-client/test/fake-server-conformance.test.ts.)
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadYaml } from '@mlmodel/format';
import { RestStore, TrackingClient, httpSettingsFromEnv } from '@mlmodel/tracking-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckWrite, openDuck } from '../packages/batch-scorer/test/support.js';
import { FakeMlflowServer } from '../packages/tracking-client/test/support/fake-mlflow-server.js';
import { BIN, FIXTURES, GOLDEN, freePort } from './support/serve-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'cli-tracking-'));
const IRIS = join(FIXTURES, 'iris_onnx');
const REQUEST = join(IRIS, 'serving_input_example.json');
const GOLDEN_REQUEST = join(tmp, 'golden-request.json');
const GOLDEN_LABELS = (GOLDEN.cases.iris_onnx![0]!.predictions as { label: unknown }).label;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI without blocking this process (the fake server answers it from here). */
function mlmodel(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, MLMODEL_CACHE_DIR: join(tmp, 'cache'), MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1', ...opts.env };
  if (!opts.env?.MLFLOW_TRACKING_URI) delete env.MLFLOW_TRACKING_URI;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const labels = (stdout: string): unknown => (JSON.parse(stdout) as { predictions: { label: unknown } }).predictions.label;

let fake: FakeMlflowServer;
let client: TrackingClient;
let env: Record<string, string>;
beforeAll(async () => {
  fake = await new FakeMlflowServer().start();
  client = new TrackingClient(new RestStore(new URL(fake.url), { settings: httpSettingsFromEnv({}) }));
  env = { MLFLOW_TRACKING_URI: fake.url };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(GOLDEN_REQUEST, JSON.stringify(GOLDEN.cases.iris_onnx![0]!.request));
});
afterAll(async () => {
  client.close();
  await fake.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('mlmodel build --experiment against a fake MLflow tracking server', () => {
  let built: { run_id: string; model_id: string; model_uri: string; run_model_uri: string; artifact_uri: string; dir: string };

  beforeAll(async () => {
    const r = await mlmodel(
      [
        'build',
        '--onnx',
        join(IRIS, 'model.onnx'),
        '--input-example',
        REQUEST,
        '--metadata',
        'team=iris',
        '--experiment',
        'cli-exp',
        '--run-name',
        'iris-build',
        '--json',
        '-o',
        join(tmp, 'built'),
      ],
      { env },
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.status).toBe(0);
    built = JSON.parse(r.stdout) as typeof built;
  });

  it('logs a run with the build’s params and an MLflow 3 logged model holding every file; MLmodel records run_id and model_id', async () => {
    expect(built.model_uri).toBe(`models:/${built.model_id}`);
    const mlmodel = loadYaml(readFileSync(join(built.dir, 'MLmodel'), 'utf8')) as Record<string, unknown>;
    expect(mlmodel).toMatchObject({ run_id: built.run_id, model_id: built.model_id, model_uuid: built.model_id, artifact_path: built.artifact_uri });
    const run = await client.store.getRun(built.run_id);
    expect(run.info).toMatchObject({ run_name: 'iris-build', status: 'FINISHED' });
    expect(Object.fromEntries(run.data.params.map((p) => [p.key, p.value]))).toEqual({
      flavor: 'onnx',
      source: join(IRIS, 'model.onnx'),
      signature: 'infer',
      input_example: REQUEST,
      'metadata.team': 'iris',
    });
    expect(run.outputs.model_outputs).toEqual([{ model_id: built.model_id, step: 0 }]);
    const model = await client.store.getLoggedModel(built.model_id);
    expect(model.info).toMatchObject({ status: 'LOGGED_MODEL_READY', name: 'model', source_run_id: built.run_id });
    const root = built.artifact_uri.replace('mlflow-artifacts:/', '');
    for (const f of ['MLmodel', 'model.onnx', 'conda.yaml', 'python_env.yaml', 'requirements.txt', 'input_example.json', 'serving_input_example.json']) {
      expect(fake.artifacts.get(`${root}/${f}`)?.equals(readFileSync(join(built.dir, f))), f).toBe(true);
    }
  });

  it('predict -m runs:/<run>/model and info models:/<name>@<alias> resolve through the server; the model is downloaded once', async () => {
    const p = await mlmodel(['predict', '-m', built.run_model_uri, '-i', GOLDEN_REQUEST], { env });
    expect(p.status).toBe(0);
    expect(labels(p.stdout)).toEqual(GOLDEN_LABELS);
    expect(p.stderr).toMatch(/^mlmodel: downloading runs:\/\w+\/model → models:\/m-\w+ → mlflow-artifacts:\/.* into /);

    await client.registerModel('cli-iris', built.model_uri, { run_id: built.run_id, model_id: built.model_id });
    await client.registry.setRegisteredModelAlias('cli-iris', 'champion', '1');
    const before = fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/2.0/mlflow-artifacts/artifacts/')).length;
    const info = await mlmodel(['info', 'models:/cli-iris@champion', '--json'], { env });
    expect(info.status).toBe(0);
    expect((JSON.parse(info.stdout) as { provenance: { model_id: string; run_id: string } }).provenance).toMatchObject({
      model_id: built.model_id,
      run_id: built.run_id,
    });
    // same content as the runs:/ download: nothing fetched again
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/2.0/mlflow-artifacts/artifacts/')).length).toBe(before);
    expect(info.stderr).toBe('');
    const v = await mlmodel(['validate', 'models:/cli-iris/1'], { env });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^OK: .* is a valid MLflow model/);
  });

  it('the container commands take model URIs: generate-dockerfile and generate-k8s -m models:/<name>@<alias>', async () => {
    const ctx = join(tmp, 'docker-context');
    const g = await mlmodel(['generate-dockerfile', '-m', 'models:/cli-iris@champion', '-d', ctx], { env });
    expect(g.status, g.stderr).toBe(0);
    // the resolved model is in the context, as MLflow wrote it
    expect(readFileSync(join(ctx, 'model', 'MLmodel'), 'utf8')).toContain(built.model_id);
    expect(readFileSync(join(ctx, 'Dockerfile'), 'utf8')).toMatch(/\/opt\/ml\/model/);
    const k = await mlmodel(['generate-k8s', '-m', 'models:/cli-iris@champion', '--image', 'reg.example/iris:1'], { env });
    expect(k.status, k.stderr).toBe(0);
    expect(k.stdout).toMatch(/kind: Deployment/);
    const nf = await mlmodel(['generate-k8s', '-m', 'models:/nope@champion', '--image', 'reg.example/iris:1'], { env });
    expect(nf.status).toBe(1);
    expect(nf.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('batch -m runs:/<run>/model scores a file with the resolved model', async () => {
    // the golden rows as a Parquet file (DuckDB writes it)
    const input = join(tmp, 'iris.parquet');
    const rows = (GOLDEN.cases.iris_onnx![0]!.request as { inputs: number[][] }).inputs;
    const duck = await openDuck();
    try {
      const values = rows.map((r) => `(${r.map((v) => `${v}::FLOAT`).join(', ')})`).join(', ');
      // the built model's input is the ONNX graph's tensor `features` [-1, 4]: one fixed-size list column
      await duckWrite(duck, `SELECT [a, b, c, d]::FLOAT[4] AS features FROM (VALUES ${values}) t(a, b, c, d)`, input);
    } finally {
      duck.close();
    }
    const out = join(tmp, 'iris-scored.jsonl');
    const b = await mlmodel(['batch', '-m', built.run_model_uri, '-i', input, '-o', out, '--format', 'jsonl', '--keep-columns', 'none', '--workers', '1'], {
      env,
    });
    expect(b.status, b.stderr + b.stdout).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: number });
    expect(lines.map((l) => l.label)).toEqual(GOLDEN_LABELS);
  });

  it('serve -m models:/<name>@<alias> serves the resolved model', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '-m', 'models:/cli-iris@champion', '--port', String(port), '--log-level', 'warn'], {
      cwd: tmp,
      env: { ...process.env, ...env, MLMODEL_CACHE_DIR: join(tmp, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      let ready = false;
      for (let i = 0; i < 600 && !ready && child.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/ping`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, err).toBe(true);
      const r = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: readFileSync(GOLDEN_REQUEST),
      });
      expect(r.status).toBe(200);
      expect(labels(await r.text())).toEqual(GOLDEN_LABELS);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('a hostile artifact listing (../, absolute path) is refused: exit 1, one line, nothing written outside the cache', async () => {
    const root = built.artifact_uri.replace('mlflow-artifacts:/', '');
    try {
      for (const path of ['../../../../evil.txt', '/tmp/evil-absolute.txt']) {
        fake.listingOverrides.set(root, { files: [{ path, is_dir: false, file_size: 4 }] });
        const cache = join(tmp, `hostile-cache-${path.length}`);
        const r = await mlmodel(['info', built.model_uri], { env: { ...env, MLMODEL_CACHE_DIR: cache } });
        expect(r.status).toBe(1);
        // the progress line, then the error on one line, no stack trace
        const lines = r.stderr.split('\n').filter(Boolean);
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatch(/^mlmodel: downloading models:\/m-/);
        expect(lines[1]).toMatch(/^error: .*refusing the artifact name ".*evil.*" \(it is not a plain file or directory name\)$/);
        expect(existsSync(join(tmp, 'evil.txt')) || existsSync('/tmp/evil-absolute.txt') || existsSync(join(cache, 'evil.txt'))).toBe(false);
      }
    } finally {
      fake.listingOverrides.clear();
    }
  });

  it('--run-id logs to an existing run, which stays open', async () => {
    const exp = await client.getOrCreateExperiment('cli-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'training' });
    const r = await mlmodel(
      ['build', '--onnx', join(IRIS, 'model.onnx'), '--run-id', run.info.run_id, '--model-name', 'iris', '-o', join(tmp, 'built-run-id')],
      { env },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`logged to run ${run.info.run_id} .* load it with -m runs:/${run.info.run_id}/iris`));
    expect((await client.store.getRun(run.info.run_id)).info.status).toBe('RUNNING');
    const missing = await mlmodel(['build', '--onnx', join(IRIS, 'model.onnx'), '--run-id', '0123456789abcdef0123456789abcdef', '-o', join(tmp, 'never')], {
      env,
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: Run with id=0123456789abcdef0123456789abcdef not found \(RESOURCE_DOES_NOT_EXIST from http:\/\/127\.0\.0\.1:\d+, GET \/api\/2\.0\/mlflow\/runs\/get → HTTP 404\)\n$/,
    );
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });

  it('runs list|show and models list|show read the server', async () => {
    const list = await mlmodel(['runs', 'list', '--experiment', 'cli-exp'], { env });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${built.run_id}\\s+iris-build\\s+FINISHED`));
    const show = await mlmodel(['runs', 'show', built.run_id], { env });
    expect(show.stdout).toMatch(new RegExp(`Run: ${built.run_id} \\(iris-build\\)`));
    expect(show.stdout).toMatch(/flavor\s+onnx/);
    expect(show.stdout).toContain(`${built.model_id}  model  READY   models:/${built.model_id}`);
    const models = await mlmodel(['models', 'list', '--experiment', 'cli-exp', '--json'], { env });
    expect((JSON.parse(models.stdout) as { info: { model_id: string } }[]).map((m) => m.info.model_id)).toContain(built.model_id);
    const versions = await mlmodel(['models', 'list', '--name', 'cli-iris'], { env });
    expect(versions.stdout).toMatch(/^version\s+stage\s+aliases[\s\S]*\n1\s+None\s+champion\s+READY/);
    const mshow = await mlmodel(['models', 'show', 'models:/cli-iris@champion'], { env });
    expect(mshow.stdout).toContain(`download uri: ${built.artifact_uri}`);
    const lshow = await mlmodel(['models', 'show', built.model_id], { env });
    expect(lshow.stdout).toMatch(/Files:\n {2}MLmodel \(\d+ bytes\)/);
  });

  it('errors are one line, exit 1; usage errors exit 2', async () => {
    const nf = await mlmodel(['info', 'models:/nope/1'], { env });
    expect(nf.status).toBe(1);
    expect(nf.stderr).toMatch(/^error: Model Version \(name=nope, version=1\) not found \(RESOURCE_DOES_NOT_EXIST .*\)\n$/);
    const db = await mlmodel(['runs', 'list'], { env: { MLFLOW_TRACKING_URI: 'databricks' } });
    expect(db.status).toBe(1);
    expect(db.stderr).toMatch(/^error: tracking URI databricks: Databricks workspaces are not supported/);
    const both = await mlmodel(['build', '--onnx', join(IRIS, 'model.onnx'), '--experiment', 'x', '--run-id', 'y', '-o', join(tmp, 'x')], { env });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/give --experiment \(a new run\) or --run-id \(an existing run\), not both/);
  });
});

describe('mlmodel with the default local file store (./mlruns)', () => {
  it('build --experiment writes ./mlruns; runs list and predict -m runs:/ read it back', async () => {
    const cwd = join(tmp, 'project');
    mkdirSync(cwd);
    const b = await mlmodel(['build', '--onnx', join(IRIS, 'model.onnx'), '--experiment', 'local', '--json', '-o', 'model'], { cwd });
    expect(b.status).toBe(0);
    const built = JSON.parse(b.stdout) as { run_id: string; experiment_id: string; model_id: string; run_model_uri: string };
    expect(existsSync(join(cwd, 'mlruns', built.experiment_id, 'models', built.model_id, 'artifacts', 'model.onnx'))).toBe(true);
    expect(existsSync(join(cwd, 'mlruns', built.experiment_id, built.run_id, 'outputs', built.model_id, 'meta.yaml'))).toBe(true);
    const list = await mlmodel(['runs', 'list', '--json'], { cwd });
    expect((JSON.parse(list.stdout) as { info: { run_id: string } }[]).map((r) => r.info.run_id)).toEqual([built.run_id]);
    const p = await mlmodel(['predict', '-m', built.run_model_uri, '-i', GOLDEN_REQUEST], { cwd });
    expect(p.status).toBe(0);
    expect(labels(p.stdout)).toEqual(GOLDEN_LABELS);
  });

  it('the store real MLflow 3.5 wrote: runs list shows its runs, models:/m-<id> opens its logged model', async () => {
    const cwd = join(tmp, 'mlflow-written');
    mkdirSync(cwd);
    const src = join(FIXTURES, '..', 'mlflow-3.5-tracking', 'mlruns');
    cpSync(src, join(cwd, 'mlruns'), { recursive: true });
    const { readdirSync, writeFileSync, statSync } = await import('node:fs');
    for (const rel of readdirSync(join(cwd, 'mlruns'), { recursive: true }) as string[]) {
      const f = join(cwd, 'mlruns', rel);
      if (statSync(f).isFile())
        writeFileSync(
          f,
          readFileSync(f)
            .toString('latin1')
            .split('file:///MLRUNS_ROOT')
            .join(`file://${join(cwd, 'mlruns')}`),
          'latin1',
        );
    }
    const list = await mlmodel(['runs', 'list', '--experiment', 'fixture-exp', '--view', 'all'], { cwd });
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/d8d4f7509cf148869a439a9a28c50b42\s+fixture-run\s+FINISHED/);
    expect(list.stdout).toMatch(/163ff3df84204cbe90e9e89377d3d6af\s+failed-run\s+FAILED/);
    expect(list.stdout).toMatch(/9cce96c8fe9c4082a7727fc964ecb843\s+deleted-run\s+FINISHED \(deleted\)/);
    const info = await mlmodel(['info', 'models:/m-90c92f8614ac48b59e121ff4c70c91fb', '--json'], { cwd });
    expect(info.status).toBe(0);
    expect(Object.keys((JSON.parse(info.stdout) as { flavors: object }).flavors).sort()).toEqual(['python_function', 'sklearn']);
  });

  it('build --run-id with no tracking store configured only records the run id (nothing is logged, no ./mlruns)', async () => {
    const cwd = join(tmp, 'no-tracking');
    mkdirSync(cwd);
    const r = await mlmodel(['build', '--onnx', join(IRIS, 'model.onnx'), '--run-id', 'abc123', '-o', 'model'], { cwd });
    expect(r.status).toBe(0);
    expect(readFileSync(join(cwd, 'model', 'MLmodel'), 'utf8')).toMatch(/^run_id: abc123$/m);
    expect(existsSync(join(cwd, 'mlruns'))).toBe(false);
  });
});
