import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MlmodelError, UNEXPECTED_ERROR_MESSAGE, httpStatusForErrorCode, tensor, tensorBatch, type TensorBatch } from '@mlmodel/format';
import { PythonLoadError, PythonWorkerDiedError, pythonFunctionFlavor, type PythonFunctionModel } from '../src/python/index.js';
import { PYTHON, processExists, toyModel, workerChildren } from './python-support.js';

let root: string;
const logs: string[] = [];
const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-pyfaults-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A one-element float64 tensor: the seconds `slow` sleeps. */
const seconds = (s: number) => tensorBatch([tensor(null, 'float64', [1], Float64Array.of(s))]);
const pidOf = (p: unknown) => Number(((p as TensorBatch).tensors[0]!.values as BigInt64Array)[0]);

async function rejection(p: Promise<unknown>): Promise<MlmodelError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MlmodelError);
  return e as MlmodelError;
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('python_function faults: predict errors', () => {
  let model: PythonFunctionModel;
  beforeAll(async () => {
    model = (await pythonFunctionFlavor.load(await toyModel(root, 'fail', 'fail'), { options: { python: PYTHON }, logger })) as PythonFunctionModel;
  });
  afterAll(() => model.close());

  it('answers a raising predict with BAD_REQUEST and the Python message, and keeps serving', async () => {
    const pid = model.pids[0]!;
    const e = await rejection(model.predict(seconds(-1)));
    expect(e.errorCode).toBe('BAD_REQUEST');
    expect(httpStatusForErrorCode(e.errorCode)).toBe(400);
    expect(e.message.startsWith(UNEXPECTED_ERROR_MESSAGE)).toBe(true);
    expect(e.message).toContain("ValueError: feature 'x' must be positive, got -1.0");
    expect(e.message).toMatch(/File ".*toy_models\.py", line \d+, in fail/);
    // same process, still answering
    const again = await rejection(model.predict(seconds(-2)));
    expect(again.message).toContain('got -2.0');
    expect(model.pids).toEqual([pid]);
  });
});

describe('python_function faults: dead and hung workers', () => {
  it('fails the request of a worker killed mid-request, restarts it and serves the next one', async () => {
    const model = (await pythonFunctionFlavor.load(await toyModel(root, 'slow-kill', 'slow'), { options: { python: PYTHON }, logger })) as PythonFunctionModel;
    try {
      const pid = model.pids[0]!;
      const pending = model.predict(seconds(5));
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL');
      const e = await rejection(pending);
      // the request itself was fine: retryable, and no pid in a message that reaches clients (the log has it)
      expect(e).toBeInstanceOf(PythonWorkerDiedError);
      expect(e.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
      expect(httpStatusForErrorCode(e.errorCode)).toBe(503);
      expect(e.message).toContain('the Python worker #1 died (killed by SIGKILL); it is being restarted and the model re-loaded: send the request again');
      expect(e.message).not.toContain(String(pid));
      const next = pidOf(await model.predict(seconds(0)));
      expect(next).not.toBe(pid);
      expect(model.pids).toEqual([next]);
      expect(processExists(pid)).toBe(false);
      expect(logs.some((l) => l.includes(`(pid ${pid}) exited (SIGKILL); restarting it`))).toBe(true);
    } finally {
      await model.close();
    }
  });

  it('times out a hung predict with DEADLINE_EXCEEDED, kills the worker and replaces it', async () => {
    const model = (await pythonFunctionFlavor.load(await toyModel(root, 'slow-timeout', 'slow'), {
      options: { python: PYTHON, timeoutMs: 600 },
      logger,
    })) as PythonFunctionModel;
    try {
      const pid = model.pids[0]!;
      const started = Date.now();
      const e = await rejection(model.predict(seconds(30)));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(e.errorCode).toBe('DEADLINE_EXCEEDED');
      expect(httpStatusForErrorCode(e.errorCode)).toBe(504);
      expect(e.message).toContain('predict took longer than the 600 ms timeout; the Python worker #1 was killed and is being restarted');
      expect(e.message).not.toContain(String(pid));
      await waitFor(() => !processExists(pid));
      const next = pidOf(await model.predict(seconds(0)));
      expect(next).not.toBe(pid);
    } finally {
      await model.close();
    }
  });
});

describe('python_function faults: load failures', () => {
  it('summarizes the Python exception of a corrupt pickle, with its traceback', async () => {
    const dir = await toyModel(root, 'corrupt', 'echo', { pickle: new TextEncoder().encode('this is not a pickle') });
    const e = await rejection(pythonFunctionFlavor.load(dir, { options: { python: PYTHON }, logger }));
    expect(e).toBeInstanceOf(PythonLoadError);
    expect(e.message).toContain(`cannot load ${dir.dir} with ${PYTHON}: UnpicklingError: `);
    expect(e.message).toMatch(/File ".*mlmodel_bridge\/loaders\.py", line \d+, in __init__/);
    expect((e as PythonLoadError).python?.type).toBe('UnpicklingError');
  });

  it('says which mlflow to install for a model only MLflow can load', async () => {
    const dir = await toyModel(root, 'needs-mlflow', 'predict', { loaderModule: 'mlflow.pyfunc.model', mlflowVersion: '3.5.1' });
    const e = await rejection(pythonFunctionFlavor.load(dir, { options: { python: PYTHON }, logger }));
    expect(e).toBeInstanceOf(PythonLoadError);
    expect(e.message).toContain('this model needs MLflow in the Python environment: its loader_module is mlflow.pyfunc.model');
    expect(e.message).toContain('Install mlflow==3.5.1 (pip install mlflow==3.5.1) or use --env-manager virtualenv');
    expect(e.message).not.toContain('File "');
  });

  it('names a predict_fn the model does not have', async () => {
    const dir = await toyModel(root, 'no-fn', 'predict_nothing');
    const e = await rejection(pythonFunctionFlavor.load(dir, { options: { python: PYTHON }, logger }));
    expect(e.message).toContain("the model (a Toy) has no method 'predict_nothing', which the MLmodel names as predict_fn");
  });

  it('says so when the interpreter cannot be started', async () => {
    const dir = await toyModel(root, 'bad-python', 'echo');
    const e = await rejection(pythonFunctionFlavor.load(dir, { options: { python: join(root, 'no-such-python') }, logger }));
    expect(e.message).toContain(`cannot start the Python interpreter ${JSON.stringify(join(root, 'no-such-python'))} (ENOENT)`);
  });

  it('leaves no worker process behind after failed loads', () => {
    expect(workerChildren()).toEqual([]);
  });
});

describe('python_function: worker pool', () => {
  it('spreads concurrent requests over the workers and reaps every child on close', async () => {
    const model = (await pythonFunctionFlavor.load(await toyModel(root, 'pool', 'slow'), {
      options: { python: PYTHON, workers: 2 },
      logger,
    })) as PythonFunctionModel;
    const pids = model.pids;
    expect(pids).toHaveLength(2);
    const served = await Promise.all([model.predict(seconds(0.3)), model.predict(seconds(0.3))]);
    expect(new Set(served.map(pidOf))).toEqual(new Set(pids));
    expect(workerChildren()).toHaveLength(2);
    await model.close();
    await model.close(); // idempotent
    for (const pid of pids) expect(processExists(pid)).toBe(false);
    expect(workerChildren()).toEqual([]);
    const e = await rejection(model.predict(seconds(0)));
    expect(e.message).toContain('was closed');
  });
});
