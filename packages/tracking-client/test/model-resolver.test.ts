/**
 * `runs:/`, `models:/` and `mlflow-artifacts:/` URIs to local model directories, through the
 * content-addressed cache: against the FAKE MLflow server over real HTTP and against real file
 * stores. Downloads happen once, are verified, refuse hostile listings (`..`, absolute paths,
 * names with separators, duplicates, symlinks), and concurrent downloads (threads of one process
 * and separate processes) leave one intact copy.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModelDir, parseModelUri, type ModelUri } from '@mlmodel/format';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ArtifactIntegrityError,
  FileStore,
  ModelCache,
  RestStore,
  TrackingClient,
  TrackingConfigError,
  UnsafeArtifactPathError,
  createModelResolver,
  httpSettingsFromEnv,
  localFiles,
  logModel,
  resolveModelUri,
  type LogModelResult,
} from '../src/index.js';
import { FakeMlflowServer } from './support/fake-mlflow-server.js';
import { FIXTURE, MODEL_FIXTURES, copyFixture } from './support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'model-resolver-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FAST_ENV = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.01', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1' };
const IRIS = join(MODEL_FIXTURES, 'iris_onnx');
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let cacheN = 0;
const newCache = (): string => join(tmp, `cache-${cacheN++}`);
const remote = (s: string): Exclude<ModelUri, { kind: 'local' }> => parseModelUri(s) as Exclude<ModelUri, { kind: 'local' }>;

/** Artifact downloads (GETs of files through the proxy) the fake answered. */
const downloads = (fake: FakeMlflowServer): number =>
  fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/2.0/mlflow-artifacts/artifacts/')).length;

