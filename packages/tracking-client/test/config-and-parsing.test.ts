/**
 * The small pieces with many cases: tracking URIs, retry settings from the environment, artifact
 * path checks, MLflow's search filter syntax and page tokens, batch splitting.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BATCH_LIMITS,
  TrackingConfigError,
  UnsafeArtifactPathError,
  localPathWithin,
  offsetOfToken,
  pageToken,
  parseFilter,
  parseOrderBy,
  parseTrackingUri,
  retryPolicyFromEnv,
  safeRelativePath,
  splitBatch,
  splitProxyUri,
} from '../src/index.js';

describe('tracking URIs', () => {
  it('unset is ./mlruns; paths and file: URIs are file stores; http(s) is REST', () => {
    expect(parseTrackingUri(undefined, '/work')).toEqual({ kind: 'file', root: '/work/mlruns', uri: '/work/mlruns' });
    expect(parseTrackingUri('', '/work').kind).toBe('file');
    expect(parseTrackingUri('runs-here', '/work')).toMatchObject({ kind: 'file', root: '/work/runs-here' });
    expect(parseTrackingUri('file:///srv/mlruns', '/work')).toMatchObject({ kind: 'file', root: '/srv/mlruns' });
    expect(parseTrackingUri('file:/srv/fixture/mlruns', '/work')).toMatchObject({ kind: 'file', root: '/srv/fixture/mlruns' });
    expect(parseTrackingUri('file://localhost/srv/a%20b', '/work')).toMatchObject({ kind: 'file', root: '/srv/a b' });
    expect(parseTrackingUri('file:rel/mlruns', '/work')).toMatchObject({ kind: 'file', root: resolve('/work/rel/mlruns') });
    const rest = parseTrackingUri('https://mlflow.example.com/prefix/', '/work');
    expect(rest.kind).toBe('rest');
    expect(rest.kind === 'rest' && rest.baseUrl.href).toBe('https://mlflow.example.com/prefix/');
  });

  it('databricks and database URIs are refused with what to do instead', () => {
    for (const u of ['databricks', 'databricks://profile', 'databricks-uc'])
      expect(() => parseTrackingUri(u)).toThrow(/Databricks workspaces are not supported/);
    expect(() => parseTrackingUri('sqlite:///mlflow.db')).toThrow(/run `mlflow server --backend-store-uri sqlite:\/\/\/mlflow.db`/);
    expect(() => parseTrackingUri('postgresql+psycopg2://u@h/db')).toThrow(TrackingConfigError);
    expect(() => parseTrackingUri('s3://bucket/x')).toThrow(/unsupported scheme s3/);
  });

  it('retry settings: MLflow’s defaults and its environment variables', () => {
    expect(retryPolicyFromEnv({})).toEqual({ maxRetries: 7, backoffFactor: 2, backoffJitter: 1, backoffMax: 120, timeout: 120 });
    expect(
      retryPolicyFromEnv({ MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.5', MLFLOW_HTTP_REQUEST_TIMEOUT: '5' }),
    ).toMatchObject({
      maxRetries: 0,
      backoffFactor: 0.5,
      timeout: 5,
    });
    expect(() => retryPolicyFromEnv({ MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2.5' })).toThrow(/MLFLOW_HTTP_REQUEST_MAX_RETRIES must be a whole number/);
    expect(() => retryPolicyFromEnv({ MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '-1' })).toThrow(TrackingConfigError);
  });

  it('mlflow-artifacts URIs map onto the tracking server’s proxy (and onto another host when they name one)', () => {
    const base = new URL('https://mlflow.example.com/prefix/');
    expect(splitProxyUri('mlflow-artifacts:/1/abc/artifacts', base)).toEqual({
      apiBase: new URL('https://mlflow.example.com/prefix/api/2.0'),
      root: '1/abc/artifacts',
    });
    expect(splitProxyUri('mlflow-artifacts:///1//abc/', base).root).toBe('1/abc');
    expect(splitProxyUri('mlflow-artifacts://other:5000/1/x', base).apiBase.href).toBe('https://other:5000/api/2.0');
    expect(splitProxyUri('http://h:1/api/2.0/mlflow-artifacts/artifacts/7/m', base)).toEqual({ apiBase: new URL('http://h:1/api/2.0'), root: '7/m' });
    expect(() => splitProxyUri('mlflow-artifacts:/1/../../etc', base)).toThrow(UnsafeArtifactPathError);
  });
});

describe('artifact paths from a server', () => {
  it('plain relative paths pass; anything that could leave the destination is refused', () => {
    expect(safeRelativePath('model/MLmodel', 'ctx')).toBe('model/MLmodel');
    expect(safeRelativePath('model/', 'ctx')).toBe('model');
    expect(safeRelativePath('', 'ctx')).toBe('');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', './a', 'a/.', 'a\\b', 'C:/x', 'c:x', 'a\u0000b', 'x/\n']) {
      expect(() => safeRelativePath(bad, 'ctx'), JSON.stringify(bad)).toThrow(UnsafeArtifactPathError);
    }
    expect(localPathWithin('/cache/tmp/x', 'a/b')).toBe('/cache/tmp/x/a/b');
    expect(() => localPathWithin('/cache/tmp/x', '../y')).toThrow(/points outside/);
  });
});

describe('MLflow search filters (the file store evaluates them)', () => {
  it('parses AND-ed clauses with MLflow’s identifiers, quoting and operators', () => {
    expect(parseFilter("metrics.rmse < 1 and params.alpha = '0.5'")).toEqual([
      { type: 'metric', key: 'rmse', op: '<', value: 1 },
      { type: 'param', key: 'alpha', op: '=', value: '0.5' },
    ]);
    expect(parseFilter('tags.`mlflow.runName` LIKE "fix%"')).toEqual([{ type: 'tag', key: 'mlflow.runName', op: 'LIKE', value: 'fix%' }]);
    expect(parseFilter("attributes.status IN ('FINISHED', 'FAILED') AND name != 'x'")).toEqual([
      { type: 'attribute', key: 'status', op: 'IN', value: ['FINISHED', 'FAILED'] },
      { type: 'attribute', key: 'name', op: '!=', value: 'x' },
    ]);
    expect(parseFilter("tags.t = 'it''s'")).toEqual([{ type: 'tag', key: 't', op: '=', value: "it's" }]);
    expect(parseFilter('')).toEqual([]);
    expect(() => parseFilter('metrics.a < 1 or metrics.b < 2')).toThrow(/OR is not supported/);
    expect(() => parseFilter('bogus.x = 1')).toThrow(/unknown entity type/);
    expect(() => parseFilter("params.a = 'open")).toThrow(/unterminated quote/);
    expect(parseOrderBy(['metrics.rmse DESC', 'attributes.start_time'])).toEqual([
      { type: 'metric', key: 'rmse', ascending: false },
      { type: 'attribute', key: 'start_time', ascending: true },
    ]);
  });

  it('page tokens are MLflow’s base64 {"offset": N}', () => {
    expect(pageToken(1)).toBe('eyJvZmZzZXQiOiAxfQ==');
    expect(offsetOfToken('eyJvZmZzZXQiOiAyfQ==')).toBe(2);
    expect(() => offsetOfToken('not-a-token')).toThrow(/Invalid page token/);
  });
});

describe('log-batch splitting', () => {
  it('respects every limit, keeps every entity once, in order, and sends oversize values alone', () => {
    const metrics = Array.from({ length: 3001 }, (_, i) => ({ key: `m${i}`, value: i, timestamp: 1, step: 0 }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const parts = splitBatch({ metrics, params });
    for (const p of parts) {
      expect((p.metrics?.length ?? 0) <= BATCH_LIMITS.metrics).toBe(true);
      expect((p.params?.length ?? 0) + (p.tags?.length ?? 0) <= BATCH_LIMITS.paramsAndTags).toBe(true);
    }
    expect(parts.flatMap((p) => p.metrics ?? [])).toEqual(metrics);
    expect(parts.flatMap((p) => p.params ?? [])).toEqual(params);
    // the ~1 MB request limit: 300 params of 6000 characters cannot share one request
    const big = Array.from({ length: 300 }, (_, i) => ({ key: `big${i}`, value: 'x'.repeat(6000) }));
    const bigParts = splitBatch({ params: big });
    expect(bigParts.length).toBeGreaterThanOrEqual(2);
    for (const p of bigParts) expect(JSON.stringify(p).length).toBeLessThan(BATCH_LIMITS.bytes);
    expect(splitBatch({})).toEqual([]);
  });
});
