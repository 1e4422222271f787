/**
 * The runner's worker threads (`WorkerPool`): a body decoded and prepared in a worker gives exactly
 * what the calling thread gives (input bytes, params, format — and the same errors), a model call
 * on a worker's copy of the onnx model predicts the same, a large answer encoded in pieces is byte
 * for byte `encode`'s, and a cancellation stops the worker at once while the pool keeps working.
 * The workers run the built packages (`npm run build` first).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryArray,
  MlmodelError,
  ScoringRequestError,
  Utf8Array,
  encodePredictions,
  slicePrediction,
  type ModelInput,
  type Prediction,
  type TensorBatch,
} from '@mlmodel/format';
import { ModelRunner, TaskCancelledError, WorkerPool, createRegistry } from '../src/index.js';
import { rng } from '../../../test/support/test-data.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const IRIS_ONNX = join(FIXTURES, 'iris_onnx');
const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { cases: { iris_onnx: { request: unknown }[] } };
const JSON_CT = 'application/json';
const enc = new TextEncoder();

/** An iris request of `n` rows of random one-decimal values. */
function irisBody(n: number, seed = 3): Uint8Array {
  const next = rng(seed);
  const rows = Array.from({ length: n }, () => `[${Array.from({ length: 4 }, () => (next() * 8).toFixed(1)).join(', ')}]`);
  return enc.encode(`{"inputs": [${rows.join(', ')}]}`);
}

/** A comparable view of an input or prediction: tensors and columns with the bytes of their values. */
function describeInput(v: ModelInput): unknown {
  const bytes = (s: unknown): unknown => {
    if (s instanceof Utf8Array || s instanceof BinaryArray)
      return { kind: s.constructor.name, offsets: Array.from(s.offsets), bytes: Buffer.from(s.bytes).toString('hex') };
    if (ArrayBuffer.isView(s)) return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('hex');
    return s;
  };
  if (v.kind === 'json') return v;
  if (v.kind === 'columns')
    return { numRows: v.numRows, columns: v.columns.map((c) => ({ name: c.name, dtype: c.dtype, values: bytes(c.values), validity: bytes(c.validity) })) };
  return v.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], values: bytes(t.values) }));
}

/** What a decode gave: the prepared input, params and format, or the error (class, status, code, message). */
async function outcome(run: () => Promise<{ prepared: { input: ModelInput; params: unknown }; format: string }>): Promise<unknown> {
  try {
    const r = await run();
    return { input: describeInput(r.prepared.input), params: r.prepared.params, format: r.format };
  } catch (e) {
    if (!(e instanceof MlmodelError)) throw e;
    return {
      error: e.name,
      scoring: e instanceof ScoringRequestError,
      status: e instanceof ScoringRequestError ? e.httpStatus : null,
      code: e.errorCode,
      message: e.message,
    };
  }
}