/** The files of a directory with their bytes (base64), by relative path. */
function contents(dir: string): Record<string, string> {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

describe('model URIs against the fake MLflow server', () => {
  let fake: FakeMlflowServer;
  let client: TrackingClient;
  let logged: LogModelResult;
  let loggedDir: string;
  beforeAll(async () => {
    fake = await new FakeMlflowServer().start();
    client = new TrackingClient(new RestStore(new URL(fake.url), { settings: httpSettingsFromEnv(FAST_ENV) }));
    loggedDir = join(tmp, 'iris-logged');
    cpSync(IRIS, loggedDir, { recursive: true });
    logged = await logModel(client, { modelDir: loggedDir, experimentName: 'resolve-exp', registeredModelName: 'iris' });
    await client.registry.setRegisteredModelAlias('iris', 'champion', '1');
  });
  afterAll(async () => {
    client.close();
    await fake.stop();
  });
  afterEach(() => {
    fake.listingOverrides.clear();
  });

  it('runs:/<run>/model finds the MLflow 3 logged model of the run, downloads every file once, and the directory opens as the model', async () => {
    const cache = newCache();
    const resolve = createModelResolver({ client, cacheDir: cache });
    const before = downloads(fake);
    const dir = await resolve(remote(logged.runModelUri), logged.runModelUri);
    expect(dir).toMatch(new RegExp(`^${cache}/objects/sha256-[0-9a-f]{64}$`));
    expect(contents(dir!)).toEqual(contents(loggedDir));
    expect(downloads(fake) - before).toBe(7);
    const model = await openModelDir(logged.runModelUri, { resolver: resolve });
    expect(model.mlmodel.model_id).toBe(logged.modelId);
    // a second resolver (a new process, say) on the same cache downloads nothing
    const again = createModelResolver({ client, cacheDir: cache });
    expect(await again(remote(logged.runModelUri), logged.runModelUri)).toBe(dir);
    expect(downloads(fake) - before).toBe(7);
    // the cached files are read-only
    for (const f of Object.keys(contents(dir!))) expect(statSync(join(dir!, f)).mode & 0o222, f).toBe(0);
  });

  it('models:/name@alias, models:/name/1, /latest, /<stage>, models:/m-<id> and mlflow-artifacts:/ all resolve to the same content-addressed directory', async () => {
    const cache = new ModelCache(newCache());
    fake.setStage('iris', '1', 'Staging');
    const uris = ['models:/iris@champion', 'models:/iris/1', 'models:/iris/latest', 'models:/iris/staging', logged.modelUri, logged.artifactUri];
    const results = [];
    for (const u of uris) results.push(await resolveModelUri(client, remote(u), cache));
    expect(new Set(results.map((r) => r.dir)).size).toBe(1);
    expect(results.map((r) => r.cached)).toEqual([false, true, true, true, true, true]);
    expect(results[0]!.trail).toEqual(['models:/iris@champion', 'models:/iris/1', logged.artifactUri]);
    await expect(resolveModelUri(client, remote('models:/iris/Production'), cache)).rejects.toThrow(
      /No versions of model with name 'iris' and stage 'Production' found/,
    );
    await expect(resolveModelUri(client, remote('models:/iris@nope'), cache)).rejects.toThrow(/Registered model alias nope not found/);
  });

  it('a version whose download URI is runs:/ (MLflow returns it unchanged) is resolved in turn; run artifacts are used when present', async () => {
    const v = await client.registerModel('iris', logged.runModelUri, { run_id: logged.runId });
    const r = await resolveModelUri(client, remote(`models:/iris/${v.version}`), new ModelCache(newCache()));
    expect(r.trail).toEqual([`models:/iris/${v.version}`, logged.runModelUri, `models:/${logged.modelId}`, logged.artifactUri]);
    // a model stored the MLflow 2 way, under the run's own artifacts
    const exp = await client.getOrCreateExperiment('resolve-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id });
    for (const f of await localFiles(IRIS)) fake.putArtifact(run.info.artifact_uri, `legacy/${f}`, readFileSync(join(IRIS, f)));
    const legacy = await resolveModelUri(client, remote(`runs:/${run.info.run_id}/legacy/MLmodel`), new ModelCache(newCache()));
    expect(contents(legacy.dir)).toEqual(contents(IRIS));
    await expect(resolveModelUri(client, remote(`runs:/${run.info.run_id}/nothing`), new ModelCache(newCache()))).rejects.toThrow(
      /has no artifacts at "nothing" and no logged model named "nothing"/,
    );
  });

  const hostile: [string, unknown][] = [
    ['a parent-directory entry', { files: [{ path: '../../../evil.txt', is_dir: false, file_size: 4 }] }],
    ['a bare ..', { files: [{ path: '..', is_dir: true }] }],
    ['an absolute path', { files: [{ path: '/etc/passwd', is_dir: false, file_size: 4 }] }],
    ['a name with a separator', { files: [{ path: 'sub/../../evil.txt', is_dir: false, file_size: 4 }] }],
    ['a backslash path', { files: [{ path: '..\\..\\evil.txt', is_dir: false, file_size: 4 }] }],
    ['a Windows drive path', { files: [{ path: 'C:evil.txt', is_dir: false, file_size: 4 }] }],
    [
      'the same name twice',
      {
        files: [
          { path: 'MLmodel', is_dir: false, file_size: 4 },
          { path: 'MLmodel', is_dir: false, file_size: 4 },
        ],
      },
    ],
  ];
  for (const [what, listing] of hostile) {
    it(`a hostile listing with ${what} is refused and nothing is written outside the cache`, async () => {
      const cacheRoot = newCache();
      const root = logged.artifactUri.replace('mlflow-artifacts:/', '');
      fake.listingOverrides.set(root, listing);
      const err = await resolveModelUri(client, remote(logged.modelUri), new ModelCache(cacheRoot)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafeArtifactPathError);
      expect((err as Error).message).toMatch(/refusing|twice/);
      expect(readdirSync(join(cacheRoot, 'tmp'))).toEqual([]);
      expect(existsSync(join(cacheRoot, 'objects')) ? readdirSync(join(cacheRoot, 'objects')) : []).toEqual([]);
      expect(existsSync(join(tmp, 'evil.txt')) || existsSync(join(cacheRoot, 'evil.txt')) || existsSync('/evil.txt')).toBe(false);
    });
  }

  it('a file that does not match its listed size is refused (ArtifactIntegrityError) and not cached', async () => {
    const cacheRoot = newCache();
    const root = logged.artifactUri.replace('mlflow-artifacts:/', '');
    fake.listingOverrides.set(root, { files: [{ path: 'MLmodel', is_dir: false, file_size: 99999 }] });
    await expect(resolveModelUri(client, remote(logged.modelUri), new ModelCache(cacheRoot))).rejects.toBeInstanceOf(ArtifactIntegrityError);
    expect(readdirSync(join(cacheRoot, 'objects'))).toEqual([]);
  });

  it('artifacts without an MLmodel are not a model: refused, not cached', async () => {
    const exp = await client.getOrCreateExperiment('resolve-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id });
    fake.putArtifact(run.info.artifact_uri, 'notes/readme.txt', 'not a model');
    const cacheRoot = newCache();
    const err = await resolveModelUri(client, remote(`runs:/${run.info.run_id}/notes`), new ModelCache(cacheRoot)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactIntegrityError);
    expect((err as Error).message).toMatch(/holds no MLmodel file/);
    expect(readdirSync(join(cacheRoot, 'objects'))).toEqual([]);
  });

  it('a cached copy that was tampered with is detected and downloaded again', async () => {
    const cache = new ModelCache(newCache());
    const first = await resolveModelUri(client, remote(logged.modelUri), cache);
    chmodSync(join(first.dir, 'model.onnx'), 0o644);
    writeFileSync(join(first.dir, 'model.onnx'), 'truncated');
    const second = await resolveModelUri(client, remote(logged.modelUri), cache);
    expect(second.cached).toBe(false);
    expect(second.dir).toBe(first.dir);
    expect(readFileSync(join(second.dir, 'model.onnx')).equals(readFileSync(join(IRIS, 'model.onnx')))).toBe(true);
  });

  it('concurrent resolutions in one process: one download, one intact copy', async () => {
    const cacheRoot = newCache();
    const before = downloads(fake);
    const dirs = await Promise.all(
      Array.from({ length: 6 }, () => createModelResolver({ client, cacheDir: cacheRoot })(remote('models:/iris@champion'), 'models:/iris@champion')),
    );
    expect(new Set(dirs).size).toBe(1);
    expect(downloads(fake) - before).toBe(7);
    expect(contents(dirs[0]!)).toEqual(contents(loggedDir));
  });

  it('concurrent downloads by separate processes into one cache: all get the same intact directory', async () => {
    expect(existsSync(DIST_INDEX), 'build the package first (npm run build): the child processes import its dist').toBe(true);
    const cacheRoot = newCache();
    const script = `
      const { createModelResolver, openTrackingClient } = await import(${JSON.stringify(DIST_INDEX)});
      const { parseModelUri } = await import('@mlmodel/format');
      const client = openTrackingClient({ env: { ...process.env, MLFLOW_TRACKING_URI: ${JSON.stringify(fake.url)} } });
      const dir = await createModelResolver({ client, cacheDir: ${JSON.stringify(cacheRoot)} })(parseModelUri('models:/iris/1'), 'models:/iris/1');
      process.stdout.write(dir);
      client.close();`;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
      });
    const before = downloads(fake);
    const dirs = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(dirs).size).toBe(1);
    expect(contents(dirs[0]!)).toEqual(contents(loggedDir));
    expect(readdirSync(join(cacheRoot, 'objects')).filter((f) => !f.endsWith('.json'))).toHaveLength(1);
    expect(readdirSync(join(cacheRoot, 'tmp'))).toEqual([]);
    // the per-source lock made the others wait for the first download instead of repeating it
    expect(downloads(fake) - before).toBe(7);
  });
});

