/**
 * The file store against what real MLflow 3.5 wrote (shared/fixtures/mlflow-3.5-tracking):
 *
 * - writing: the calls of the fixture's README are made through our FileStore (with the
 *   fixture's ids and, call by call, its clock) into a new mlruns; every file MLflow wrote must
 *   come out byte for byte the same — meta.yaml files field by field first (clearer failures),
 *   then as bytes — with no extra files, plus the empty directories MLflow creates;
 * - reading: a copy of the fixture reads back as MLflow reads it (runs, latest metrics, the
 *   duplicated metric history, the FAILED and deleted runs, the logged model and its link).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadYaml } from '@mlmodel/format';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore, LocalArtifactRepository, uploadTree, type Tag } from '../src/index.js';
import { FIXTURE, TRACKING_FIXTURE, copyFixture, dirsUnder, filesUnder, fixtureFile } from './support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'file-store-fixture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tags = (o: Record<string, string>): Tag[] => Object.entries(o).map(([key, value]) => ({ key, value }));
const sourceTags = { 'mlflow.user': 'root', 'mlflow.source.name': 'make_fixture.py', 'mlflow.source.type': 'LOCAL' };

/** Replays the README's Python calls; `clock.now` is set to what MLflow's clock read at each call. */
async function replayFixtureCalls(root: string): Promise<void> {
  const clock = { now: 0 };
  const runIds = [FIXTURE.mainRun, FIXTURE.failedRun, FIXTURE.deletedRun];
  const store = new FileStore(root, {
    now: () => clock.now,
    ids: { experiment: () => FIXTURE.experimentId, run: () => runIds.shift()!, model: () => FIXTURE.modelId },
  });
  // 1. create_experiment (MLflow's FileStore creates Default when it starts on a missing directory)
  await store.searchExperiments({});
  expect(existsSync(root), 'reads create nothing').toBe(false);
  clock.now = 1796589701214;
  await store.initialize();
  clock.now = 1796589701218;
  const exp = await store.createExperiment('fixture-exp');
  expect(exp).toBe(FIXTURE.experimentId);

  // 2. the main run
  const run = await store.createRun({
    experiment_id: exp,
    user_id: 'root',
    run_name: 'fixture-run',
    start_time: 1796589701261,
    tags: tags({ ...sourceTags, 'mlflow.runName': 'fixture-run', 'mlflow.note.content': 'Fixture run description note' }),
  });
  const runId = run.info.run_id;
  await store.logBatch(runId, { params: tags({ alpha: '0.5', l1_ratio: '0.1' }) });
  for (const [i, v] of [0.9, 0.7, 0.55].entries())
    await store.logBatch(runId, { metrics: [{ key: 'rmse', value: v, timestamp: 1700000000000 + i * 1000, step: i }] });
  await store.logBatch(runId, { metrics: [{ key: 'r2', value: 0.81, timestamp: 1796589701273, step: 0 }] });
  await store.logBatch(runId, { tags: tags({ team: 'fixtures' }) });
  await store
    .artifactRepository(run.info.artifact_uri)
    .uploadFile(join(TRACKING_FIXTURE, FIXTURE.experimentId, FIXTURE.mainRun, 'artifacts/notes/readme.txt'), 'notes/readme.txt');
  // log_model: the logged model (with the run's params), the run output, the step-0 metrics re-logged for the model, the files, READY
  clock.now = 1796589701301;
  const params = (await store.getRun(runId)).data.params;
  const model = await store.createLoggedModel({ experiment_id: exp, name: 'model', source_run_id: runId, params, tags: tags(sourceTags) });
  await store.logOutputs(runId, [{ model_id: model.info.model_id, step: 0 }]);
  await store.logBatch(runId, {
    metrics: [
      { key: 'rmse', value: 0.9, timestamp: 1700000000000, step: 0, model_id: model.info.model_id },
      { key: 'r2', value: 0.81, timestamp: 1796589701273, step: 0, model_id: model.info.model_id },
    ],
  });
  const modelFiles = mkdtempSync(join(tmp, 'model-files-'));
  cpSync(join(TRACKING_FIXTURE, FIXTURE.experimentId, 'models', FIXTURE.modelId, 'artifacts'), modelFiles, { recursive: true });
  const mlmodel = fixtureFile(`${FIXTURE.experimentId}/models/${FIXTURE.modelId}/artifacts/MLmodel`, root);
  writeFileSync(join(modelFiles, 'MLmodel'), mlmodel);
  await uploadTree(store.artifactRepository(model.info.artifact_uri), modelFiles, '');
  clock.now = 1796589704341;
  await store.finalizeLoggedModel(model.info.model_id, 'LOGGED_MODEL_READY');
  await store.updateRun(runId, { status: 'FINISHED', end_time: 1796589704348 });

  // 3. the failed run
  const failed = await store.createRun({
    experiment_id: exp,
    user_id: 'root',
    run_name: 'failed-run',
    start_time: 1796589704353,
    tags: tags({ ...sourceTags, 'mlflow.runName': 'failed-run' }),
  });
  await store.logBatch(failed.info.run_id, { params: tags({ p: 'x' }) });
  await store.updateRun(failed.info.run_id, { status: 'FAILED', end_time: 1796589704359 });

  // 4. the deleted run
  const deleted = await store.createRun({
    experiment_id: exp,
    user_id: 'root',
    run_name: 'deleted-run',
    start_time: 1796589704366,
    tags: tags({ ...sourceTags, 'mlflow.runName': 'deleted-run' }),
  });
  await store.logBatch(deleted.info.run_id, { metrics: [{ key: 'm', value: 1.0, timestamp: 1796589704372, step: 0 }] });
  await store.updateRun(deleted.info.run_id, { status: 'FINISHED', end_time: 1796589704373 });
  clock.now = 1796589704376;
  await store.deleteRun(deleted.info.run_id);
}

