/**
 * The REST client over real HTTP against a FAKE MLflow server (test/support/fake-mlflow-server.ts,
 * itself checked against the recorded real server): what the client sends (shapes, headers, batch
 * splitting, pagination), typed errors with the server's message, retries and backoff, auth, TLS.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HttpArtifactRepository,
  InvalidParameterError,
  MlflowApiError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
  RestStore,
  TrackingAuthError,
  TrackingClient,
  TrackingConfigError,
  TrackingConnectionError,
  TrackingServerError,
  httpSettingsFromEnv,
  openTrackingClient,
  type Metric,
} from '../src/index.js';
import { FakeMlflowServer } from './support/fake-mlflow-server.js';

const tmp = mkdtempSync(join(tmpdir(), 'rest-client-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Fast retries for tests: the real policy (urllib3's formula), a 10 ms factor, no jitter. */
const FAST_ENV = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.01', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '3' };

let fake: FakeMlflowServer;
let store: RestStore;
let client: TrackingClient;
const retries: { attempt: number; delayMs: number; reason: string }[] = [];

beforeAll(async () => {
  fake = await new FakeMlflowServer().start();
  store = new RestStore(new URL(fake.url), { settings: httpSettingsFromEnv(FAST_ENV), onRetry: (r) => retries.push(r) });
  client = new TrackingClient(store, { sourceName: 'rest-client.test' });
});
afterAll(async () => {
  store.close();
  await fake.stop();
});
afterEach(() => {
  fake.faults.length = 0;
  fake.requireAuth = null;
  retries.length = 0;
});

const bodyOf = (r: { body: Buffer }): Record<string, unknown> => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