describe('model URIs against file stores', () => {
  it('runs:/ and models:/m-<id> on the store real MLflow wrote: the logged model’s files', async () => {
    const root = copyFixture(mkdtempSync(join(tmp, 'fixture-')));
    const client = new TrackingClient(new FileStore(root));
    const resolve = createModelResolver({ client, cacheDir: newCache() });
    const dir = await resolve(remote(`runs:/${FIXTURE.mainRun}/model`), `runs:/${FIXTURE.mainRun}/model`);
    const model = await openModelDir(dir!);
    expect(Object.keys(model.mlmodel.flavors).sort()).toEqual(['python_function', 'sklearn']);
    expect(model.mlmodel.model_id).toBe(FIXTURE.modelId);
    expect(await resolve(remote(`models:/${FIXTURE.modelId}`), `models:/${FIXTURE.modelId}`)).toBe(dir);
  });

  it('the file store registry: register, alias, resolve models:/name@alias', async () => {
    const root = join(mkdtempSync(join(tmp, 'reg-')), 'mlruns');
    const client = new TrackingClient(new FileStore(root));
    const src = join(tmp, 'iris-reg');
    cpSync(IRIS, src, { recursive: true });
    const r = await logModel(client, { modelDir: src, experimentName: 'reg-exp', registeredModelName: 'local-iris' });
    await client.registry.setRegisteredModelAlias('local-iris', 'prod', r.registeredVersion!.version);
    expect(readFileSync(join(root, 'models', 'local-iris', 'aliases', 'prod'), 'utf8')).toBe('1');
    expect(existsSync(join(root, 'models', 'local-iris', 'version-1', 'meta.yaml'))).toBe(true);
    const dir = await createModelResolver({ client, cacheDir: newCache() })(remote('models:/local-iris@prod'), 'models:/local-iris@prod');
    expect(contents(dir!)).toEqual(contents(src));
  });

  it('symbolic links in a local artifact store are refused (a file and a directory)', async () => {
    const root = join(mkdtempSync(join(tmp, 'links-')), 'mlruns');
    const client = new TrackingClient(new FileStore(root));
    const exp = await client.getOrCreateExperiment('links');
    const secret = join(tmp, 'secret.txt');
    writeFileSync(secret, 'do not copy');
    for (const [name, target] of [
      ['file', secret],
      ['dir', tmp],
    ] as const) {
      const run = await client.createRun({ experiment_id: exp.experiment_id });
      const art = fileURLToPath(run.info.artifact_uri);
      mkdirSync(join(art, 'model'), { recursive: true });
      cpSync(join(IRIS, 'MLmodel'), join(art, 'model', 'MLmodel'));
      symlinkSync(target, join(art, 'model', name === 'file' ? 'model.onnx' : 'data'));
      const cacheRoot = newCache();
      const err = await resolveModelUri(client, remote(`runs:/${run.info.run_id}/model`), new ModelCache(cacheRoot)).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(UnsafeArtifactPathError);
      expect((err as Error).message).toMatch(/is a symbolic link/);
      expect(existsSync(join(cacheRoot, 'objects')) ? readdirSync(join(cacheRoot, 'objects')) : []).toEqual([]);
    }
  });

  it('the client is opened on the first remote URI only: a bad tracking URI does not affect local paths', async () => {
    const resolve = createModelResolver({ env: { MLFLOW_TRACKING_URI: 'databricks' }, cacheDir: newCache() });
    expect(await resolve(remote('s3://bucket/model'), 's3://bucket/model')).toBeNull();
    await expect(resolve(remote('models:/x/1'), 'models:/x/1')).rejects.toBeInstanceOf(TrackingConfigError);
  });
});
