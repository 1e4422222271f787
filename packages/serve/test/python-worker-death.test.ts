/**
 * A python_function model whose worker process dies while it runs a request, through a real
 * server: the request gets 503 with Retry-After (it can be sent again: the worker is restarted),
 * in the protocol of the route, with no process id in the body (the log has it); the retry works.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@mlmodel/serve';
// the python_function bridge tests' toy models: `slow` sleeps its input's seconds, then returns its worker's pid
import { PYTHON, toyModel } from '../../flavors/test/python-support.js';
import { post, start } from './support.js';

let root: string;
let s: RunningServer;
const logs: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-serve-pydeath-'));
  const model = await toyModel(root, 'slow', 'slow');
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  s = await start([{ name: 'toy', path: model.dir, options: { python: PYTHON, workers: 1 } }], { logLevel: 'warn', logStream });
});
afterAll(async () => {
  await s?.close();
  await rm(root, { recursive: true, force: true });
});

/** The pid of the worker that answers (the `slow` model's prediction for 0 seconds). */
async function workerPid(): Promise<number> {
  const r = await post(s, '/invocations', '{"inputs": [0]}');
  expect(r.status, r.text).toBe(200);
  return (JSON.parse(r.text) as { predictions: number[] }).predictions[0]!;
}

/** Send a request the worker holds for 10 s, and SIGKILL the worker while it does. */
async function killedDuring<T>(send: () => Promise<T>, pid: number): Promise<T> {
  const pending = send();
  await new Promise((r) => setTimeout(r, 300));
  process.kill(pid, 'SIGKILL');
  return pending;
}

describe('a Python worker that dies mid-request', () => {
  it('answers /invocations with 503 + Retry-After and no pid, then serves the retry on a new worker', async () => {
    const pid = await workerPid();
    const r = await killedDuring(() => post(s, '/invocations', '{"inputs": [10]}'), pid);
    expect(r.status, r.text).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    const body = JSON.parse(r.text) as { error_code: string; message: string };
    expect(body.error_code).toBe('TEMPORARILY_UNAVAILABLE');
    expect(body.message).toMatch(/^the Python worker #\d+ died \(killed by SIGKILL\); it is being restarted and the model re-loaded: send the request again/);
    expect(r.text).not.toContain(String(pid));
    expect(r.text).not.toMatch(/\bpid\b/);
    // the same request again: a new worker answers
    expect(await workerPid()).not.toBe(pid);
    // the operator still learns which process died
    expect(logs.join('')).toContain(`(pid ${pid}) exited (SIGKILL); restarting it`);
  });

  it('answers the Open Inference Protocol route with 503 + Retry-After and an {"error"} body without the pid', async () => {
    const pid = await workerPid();
    const request = { inputs: [{ name: 'input-0', datatype: 'FP64', shape: [1], data: [10] }] };
    const r = await killedDuring(() => post(s, '/v2/models/toy/infer', JSON.stringify(request)), pid);
    expect(r.status, r.text).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    const body = JSON.parse(r.text) as Record<string, string>;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(/^the Python worker #\d+ died \(killed by SIGKILL\); it is being restarted/);
    expect(r.text).not.toContain(String(pid));
    expect(await workerPid()).not.toBe(pid);
  });
});