describe('REST client against the fake MLflow server: requests as MLflow sends them', () => {
  it('experiments: a miss is null, create, get-or-create, duplicate is a typed error with the server message', async () => {
    expect(await store.getExperimentByName('rest-client-exp')).toBeNull();
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    expect(exp).toMatchObject({ name: 'rest-client-exp', artifact_location: `mlflow-artifacts:/${exp.experiment_id}`, lifecycle_stage: 'active', tags: [] });
    expect((await client.getOrCreateExperiment('rest-client-exp')).experiment_id).toBe(exp.experiment_id);
    const err = await store.createExperiment('rest-client-exp').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceAlreadyExistsError);
    expect((err as MlflowApiError).serverErrorCode).toBe('RESOURCE_ALREADY_EXISTS');
    expect((err as MlflowApiError).status).toBe(400);
    expect((err as Error).message).toMatch(
      /^Experiment\(name=rest-client-exp\) already exists\. \(RESOURCE_ALREADY_EXISTS from http:\/\/127\.0\.0\.1:\d+, POST \/api\/2\.0\/mlflow\/experiments\/create → HTTP 400\)$/,
    );
  });

  it('runs/create carries the context tags and user, as compact json.dumps JSON with Content-Type application/json; runs/get sends run_id and run_uuid', async () => {
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    fake.requests.length = 0;
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'r1', start_time: 1700000000000 });
    const [req] = fake.requestsTo('/api/2.0/mlflow/runs/create');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toMatch(/^mlmodel-tracking-client/);
    expect(req!.body.toString()).toMatch(
      /^\{"experiment_id": "\d+", "user_id": "[^"]*", "run_name": "r1", "start_time": 1700000000000, "tags": \[\{"key": "mlflow.user"/,
    );
    expect(bodyOf(req!).tags).toEqual([
      { key: 'mlflow.user', value: expect.any(String) as unknown },
      { key: 'mlflow.source.name', value: 'rest-client.test' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
    ]);
    expect(run.info).toMatchObject({ run_name: 'r1', status: 'RUNNING', start_time: 1700000000000, lifecycle_stage: 'active' });
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${exp.experiment_id}/${run.info.run_id}/artifacts`);
    await store.getRun(run.info.run_id);
    const [get] = fake.requestsTo('/api/2.0/mlflow/runs/get');
    expect(Object.fromEntries(get!.query)).toEqual({ run_uuid: run.info.run_id, run_id: run.info.run_id });
    expect(get!.headers['content-type']).toBeUndefined();
    const info = await store.updateRun(run.info.run_id, { status: 'FINISHED', end_time: 1700000300000 });
    expect(info).toMatchObject({ status: 'FINISHED', end_time: 1700000300000 });
  });

  it('log-batch is split to MLflow’s limits (≤1000 metrics, ≤100 params+tags, ≤1000 entities), every value arrives, doubles stay doubles', async () => {
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'batch' });
    fake.requests.length = 0;
    const metrics: Metric[] = Array.from({ length: 2500 }, (_, i) => ({
      key: `m${i % 7}`,
      value: i === 0 ? 1 : i / 10,
      timestamp: 1700000000000 + i,
      step: i,
    }));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    const tags = Array.from({ length: 30 }, (_, i) => ({ key: `t${i}`, value: 'x' }));
    await client.logBatch(run.info.run_id, { metrics, params, tags });
    const sent = fake.requestsTo('/api/2.0/mlflow/runs/log-batch').map(bodyOf);
    const count = (b: Record<string, unknown>, k: string): number => (b[k] as unknown[] | undefined)?.length ?? 0;
    // params first with the metrics that still fit, then the rest: 100 params + 900 metrics, 50 params + 30 tags + 920 metrics, 680 metrics
    expect(sent.map((b) => [count(b, 'params'), count(b, 'tags'), count(b, 'metrics')])).toEqual([
      [100, 0, 900],
      [50, 30, 920],
      [0, 0, 680],
    ]);
    for (const b of sent) {
      const m = (b.metrics as unknown[] | undefined)?.length ?? 0;
      const pt = ((b.params as unknown[] | undefined)?.length ?? 0) + ((b.tags as unknown[] | undefined)?.length ?? 0);
      expect(m).toBeLessThanOrEqual(1000);
      expect(pt).toBeLessThanOrEqual(100);
      expect(m + pt).toBeLessThanOrEqual(1000);
      expect(Object.keys(b)[0]).toBe('run_id');
    }
    expect(sent.reduce((n, b) => n + ((b.metrics as unknown[] | undefined)?.length ?? 0), 0)).toBe(2500);
    // a value of 1 goes out as the double 1.0, as Python's json.dumps writes a float
    expect(fake.requestsTo('/api/2.0/mlflow/runs/log-batch')[0]!.body.toString()).toContain(
      '"key": "m0", "value": 1.0, "timestamp": 1700000000000, "step": 0}',
    );
    const got = await store.getRun(run.info.run_id);
    expect(got.data.params).toHaveLength(150);
    expect(got.data.tags.filter((t) => t.key.startsWith('t'))).toHaveLength(30);
    expect(got.data.metrics).toHaveLength(7);
  });

  it('metric history asks with max_results=25000 like the Python client (without it the server sends no metrics) and follows page tokens', async () => {
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'history' });
    const n = 25_003;
    await client.logBatch(run.info.run_id, { metrics: Array.from({ length: n }, (_, i) => ({ key: 'loss', value: i, timestamp: 1700000000000, step: i })) });
    fake.requests.length = 0;
    const h = await store.getMetricHistory(run.info.run_id, 'loss');
    expect(h).toHaveLength(n);
    expect(h[n - 1]).toEqual({ key: 'loss', value: n - 1, timestamp: 1700000000000, step: n - 1 });
    const pages = fake.requestsTo('/api/2.0/mlflow/metrics/get-history');
    expect(pages).toHaveLength(2);
    expect(pages[0]!.query.get('max_results')).toBe('25000');
    expect(pages[1]!.query.get('page_token')).toBe(Buffer.from('{"offset": 25000}').toString('base64'));
  });

  it('runs/search pagination: every run once, following the token the server sends even after the last full page', async () => {
    const exp = await client.getOrCreateExperiment('paging-exp');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await client.createRun({ experiment_id: exp.experiment_id, run_name: `p${i}`, start_time: 1700000000000 + i })).info.run_id);
    fake.requests.length = 0;
    const all = await client.searchAllRuns({ experiment_ids: [exp.experiment_id], max_results: 1, order_by: ['attributes.start_time DESC'] });
    expect(all.map((r) => r.info.run_id)).toEqual([...ids].reverse());
    // 5 full pages, then the empty page after the last token
    const searches = fake.requestsTo('/api/2.0/mlflow/runs/search').map(bodyOf);
    expect(searches).toHaveLength(6);
    expect(searches[0]).toEqual({ experiment_ids: [exp.experiment_id], max_results: 1, order_by: ['attributes.start_time DESC'] });
    expect(searches[5]!.page_token).toBe(Buffer.from('{"offset": 5}').toString('base64'));
    const filtered = await client.searchAllRuns({ experiment_ids: [exp.experiment_id], filter: "tags.mlflow.runName = 'p3'" });
    expect(filtered.map((r) => r.info.run_name)).toEqual(['p3']);
  });

  it('artifacts through the mlflow-artifacts proxy: PUT with a guessed Content-Type, list, GET; the tracking API listing', async () => {
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'artifacts' });
    const repo = store.artifactRepository(run.info.artifact_uri);
    expect(repo).toBeInstanceOf(HttpArtifactRepository);
    const local = join(tmp, 'readme.txt');
    writeFileSync(local, 'hello from the REST fixture\n');
    fake.requests.length = 0;
    await repo.uploadFile(local, 'notes/readme.txt');
    const [put] = fake.requests;
    expect(put!.method).toBe('PUT');
    expect(put!.path).toBe(`/api/2.0/mlflow-artifacts/artifacts/${exp.experiment_id}/${run.info.run_id}/artifacts/notes/readme.txt`);
    expect(put!.headers['content-type']).toBe('text/plain');
    expect(await repo.list()).toEqual([{ path: 'notes', is_dir: true }]);
    expect(await repo.list('notes')).toEqual([{ path: 'notes/readme.txt', is_dir: false, file_size: 28 }]);
    const listReq = fake.requests.filter((r) => r.path === '/api/2.0/mlflow-artifacts/artifacts').pop()!;
    expect(listReq.query.get('path')).toBe(`${exp.experiment_id}/${run.info.run_id}/artifacts/notes`);
    const dest = join(tmp, 'downloaded.txt');
    const got = await repo.downloadFile('notes/readme.txt', dest);
    expect(readFileSync(dest, 'utf8')).toBe('hello from the REST fixture\n');
    expect(got).toEqual({ size: 28, sha256: createHash('sha256').update('hello from the REST fixture\n').digest('hex') });
    expect(await store.listRunArtifacts(run.info.run_id, 'notes')).toEqual([{ path: 'notes/readme.txt', is_dir: false, file_size: 28 }]);
    // a missing file is MLflow's 500 INTERNAL_ERROR: the server's answer, returned at once, not retried
    fake.requests.length = 0;
    const err = await repo.downloadFile('nope.txt', join(tmp, 'nope.txt')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingServerError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toMatch(/^The following failures occurred while downloading .* \| ##### File .*nope\.txt/);
    expect(fake.requests).toHaveLength(1);
  });

  it('MLflow 3 logged models: create, link to the run, finalize, get, search; the registry: versions, alias, download URI, stages', async () => {
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id, run_name: 'models' });
    const m = await store.createLoggedModel({
      experiment_id: exp.experiment_id,
      name: 'model',
      source_run_id: run.info.run_id,
      params: [{ key: 'alpha', value: '0.5' }],
    });
    expect(m.info).toMatchObject({ status: 'LOGGED_MODEL_PENDING', name: 'model', model_type: '', source_run_id: run.info.run_id });
    expect(m.info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
    await store.logOutputs(run.info.run_id, [{ model_id: m.info.model_id, step: 0 }]);
    expect(bodyOf(fake.requestsTo('/api/2.0/mlflow/runs/outputs').pop()!)).toEqual({
      run_id: run.info.run_id,
      models: [{ model_id: m.info.model_id, step: 0 }],
    });
    const ready = await store.finalizeLoggedModel(m.info.model_id, 'LOGGED_MODEL_READY');
    expect(ready.info.status).toBe('LOGGED_MODEL_READY');
    expect(bodyOf(fake.requestsTo(`/api/2.0/mlflow/logged-models/${m.info.model_id}`, 'PATCH').pop()!)).toEqual({
      model_id: m.info.model_id,
      status: 'LOGGED_MODEL_READY',
    });
    expect((await store.getLoggedModel(m.info.model_id)).data.params).toEqual([{ key: 'alpha', value: '0.5' }]);
    expect((await store.getRun(run.info.run_id)).outputs).toEqual({ model_outputs: [{ model_id: m.info.model_id, step: 0 }] });
    const found = await client.searchAllLoggedModels({ experiment_ids: [exp.experiment_id], filter: "name = 'model'" });
    expect(found.map((x) => x.info.model_id)).toContain(m.info.model_id);
    await expect(store.getLoggedModel('m-00000000000000000000000000000000')).rejects.toBeInstanceOf(ResourceNotFoundError);

    const v1 = await client.registerModel('rest-model', `models:/${m.info.model_id}`, { run_id: run.info.run_id, model_id: m.info.model_id });
    expect(v1).toMatchObject({ name: 'rest-model', version: '1', current_stage: 'None', status: 'READY', source: `models:/${m.info.model_id}` });
    const v2 = await client.registerModel('rest-model', `runs:/${run.info.run_id}/model`, { run_id: run.info.run_id });
    expect(v2.version).toBe('2');
    // the server resolved the models:/ source to the model's artifact location; a runs:/ source comes back as sent
    expect(await store.getModelVersionDownloadUri('rest-model', '1')).toBe(m.info.artifact_uri);
    expect(await store.getModelVersionDownloadUri('rest-model', '2')).toBe(`runs:/${run.info.run_id}/model`);
    await store.setRegisteredModelAlias('rest-model', 'champion', '1');
    expect((await store.getModelVersionByAlias('rest-model', 'champion')).aliases).toEqual(['champion']);
    // an unknown alias is MLflow's 400 INVALID_PARAMETER_VALUE, not a 404
    await expect(store.getModelVersionByAlias('rest-model', 'nope')).rejects.toBeInstanceOf(InvalidParameterError);
    expect((await store.getLatestVersions('rest-model')).map((v) => v.version)).toEqual(['2']);
    fake.setStage('rest-model', '1', 'Production');
    expect((await store.getLatestVersions('rest-model', ['production'])).map((v) => v.version)).toEqual(['1']);
    expect((await client.searchAllModelVersions("name='rest-model'")).map((v) => v.version).sort()).toEqual(['1', '2']);
    const rm = await store.getRegisteredModel('rest-model');
    expect(rm.aliases).toEqual([{ alias: 'champion', version: '1' }]);
    await expect(client.registry.createRegisteredModel('rest-model')).rejects.toBeInstanceOf(ResourceAlreadyExistsError);
  });
});

describe('REST client against the fake MLflow server: errors', () => {
  it('a missing run is ResourceNotFoundError with the server message, on one line', async () => {
    const err = await store.getRun('0123456789abcdef0123456789abcdef').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundError);
    expect(err).toMatchObject({
      serverErrorCode: 'RESOURCE_DOES_NOT_EXIST',
      serverMessage: 'Run with id=0123456789abcdef0123456789abcdef not found',
      status: 404,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      userError: true,
    });
    expect(retries).toEqual([]);
  });

  it('MLflow’s limits come back as InvalidParameterError (changing a param)', async () => {
    const exp = await client.getOrCreateExperiment('rest-client-exp');
    const run = await client.createRun({ experiment_id: exp.experiment_id });
    await client.logBatch(run.info.run_id, { params: [{ key: 'alpha', value: '0.5' }] });
    await client.logBatch(run.info.run_id, { params: [{ key: 'alpha', value: '0.5' }] });
    const err = await client.logBatch(run.info.run_id, { params: [{ key: 'alpha', value: '0.9' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidParameterError);
    expect((err as Error).message).toMatch(/^Changing param values is not allowed/);
  });

  it('an endpoint the server does not have (Flask’s HTML 404) says so instead of "not found"', async () => {
    const err = await store.call('GET', 'no-such-endpoint').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err).not.toBeInstanceOf(ResourceNotFoundError);
    expect((err as MlflowApiError).serverErrorCode).toBe('ENDPOINT_NOT_FOUND');
    expect((err as Error).message).toMatch(/the server has no \/api\/2\.0\/mlflow\/no-such-endpoint endpoint \(404 Not Found: The requested URL was not found/);
  });
});

describe('REST client against the fake MLflow server: retries and backoff (MLFLOW_HTTP_REQUEST_*)', () => {
  it('503 and 502 are retried with urllib3’s backoff (none before the first retry, then factor·2^(n-1))', async () => {
    fake.faults.push(
      { path: '/api/2.0/mlflow/experiments/get-by-name', status: 503, times: 2 },
      { path: '/api/2.0/mlflow/experiments/get-by-name', status: 502 },
    );
    expect((await store.getExperimentByName('Default'))?.experiment_id).toBe('0');
    expect(retries.map((r) => [r.attempt, r.delayMs, r.reason])).toEqual([
      [1, 0, 'HTTP 503'],
      [2, 20, 'HTTP 503'],
      [3, 40, 'HTTP 502'],
    ]);
  });

  it('429 waits what Retry-After says', async () => {
    fake.faults.push({ path: '/api/2.0/mlflow/experiments/get-by-name', status: 429, headers: { 'retry-after': '1' } });
    const t0 = performance.now();
    await store.getExperimentByName('Default');
    expect(retries).toEqual([expect.objectContaining({ attempt: 1, delayMs: 1000, reason: 'HTTP 429' })]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it('a 500 without MLflow’s error body (a proxy) is retried; a reset connection is retried', async () => {
    fake.faults.push({ path: '/api/2.0/mlflow/experiments/get-by-name', status: 500, body: '<html>Internal Server Error</html>' });
    fake.faults.push({ path: '/api/2.0/mlflow/experiments/get-by-name', reset: true });
    expect((await store.getExperimentByName('Default'))?.name).toBe('Default');
    expect(retries.map((r) => r.reason)).toEqual(['HTTP 500', 'ECONNRESET']);
  });

  it('after the retries: the last status as a typed error; a server that is not there is TrackingConnectionError', async () => {
    fake.faults.push({ path: '/api/2.0/mlflow/runs/get', status: 503, times: 10, body: 'upstream down' });
    const before = fake.requestsTo('/api/2.0/mlflow/runs/get').length;
    const err = await store.getRun('abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingServerError);
    expect((err as Error).message).toMatch(/^upstream down \(INTERNAL_ERROR from .*HTTP 503\)$/);
    expect(fake.requestsTo('/api/2.0/mlflow/runs/get').length - before).toBe(4); // 1 + MLFLOW_HTTP_REQUEST_MAX_RETRIES=3

    const closed = new FakeMlflowServer();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const gone = new RestStore(new URL(url), { settings: httpSettingsFromEnv({ ...FAST_ENV, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' }) });
    const e2 = await gone.getExperimentByName('x').catch((e: unknown) => e);
    gone.close();
    expect(e2).toBeInstanceOf(TrackingConnectionError);
    expect((e2 as Error).message).toMatch(
      /^cannot reach the MLflow tracking server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED after 2 retries\): check MLFLOW_TRACKING_URI/,
    );
  });
});

describe('REST client against the fake MLflow server: auth and TLS', () => {
  it('MLFLOW_TRACKING_TOKEN is sent as a bearer token; without it the server’s 401 is a TrackingAuthError that says what to set', async () => {
    fake.requireAuth = 'Bearer s3cret';
    const noAuth = await store.getExperimentByName('Default').catch((e: unknown) => e);
    expect(noAuth).toBeInstanceOf(TrackingAuthError);
    expect((noAuth as Error).message).toMatch(
      /You are not authenticated.*: set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD/,
    );
    const c = openTrackingClient({ env: { ...FAST_ENV, MLFLOW_TRACKING_URI: fake.url, MLFLOW_TRACKING_TOKEN: 's3cret' } });
    expect((await c.store.getExperimentByName('Default'))?.experiment_id).toBe('0');
    c.close();
    expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer s3cret');
  });

  it('MLFLOW_TRACKING_USERNAME/PASSWORD are sent as basic auth (preferred over a token, as MLflow does)', async () => {
    fake.requireAuth = `Basic ${Buffer.from('alice:pw:with:colons').toString('base64')}`;
    const c = openTrackingClient({
      env: {
        ...FAST_ENV,
        MLFLOW_TRACKING_URI: fake.url,
        MLFLOW_TRACKING_USERNAME: 'alice',
        MLFLOW_TRACKING_PASSWORD: 'pw:with:colons',
        MLFLOW_TRACKING_TOKEN: 'ignored',
      },
    });
    expect((await c.store.getExperimentByName('Default'))?.name).toBe('Default');
    c.close();
    expect(() => openTrackingClient({ env: { MLFLOW_TRACKING_URI: fake.url, MLFLOW_TRACKING_USERNAME: 'alice' } })).toThrow(
      /MLFLOW_TRACKING_USERNAME is set without MLFLOW_TRACKING_PASSWORD/,
    );
  });

  it('credentials go only to the tracking server, not to another artifact host', async () => {
    const other = await new FakeMlflowServer().start();
    try {
      other.putArtifact('mlflow-artifacts:/9/x/artifacts', 'f.txt', 'other host');
      const c = openTrackingClient({ env: { ...FAST_ENV, MLFLOW_TRACKING_URI: fake.url, MLFLOW_TRACKING_TOKEN: 's3cret' } });
      const repo = c.artifactRepository(`mlflow-artifacts://${new URL(other.url).host}/9/x/artifacts`);
      await repo.downloadFile('f.txt', join(tmp, 'other.txt'));
      c.close();
      expect(readFileSync(join(tmp, 'other.txt'), 'utf8')).toBe('other host');
      expect(other.requests.at(-1)!.headers.authorization).toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('https: a self-signed server is refused, accepted with MLFLOW_TRACKING_INSECURE_TLS=true or MLFLOW_TRACKING_SERVER_CERT_PATH', async () => {
    const key = join(tmp, 'key.pem');
    const cert = join(tmp, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      {
        stdio: 'ignore',
      },
    );
    // a TLS front for the fake: same answers, over https
    const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void fetch(`${fake.url}${req.url}`, {
          method: req.method,
          headers: req.headers as Record<string, string>,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        }).then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        });
      });
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    try {
      const strict = openTrackingClient({ env: { ...FAST_ENV, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', MLFLOW_TRACKING_URI: url } });
      const refused = await strict.store.getExperimentByName('Default').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TrackingConnectionError);
      expect((refused as Error).message).toMatch(
        /^TLS connection to https:\/\/127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT: self[- ]signed certificate\): set MLFLOW_TRACKING_SERVER_CERT_PATH/,
      );
      strict.close();
      const insecure = openTrackingClient({ env: { ...FAST_ENV, MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_INSECURE_TLS: 'true' } });
      expect((await insecure.store.getExperimentByName('Default'))?.experiment_id).toBe('0');
      insecure.close();
      const pinned = openTrackingClient({ env: { ...FAST_ENV, MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_SERVER_CERT_PATH: cert } });
      expect((await pinned.store.getExperimentByName('Default'))?.experiment_id).toBe('0');
      pinned.close();
      expect(() => httpSettingsFromEnv({ MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: cert })).toThrow(TrackingConfigError);
      expect(() => httpSettingsFromEnv({ MLFLOW_TRACKING_INSECURE_TLS: 'maybe' })).toThrow(/must be true, false, 1 or 0/);
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  });
});
