/**
 * Automatic batching: a model whose flavor says its rows can be merged gets adaptive batching
 * without flags, but only once the batch probe finds each row's answer the same merged as alone.
 * Real onnxruntime models (MLflow's iris_onnx, and a hand-made graph that centres its rows on
 * their mean), real servers over HTTP, the real batcher.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, ModelRunner, onnxFlavor } from '@mlmodel/flavors';
import { createMLmodel, openModelDir, parseSignature, Utf8Array, writeMLmodel, type Prediction } from '@mlmodel/format';
import { AdaptiveBatcher, AUTO_BATCHING, probeBatching, ServedModel, type BatchingConfig, type RunningServer, type ServedModelConfig } from '@mlmodel/serve';
import { samePrediction, probeBatch } from '../src/adaptive-batching/batch-probe.js';
import { rowMixingModel } from '../../../test/support/onnx-graph.js';
import { fixture, golden, post, start } from './support.js';

let tmp: string;
let mixingDir: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlmodel-auto-batching-'));
  await writeFile(join(tmp, 'centre.onnx'), rowMixingModel());
  mixingDir = join(tmp, 'centre');
  await mkdir(mixingDir);
  const saved = await onnxFlavor.save!({ onnxPath: join(tmp, 'centre.onnx') }, mixingDir);
  await writeMLmodel(mixingDir, createMLmodel({ flavors: saved.flavors, signature: saved.inferredSignature ?? null }));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function openRunner(path: string): Promise<ModelRunner> {
  return ModelRunner.open(path, { registry: createRegistry() });
}

/** A server whose log lines are kept, at info level. */
async function startLogged(models: ServedModelConfig[]): Promise<{ s: RunningServer; lines: () => { msg: string }[] }> {
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const s = await start(models, { logLevel: 'info', logStream });
  return {
    s,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string }),
  };
}

function metric(text: string, name: string, model: string): number {
  const m = new RegExp(`^${name}\\{model="${model}"\\} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} for ${model} in /metrics`);
  return Number(m[1]);
}

describe('the batch probe', () => {
  it('finds iris_onnx (MLflow 3.5) answers each row the same merged as alone, bit for bit', async () => {
    const runner = await openRunner(fixture('iris_onnx'));
    try {
      expect(runner.capabilities.batchable).toBe(true);
      expect(await probeBatching(runner)).toEqual({ ok: true });
    } finally {
      await runner.close();
    }
  });

  it('catches a graph whose rows depend on their neighbours, though its shapes say rows can be merged', async () => {
    const runner = await openRunner(mixingDir);
    try {
      expect(runner.capabilities.batchable).toBe(true);
      const outcome = await probeBatching(runner);
      expect(outcome.ok).toBe(false);
      expect(outcome.ok ? '' : outcome.reason).toBe('row 0 gets another answer in one call with 1 other row than alone');
    } finally {
      await runner.close();
    }
  });

  it('gives up on a model too slow to check within its time budget (and leaves batching off)', async () => {
    const runner = await openRunner(fixture('iris_onnx'));
    try {
      expect(await probeBatching(runner, 64, 0)).toEqual({
        ok: false,
        reason: 'its calls are too slow to check at every batch size within 0 ms (merging would save little)',
      });
    } finally {
      await runner.close();
    }
  });

  it('makes distinct float rows from the input signature, and says why it cannot for other inputs', () => {
    const inputs = (json: string) => parseSignature({ inputs: json }).inputs;
    const b = probeBatch(inputs('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'), 3);
    if (typeof b === 'string' || b.kind !== 'tensors') throw new Error(`expected tensors, got ${JSON.stringify(b)}`);
    expect(b.tensors[0]).toMatchObject({ name: null, dtype: 'float32', shape: [3, 4] });
    const rows = [0, 1, 2].map((r) =>
      Array.from(b.tensors[0]!.values as Float32Array)
        .slice(r * 4, r * 4 + 4)
        .join(),
    );
    expect(new Set(rows).size).toBe(3);
    const c = probeBatch(inputs('[{"type": "double", "name": "a", "required": true}, {"type": "float", "name": "b", "required": true}]'), 2);
    if (typeof c === 'string' || c.kind !== 'columns') throw new Error(`expected columns, got ${JSON.stringify(c)}`);
    expect(c.columns.map((col) => [col.name, col.dtype, col.values.length])).toEqual([
      ['a', 'float64', 2],
      ['b', 'float32', 2],
    ]);
    expect(probeBatch(inputs('[{"type": "tensor", "name": "ids", "tensor-spec": {"dtype": "int64", "shape": [-1, 8]}}]'), 2)).toBe(
      'input ids is int64, not a float tensor',
    );
    expect(probeBatch(inputs('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, -1]}}]'), 2)).toBe(
      'input (unnamed) has shape [-1, -1], not [-1, fixed…]',
    );
    expect(probeBatch(inputs('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 64, 65]}}]'), 2)).toBe('rows hold more than 4096 values');
    expect(probeBatch(inputs('[{"type": "string", "name": "city", "required": true}]'), 2)).toBe('column city is string, not float or double');
    expect(probeBatch(null, 2)).toBe('the model has no input signature to make rows from');
  });

  it('compares predictions bit for bit: -0 is not 0, equal NaNs are equal, names and shapes count', () => {
    const t = (values: Float32Array, name: string | null = 'y', shape = [values.length]): Prediction => ({
      kind: 'tensors',
      tensors: [{ name, dtype: 'float32', shape, values }],
    });
    expect(samePrediction(t(Float32Array.of(1, NaN)), t(Float32Array.of(1, NaN)))).toBe(true);
    expect(samePrediction(t(Float32Array.of(0)), t(Float32Array.of(-0)))).toBe(false);
    expect(samePrediction(t(Float32Array.of(1, 2)), t(Float32Array.of(1, 2 + 2 ** -22)))).toBe(false);
    expect(samePrediction(t(Float32Array.of(1, 2)), t(Float32Array.of(1, 2), 'z'))).toBe(false);
    expect(samePrediction(t(Float32Array.of(1, 2)), t(Float32Array.of(1, 2), 'y', [1, 2]))).toBe(false);
    // strings (an ONNX classifier's labels) compare row by row, whatever buffer the rows sit in
    const labels = (values: Utf8Array): Prediction => ({ kind: 'tensors', tensors: [{ name: 'label', dtype: 'str', shape: [values.length], values }] });
    const both = Utf8Array.fromStrings(['setosa', 'virginica']);
    expect(samePrediction(labels(both.slice(1, 2)), labels(Utf8Array.fromStrings(['virginica'])))).toBe(true);
    expect(samePrediction(labels(both.slice(0, 1)), labels(Utf8Array.fromStrings(['virginica'])))).toBe(false);
    expect(samePrediction({ kind: 'json', value: [1, 2] }, { kind: 'json', value: [1, 2] })).toBe(true);
    expect(samePrediction({ kind: 'json', value: [1, 2] }, t(Float32Array.of(1, 2)))).toBe(false);
  });
});

