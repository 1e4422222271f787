/**
 * Adaptive batching and the server's operational features over real HTTP, with small JS models
 * (js_function flavor, loaded for real) whose behaviour the tests control through params.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@mlmodel/serve';
import { fixtureSpec, jsModel, post, start } from './support.js';

declare global {
  var __probeCalls: number[] | undefined;
}

/** y = 2a + b + offset per row of an [n, 2] float64 tensor; throws on a negative a; sleeps delay_ms. */
const PROBE = `
export async function load() {
  return {
    async predict(input, params) {
      const t = input.tensors[0];
      const n = t.shape[0];
      (globalThis.__probeCalls ??= []).push(n);
      if (params.delay_ms) await new Promise((r) => setTimeout(r, Number(params.delay_ms)));
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const a = t.values[2 * i], b = t.values[2 * i + 1];
        if (a < 0) throw new Error('negative input ' + a);
        out[i] = 2 * a + b + params.offset;
      }
      return { kind: 'tensors', tensors: [{ name: null, dtype: 'float64', shape: [n], values: out }] };
    },
  };
}`;

const PROBE_SIGNATURE = {
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]',
  params: '[{"name": "delay_ms", "type": "long", "default": 0, "shape": null}, {"name": "offset", "type": "double", "default": 0.0, "shape": null}]',
};

/** Returns one JSON number for the whole batch: not row-aligned, so never split between requests. */
const SUMMER = `
export async function load() {
  return {
    async predict(input) {
      const t = input.tensors[0];
      (globalThis.__probeCalls ??= []).push(t.shape[0]);
      let s = 0;
      for (const v of t.values) s += v;
      await new Promise((r) => setTimeout(r, 5));
      return { kind: 'json', value: s };
    },
  };
}`;

const req = (rows: number[][], params?: Record<string, unknown>) => JSON.stringify(params ? { inputs: rows, params } : { inputs: rows });
const predictions = (text: string) => (JSON.parse(text) as { predictions: unknown }).predictions;

let probeDir: string;
beforeAll(async () => {
  probeDir = await jsModel(PROBE, PROBE_SIGNATURE);
});
afterEach(() => {
  globalThis.__probeCalls = [];
});