describe('file store: writes what MLflow 3.5 wrote for the same calls', () => {
  const root = join(mkdtempSync(join(tmp, 'written-')), 'mlruns');
  const written = replayFixtureCalls(root);
  const fixtureFiles = filesUnder(TRACKING_FIXTURE).filter((f) => f !== 'README.md');

  it('the same files, none missing and none extra', async () => {
    await written;
    expect(fixtureFiles.length).toBe(42); // the README's count
    expect(filesUnder(root)).toEqual(fixtureFiles);
  });

  it('every meta.yaml has the same fields and values as MLflow wrote', async () => {
    await written;
    const metas = fixtureFiles.filter((f) => f.endsWith('meta.yaml'));
    expect(metas).toHaveLength(7);
    for (const rel of metas) {
      const ours = loadYaml(readFileSync(join(root, rel), 'utf8'));
      const theirs = loadYaml(fixtureFile(rel, root).toString('utf8'));
      expect(ours, rel).toEqual(theirs);
    }
  });

  it('every file is byte-identical (meta.yaml as PyYAML writes it, raw param/tag values, metric lines as str(float))', async () => {
    await written;
    for (const rel of fixtureFiles) expect(readFileSync(join(root, rel)).equals(fixtureFile(rel, root)), rel).toBe(true);
  });

  it('the empty directories MLflow creates (and git drops) are there: .trash, each run’s metrics/, params/, artifacts/', async () => {
    await written;
    const dirs = dirsUnder(root);
    expect(dirs).toContain('.trash');
    for (const run of [FIXTURE.mainRun, FIXTURE.failedRun, FIXTURE.deletedRun]) {
      for (const sub of ['metrics', 'params', 'artifacts']) expect(dirs).toContain(`${FIXTURE.experimentId}/${run}/${sub}`);
    }
  });
});