describe('automatic batching in a server (no batching setting)', () => {
  it('is on for iris_onnx: concurrent requests share model calls, each answered as MLflow answers it', async () => {
    const { s, lines } = await startLogged([{ name: 'iris', path: fixture('iris_onnx') }]);
    try {
      const slot = s.context.repo.slots[0]!;
      if (slot.state !== 'ready') throw new Error('not ready');
      await slot.model.batchingSettled;
      expect(slot.model.batcher?.options).toEqual({ ...AUTO_BATCHING, maxConcurrency: 1 });
      expect(
        lines().some((l) => l.msg.startsWith('[iris] adaptive batching on: concurrent requests share model calls of up to 64 rows, without waiting')),
      ).toBe(true);
      const cases = golden('iris_onnx');
      const rounds = 8;
      const sent = Array.from({ length: rounds }, () => cases).flat();
      const rs = await Promise.all(sent.map((c) => post(s, '/invocations', JSON.stringify(c.request))));
      rs.forEach((r, i) => {
        expect(r.status, r.text).toBe(200);
        const got = JSON.parse(r.text) as { predictions: { probabilities: number[][]; label: number[] } };
        const want = sent[i]!.predictions as { probabilities: number[][]; label: number[] };
        expect(got.predictions.label).toEqual(want.label);
        got.predictions.probabilities.flat().forEach((p, k) => expect(Math.abs(p - want.probabilities.flat()[k]!)).toBeLessThanOrEqual(1e-6));
      });
      // every answer is also bit for bit the one the same request gets alone
      for (const c of cases) {
        const alone = await post(s, '/invocations', JSON.stringify(c.request));
        for (let i = 0; i < sent.length; i++) if (sent[i] === c) expect(rs[i]!.text).toBe(alone.text);
      }
      const text = await (await fetch(s.url + '/metrics')).text();
      // fewer model calls than requests: some calls took several requests
      expect(metric(text, 'mlmodel_batch_requests_sum', 'iris')).toBeGreaterThan(metric(text, 'mlmodel_batch_requests_count', 'iris'));
    } finally {
      await s.close();
    }
  });

  it('stays off for a graph that mixes rows, and says why: every request is answered as if alone', async () => {
    const { s, lines } = await startLogged([{ name: 'centre', path: mixingDir }]);
    try {
      const slot = s.context.repo.slots[0]!;
      if (slot.state !== 'ready') throw new Error('not ready');
      await slot.model.batchingSettled;
      expect(slot.model.batcher).toBeNull();
      expect(lines().map((l) => l.msg)).toContain(
        '[centre] adaptive batching stays off: row 0 gets another answer in one call with 1 other row than alone (--max-batch-size N turns it on anyway)',
      );
      // one row minus the mean of its own rows is 0; merged with others it would not be
      const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => post(s, '/invocations', JSON.stringify({ inputs: [[i, 2 * i]] }))));
      for (const r of rs) {
        expect(r.status, r.text).toBe(200);
        expect(JSON.parse(r.text)).toEqual({ predictions: { y: [[0, 0]] } });
      }
    } finally {
      await s.close();
    }
  });

  it('is off when set off (null or a size of 1) and as set when a size is given', async () => {
    const s = await start([
      { name: 'off', path: fixture('iris_onnx'), batching: null },
      { name: 'one', path: fixture('iris_onnx'), batching: { maxBatchSize: 1 } },
      { name: 'sized', path: fixture('iris_onnx'), batching: { maxBatchSize: 8 } },
      { name: 'tuned', path: fixture('iris_onnx'), batching: { maxQueueSize: 7 } },
    ]);
    try {
      const models = s.context.repo.slots.map((slot) => {
        if (slot.state !== 'ready') throw new Error('not ready');
        return slot.model;
      });
      await Promise.all(models.map((m) => m.batchingSettled));
      const batcher = (i: number) => models[i]!.batcher?.options ?? null;
      expect(batcher(0)).toBeNull();
      expect(batcher(1)).toBeNull();
      // a size given by the user: its delay defaults to 2 ms, as before automatic batching
      expect(batcher(2)).toEqual({ maxBatchSize: 8, maxBatchDelayMs: 2, maxQueueSize: 1024, maxConcurrency: 1 });
      // no size: automatic, with the user's other settings
      expect(batcher(3)).toEqual({ ...AUTO_BATCHING, maxQueueSize: 7, maxConcurrency: 1 });
    } finally {
      await s.close();
    }
  });
});

