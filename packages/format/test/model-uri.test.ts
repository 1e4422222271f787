import { describe, expect, it } from 'vitest';
import { ModelUriError, formatModelUri, parseModelUri } from '../src/index.js';

describe('model URIs', () => {
  it('parses local paths and file URIs', () => {
    expect(parseModelUri('models/iris', '/srv')).toEqual({ kind: 'local', path: '/srv/models/iris' });
    expect(parseModelUri('/abs/model')).toEqual({ kind: 'local', path: '/abs/model' });
    expect(parseModelUri('file:///tmp/my%20model')).toEqual({ kind: 'local', path: '/tmp/my model' });
    expect(parseModelUri('file://localhost/tmp/m')).toEqual({ kind: 'local', path: '/tmp/m' });
    expect(() => parseModelUri('file://otherhost/tmp/m')).toThrow(ModelUriError);
  });

  it('parses runs:/ URIs', () => {
    expect(parseModelUri('runs:/0a1b2c/model')).toEqual({ kind: 'run', runId: '0a1b2c', artifactPath: 'model' });
    expect(parseModelUri('runs:/0a1b2c/path/to/model')).toEqual({ kind: 'run', runId: '0a1b2c', artifactPath: 'path/to/model' });
    expect(() => parseModelUri('runs:/')).toThrow(/Not a proper runs:\/ URI/);
  });

  it('parses every models:/ form (reference §8.1)', () => {
    expect(parseModelUri('models:/iris/3')).toMatchObject({ kind: 'registered', name: 'iris', version: '3' });
    expect(parseModelUri('models:/iris@champion')).toMatchObject({ kind: 'alias', name: 'iris', alias: 'champion' });
    expect(parseModelUri('models:/a@b@prod')).toMatchObject({ kind: 'alias', name: 'a@b', alias: 'prod' });
    expect(parseModelUri('models:/iris/Production')).toMatchObject({ kind: 'stage', name: 'iris', stage: 'Production' });
    expect(parseModelUri('models:/iris/LATEST')).toMatchObject({ kind: 'latest', name: 'iris' });
    expect(parseModelUri('models:/m-0123456789abcdef0123456789abcdef')).toMatchObject({
      kind: 'logged-model',
      modelId: 'm-0123456789abcdef0123456789abcdef',
    });
    expect(parseModelUri('models://////Name/1')).toMatchObject({ kind: 'registered', name: 'Name', version: '1' });
    expect(parseModelUri('models://profile@databricks/iris/2')).toMatchObject({ kind: 'registered', profile: 'profile@databricks' });
    expect(parseModelUri('models:/iris/1/path/to/file')).toMatchObject({ kind: 'registered', subPath: 'path/to/file' });
  });

  it('rejects malformed models:/ URIs with MLflow-style messages', () => {
    for (const bad of ['models:/', 'models:/iris@', 'models:/@alias', 'models:/ /1']) {
      expect(() => parseModelUri(bad), bad).toThrow(/Not a proper models:\/ URI/);
    }
    expect(() => parseModelUri('')).toThrow(/empty/);
  });

  it('keeps other schemes as remote and formats back', () => {
    expect(parseModelUri('s3://bucket/path')).toEqual({ kind: 'remote', scheme: 's3', uri: 's3://bucket/path' });
    for (const u of ['models:/iris/3', 'models:/iris@champion', 'models:/iris/Staging', 'models:/m-abc', 'runs:/r1/model', 's3://b/p']) {
      expect(formatModelUri(parseModelUri(u))).toBe(u);
    }
  });
});
