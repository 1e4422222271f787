/**
 * `mlmodel build-docker` end to end on a real Docker engine (the test command starts one and
 * makes the local base images; nothing here is skipped). For each kind of model — ONNX and
 * python_function saved by MLflow 3.5, a js_function model and a tfjs model — the real CLI builds
 * an image, then real containers serve it:
 *
 * - `docker run IMAGE` as it is (read-only root filesystem, no network at all): /ping, the golden
 *   predictions on /invocations, OIP v2 inference, every process running as uid 10001;
 * - `docker run IMAGE serve` with $SAGEMAKER_BIND_TO_PORT on the host network (read-only): the
 *   same from the test process, then SIGTERM while a request is half sent: the request is answered
 *   and the container exits 0 within seconds.
 *
 * Also: what the ONNX image holds (no tfjs, onnxruntime's linux-x64 CPU library only, no
 * TypeScript, maps or package managers) and its size over the base; configuration from the
 * environment (workers, auth, port; a bad value is one line) and other mlmodel commands passed
 * through (`info`; `train` refused); labels from --label; a generic image serving
 * models mounted at /opt/ml/model; requirements installed at build time from a package index;
 * the one-line errors for a broken model, a missing engine and a failing build step; the live
 * progress view on a terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE_BASE,
  PYTHON_BASE,
  docker,
  dockerOk,
  execHttp,
  imageSize,
  logs,
  postJson,
  removeContainers,
  requestAcrossSigterm,
  requireEngineAndBases,
  startContainer,
  waitExit,
  waitReady,
  waitReadyInside,
} from './support/docker.js';
import { BIN, FIXTURES, GOLDEN, freePort, jsonDiff } from './support/serve-process.js';
import { packageRoot } from './support/test-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-docker-e2e-'));
const built: string[] = [];
const tagFor = (name: string): string => `mlmodel-test/${name}:e2e`;

afterAll(() => {
  removeContainers();
  if (built.length > 0) docker(['rmi', '-f', ...built]);
  rmSync(tmp, { recursive: true, force: true });
});

beforeAll(() => requireEngineAndBases([NODE_BASE, PYTHON_BASE]));

/** The CLI in a child process that does not block this one (the pip index below is served from here). */
function mlmodelAsync(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function mlmodel(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Build with the real CLI (plain progress: stderr is not a terminal); the image is removed after the tests. */
function buildDocker(model: string | null, tag: string, base: string, extra: readonly string[] = []): { stdout: string; stderr: string } {
  const r = mlmodel(['build-docker', ...(model ? ['-m', model] : []), '-n', tag, '--base-image', base, '--network', 'host', ...extra]);
  if (r.status === 0) built.push(tag);
  expect(r.status, r.stderr).toBe(0);
  return r;
}

/** An OIP v2 request equivalent to an MLflow request, from the model's metadata. */
function oipRequest(meta: { inputs: { name: string; datatype: string }[] }, request: Record<string, unknown>): unknown {
  const records = request.dataframe_records as Record<string, unknown>[] | undefined;
  const split =
    (request.dataframe_split as { columns: string[]; data: unknown[][] } | undefined) ??
    (records ? { columns: Object.keys(records[0]!), data: records.map((r) => Object.values(r)) } : undefined);
  if (split) {
    return {
      inputs: meta.inputs.map((i) => {
        const col = split.columns.indexOf(i.name);
        return { name: i.name, datatype: i.datatype, shape: [split.data.length], data: split.data.map((row) => row[col]) };
      }),
    };
  }
  const inputs = request.inputs as unknown[];
  const shape: number[] = [];
  for (let v: unknown = inputs; Array.isArray(v); v = v[0]) shape.push(v.length);
  return { inputs: [{ name: meta.inputs[0]!.name, datatype: meta.inputs[0]!.datatype, shape, data: (inputs as unknown[]).flat(Infinity) }] };
}

/** The OIP response's outputs against MLflow-form predictions (an array: one output; an object: by name). */
function oipDiff(response: unknown, predictions: unknown, tol: number): string | null {
  const outputs = (response as { outputs?: { name: string; data: unknown[] }[] }).outputs;
  if (!Array.isArray(outputs)) return `no outputs in ${JSON.stringify(response).slice(0, 300)}`;
  if (Array.isArray(predictions)) return jsonDiff(outputs[0]!.data, predictions.flat(Infinity), tol, '$.outputs[0]');
  for (const [name, value] of Object.entries(predictions as Record<string, unknown[]>)) {
    const out = outputs.find((o) => o.name === name);
    if (!out) return `no output named ${name}`;
    const d = jsonDiff(out.data, value.flat(Infinity), tol, `$.outputs.${name}`);
    if (d) return d;
  }
  return null;
}

interface ModelCase {
  readonly name: string;
  readonly base: string;
  /** The model directory (made in beforeAll for js_function and tfjs). */
  model: string;
  request: Record<string, unknown>;
  predictions: unknown;
  readonly tol: number;
  /** Extra checks on a container that serves it on the host network. */
  readonly hostChecks?: (url: string, id: string) => Promise<void>;
}

const cases: ModelCase[] = [
  {
    name: 'iris_onnx',
    base: NODE_BASE,
    model: join(FIXTURES, 'iris_onnx'),
    request: GOLDEN.cases.iris_onnx![0]!.request as Record<string, unknown>,
    predictions: GOLDEN.cases.iris_onnx![0]!.predictions,
    tol: 1e-6,
  },
  {
    name: 'iris_sklearn',
    base: PYTHON_BASE,
    model: join(FIXTURES, 'iris_sklearn'),
    request: GOLDEN.cases.iris_sklearn![0]!.request as Record<string, unknown>,
    predictions: GOLDEN.cases.iris_sklearn![0]!.predictions,
    tol: 0,
  },
  {
    name: 'doubler',
    base: NODE_BASE,
    model: '',
    request: { dataframe_records: [{ x: 1.5 }, { x: 2 }, { x: -4 }] },
    predictions: [3, 4, -8],
    tol: 0,
    hostChecks: async (url) => {
      // params reach a js_function model in the image as they do outside it
      const r = await postJson(`${url}/invocations`, { dataframe_records: [{ x: 1 }], params: { delay_ms: 10 } });
      expect(r.json).toEqual({ predictions: [2] });
    },
  },
  {
    name: 'emotion',
    base: NODE_BASE,
    model: '',
    request: {},
    predictions: null,
    tol: 1e-5,
  },
];

beforeAll(() => {
  // a js_function model whose predict can be made slow with a param
  const src = join(tmp, 'doubler-src');
  mkdirSync(src);
  writeFileSync(
    join(src, 'doubler.mjs'),
    `export async function load() {
  return {
    async predict(batch, params) {
      if (params.delay_ms > 0) await new Promise((r) => setTimeout(r, params.delay_ms));
      const x = batch.columns.find((c) => c.name === 'x');
      const out = [];
      for (let i = 0; i < batch.numRows; i++) out.push(Number(x.values[i]) * 2);
      return { kind: 'json', value: out };
    },
  };
}
`,
  );
  writeFileSync(join(src, 'example.json'), JSON.stringify({ dataframe_records: [{ x: 1.5 }, { x: 2 }] }));
  const doubler = join(tmp, 'doubler');
  let r = mlmodel(['build', '--js', join(src, 'doubler.mjs'), '--input-example', join(src, 'example.json'), '--param', 'delay_ms=long:0', '-o', doubler]);
  expect(r.status, r.stderr).toBe(0);
  cases[2]!.model = doubler;

  // a real tfjs graph model (from @vladmandic/human); its golden predictions come from mlmodel predict outside any container
  const image = Array.from({ length: 64 }, (_, y) => Array.from({ length: 64 }, (_, x) => [((x * 7 + y * 13) % 255) / 255]));
  const request = { inputs: [image, image.map((row) => row.map(([v]) => [1 - v!]))] };
  writeFileSync(join(tmp, 'emotion-example.json'), JSON.stringify(request));
  const emotion = join(tmp, 'emotion');
  r = mlmodel([
    'build',
    '--tfjs',
    join(packageRoot('@vladmandic/human'), 'models', 'emotion.json'),
    '--input-example',
    join(tmp, 'emotion-example.json'),
    '-o',
    emotion,
  ]);
  expect(r.status, r.stderr).toBe(0);
  const p = mlmodel(['predict', '-m', emotion, '-i', join(tmp, 'emotion-example.json')]);
  expect(p.status, p.stderr).toBe(0);
  cases[3]!.model = emotion;
  cases[3]!.request = request;
  cases[3]!.predictions = (JSON.parse(p.stdout) as { predictions: unknown }).predictions;
}, 120_000);

const sizes: Record<string, { image: number; base: number }> = {};

for (const c of cases) {
  describe(`${c.name} image`, () => {
    const tag = tagFor(c.name.replace(/_/g, '-'));

    it('builds with mlmodel build-docker (plain progress lines, then the image id and size)', () => {
      const r = buildDocker(c.model, tag, c.base, ['--label', 'dev.example.owner=tests', '--label', 'dev.example.case=' + c.name]);
      expect(r.stderr).toMatch(/^Step 1\/\d+ : ARG BASE_IMAGE=/m);
      expect(r.stdout).toMatch(new RegExp(`^built ${tag.replace(/[.:/]/g, '\\$&')} in [\\d.]+ s$`, 'm'));
      expect(r.stdout).toMatch(/^ {2}image id {2}sha256:[0-9a-f]{64}$/m);
      expect(r.stdout).toMatch(/^ {2}size {6}[\d.]+ MB \([\d.]+ MB over /m);
      const labels = JSON.parse(dockerOk(['image', 'inspect', '--format', '{{json .Config.Labels}}', tag])) as Record<string, string>;
      expect(labels['com.amazonaws.sagemaker.capabilities.accept-bind-to-port']).toBe('true');
      expect(labels['dev.example.owner']).toBe('tests');
      expect(labels['dev.example.case']).toBe(c.name);
      expect(dockerOk(['image', 'inspect', '--format', '{{.Config.User}}', tag])).toBe('10001:10001');
      sizes[c.name] = { image: imageSize(tag), base: imageSize(c.base) };
    }, 600_000);

    it('docker run IMAGE (read-only, no network): /ping, golden /invocations, OIP v2, uid 10001', async () => {
      const id = startContainer(tag, { runArgs: ['--read-only', '--network', 'none'] });
      await waitReadyInside(id);
      const inv = execHttp(id, '/invocations', c.request);
      expect(inv.status, inv.body).toBe(200);
      expect(jsonDiff((JSON.parse(inv.body) as { predictions: unknown }).predictions, c.predictions, c.tol)).toBeNull();
      const meta = execHttp(id, `/v2/models/${c.name}`);
      expect(meta.status, meta.body).toBe(200);
      const oip = execHttp(id, `/v2/models/${c.name}/infer`, oipRequest(JSON.parse(meta.body) as never, c.request));
      expect(oip.status, oip.body).toBe(200);
      expect(oipDiff(JSON.parse(oip.body), c.predictions, c.tol)).toBeNull();
      // every process in the container (server, cluster workers, Python workers) runs as 10001
      const uids = dockerOk([
        'exec',
        id,
        'node',
        '-e',
        "const fs=require('fs');for(const p of fs.readdirSync('/proc').filter(d=>/^\\d+$/.test(d))){try{const s=fs.readFileSync('/proc/'+p+'/status','utf8');console.log(/^Uid:\\s+(\\d+)/m.exec(s)[1], fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0').join(' '))}catch{}}",
      ]);
      const procs = uids.split('\n').filter((l) => !/ -e const fs=/.test(l));
      expect(procs.length).toBeGreaterThan(0);
      for (const line of procs) expect(line, uids).toMatch(/^10001 /);
      expect(procs.join('\n')).toMatch(/^10001 node \/opt\/mlmodel\/container\/entry\.js serve/m);
      if (c.base === PYTHON_BASE) expect(procs.join('\n')).toMatch(/^10001 \/opt\/mlmodel\/python\/bin\/python -u .*mlmodel_worker\.py/m);
      docker(['rm', '-f', id]);
    }, 120_000);

    it('docker run IMAGE serve with SAGEMAKER_BIND_TO_PORT: serves on that port; SIGTERM mid-request answers it and exits 0', async () => {
      const port = await freePort();
      const id = startContainer(tag, { runArgs: ['--read-only', '--network', 'host', '-e', `SAGEMAKER_BIND_TO_PORT=${port}`], args: ['serve'] });
      const url = `http://127.0.0.1:${port}`;
      await waitReady(url, id);
      const inv = await postJson(`${url}/invocations`, c.request);
      expect(inv.status, inv.text).toBe(200);
      expect(jsonDiff((inv.json as { predictions: unknown }).predictions, c.predictions, c.tol)).toBeNull();
      const meta = (await (await fetch(`${url}/v2/models/${c.name}`)).json()) as never;
      const oip = await postJson(`${url}/v2/models/${c.name}/infer`, oipRequest(meta, c.request));
      expect(oip.status, oip.text).toBe(200);
      expect(oipDiff(oip.json, c.predictions, c.tol)).toBeNull();
      await c.hostChecks?.(url, id);

      const r = await requestAcrossSigterm(port, '/invocations', JSON.stringify(c.request), id);
      expect(r.sigtermAt).toBeGreaterThan(0);
      expect(r.respondedAt).toBeGreaterThan(r.sigtermAt);
      expect(r.status, r.text).toBe(200);
      expect(jsonDiff((JSON.parse(r.text) as { predictions: unknown }).predictions, c.predictions, c.tol)).toBeNull();
      const t0 = Date.now();
      expect(waitExit(id, 30_000), logs(id)).toBe(0);
      expect(Date.now() - r.sigtermAt).toBeLessThan(15_000);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(logs(id)).toMatch(/SIGTERM: draining in-flight requests/);
    }, 120_000);
  });
}

describe('what the ONNX image holds', () => {
  const tag = tagFor('iris-onnx');

  it('adds at most 120 MB over its base', () => {
    const s = sizes.iris_onnx;
    expect(s, 'the iris_onnx image was built').toBeDefined();
    expect(s!.image - s!.base).toBeLessThanOrEqual(120e6);
    expect(s!.image - s!.base).toBeGreaterThan(40e6); // onnxruntime's 46 MB library is in it
  });

  it('only the runtime it needs: no tfjs, linux-x64 CPU onnxruntime only, no TypeScript, maps, package managers or compilers', () => {
    const script = `const fs = require('fs'), path = require('path');
const files = [];
const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else files.push(p); } };
walk('/opt/mlmodel');
const onPath = ['npm','npx','corepack','yarn','apt','apt-get','dpkg','gcc','cc','g++','make','pip','pip3','python3'].filter((t) => process.env.PATH.split(':').some((d) => fs.existsSync(path.join(d, t))));
console.log(JSON.stringify({ files, onPath }));`;
    const { files, onPath } = JSON.parse(dockerOk(['run', '--rm', '--network', 'none', '--entrypoint', 'node', tag, '-e', script])) as {
      files: string[];
      onPath: string[];
    };
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => f.includes('/@tensorflow/'))).toEqual([]);
    expect(files.filter((f) => /\/(dockerode|docker-modem|@mlmodel\/image-builder|typescript|vitest|eslint)\//.test(f))).toEqual([]);
    // native code: onnxruntime's linux-x64 CPU library and binding, and nothing for another platform
    const native = files.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f));
    expect(native.filter((f) => f.includes('/onnxruntime-node/')).sort()).toEqual([
      '/opt/mlmodel/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      '/opt/mlmodel/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    for (const f of native) expect(f).toMatch(/linux[-/]x64/);
    expect(files.filter((f) => /(darwin|win32|arm64|cuda|tensorrt|DirectML)/i.test(f))).toEqual([]);
    expect(files.filter((f) => /\.(ts|map|tsbuildinfo)$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('/opt/mlmodel/node_modules/@mlmodel/') && /\/src\//.test(f))).toEqual([]);
    expect(onPath).toEqual([]);
  });
});

describe('the ONNX image takes its configuration from the environment and passes other commands to mlmodel', () => {
  const tag = tagFor('iris-onnx');

  it('MLMODEL_WORKERS, MLMODEL_AUTH_TOKEN, MLMODEL_PORT: one process, bearer auth on /invocations, health open', async () => {
    const port = await freePort();
    const id = startContainer(tag, {
      runArgs: ['--read-only', '--network', 'host', '-e', 'MLMODEL_WORKERS=1', '-e', 'MLMODEL_AUTH_TOKEN=s3cret', '-e', `MLMODEL_PORT=${port}`],
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, id);
    const g = GOLDEN.cases.iris_onnx![0]!;
    expect((await postJson(`${url}/invocations`, g.request)).status).toBe(401);
    const ok = await postJson(`${url}/invocations`, g.request, { authorization: 'Bearer s3cret' });
    expect(ok.status, ok.text).toBe(200);
    expect(logs(id)).toMatch(/serving 1 model\(s\) at http:\/\/0\.0\.0\.0:\d+ with 1 process \(as given\)/);
    docker(['rm', '-f', id]);
  }, 120_000);

  it('a variable that is not a number stops the container with one line naming it (exit 2)', () => {
    const r = docker(['run', '--rm', '--network', 'none', '-e', 'MLMODEL_MAX_BATCH_SIZE=zero', tag]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: $MLMODEL_MAX_BATCH_SIZE must be an integer ≥ 1, got "zero"\n');
  });

  it('docker run IMAGE info /opt/ml/model runs mlmodel info; train is refused', () => {
    const info = docker(['run', '--rm', '--network', 'none', tag, 'info', '/opt/ml/model', '--json']);
    expect(info.status, info.stderr).toBe(0);
    expect((JSON.parse(info.stdout) as { flavors: Record<string, unknown> }).flavors).toHaveProperty('onnx');
    const train = docker(['run', '--rm', '--network', 'none', tag, 'train']);
    expect(train.status).toBe(2);
    expect(train.stderr).toBe("error: this image serves a model; it cannot 'train' (SageMaker starts inference containers with 'serve')\n");
  });
});

describe('the python_function image', () => {
  it('has no pip, ensurepip or compiler, and its Python imports the model requirements', () => {
    const r = docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      '/opt/mlmodel/python/bin/python',
      tagFor('iris-sklearn'),
      '-c',
      'import sklearn, pandas, cloudpickle; import pip',
    ]);
    expect(r.stderr).toMatch(/ModuleNotFoundError: No module named 'pip'/);
    const e = docker(['run', '--rm', '--network', 'none', '--entrypoint', '/opt/mlmodel/python/bin/python', tagFor('iris-sklearn'), '-m', 'ensurepip']);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/No module named ensurepip/);
  });
});

describe('a generic image (no -m) serves the model mounted at /opt/ml/model', () => {
  const tag = tagFor('generic');

  it('builds for --flavors onnx,python_function', () => {
    const r = buildDocker(null, tag, PYTHON_BASE, ['--flavors', 'onnx,python_function', '--json']);
    const built = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(built).toMatchObject({ tag, model: null, flavors: ['onnx', 'python_function'], baseImage: PYTHON_BASE });
    expect(built.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.sizeBytes).toBe(imageSize(tag));
  }, 600_000);

  for (const name of ['iris_onnx', 'iris_sklearn']) {
    it(`serves ${name} mounted read-only, with no network`, async () => {
      const id = startContainer(tag, { runArgs: ['--read-only', '--network', 'none', '-v', `${join(FIXTURES, name)}:/opt/ml/model:ro`] });
      await waitReadyInside(id);
      const g = GOLDEN.cases[name]![0]!;
      const inv = execHttp(id, '/invocations', g.request);
      expect(inv.status, inv.body).toBe(200);
      expect(jsonDiff((JSON.parse(inv.body) as { predictions: unknown }).predictions, g.predictions, name === 'iris_onnx' ? 1e-6 : 0)).toBeNull();
      docker(['rm', '-f', id]);
    }, 120_000);
  }
});

describe('requirements the base lacks are installed at build time from --pip-index-url', () => {
  let index: Server;
  let port = 0;
  const requested: string[] = [];

  beforeAll(async () => {
    // a one-package "simple" index (PEP 503) with a wheel made here by the host's Python
    const wheel = join(tmp, 'mlmodel_probe-1.0.0-py3-none-any.whl');
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `import zipfile, sys
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('mlmodel_probe/__init__.py', 'ANSWER = 42\\n')
    z.writestr('mlmodel_probe-1.0.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: mlmodel-probe\\nVersion: 1.0.0\\n')
    z.writestr('mlmodel_probe-1.0.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: mlmodel-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
    z.writestr('mlmodel_probe-1.0.0.dist-info/top_level.txt', 'mlmodel_probe\\n')
    z.writestr('mlmodel_probe-1.0.0.dist-info/RECORD', 'mlmodel_probe/__init__.py,,\\nmlmodel_probe-1.0.0.dist-info/METADATA,,\\nmlmodel_probe-1.0.0.dist-info/WHEEL,,\\nmlmodel_probe-1.0.0.dist-info/top_level.txt,,\\nmlmodel_probe-1.0.0.dist-info/RECORD,,\\n')`,
        wheel,
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const body = readFileSync(wheel);
    index = createServer((req, res) => {
      requested.push(req.url ?? '');
      if (req.url === '/simple/mlmodel-probe/') {
        res.setHeader('content-type', 'text/html');
        res.end('<!DOCTYPE html><html><body><a href="/files/mlmodel_probe-1.0.0-py3-none-any.whl">mlmodel_probe-1.0.0-py3-none-any.whl</a></body></html>');
      } else if (req.url === '/files/mlmodel_probe-1.0.0-py3-none-any.whl') {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
    port = (index.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => index.close(() => r())));

  it('builds a virtualenv over the base packages with the missing requirement, and serves from it', async () => {
    const model = join(tmp, 'iris_probe');
    cpSync(join(FIXTURES, 'iris_sklearn'), model, { recursive: true });
    chmodSync(model, 0o755);
    chmodSync(join(model, 'requirements.txt'), 0o644);
    writeFileSync(
      join(model, 'requirements.txt'),
      `${readFileSync(join(FIXTURES, 'iris_sklearn', 'requirements.txt'), 'utf8').trimEnd()}\nmlmodel-probe==1.0.0\n`,
    );
    const tag = tagFor('iris-probe');
    const r = await mlmodelAsync([
      'build-docker',
      '-m',
      model,
      '-n',
      tag,
      '--base-image',
      PYTHON_BASE,
      '--network',
      'host',
      '--pip-index-url',
      `http://127.0.0.1:${port}/simple/`,
    ]);
    if (r.status === 0) built.push(tag);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/missing +mlmodel-probe==1\.0\.0/);
    expect(r.stderr).toMatch(/Successfully installed mlmodel-probe-1\.0\.0/);
    expect(requested).toContain('/files/mlmodel_probe-1.0.0-py3-none-any.whl');
    // the venv has the package, sees the base's scikit-learn, and has no pip
    const check = docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      '/opt/mlmodel/python/bin/python',
      tag,
      '-c',
      'import sys, mlmodel_probe, sklearn; print(sys.prefix, mlmodel_probe.ANSWER, sklearn.__version__)\ntry:\n  import pip\n  print("pip")\nexcept ImportError:\n  print("no pip")',
    ]);
    expect(check.stdout.trim()).toBe('/opt/mlmodel/python 42 1.2.1\nno pip');
    const id = startContainer(tag, { runArgs: ['--read-only', '--network', 'none'] });
    await waitReadyInside(id);
    const g = GOLDEN.cases.iris_sklearn![0]!;
    const inv = execHttp(id, '/invocations', g.request);
    expect(JSON.parse(inv.body)).toEqual({ predictions: g.predictions });
    docker(['rm', '-f', id]);
  }, 600_000);

  it('a requirement the index does not have fails the build with pip’s reason and what to do', async () => {
    const model = join(tmp, 'iris_absent');
    cpSync(join(FIXTURES, 'iris_sklearn'), model, { recursive: true });
    chmodSync(model, 0o755);
    chmodSync(join(model, 'requirements.txt'), 0o644);
    writeFileSync(join(model, 'requirements.txt'), 'scikit-learn==1.2.1\nmlmodel-absent==1.0\n');
    const r = await mlmodelAsync([
      'build-docker',
      '-m',
      model,
      '-n',
      tagFor('iris-absent'),
      '--base-image',
      PYTHON_BASE,
      '--network',
      'host',
      '--pip-index-url',
      `http://127.0.0.1:${port}/simple/`,
    ]);
    expect(r.status).toBe(1);
    expect(requested).toContain('/simple/mlmodel-absent/');
    expect(r.stderr).toMatch(/ERROR: No matching distribution found for mlmodel-absent==1\.0/);
    const last = r.stderr.trimEnd().split('\n').pop()!;
    expect(last).toMatch(
      /^error: docker build failed at step \d+\/\d+ \(RUN sh \/opt\/mlmodel-build\/python\/make_env\.sh virtualenv\): The command .* returned a non-zero code: 3 — pip could not install the requirements the base image lacks/,
    );
  }, 600_000);
});

describe('errors are one line', () => {
  it('a broken model directory fails before any build', () => {
    const model = join(tmp, 'broken_onnx');
    cpSync(join(FIXTURES, 'iris_onnx'), model, { recursive: true });
    chmodSync(model, 0o755);
    rmSync(join(model, 'model.onnx'), { force: true });
    const tag = tagFor('broken');
    const t0 = Date.now();
    const r = mlmodel(['build-docker', '-m', model, '-n', tag, '--base-image', NODE_BASE]);
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `error: ${model} is broken: ${join(model, 'MLmodel')} at flavors.onnx.data: refers to "model.onnx", which does not exist in the model directory (and 1 more problem: run mlmodel validate ${model})`,
    ]);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(docker(['image', 'inspect', tag]).status).not.toBe(0);
  });

  it('no engine at DOCKER_HOST: says how to start one', () => {
    const r = mlmodel(['build-docker', '-m', join(FIXTURES, 'iris_onnx'), '-n', tagFor('x')], {
      ...process.env,
      DOCKER_HOST: `unix://${join(tmp, 'no-engine.sock')}`,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: no Docker engine answers at unix:\/\/.*no-engine\.sock \(no socket there\): start one \(systemctl start docker; or as root: dockerd &/,
    );
  });

  it("a failing build step shows the daemon's message and our reason", () => {
    const model = join(tmp, 'iris_needs_more');
    cpSync(join(FIXTURES, 'iris_sklearn'), model, { recursive: true });
    chmodSync(model, 0o755);
    chmodSync(join(model, 'requirements.txt'), 0o644);
    writeFileSync(join(model, 'requirements.txt'), 'scikit-learn==1.2.1\nno-such-package-anywhere==9.9\n');
    const r = mlmodel(['build-docker', '-m', model, '-n', tagFor('fails'), '--base-image', PYTHON_BASE, '--network', 'host', '--env-manager', 'local', '-q']);
    expect(r.status).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: docker build failed at step \d+\/\d+ \(RUN sh \/opt\/mlmodel-build\/python\/make_env\.sh local\): The command '\/bin\/sh -c sh \/opt\/mlmodel-build\/python\/make_env\.sh local' returned a non-zero code: 3 — the image's Python lacks no-such-package-anywhere==9\.9 \(missing\)/,
    );
  }, 300_000);

  it('a base image the engine cannot get: the daemon says why, we say what to do', () => {
    const r = mlmodel([
      'build-docker',
      '-m',
      join(FIXTURES, 'iris_onnx'),
      '-n',
      tagFor('nobase'),
      '--base-image',
      'mlmodel-local/no-such-base:1',
      '--network',
      'host',
      '-q',
    ]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: docker build failed at step 2\/\d+ \(FROM \$\{BASE_IMAGE\}\): .+ \(the base image mlmodel-local\/no-such-base:1 is not in the engine/,
    );
  }, 120_000);
});

describe('progress on a terminal', () => {
  it('is a live view: finished steps stay as ✓ lines, the running one is redrawn in place', () => {
    // `script` gives the CLI a pseudo-terminal; the layers are cached from the build above
    const cmd = [
      process.execPath,
      BIN,
      'build-docker',
      '-m',
      join(FIXTURES, 'iris_onnx'),
      '-n',
      tagFor('iris-onnx'),
      '--base-image',
      NODE_BASE,
      '--network',
      'host',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', cwd: tmp, timeout: 300_000, env: { ...process.env, COLUMNS: '120' } });
    expect(r.status, r.stdout).toBe(0);
    const ESC = String.fromCharCode(27);
    expect(r.stdout).toMatch(new RegExp(`${ESC}\\[\\d+F${ESC}\\[0J`)); // cursor up and clear: the running step is redrawn
    expect(r.stdout).toMatch(/✓ \[1\/\d+\] ARG BASE_IMAGE=/);
    expect(r.stdout).toMatch(/✓ \[\d+\/\d+\] CMD \["serve"\]/);
    expect(r.stdout).not.toMatch(/^Step \d+\/\d+ :/m);
    expect(r.stdout).toMatch(/built mlmodel-test\/iris-onnx:e2e in/);
  }, 300_000);
});