describe('deciding automatic batching never delays readiness', () => {
  it('serves each request as its own call until the decision, then batches', async () => {
    const runner = await openRunner(fixture('iris_onnx'));
    let decide!: (b: BatchingConfig | null) => void;
    const model = new ServedModel('iris', null, runner, new Promise<BatchingConfig | null>((r) => (decide = r)));
    try {
      expect(model.batcher).toBeNull();
      const batch = probeBatch(runner.signature?.inputs, 2);
      if (typeof batch === 'string') throw new Error(batch);
      const before = await model.predict(batch, null);
      expect(before.kind).toBe('tensors');
      decide(AUTO_BATCHING);
      await model.batchingSettled;
      expect(model.batcher?.options).toEqual({ ...AUTO_BATCHING, maxConcurrency: 1 });
      expect(samePrediction(await model.predict(batch, null), before)).toBe(true);
    } finally {
      await model.close();
    }
  });
});

describe('the batcher without delay', () => {
  it('merges the requests submitted in one event-loop turn into one call', async () => {
    const calls: number[] = [];
    const batcher = new AdaptiveBatcher(
      async (input) => {
        const rows = input.kind === 'tensors' ? input.tensors[0]!.shape[0]! : input.numRows;
        calls.push(rows);
        return input;
      },
      { maxBatchSize: 64, maxBatchDelayMs: 0, maxQueueSize: 100, maxConcurrency: 1 },
    );
    const one = (v: number) => batcher.submit({ kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [1, 1], values: Float64Array.of(v) }] }, {});
    const outs = await Promise.all([one(1), one(2), one(3), one(4), one(5)]);
    expect(calls).toEqual([5]);
    outs.forEach((o, i) => expect(o.kind === 'tensors' && Array.from(o.tensors[0]!.values as Float64Array)).toEqual([i + 1]));
    // a later turn gets its own call
    await one(6);
    expect(calls).toEqual([5, 1]);
  });

  it('starts a request alone at the end of its turn when nothing else came (no added delay)', async () => {
    const started: number[] = [];
    const batcher = new AdaptiveBatcher(
      async (input) => {
        started.push(performance.now());
        return input;
      },
      { maxBatchSize: 64, maxBatchDelayMs: 0, maxQueueSize: 100, maxConcurrency: 1 },
    );
    const t0 = performance.now();
    await batcher.submit({ kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [1, 1], values: Float64Array.of(1) }] }, {});
    expect(started).toHaveLength(1);
    expect(started[0]! - t0).toBeLessThan(50);
  });
});

// the row-mixing graph loads with the native flavor; its MLmodel has the inferred signature
it('the row-mixing test model has the signature the probe reads (x: float32 [-1, 2])', async () => {
  const dir = await openModelDir(mixingDir);
  expect(dir.mlmodel.signature?.inputs).toEqual({ kind: 'tensors', specs: [{ kind: 'tensor', name: 'x', dtype: 'float32', shape: [-1, 2] }] });
});
