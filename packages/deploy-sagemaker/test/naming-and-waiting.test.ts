/** Names (MLflow's shape, 63 characters), the waiter (injected clock), secret redaction, ECR tokens, traffic specs. */
import { describe, expect, it } from 'vitest';
import {
  checkName,
  tagValue,
  decodeAuthorizationToken,
  executionRoleFor,
  nextVariantName,
  parseTraffic,
  redact,
  repositoryNameFor,
  truncateName,
  uniqueName,
  waitFor,
} from '../src/index.js';

describe('names', () => {
  it('unique names are <app>-<kind>-<20 hex>, middle-truncated to 63 characters with ---', () => {
    expect(uniqueName('iris', 'model')).toMatch(/^iris-model-[0-9a-f]{20}$/);
    const long = uniqueName('a'.repeat(60), 'config', () => 'f'.repeat(20));
    expect(long).toHaveLength(63);
    expect(long).toBe(`${'a'.repeat(30)}---${'a'.repeat(2)}-config-${'f'.repeat(20)}`);
    expect(() => checkName(long, 'x')).not.toThrow();
    expect(truncateName('short')).toBe('short');
    expect(() => checkName('bad_name', 'endpoint name')).toThrow(/endpoint name "bad_name" is not a valid SageMaker name/);
    expect(() => checkName('-x', 'endpoint name')).toThrow();
    expect(() => checkName('x'.repeat(64), 'endpoint name')).toThrow();
    expect(repositoryNameFor('Iris_ONNX model')).toBe('mlmodel-iris_onnx-model');
    expect(nextVariantName([])).toBe('v1');
    expect(tagValue('runs:/abc/model#1 (v2)')).toBe('runs:/abc/model_1 _v2_');
    expect(tagValue('x'.repeat(300))).toHaveLength(256);
    expect(nextVariantName(['v1', 'blue', 'v3'])).toBe('v4');
  });

  it('the execution role comes from an assumed-role caller; IAM users must give one', () => {
    expect(executionRoleFor({ account: '1', arn: 'arn:aws:sts::123456789012:assumed-role/Deploy/me' }, undefined)).toBe(
      'arn:aws:iam::123456789012:role/Deploy',
    );
    expect(executionRoleFor({ account: '1', arn: 'arn:aws-cn:sts::123456789012:assumed-role/D/x' }, undefined)).toBe('arn:aws-cn:iam::123456789012:role/D');
    expect(() => executionRoleFor({ account: '1', arn: 'arn:aws:iam::123456789012:user/bob' }, undefined)).toThrow(/pass --execution-role-arn/);
    expect(() => executionRoleFor({ account: '1', arn: 'x' }, 'role/foo')).toThrow(/is not an IAM role ARN/);
  });

  it('traffic specs', () => {
    expect(parseTraffic('v1=90, v2=10')).toEqual({ v1: 90, v2: 10 });
    expect(parseTraffic('blue=0.5')).toEqual({ blue: 0.5 });
    expect(() => parseTraffic('')).toThrow(/--traffic is empty/);
    expect(() => parseTraffic('v1=-1')).toThrow(/variant=weight pairs/);
  });
});

describe('waitFor', () => {
  it('polls at the interval, reports changes only, and times out with the last status', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const lines: string[] = [];
    const states = ['Creating', 'Creating', 'Creating', 'InService'];
    const r = await waitFor(
      'creating endpoint e',
      async () => states.shift()!,
      (s) => s === 'InService',
      (s) => s,
      { intervalMs: 5000, timeoutMs: 60_000, now: () => t, sleep: async (ms) => void (sleeps.push(ms), (t += ms)) },
      (l) => lines.push(l),
    );
    expect(r).toBe('InService');
    expect(sleeps).toEqual([5000, 5000, 5000]);
    expect(lines).toEqual(['creating endpoint e: Creating (0.0 s)', 'creating endpoint e: InService (15.0 s)']);
    t = 0;
    await expect(
      waitFor(
        'updating endpoint e',
        async () => 'Updating',
        () => false,
        (s) => s,
        { intervalMs: 5000, timeoutMs: 20_000, now: () => t, sleep: async (ms) => void (t += ms) },
      ),
    ).rejects.toThrow(/^timed out after 20 s waiting for updating endpoint e \(last status: Updating\)$/);
    expect(t).toBe(20_000);
  });
});

describe('secrets', () => {
  it('are masked in messages: known values, signatures, tokens', () => {
    expect(redact('login as AWS with hunter2-secret failed', ['hunter2-secret'])).toBe('login as AWS with *** failed');
    expect(redact('https://x?X-Amz-Security-Token=abc&Signature=def')).toBe('https://x?X-Amz-Security-Token=***&Signature=***');
    expect(redact('{"password":"s3cr3tvalue"}')).toBe('{"password":"***"}');
  });

  it('ECR tokens decode to user and password', () => {
    expect(decodeAuthorizationToken(Buffer.from('AWS:pa:ss').toString('base64'))).toEqual({ username: 'AWS', password: 'pa:ss' });
    expect(() => decodeAuthorizationToken(Buffer.from('nocolon').toString('base64'))).toThrow(/not base64 of user:password/);
  });
});
