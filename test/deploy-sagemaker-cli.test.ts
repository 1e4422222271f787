/**
 * `mlmodel deploy sagemaker` without Docker: usage errors, and the CLI interrupted (SIGINT/SIGTERM) while it waits: the real CLI in a child
 * process against the FAKE AWS (packages/deploy-sagemaker/test/fake-aws). SageMaker goes on with
 * what was already sent, so the CLI must not die silently: one `error:` line naming the calls
 * made and what to run next, exit 130 (SIGINT) or 143 (SIGTERM).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws } from '../packages/deploy-sagemaker/test/fake-aws/index.js';
import { BIN } from './support/serve-process.js';

const MODEL = fileURLToPath(new URL('../examples/iris-onnx', import.meta.url));
const IMAGE = '123456789012.dkr.ecr.us-west-2.amazonaws.com/mlmodel-iris-onnx:test';
const ROLE = 'arn:aws:iam::123456789012:role/SageMakerExecution';
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-sagemaker-signals-'));
let fake: FakeAws;

beforeAll(async () => {
  fake = await startFakeAws();
});
afterAll(async () => {
  await fake.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI, sends `signal` once stderr shows `when`; resolves with its exit and output. */
function interrupted(args: string[], when: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'deploy', 'sagemaker', ...args], {
      cwd: tmp,
      env: { ...process.env, ...fake.env(), AWS_CONFIG_FILE: join(tmp, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'none') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && when.test(stderr)) {
        clearTimeout(guard);
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('deploy sagemaker interrupted while waiting', () => {
  it('SIGINT during create: one error line with the calls made and what to run, exit 130', async () => {
    fake.behaviour.nextCreate.push({ kind: 'never' });
    const r = await interrupted(
      ['create', '-n', 'iris-sig', '-m', MODEL, '--image-url', IMAGE, '--execution-role-arn', ROLE, '--poll-interval', '0.02'],
      /creating endpoint iris-sig: Creating/,
      'SIGINT',
    );
    expect(r.code).toBe(130);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(
      /^error: interrupted \(SIGINT\) during create of iris-sig; nothing was rolled back and SageMaker goes on with the calls already made: .*CreateModel iris-sig-model-[0-9a-f]{20}, CreateEndpointConfig iris-sig-config-[0-9a-f]{20}, CreateEndpoint iris-sig; see `mlmodel deploy sagemaker status -n iris-sig`, and `mlmodel deploy sagemaker delete -n iris-sig` removes it$/,
    );
    expect(last).toContain(`PutObject s3://mlmodel-sagemaker-us-west-2-123456789012/iris-sig/iris-sig-model-`);
    expect(r.stdout).toBe('');
  });

  it('SIGTERM during delete, while it waits for the endpoint to leave Creating: nothing changed yet, exit 143', async () => {
    const r = await interrupted(['delete', '-n', 'iris-sig', '--poll-interval', '0.02'], /Creating/, 'SIGTERM');
    expect(r.code).toBe(143);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('error: interrupted (SIGTERM) during delete of iris-sig: nothing had been changed yet');
    expect(fake.state.endpoints.has('iris-sig')).toBe(true);
  });
});

describe('deploy sagemaker usage', () => {
  it('an option that would be ignored without the one it refines is a usage error (exit 2), before any AWS call', async () => {
    const calls = fake.state.calls.length;
    for (const [extra, msg] of [
      [['--serverless-concurrency', '10'], 'error: --serverless-concurrency needs --serverless-memory: without it, it would be ignored'],
      [['--data-capture-percent', '20'], 'error: --data-capture-percent needs --data-capture: without it, it would be ignored'],
      [['--async-failure-path', 's3://b/f'], 'error: --async-failure-path needs --async-output-path: without it, it would be ignored'],
    ] as const) {
      const r = await interrupted(['create', '-n', 'iris-u', '-m', MODEL, '--image-url', IMAGE, '--execution-role-arn', ROLE, ...extra], /$^/, 'SIGINT');
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(msg);
    }
    expect(fake.state.calls.length).toBe(calls);
  });
});

describe('deploy sagemaker --dry-run', () => {
  it('progress lines say they are a dry run; stdout is the plan; nothing is made', async () => {
    const before = fake.state.inventory();
    const r = await interrupted(['create', '-n', 'iris-dry', '-m', MODEL, '--image-url', IMAGE, '--execution-role-arn', ROLE, '--dry-run'], /$^/, 'SIGINT');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain('mlmodel: dry run: creating endpoint iris-dry');
    for (const l of lines) expect(l).toMatch(/^mlmodel: dry run: /);
    expect(r.stdout.split('\n')[0]).toBe('dry run: nothing was changed. These calls would be made:');
    expect(fake.state.inventory()).toEqual(before);
  });
});