describe('adaptive batching', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start([{ name: 'probe', path: probeDir, batching: { maxBatchSize: 64, maxBatchDelayMs: 30, maxQueueSize: 100, maxConcurrency: 1 } }]);
  });
  afterAll(() => s?.close());

  it('merges concurrent requests into fewer model calls and gives each its own rows', async () => {
    globalThis.__probeCalls = [];
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => post(s, '/invocations', req([[i, 1]]))));
    rs.forEach((r, i) => {
      expect(r.status, r.text).toBe(200);
      expect(predictions(r.text)).toEqual([2 * i + 1]);
    });
    const calls = globalThis.__probeCalls!;
    expect(calls.reduce((a, b) => a + b, 0)).toBe(12);
    expect(calls.length).toBeLessThan(12);
    expect(Math.max(...calls)).toBeGreaterThan(1);
  });

  it('keeps multi-row requests whole and in order', async () => {
    const rs = await Promise.all([
      post(
        s,
        '/invocations',
        req([
          [1, 0],
          [2, 0],
          [3, 0],
        ]),
      ),
      post(
        s,
        '/invocations',
        req([
          [10, 1],
          [20, 1],
        ]),
      ),
    ]);
    expect(predictions(rs[0]!.text)).toEqual([2, 4, 6]);
    expect(predictions(rs[1]!.text)).toEqual([21, 41]);
  });

  it('a request the model fails on never fails its neighbours', async () => {
    const rows = [
      [1, 1],
      [2, 1],
      [-5, 1],
      [3, 1],
      [4, 1],
    ];
    const rs = await Promise.all(rows.map((r) => post(s, '/invocations', req([r]))));
    rs.forEach((r, i) => {
      if (rows[i]![0]! < 0) {
        expect(r.status).toBe(400);
        expect(r.text).toMatch(/negative input -5/);
      } else {
        expect(r.status, r.text).toBe(200);
        expect(predictions(r.text)).toEqual([2 * rows[i]![0]! + 1]);
      }
    });
  });

  it('refuses an ill-shaped request before it joins a batch', async () => {
    const rs = await Promise.all([
      post(s, '/invocations', req([[1, 2, 3]])),
      post(s, '/invocations', req([[1, 2]])),
      post(s, '/invocations', '{"inputs": [[1, "x"]]}'),
    ]);
    expect(rs[0]!.status).toBe(400);
    expect(rs[1]!.status).toBe(200);
    expect(predictions(rs[1]!.text)).toEqual([4]);
    expect(rs[2]!.status).toBe(400);
  });

  it('never merges requests with different params', async () => {
    globalThis.__probeCalls = [];
    const rs = await Promise.all([0, 100, 0, 100].map((offset) => post(s, '/invocations', req([[1, 1]], { offset }))));
    expect(rs.map((r) => predictions(r.text))).toEqual([[3], [103], [3], [103]]);
    expect(globalThis.__probeCalls!.length).toBeGreaterThanOrEqual(2);
  });

  it('runs predictions that are not row-aligned one request at a time', async () => {
    const dir = await jsModel(SUMMER, { inputs: PROBE_SIGNATURE.inputs });
    const s2 = await start([{ name: 'sum', path: dir, batching: { maxBatchSize: 64, maxBatchDelayMs: 20, maxQueueSize: 100, maxConcurrency: 1 } }]);
    try {
      const rs = await Promise.all([1, 2, 3, 4].map((i) => post(s2, '/invocations', req([[i, i]]))));
      expect(rs.map((r) => predictions(r.text))).toEqual([2, 4, 6, 8]);
    } finally {
      await s2.close();
    }
  });

  it('answers 503 with Retry-After when the queue is full, and serves again afterwards', async () => {
    const s2 = await start([{ name: 'p', path: probeDir, batching: { maxBatchSize: 2, maxBatchDelayMs: 0, maxQueueSize: 2, maxConcurrency: 1 } }]);
    try {
      const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => post(s2, '/invocations', req([[i, 0]], { delay_ms: 150 }))));
      const full = rs.filter((r) => r.status === 503);
      const ok = rs.filter((r) => r.status === 200);
      expect(full.length).toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThan(0);
      expect(full.length + ok.length).toBe(10);
      expect(full[0]!.headers.get('retry-after')).toBe('1');
      expect(JSON.parse(full[0]!.text)).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
      const after = await post(s2, '/invocations', req([[1, 1]]));
      expect(after.status).toBe(200);
    } finally {
      await s2.close();
    }
  });

  it('reports batch sizes, queue wait and compute time in /metrics', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => post(s, '/invocations', req([[i, 0]]))));
    const text = await (await fetch(s.url + '/metrics')).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1]);
    expect(value(/^mlmodel_batch_rows_sum\{model="probe"\} (\S+)$/m)).toBeGreaterThanOrEqual(8);
    expect(value(/^mlmodel_batch_rows_count\{model="probe"\} (\S+)$/m)).toBeGreaterThan(0);
    expect(value(/^mlmodel_queue_wait_seconds_count\{model="probe"\} (\S+)$/m)).toBeGreaterThanOrEqual(8);
    expect(value(/^mlmodel_model_compute_seconds_count\{model="probe"\} (\S+)$/m)).toBeGreaterThan(0);
    expect(value(/^mlmodel_http_requests_total\{route="\/invocations",method="POST",status="200"\} (\S+)$/m)).toBeGreaterThanOrEqual(8);
    expect(text).toMatch(/^mlmodel_http_request_duration_seconds_bucket\{le="0\.005",route="\/invocations",method="POST",status="200"\} \d+$/m);
  });
});

