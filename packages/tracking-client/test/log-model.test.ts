/**
 * Logging a model directory to a run as MLflow 3 does (logged model + artifacts + run link),
 * over real HTTP to the FAKE MLflow server and into a real file store.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadYaml, openModelDir, parseModelUri, type ModelUri } from '@mlmodel/format';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ArtifactIntegrityError,
  FileStore,
  createModelResolver,
  LOG_MODEL_HISTORY_TAG,
  RestStore,
  TrackingClient,
  TrackingServerError,
  httpSettingsFromEnv,
  localFiles,
  logModel,
  registerModelVersion,
} from '../src/index.js';
import { FakeMlflowServer } from './support/fake-mlflow-server.js';
import { MODEL_FIXTURES } from './support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'log-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FAST_ENV = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.01', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' };

const bodyOf = (r: { body: Buffer }): Record<string, unknown> => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

const remote = (s: string): Exclude<ModelUri, { kind: 'local' }> => parseModelUri(s) as Exclude<ModelUri, { kind: 'local' }>;

let n = 0;
/** A fresh copy of the iris ONNX model MLflow 3.5 saved. */
function irisCopy(): string {
  const dir = join(tmp, `iris-${n++}`);
  cpSync(join(MODEL_FIXTURES, 'iris_onnx'), dir, { recursive: true });
  return dir;
}