describe('ModelRunner with worker threads', () => {
  let pool: WorkerPool;
  let here: ModelRunner;
  let there: ModelRunner;
  beforeAll(async () => {
    // every body, model call and answer goes to the workers
    pool = new WorkerPool({ size: 2, minBodyBytes: 0, minPredictElements: 0 });
    here = await ModelRunner.open(IRIS_ONNX, { registry: createRegistry() });
    there = await ModelRunner.open(IRIS_ONNX, { registry: createRegistry(), workers: pool });
  });
  afterAll(async () => {
    await here?.close();
    await there?.close();
    await pool?.close();
  });

  it('decodes and prepares in a worker exactly as on the calling thread, errors included', async () => {
    const cases: [Uint8Array, string | undefined, { maxBytes?: number }?][] = [
      [enc.encode(JSON.stringify(GOLDEN.cases.iris_onnx[0]!.request)), JSON_CT],
      [irisBody(5000), JSON_CT],
      [enc.encode('{"instances": [[1, 2, 3, 4]], "params": {"x": 1}}'), JSON_CT],
      [enc.encode('{"inputs": [[1, 2, 3]]}'), JSON_CT],
      [enc.encode('{"inputs": [[1, 2, "x", 4]]}'), JSON_CT],
      [enc.encode('{"inputs": [[1, 2, 3, 4]'), JSON_CT],
      [enc.encode('{"prompt": "hi"}'), JSON_CT],
      [enc.encode('a,b,c,d\n1,2,3,4\n'), 'text/csv'],
      [enc.encode('{}'), 'text/html'],
      [irisBody(10), JSON_CT, { maxBytes: 100 }],
    ];
    for (const [body, ct, limits] of cases) {
      const expected = await outcome(() => here.decodeAndPrepare(body, ct, { limits }));
      const actual = await outcome(() => there.decodeAndPrepare(body, ct, { limits }));
      expect(actual, new TextDecoder().decode(body.subarray(0, 80))).toEqual(expected);
    }
    expect(pool.threads).toBeGreaterThan(0);
  });

  it('moves a large body to the worker only when asked to, and then leaves the caller without it', async () => {
    const body = irisBody(100);
    await there.decodeAndPrepare(body, JSON_CT);
    expect(body.byteLength).toBeGreaterThan(0);
    const moved = new Uint8Array(body);
    const r = await there.decodeAndPrepare(moved, JSON_CT, { transferBody: true });
    expect(moved.byteLength).toBe(0);
    expect(describeInput(r.prepared.input)).toEqual(describeInput((await here.decodeAndPrepare(body, JSON_CT)).prepared.input));
  });

  it("predicts large inputs on a worker's copy of the model, with the same answers", async () => {
    const body = irisBody(20_000, 9);
    const a = await here.decodeAndPrepare(body, JSON_CT);
    const b = await there.decodeAndPrepare(body, JSON_CT);
    expect(here.runsOffThread(a.prepared.input)).toBe(false);
    expect(there.runsOffThread(b.prepared.input)).toBe(true);
    const expected = describeInput(await here.predict(a.prepared));
    expect(describeInput(await there.predict(b.prepared))).toEqual(expected);
  });

  it('encodes large answers in pieces that join to exactly what encode gives, in a worker or on the calling thread', async () => {
    const n = 3001;
    // each prediction is made twice (encoding in a worker moves its buffers): the same seed, the same values
    const floats = (k: number, seed = k): Float64Array => {
      const next = rng(seed);
      return Float64Array.from({ length: k }, (_, i) => (i % 97 === 0 ? NaN : (next() - 0.5) * 10 ** Math.floor(next() * 12 - 6)));
    };
    const predictions: (() => Prediction)[] = [
      () => ({ kind: 'tensors', tensors: [{ name: null, dtype: 'float32', shape: [n, 3], values: Float32Array.from(floats(3 * n)) }] }),
      () => ({
        kind: 'tensors',
        tensors: [
          { name: 'probabilities', dtype: 'float32', shape: [n, 3], values: Float32Array.from(floats(3 * n)) },
          { name: 'label', dtype: 'int64', shape: [n], values: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3) - (i % 1000 === 0 ? 2n ** 62n : 0n)) },
          { name: 'nested', dtype: 'float64', shape: [n, 2, 2], values: floats(4 * n) },
        ],
      }),
      () => ({
        kind: 'columns',
        numRows: n,
        columns: [
          { name: 'x', dtype: 'float64', values: floats(n), validity: Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 1)) },
          { name: 'näme "q"', dtype: 'str', values: Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? `é${i}\n"` : `s${i}`))) },
          { name: 'i', dtype: 'int32', values: Int32Array.from({ length: n }, (_, i) => i - 1500) },
          { name: 'b', dtype: 'bool', values: Uint8Array.from({ length: n }, (_, i) => i % 2) },
          { name: 'bytes', dtype: 'bytes', values: BinaryArray.fromBuffers(Array.from({ length: n }, (_, i) => enc.encode(`b${i}`))) },
          { name: 'o', dtype: 'object', values: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : [i, { k: 'v' }])) },
        ],
      }),
      () => ({ kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [0, 3], values: new Float64Array(0) }] }),
      () => ({ kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [], values: Float64Array.of(1.5) }] }),
      () => ({
        kind: 'tensors',
        tensors: [
          { name: 'a', dtype: 'float64', shape: [n], values: floats(n) },
          { name: null, dtype: 'uint8', shape: [n, 1], values: new Uint8Array(n) },
        ],
      }),
      () => ({ kind: 'json', value: { answer: [1, 2.5, 'x'] } }),
    ];
    const noPool = await ModelRunner.open(IRIS_ONNX, { registry: createRegistry() });
    try {
      for (const make of predictions) {
        for (const unwrapped of [false, true]) {
          const expected = encodePredictions(make(), { unwrapped });
          for (const runner of [noPool, there]) {
            const { chunks, contentType } = await runner.encodeChunked(make(), { unwrapped, minElements: 0 });
            expect(contentType).toBe('application/json');
            const text = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).toString('utf8');
            const at = [...text].findIndex((c, i) => c !== expected[i]);
            expect(
              text.length === expected.length && at < 0,
              `first difference at ${at}: ${text.slice(at - 40, at + 40)} vs ${expected.slice(at - 40, at + 40)}`,
            ).toBe(true);
          }
        }
      }
    } finally {
      await noPool.close();
    }
  });

  it("moves only buffers a value owns: a batched call's rows, views on one buffer, stay whole for the other requests", async () => {
    const rows = 2000;
    const all: Prediction = {
      kind: 'tensors',
      tensors: [{ name: 'p', dtype: 'float64', shape: [2 * rows, 3], values: Float64Array.from({ length: 6 * rows }, (_, i) => i / 7) }],
    };
    const first = slicePrediction(all, 2 * rows, 0, rows)!;
    const second = slicePrediction(all, 2 * rows, rows, 2 * rows)!;
    const expectedSecond = encodePredictions(second);
    const { chunks } = await there.encodeChunked(first, { minElements: 0 });
    expect(Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).toString()).toBe(encodePredictions(first));
    expect((all as TensorBatch).tensors[0]!.values.length).toBe(6 * rows);
    expect(encodePredictions(second)).toBe(expectedSecond);
  });

  it('stops a worker when the cancellation fires, and the pool goes on with a fresh one', async () => {
    const body = irisBody(400_000, 11);
    const controller = new AbortController();
    const started = performance.now();
    const cancelled = there.decodeAndPrepare(body, JSON_CT, { cancel: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(cancelled).rejects.toBeInstanceOf(TaskCancelledError);
    expect(performance.now() - started).toBeLessThan(1000);
    const small = enc.encode(JSON.stringify(GOLDEN.cases.iris_onnx[0]!.request));
    expect(await outcome(() => there.decodeAndPrepare(small, JSON_CT))).toEqual(await outcome(() => here.decodeAndPrepare(small, JSON_CT)));
    // an aborted cancellation is refused before anything runs
    await expect(there.decodeAndPrepare(small, JSON_CT, { cancel: controller.signal })).rejects.toBeInstanceOf(TaskCancelledError);
  });

  it('answers a cancelled model call at once but lets onnxruntime finish it (terminating its thread would abort the process)', async () => {
    const rows = (n: number, seed: number): Float32Array => {
      const next = rng(seed);
      return Float32Array.from({ length: n * 4 }, () => next() * 8);
    };
    const input = (values: Float32Array) =>
      here.prepare({ kind: 'tensors', tensors: [{ name: null, dtype: 'float32', shape: [values.length / 4, 4], values }] }, null);
    // both workers hold their copy of the model, so the cancelled call below is inside onnxruntime's run when it is cancelled
    await Promise.all([there.predict(input(rows(1000, 1))), there.predict(input(rows(1000, 2)))]);
    const prepared = input(rows(3_000_000, 5));
    expect(there.runsOffThread(prepared.input)).toBe(true);
    const controller = new AbortController();
    const started = performance.now();
    const cancelled = there.predict(prepared, controller.signal);
    setTimeout(() => controller.abort(), 60);
    await expect(cancelled).rejects.toBeInstanceOf(TaskCancelledError);
    expect(performance.now() - started).toBeLessThan(200);
    // this process is alive (a terminated onnxruntime thread aborts it), and the pool serves the next calls
    for (const n of [2, 300_000]) {
      const expected = describeInput(await here.predict(input(rows(n, 7))));
      expect(describeInput(await there.predict(input(rows(n, 7))))).toEqual(expected);
    }
  });
});