describe('operations', () => {
  it('times out with 504 and keeps serving', async () => {
    const s = await start([{ name: 'p', path: probeDir }], { requestTimeoutMs: 200 });
    try {
      const slow = await post(s, '/invocations', req([[1, 1]], { delay_ms: 1000 }));
      expect(slow.status).toBe(504);
      expect(JSON.parse(slow.text)).toEqual({ error_code: 'DEADLINE_EXCEEDED', message: 'Request processing time exceeded limit' });
      const fast = await post(s, '/invocations', req([[1, 1]]));
      expect(fast.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('refuses bodies over the limit with 413 and keeps serving', async () => {
    const s = await start([{ name: 'p', path: probeDir }], { bodyLimitBytes: 1024 });
    try {
      const big = await post(s, '/invocations', req(Array.from({ length: 200 }, () => [1, 1])));
      expect(big.status).toBe(413);
      expect(JSON.parse(big.text)).toMatchObject({ error_code: 'BAD_REQUEST' });
      expect((await post(s, '/invocations', req([[1, 1]]))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('a body far over the limit is still answered 413, not reset mid-upload (lingering close)', async () => {
    const s = await start([{ name: 'p', path: probeDir }], { bodyLimitBytes: 1024 });
    try {
      // declared up front, so refused before it is read, while the client is still writing it: the
      // server must take the rest before it answers and closes (else the client gets a reset)
      const total = 4 * 1024 * 1024;
      const sock = connect(Number(new URL(s.url).port), '127.0.0.1');
      let received = '';
      sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
      const ended = new Promise<void>((resolve) => sock.on('close', () => resolve()));
      sock.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
      sock.write(Buffer.alloc(64 * 1024, 0x20));
      await new Promise((r) => setTimeout(r, 200));
      expect(received).toBe('');
      await new Promise<void>((resolve) => sock.write(Buffer.alloc(total - 64 * 1024, 0x20), () => resolve()));
      await ended;
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      expect(received).toMatch(/\r\nconnection: close\r\n/i);
      expect(received).toMatch(/"error_code": "BAD_REQUEST"/);
      expect((await post(s, '/invocations', req([[1, 1]]))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('a chunked body that grows over the limit is answered 413 once the client has sent it all (lingering close)', async () => {
    const s = await start([{ name: 'p', path: probeDir }], { bodyLimitBytes: 1024 });
    try {
      // no Content-Length: the server finds out while reading, and must take the rest before it answers
      const sock = connect(Number(new URL(s.url).port), '127.0.0.1');
      let received = '';
      sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
      const ended = new Promise<void>((resolve) => sock.on('close', () => resolve()));
      const chunk = (n: number): string => `${n.toString(16)}\r\n${' '.repeat(n)}\r\n`;
      sock.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(8192)}`);
      await new Promise((r) => setTimeout(r, 200));
      expect(received).toBe('');
      sock.write(`${chunk(8192)}${chunk(8192)}0\r\n\r\n`);
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      expect(received).toMatch(/"error_code": "BAD_REQUEST"/);
      sock.destroy();
      expect((await post(s, '/invocations', req([[1, 1]]))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('close() drains: in-flight requests finish, requests arriving meanwhile get 503 + Connection: close', async () => {
    const s = await start([{ name: 'p', path: probeDir }]);
    const slow = post(s, '/invocations', req([[1, 1]], { delay_ms: 300 }));
    await new Promise((r) => setTimeout(r, 50));
    const closing = s.close();
    await new Promise((r) => setTimeout(r, 20));
    // still listening while the slow request is in flight: a newcomer is refused with a 503, not a reset
    const late = await post(s, '/invocations', req([[1, 1]]));
    expect(late.status).toBe(503);
    expect(late.headers.get('connection')).toBe('close');
    expect(late.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(late.text)).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
    const done = await slow;
    expect(done.status).toBe(200);
    await closing;
  });

  it('requires the bearer token everywhere but health checks', async () => {
    const s = await start([{ name: 'p', path: probeDir }], { authToken: 's3cret' });
    try {
      const none = await post(s, '/invocations', req([[1, 1]]));
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect(JSON.parse(none.text)).toMatchObject({ error_code: 'UNAUTHENTICATED' });
      const wrong = await post(s, '/invocations', req([[1, 1]]), { 'content-type': 'application/json', authorization: 'Bearer nope' });
      expect(wrong.status).toBe(401);
      const right = await post(s, '/invocations', req([[1, 1]]), { 'content-type': 'application/json', authorization: 'Bearer s3cret' });
      expect(right.status).toBe(200);
      expect((await fetch(s.url + '/ping')).status).toBe(200);
      expect((await fetch(s.url + '/metrics')).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const s = await start([{ name: 'p', path: probeDir }], { corsOrigins: ['https://app.example'] });
    try {
      const pre = await fetch(s.url + '/invocations', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
      const r = await post(s, '/invocations', req([[1, 1]]), { 'content-type': 'application/json', origin: 'https://app.example' });
      expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const other = await post(s, '/invocations', req([[1, 1]]), { 'content-type': 'application/json', origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('is live before its models are ready: /ping is 503 while loading, then 200', async () => {
    const slowLoad = await jsModel(
      `export async function load() { await new Promise((r) => setTimeout(r, 800)); return { predict: () => ({ kind: 'json', value: 1 }) }; }`,
      null,
    );
    const { startServer } = await import('@mlmodel/serve');
    const s = await startServer({ models: [{ name: 'slow', path: slowLoad }], port: 0, logLevel: 'silent', handleSignals: false, processMetrics: false });
    try {
      const early = await fetch(s.url + '/ping');
      expect(early.status).toBe(503);
      const inv = await post(s, '/invocations', req([[1, 1]]));
      expect(inv.status).toBe(503);
      expect(JSON.parse(inv.text)).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
      await s.ready;
      expect((await fetch(s.url + '/ping')).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('with several models, /ping and /health are 503 until every model is ready (as /v2/health/ready)', async () => {
    const slowLoad = await jsModel(
      `export async function load() { await new Promise((r) => setTimeout(r, 1500)); return { predict: () => ({ kind: 'json', value: 1 }) }; }`,
      null,
    );
    const { startServer } = await import('@mlmodel/serve');
    const s = await startServer({
      models: [
        { name: 'p', path: probeDir },
        { name: 'slow', path: slowLoad },
      ],
      port: 0,
      logLevel: 'silent',
      handleSignals: false,
      processMetrics: false,
    });
    try {
      // the first model is ready, the second still loading
      for (let i = 0; i < 100 && (await fetch(s.url + '/v2/models/p/ready')).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await fetch(s.url + '/v2/models/p/ready')).status).toBe(200);
      expect((await fetch(s.url + '/v2/models/slow/ready')).status).toBe(503);
      expect((await fetch(s.url + '/v2/health/ready')).status).toBe(503);
      for (const path of ['/ping', '/health']) {
        const r = await fetch(s.url + path);
        expect(r.status, path).toBe(503);
        expect(await r.json()).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: "Model 'slow' is still loading." });
      }
      await s.ready;
      expect((await fetch(s.url + '/ping')).status).toBe(200);
      expect((await fetch(s.url + '/health')).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('fails startup with the load error and closes the port', async () => {
    const broken = await jsModel(`export async function load() { throw new Error('weights missing'); }`, null);
    const { startServer } = await import('@mlmodel/serve');
    const s = await startServer({ models: [{ name: 'b', path: broken }], port: 0, logLevel: 'silent', handleSignals: false, processMetrics: false });
    await expect(s.ready).rejects.toThrow(/weights missing/);
    await s.closed;
    await expect(fetch(s.url + '/ping')).rejects.toThrow();
  });
});

describe("a model's own concurrency (its capabilities), not a CLI guess", () => {
  it("takes the Python worker count for batched calls in flight and for SageMaker's MaxConcurrentTransforms", async () => {
    const s = await start([
      fixtureSpec('iris_sklearn', {
        options: { python: '/usr/bin/python3', workers: 2 },
        batching: { maxBatchSize: 16, maxBatchDelayMs: 1, maxQueueSize: 64 },
      }),
    ]);
    try {
      const slot = s.context.repo.defaultSlot;
      expect(slot.state).toBe('ready');
      if (slot.state !== 'ready') return;
      expect(slot.model.runner.capabilities.maxConcurrency).toBe(2);
      expect(slot.model.batcher?.options.maxConcurrency).toBe(2);
      const p = await fetch(s.url + '/execution-parameters');
      expect(await p.json()).toEqual({ MaxConcurrentTransforms: 2, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 100 });
      const r = await post(
        s,
        '/invocations',
        '{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": [[5.1, 3.5, 1.4, 0.2]]}}',
      );
      expect(r.text).toBe('{"predictions": [0]}');
    } finally {
      await s.close();
    }
  });
});