describe('logModel over REST (fake MLflow server)', () => {
  let fake: FakeMlflowServer;
  let client: TrackingClient;
  beforeAll(async () => {
    fake = await new FakeMlflowServer().start();
    client = new TrackingClient(new RestStore(new URL(fake.url), { settings: httpSettingsFromEnv(FAST_ENV) }), { sourceName: 'mlmodel build' });
  });
  afterAll(async () => {
    client.close();
    await fake.stop();
  });
  afterEach(() => {
    fake.faults.length = 0;
  });

  it('creates experiment and run, logs params, a READY logged model with every file, the run link and the history tag; MLmodel records run and model', async () => {
    const dir = irisCopy();
    const r = await logModel(client, { modelDir: dir, experimentName: 'build-exp', runName: 'iris-build', params: { flavor: 'onnx', source: 'model.onnx' } });
    expect(r.createdRun).toBe(true);
    expect(r.modelUri).toBe(`models:/${r.modelId}`);
    expect(r.runModelUri).toBe(`runs:/${r.runId}/model`);
    expect(r.uploadedFiles).toBe(7);

    const run = await client.store.getRun(r.runId);
    expect(run.info).toMatchObject({ run_name: 'iris-build', status: 'FINISHED', experiment_id: r.experimentId });
    expect(run.info.end_time).toBeGreaterThan(0);
    expect(run.data.params).toEqual([
      { key: 'flavor', value: 'onnx' },
      { key: 'source', value: 'model.onnx' },
    ]);
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: r.modelId, step: 0 }] });
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    expect(tags['mlflow.source.name']).toBe('mlmodel build');
    const history = JSON.parse(tags[LOG_MODEL_HISTORY_TAG]!) as Record<string, unknown>[];
    expect(history).toHaveLength(1);
    expect(Object.keys(history[0]!)).toEqual(['run_id', 'artifact_path', 'utc_time_created', 'model_uuid', 'flavors']);
    expect(history[0]).toMatchObject({ run_id: r.runId, artifact_path: r.artifactUri, model_uuid: r.modelId });
    expect(Object.keys(history[0]!.flavors as object).sort()).toEqual(['onnx', 'python_function']);

    const model = await client.store.getLoggedModel(r.modelId);
    expect(model.info).toMatchObject({
      name: 'model',
      status: 'LOGGED_MODEL_READY',
      source_run_id: r.runId,
      artifact_uri: `mlflow-artifacts:/${r.experimentId}/models/${r.modelId}/artifacts`,
    });
    expect(model.data.params).toEqual(run.data.params);

    const local = await openModelDir(dir);
    expect(local.mlmodel).toMatchObject({ run_id: r.runId, model_id: r.modelId, model_uuid: r.modelId, artifact_path: r.artifactUri });
    // every local file (the rewritten MLmodel included) is on the server byte for byte
    const root = r.artifactUri.replace('mlflow-artifacts:/', '');
    for (const f of await localFiles(dir)) expect(fake.artifacts.get(`${root}/${f}`)?.equals(readFileSync(join(dir, f))), f).toBe(true);
    expect([...fake.artifacts.keys()].filter((k) => k.startsWith(`${root}/`))).toHaveLength(7);
  });

  it('--run-id style: logs to an existing run and leaves it running; registers a version', async () => {
    const exp = await client.getOrCreateExperiment('build-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'training' });
    const r = await logModel(client, { modelDir: irisCopy(), runId: run.info.run_id, modelName: 'iris', registeredModelName: 'iris-registered' });
    expect(r.createdRun).toBe(false);
    expect((await client.store.getRun(run.info.run_id)).info.status).toBe('RUNNING');
    expect(r.registeredVersion).toMatchObject({ name: 'iris-registered', version: '1', source: `models:/${r.modelId}`, run_id: run.info.run_id });
    expect(await client.registry.getModelVersionDownloadUri('iris-registered', '1')).toBe(r.artifactUri);
  });

  it('registering from a model URI as MLflow 3 does: runs:/<run>/<name> becomes the run’s logged model; a legacy run model keeps its runs:/ source', async () => {
    const r = await logModel(client, { modelDir: irisCopy(), experimentName: 'register-exp' });
    const v1 = await registerModelVersion(client, 'from-run', r.runModelUri);
    expect(v1).toMatchObject({ version: '1', source: r.modelUri, run_id: r.runId });
    expect(bodyOf(fake.requestsTo('/api/2.0/mlflow/model-versions/create').at(-1)!)).toEqual({
      name: 'from-run',
      source: r.modelUri,
      run_id: r.runId,
      model_id: r.modelId,
    });
    const v2 = await registerModelVersion(client, 'from-run', r.modelUri);
    expect(v2).toMatchObject({ version: '2', source: r.modelUri, run_id: r.runId });
    const legacyRun = await client.createRun({ experiment_id: r.experimentId });
    const v3 = await registerModelVersion(client, 'from-run', `runs:/${legacyRun.info.run_id}/model`);
    expect(v3).toMatchObject({ version: '3', source: `runs:/${legacyRun.info.run_id}/model`, run_id: legacyRun.info.run_id });
    expect(await client.registry.getModelVersionDownloadUri('from-run', '3')).toBe(`runs:/${legacyRun.info.run_id}/model`);
  });

  it('a failed upload: the model is UPLOAD_FAILED, the run FAILED, the local MLmodel as it was', async () => {
    const dir = irisCopy();
    const before = readFileSync(join(dir, 'MLmodel'));
    fake.faults.push({ method: 'PUT', path: /\/model\.onnx$/, status: 503, times: 100 });
    const err = await logModel(client, { modelDir: dir, experimentName: 'build-exp', runName: 'doomed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingServerError);
    expect(readFileSync(join(dir, 'MLmodel')).equals(before)).toBe(true);
    const runs = await client.searchAllRuns({ experiment_ids: [(await client.getOrCreateExperiment('build-exp')).experiment_id] });
    const doomed = runs.find((x) => x.info.run_name === 'doomed')!;
    expect(doomed.info.status).toBe('FAILED');
    const models = await client.searchAllLoggedModels({ experiment_ids: [doomed.info.experiment_id] });
    const failed = models.find((m) => m.info.source_run_id === doomed.info.run_id)!;
    expect(failed.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    // such a model is refused instead of being served half-uploaded
    const resolve = createModelResolver({ client, cacheDir: join(tmp, 'cache-failed') });
    await expect(resolve(remote(`models:/${failed.info.model_id}`), `models:/${failed.info.model_id}`)).rejects.toThrow(
      /failed to upload \(LOGGED_MODEL_UPLOAD_FAILED/,
    );
    await expect(resolve(remote(`runs:/${doomed.info.run_id}/model`), `runs:/${doomed.info.run_id}/model`)).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });
});

describe('logModel into the file store (./mlruns as MLflow 3.5 lays it out)', () => {
  it('writes the run, the logged model with its files under models/, and the run → model link', async () => {
    const root = join(mkdtempSync(join(tmp, 'fs-')), 'mlruns');
    const client = new TrackingClient(new FileStore(root));
    const dir = irisCopy();
    const r = await logModel(client, { modelDir: dir, experimentName: 'local-exp', params: { flavor: 'onnx' } });
    const expDir = join(root, r.experimentId);
    expect(readdirSync(join(expDir, 'models', r.modelId, 'artifacts')).sort()).toEqual(readdirSync(dir).sort());
    expect(readFileSync(join(expDir, 'models', r.modelId, 'artifacts', 'MLmodel')).equals(readFileSync(join(dir, 'MLmodel')))).toBe(true);
    const modelMeta = loadYaml(readFileSync(join(expDir, 'models', r.modelId, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
    expect(modelMeta).toMatchObject({
      model_id: r.modelId,
      name: 'model',
      source_run_id: r.runId,
      status: 2,
      model_type: null,
      status_message: null,
      experiment_id: r.experimentId,
    });
    expect(modelMeta.artifact_location).toBe(r.artifactUri);
    const runMeta = loadYaml(readFileSync(join(expDir, r.runId, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
    expect(runMeta).toMatchObject({ status: 3, lifecycle_stage: 'active', source_type: 4, run_id: r.runId });
    expect(loadYaml(readFileSync(join(expDir, r.runId, 'outputs', r.modelId, 'meta.yaml'), 'utf8'))).toEqual({
      destination_id: r.modelId,
      destination_type: 'MODEL_OUTPUT',
      source_id: r.modelId,
      source_type: 'RUN_OUTPUT',
      step: 0,
      tags: {},
    });
    expect(readFileSync(join(expDir, r.runId, 'params', 'flavor'), 'utf8')).toBe('onnx');
    expect(readFileSync(join(expDir, 'models', r.modelId, 'params', 'flavor'), 'utf8')).toBe('onnx');
    expect(r.artifactUri.startsWith('file:///')).toBe(true);
  });
});
