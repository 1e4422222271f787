/**
 * Admission of large requests by the server's memory budget, over real HTTP with a small JS model
 * that holds its request for as long as the request's params say: while one large request holds
 * the budget, another large one gets 503 with Retry-After — MLflow's `{"error_code", "message"}` on
 * /invocations, the Open Inference Protocol's `{"error"}` on /v2 — small requests are not counted,
 * the budget is given back when the response has been sent, and a request larger than the whole
 * budget still runs when it is alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@mlmodel/serve';
import { jsModel, post, start } from './support.js';

/** y = a + b per row of an [n, 2] float64 tensor, after `delay_ms`. */
const SLOW = `
export async function load() {
  return {
    async predict(input, params) {
      const t = input.tensors[0];
      const n = t.shape[0];
      if (params.delay_ms) await new Promise((r) => setTimeout(r, Number(params.delay_ms)));
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = t.values[2 * i] + t.values[2 * i + 1];
      return { kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [n], values: out }] };
    },
  };
}`;

const SIGNATURE = {
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]',
  params: '[{"name": "delay_ms", "type": "long", "default": 0, "shape": null}]',
};

const MB = 1024 * 1024;
/** About 2.4 MB of JSON: a large request (at least 1 MiB), which reserves 8× its size. */
const ROWS = 300_000;

function invocation(delayMs: number, rows = ROWS): string {
  return JSON.stringify({ inputs: Array.from({ length: rows }, (_, i) => [i % 10, 1.5]), params: { delay_ms: delayMs } });
}

function inference(delayMs: number, rows = ROWS): string {
  return JSON.stringify({
    inputs: [{ name: 'input-0', datatype: 'FP64', shape: [rows, 2], data: Array.from({ length: rows }, (_, i) => [i % 10, 1.5]).flat() }],
    parameters: { delay_ms: delayMs },
  });
}

describe('the memory budget', () => {
  let s: RunningServer;
  beforeAll(async () => {
    const dir = await jsModel(SLOW, SIGNATURE);
    // room for one large request (8 × ~2.4 MB), not two
    s = await start([{ name: 'slow', path: dir }], { memoryBudgetBytes: 24 * MB });
  });
  afterAll(() => s?.close());

  it('refuses a second large request with 503 + Retry-After on both protocols while one holds the budget, and admits it afterwards', async () => {
    expect(Buffer.byteLength(invocation(0))).toBeGreaterThan(2 * MB);
    expect(Buffer.byteLength(inference(0))).toBeGreaterThan(MB);
    const holding = post(s, '/invocations', invocation(1500));
    await new Promise((resolve) => setTimeout(resolve, 500));

    const mlflow = await post(s, '/invocations', invocation(0));
    expect(mlflow.status, mlflow.text).toBe(503);
    expect(Number(mlflow.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = JSON.parse(mlflow.text) as { error_code: string; message: string };
    expect(body.error_code).toBe('TEMPORARILY_UNAVAILABLE');
    expect(body.message).toMatch(
      /^The server is busy with other large requests: this one needs about \d+ MB of its 24 MB memory budget, and \d+ MB are in use\. Retry in \d+ s/,
    );

    const oip = await post(s, '/v2/models/slow/infer', inference(0));
    expect(oip.status, oip.text).toBe(503);
    expect(Number(oip.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Object.keys(JSON.parse(oip.text) as object)).toEqual(['error']);
    expect((JSON.parse(oip.text) as { error: string }).error).toMatch(/memory budget/);

    // small requests are not counted
    const small = await post(s, '/invocations', invocation(0, 10));
    expect(small.status, small.text).toBe(200);
    expect((JSON.parse(small.text) as { predictions: number[] }).predictions).toEqual(Array.from({ length: 10 }, (_, i) => i + 1.5));

    const held = await holding;
    expect(held.status).toBe(200);
    expect((JSON.parse(held.text) as { predictions: number[] }).predictions.length).toBe(ROWS);
    // given back once answered
    const again = await post(s, '/invocations', invocation(0));
    expect(again.status, again.text.slice(0, 200)).toBe(200);
    const oipAgain = await post(s, '/v2/models/slow/infer', inference(0));
    expect(oipAgain.status, oipAgain.text.slice(0, 200)).toBe(200);
  });

  it('runs a request larger than the whole budget when it is alone', async () => {
    const dir = await jsModel(SLOW, SIGNATURE);
    const tiny = await start([{ name: 'slow', path: dir }], { memoryBudgetBytes: 4 * MB });
    try {
      const r = await post(tiny, '/invocations', invocation(0));
      expect(r.status, r.text.slice(0, 200)).toBe(200);
    } finally {
      await tiny.close();
    }
  });
});