describe('file store: reads the runs real MLflow 3.5 wrote', () => {
  const root = copyFixture(mkdtempSync(join(tmp, 'read-')));
  const store = new FileStore(root);

  it('experiments by name, including Default', async () => {
    const exp = await store.getExperimentByName('fixture-exp');
    expect(exp).toMatchObject({ experiment_id: FIXTURE.experimentId, name: 'fixture-exp', lifecycle_stage: 'active', creation_time: 1796589701218 });
    expect(exp!.artifact_location).toMatch(/^file:\/\/\/.*\/mlruns\/509719040862818973$/);
    expect((await store.getExperimentByName('Default'))?.experiment_id).toBe('0');
    expect(await store.getExperimentByName('nope')).toBeNull();
  });

  it('the main run: info, latest metrics, params, tags, outputs', async () => {
    const run = await store.getRun(FIXTURE.mainRun);
    expect(run.info).toEqual({
      run_id: FIXTURE.mainRun,
      run_uuid: FIXTURE.mainRun,
      experiment_id: FIXTURE.experimentId,
      run_name: 'fixture-run',
      user_id: 'root',
      status: 'FINISHED',
      start_time: 1796589701261,
      end_time: 1796589704348,
      artifact_uri: expect.stringMatching(/\/509719040862818973\/d8d4f7509cf148869a439a9a28c50b42\/artifacts$/) as unknown as string,
      lifecycle_stage: 'active',
    });
    // the latest rmse is step 2 even though a step-0 line was appended after it
    expect(run.data.metrics).toEqual([
      { key: 'r2', value: 0.81, timestamp: 1796589701273, step: 0 },
      { key: 'rmse', value: 0.55, timestamp: 1700000002000, step: 2 },
    ]);
    expect(run.data.params).toEqual(tags({ alpha: '0.5', l1_ratio: '0.1' }));
    expect(Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]))).toEqual({
      'mlflow.note.content': 'Fixture run description note',
      'mlflow.runName': 'fixture-run',
      'mlflow.source.name': 'make_fixture.py',
      'mlflow.source.type': 'LOCAL',
      'mlflow.user': 'root',
      team: 'fixtures',
    });
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: FIXTURE.modelId, step: 0 }] });
  });

  it('metric history keeps every line, the duplicated step 0 included (as MlflowClient.get_metric_history)', async () => {
    const h = await store.getMetricHistory(FIXTURE.mainRun, 'rmse');
    expect(h.map((m) => [m.timestamp, m.value, m.step])).toEqual([
      [1700000000000, 0.9, 0],
      [1700000001000, 0.7, 1],
      [1700000002000, 0.55, 2],
      [1700000000000, 0.9, 0],
    ]);
    expect(await store.getMetricHistory(FIXTURE.mainRun, 'r2')).toHaveLength(2);
  });

  it('the FAILED run and the deleted run; search views', async () => {
    expect((await store.getRun(FIXTURE.failedRun)).info).toMatchObject({ status: 'FAILED', end_time: 1796589704359, run_name: 'failed-run' });
    const deleted = await store.getRun(FIXTURE.deletedRun);
    expect(deleted.info).toMatchObject({ status: 'FINISHED', lifecycle_stage: 'deleted' });
    const active = await store.searchRuns({ experiment_ids: [FIXTURE.experimentId] });
    expect(active.items.map((r) => r.info.run_name)).toEqual(['failed-run', 'fixture-run']);
    const all = await store.searchRuns({ experiment_ids: [FIXTURE.experimentId], run_view_type: 'ALL' });
    expect(all.items.map((r) => r.info.run_name)).toEqual(['deleted-run', 'failed-run', 'fixture-run']);
    const filtered = await store.searchRuns({ experiment_ids: [FIXTURE.experimentId], filter: "metrics.rmse < 1 and params.alpha = '0.5'" });
    expect(filtered.items.map((r) => r.info.run_id)).toEqual([FIXTURE.mainRun]);
    const paged = await store.searchRuns({ experiment_ids: [FIXTURE.experimentId], max_results: 1 });
    expect(paged.items).toHaveLength(1);
    expect(Buffer.from(paged.next_page_token!, 'base64').toString()).toBe('{"offset": 1}');
  });

  it('the logged model: info, params, metrics with the run id, search by name', async () => {
    const m = await store.getLoggedModel(FIXTURE.modelId);
    expect(m.info).toMatchObject({
      model_id: FIXTURE.modelId,
      experiment_id: FIXTURE.experimentId,
      name: 'model',
      status: 'LOGGED_MODEL_READY',
      source_run_id: FIXTURE.mainRun,
      creation_timestamp_ms: 1796589701301,
      last_updated_timestamp_ms: 1796589704341,
      model_type: '',
    });
    expect(m.info.artifact_uri).toMatch(/\/509719040862818973\/models\/m-90c92f8614ac48b59e121ff4c70c91fb\/artifacts$/);
    expect(m.data.params).toEqual(tags({ alpha: '0.5', l1_ratio: '0.1' }));
    expect(m.data.metrics).toEqual([
      { key: 'r2', value: 0.81, timestamp: 1796589701273, step: 0, run_id: FIXTURE.mainRun },
      { key: 'rmse', value: 0.9, timestamp: 1700000000000, step: 0, run_id: FIXTURE.mainRun },
    ]);
    const found = await store.searchLoggedModels({ experiment_ids: [FIXTURE.experimentId], filter: "name = 'model'" });
    expect(found.items.map((x) => x.info.model_id)).toEqual([FIXTURE.modelId]);
    expect((await store.searchLoggedModels({ experiment_ids: [FIXTURE.experimentId], filter: "name = 'other'" })).items).toEqual([]);
  });

  it('artifacts: the run’s notes/readme.txt and the model’s files list and download', async () => {
    const run = await store.getRun(FIXTURE.mainRun);
    const repo = store.artifactRepository(run.info.artifact_uri);
    expect(repo).toBeInstanceOf(LocalArtifactRepository);
    expect(await repo.list()).toEqual([{ path: 'notes', is_dir: true }]);
    expect(await repo.list('notes')).toEqual([{ path: 'notes/readme.txt', is_dir: false, file_size: 23 }]);
    const dest = join(tmp, 'readme-copy.txt');
    const got = await repo.downloadFile('notes/readme.txt', dest);
    expect(readFileSync(dest, 'utf8')).toBe('hello from the fixture\n');
    expect(got.size).toBe(23);
    const model = await store.getLoggedModel(FIXTURE.modelId);
    const files = (await store.artifactRepository(model.info.artifact_uri).list()).map((f) => f.path);
    expect(files).toEqual(['MLmodel', 'conda.yaml', 'input_example.json', 'model.pkl', 'python_env.yaml', 'requirements.txt', 'serving_input_example.json']);
  });

  it('unknown ids are typed not-found errors with MLflow’s code', async () => {
    await expect(store.getRun('0123456789abcdef0123456789abcdef')).rejects.toMatchObject({
      name: 'ResourceNotFoundError',
      serverErrorCode: 'RESOURCE_DOES_NOT_EXIST',
    });
    await expect(store.getLoggedModel('m-00000000000000000000000000000000')).rejects.toThrow(
      /Logged model with ID 'm-00000000000000000000000000000000' not found/,
    );
  });
});
