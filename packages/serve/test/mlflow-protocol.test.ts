/**
 * MLflow scoring-protocol conformance over real HTTP against real models (reference §4): routes,
 * content types, the four JSON forms, CSV/Parquet/Arrow, error bodies and statuses, and the
 * golden predictions MLflow 3.5 itself returned for the fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFromIPC, batchToIPC } from '@mlmodel/format/arrow';
import { columnBatch, columnFromValues, tensorFromNested, type TensorBatch } from '@mlmodel/format';
import type { RunningServer } from '@mlmodel/serve';
import { fixtureSpec, golden, jsModel, post, start } from './support.js';

const JSON_CT = { 'content-type': 'application/json' };

/**
 * Largest difference between two nested numeric structures, relative (`rel`) or absolute;
 * non-numbers must be equal and shapes must match.
 */
function maxDiff(a: unknown, b: unknown, rel = false): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length).toBe(b.length);
    return Math.max(0, ...a.map((x, i) => maxDiff(x, b[i], rel)));
  }
  if (typeof a === 'object' && a && typeof b === 'object' && b) {
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    return Math.max(0, ...Object.keys(a).map((k) => maxDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rel)));
  }
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return 0;
    return rel ? Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)) : Math.abs(a - b);
  }
  expect(a).toEqual(b);
  return 0;
}

describe('MLflow scoring protocol (iris_onnx, real HTTP)', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start([fixtureSpec('iris_onnx')], { version: '9.9.9' });
  });
  afterAll(() => s?.close());

  it('answers /ping and /health with a newline labelled JSON, /version with the version', async () => {
    for (const path of ['/ping', '/health']) {
      const r = await fetch(s.url + path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await r.text()).toBe('\n');
    }
    const v = await fetch(s.url + '/version');
    expect(await v.text()).toBe('9.9.9');
  });

  it('gives FastAPI-style 404 and 405 bodies', async () => {
    const nf = await fetch(s.url + '/nope');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ detail: 'Not Found' });
    const get = await fetch(s.url + '/invocations');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toEqual({ detail: 'Method Not Allowed' });
    const postPing = await fetch(s.url + '/ping', { method: 'POST' });
    expect(postPing.status).toBe(405);
  });

  it('returns the golden predictions, formatted like Python json.dumps', async () => {
    for (const c of golden('iris_onnx')) {
      const r = await post(s, '/invocations', JSON.stringify(c.request));
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.text.startsWith('{"predictions": {')).toBe(true);
      const got = JSON.parse(r.text) as { predictions: unknown };
      expect(maxDiff(got.predictions, c.predictions)).toBeLessThan(1e-6);
    }
  });

  it('accepts the tensor JSON forms and charset=utf-8; refuses a dict for an unnamed signature like MLflow', async () => {
    const row = [5.1, 3.5, 1.4, 0.2];
    const bodies = [{ inputs: [row] }, { instances: [row] }];
    for (const b of bodies) {
      const r = await post(s, '/invocations', JSON.stringify(b), { 'content-type': 'application/json; charset=UTF-8' });
      expect(r.status, r.text).toBe(200);
      expect((JSON.parse(r.text) as { predictions: { label: number[] } }).predictions.label).toEqual([0]);
    }
    const dict = await post(s, '/invocations', JSON.stringify({ inputs: { features: [row] } }));
    expect(dict.status).toBe(400);
    expect(dict.text).toMatch(/un-named {2}model signature/);
  });

  it('refuses content-type problems with 415 text/plain, like MLflow', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'content-type': 'application/json; charset=latin-1' }, /only supports UTF-8/],
      [{ 'content-type': 'application/json; format=pandas-split' }, /Unrecognized content type parameters: format/],
      [{ 'content-type': 'application/csv' }, /only supports the following content types/],
      [{ 'content-type': 'text/plain' }, /only supports the following content types/],
      // not even a media type: fastify refuses these before the route; still MLflow's text/plain 415
      [{ 'content-type': '/' }, /only supports the following content types: .* Got '\/'/],
      [{ 'content-type': 'application /json' }, /only supports the following content types/],
      [{ 'content-type': 'application/json, text/csv' }, /only supports the following content types/],
    ];
    for (const [headers, message] of cases) {
      const r = await post(s, '/invocations', '{"inputs": [[1, 2, 3, 4]]}', headers);
      expect(r.status).toBe(415);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(r.text).toMatch(message);
    }
    // no Content-Type at all: MLflow crashes with a 500; we answer 415
    const bare = await new Promise<number>((resolve, reject) => {
      const u = new URL(s.url);
      import('node:http').then(({ request }) => {
        const req = request({ host: u.hostname, port: u.port, path: '/invocations', method: 'POST', headers: { 'content-length': '2' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end('{}');
      }, reject);
    });
    expect(bare).toBe(415);
  });

  it('answers malformed and ill-formed JSON with MLflow error bodies', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['{bad', 400, 'BAD_REQUEST', /Invalid input\. Ensure that input is a valid JSON formatted string/],
      ['[1, 2]', 400, 'BAD_REQUEST', /Received a list/],
      ['7', 400, 'BAD_REQUEST', /Received unexpected input type/],
      ['{"foo": 1}', 400, 'BAD_REQUEST', /exactly one of the input fields/],
      ['{"inputs": [[1,2,3,4]], "instances": [[1,2,3,4]]}', 400, 'BAD_REQUEST', /exactly one of the input fields/],
      ['{"dataframe_split": [1]}', 400, 'BAD_REQUEST', /Dataframe split format must be a dictionary/],
      ['{"dataframe_records": {"a": 1}}', 400, 'BAD_REQUEST', /Dataframe records format must be a list of records/],
      ['{"inputs": [[1, 2, 3]]}', 400, 'INVALID_PARAMETER_VALUE', /shape/],
      ['{"inputs": [["a", "b", "c", "d"]]}', 400, 'BAD_REQUEST', /.+/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await post(s, '/invocations', body);
      expect(r.status, body).toBe(status);
      const err = JSON.parse(r.text) as { error_code: string; message: string; stack_trace?: string };
      expect(err.error_code, body).toBe(code);
      expect(err.message, body).toMatch(message);
      expect(err.stack_trace).toBeUndefined();
    }
  });

  it('scores CSV (400 for a tensor signature, as in MLflow) and Arrow in and out', async () => {
    const csv = await post(s, '/invocations', 'a,b,c,d\n5.1,3.5,1.4,0.2\n', { 'content-type': 'text/csv' });
    expect(csv.status).toBe(400);

    const input = batchToIPC({
      kind: 'tensors',
      tensors: [
        tensorFromNested(
          'features',
          [
            [5.1, 3.5, 1.4, 0.2],
            [6.3, 3.3, 6.0, 2.5],
          ],
          'float32',
        ),
      ],
    });
    const arrowIn = await post(s, '/invocations', input, { 'content-type': 'application/vnd.apache.arrow.stream' });
    expect(arrowIn.status, arrowIn.text).toBe(200);
    expect((JSON.parse(arrowIn.text) as { predictions: { label: number[] } }).predictions.label).toEqual([0, 2]);

    const arrowOut = await post(s, '/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]]}', {
      ...JSON_CT,
      accept: 'application/vnd.apache.arrow.stream',
    });
    expect(arrowOut.status).toBe(200);
    expect(arrowOut.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    const out = batchFromIPC(arrowOut.bytes) as TensorBatch;
    expect(out.kind).toBe('tensors');
    const label = out.tensors.find((t) => t.name === 'label')!;
    expect(Array.from(label.values as BigInt64Array, Number)).toEqual([0, 2]);
    // Accept preferring JSON keeps JSON
    const pref = await post(s, '/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', {
      ...JSON_CT,
      accept: 'application/json, application/vnd.apache.arrow.stream;q=0.5',
    });
    expect(pref.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('echoes SageMaker custom attributes and answers /execution-parameters', async () => {
    const r = await post(s, '/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', { ...JSON_CT, 'x-amzn-sagemaker-custom-attributes': 'trace=abc' });
    expect(r.headers.get('x-amzn-sagemaker-custom-attributes')).toBe('trace=abc');
    const p = await fetch(s.url + '/execution-parameters');
    expect(await p.json()).toEqual({ MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 100 });
  });

  it("tags every response with a request id (the client's, when it is sane)", async () => {
    const r = await post(s, '/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', { ...JSON_CT, 'x-request-id': 'req-42' });
    expect(r.headers.get('x-request-id')).toBe('req-42');
    const bad = await post(s, '/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', { ...JSON_CT, 'x-request-id': 'a b <script>' });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
  });
});

describe('MLflow scoring protocol with the Python fixtures (golden)', () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each(['iris_sklearn', 'churn_pipeline'])("%s returns exactly MLflow's predictions", async (name) => {
    const s = await start([fixtureSpec(name)]);
    servers.push(s);
    for (const c of golden(name)) {
      const r = await post(s, '/invocations', JSON.stringify(c.request));
      expect(r.status, r.text).toBe(200);
      expect((JSON.parse(r.text) as { predictions: unknown }).predictions).toEqual(c.predictions);
    }
  });

  it('diabetes_tensor is within 4 ULP of MLflow (BLAS summation order differs on Debian)', async () => {
    const s = await start([fixtureSpec('diabetes_tensor')]);
    servers.push(s);
    for (const c of golden('diabetes_tensor')) {
      const r = await post(s, '/invocations', JSON.stringify(c.request));
      expect(r.status, r.text).toBe(200);
      expect(maxDiff((JSON.parse(r.text) as { predictions: unknown }).predictions, c.predictions, true)).toBeLessThan(4 * Number.EPSILON);
    }
  });

  it('churn_pipeline takes dataframe_records, CSV and Arrow columns with the same answers', async () => {
    const s = await start([fixtureSpec('churn_pipeline')]);
    servers.push(s);
    const [c] = golden('churn_pipeline');
    const split = c!.request.dataframe_split as { columns: string[]; data: unknown[][] };
    const records = split.data.map((row) => Object.fromEntries(split.columns.map((k, i) => [k, row[i]])));
    const viaRecords = await post(s, '/invocations', JSON.stringify({ dataframe_records: records }));
    expect(JSON.parse(viaRecords.text)).toEqual({ predictions: c!.predictions });

    const csv = [split.columns.join(','), ...split.data.map((r) => r.join(','))].join('\n');
    const viaCsv = await post(s, '/invocations', csv, { 'content-type': 'text/csv' });
    expect(viaCsv.status, viaCsv.text).toBe(200);
    expect(JSON.parse(viaCsv.text)).toEqual({ predictions: c!.predictions });

    const batch = columnBatch(
      split.columns.map((name, j) =>
        columnFromValues(
          name,
          split.data.map((r) => r[j]),
          j === 0 ? 'str' : j === 1 ? 'int64' : 'float64',
        ),
      ),
    );
    const viaArrow = await post(s, '/invocations', batchToIPC(batch), { 'content-type': 'application/vnd.apache.arrow.stream' });
    expect(viaArrow.status, viaArrow.text).toBe(200);
    expect(JSON.parse(viaArrow.text)).toEqual({ predictions: c!.predictions });
  });
});

describe('MLflow JSON modes beyond the four forms (JS models)', () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('unified-LLM payloads: params keys move to params, the rest reaches the model raw, the answer is unwrapped', async () => {
    const dir = await jsModel(
      `export function load() { return { predict: (input, params) => ({ kind: 'json', value: { got: input.value, temperature: params.temperature } }) }; }`,
      {
        inputs: '[{"type": "string", "name": "prompt", "required": true}]',
        params: '[{"name": "temperature", "type": "double", "default": 0.5, "shape": null}]',
      },
    );
    const s = await start([{ name: 'llm', path: dir }]);
    servers.push(s);
    const r = await post(s, '/invocations', JSON.stringify({ prompt: 'hi', temperature: 0.9 }));
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ got: { prompt: 'hi' }, temperature: 0.9 });
    const d = await post(s, '/invocations', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }));
    expect(JSON.parse(d.text)).toEqual({ got: { messages: [{ role: 'user', content: 'x' }] }, temperature: 0.5 });
  });

  it('type-hint signatures pass `inputs` through raw and require it', async () => {
    const dir = await jsModel(
      `export function load() { return { predict: (input) => ({ kind: 'json', value: input.value.map((s) => s.toUpperCase()) }) }; }`,
      { inputs: '[{"type": "string", "required": true}]' },
      { typeHint: true },
    );
    const s = await start([{ name: 'hint', path: dir }]);
    servers.push(s);
    const r = await post(s, '/invocations', JSON.stringify({ inputs: ['a', 'b'] }));
    expect(r.status, r.text).toBe(200);
    expect(r.text).toBe('{"predictions": ["A", "B"]}');
    const missing = await post(s, '/invocations', JSON.stringify({ instances: ['a'] }));
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text)).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/must be a dictionary with 'inputs' key/) as unknown,
    });
  });

  it('checks params against the ParamSchema', async () => {
    const dir = await jsModel(`export function load() { return { predict: (input, params) => ({ kind: 'json', value: [params.k] }) }; }`, {
      inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]',
      params: '[{"name": "k", "type": "long", "default": 3, "shape": null}]',
    });
    const s = await start([{ name: 'params', path: dir }]);
    servers.push(s);
    expect(JSON.parse((await post(s, '/invocations', '{"inputs": [1.0]}')).text)).toEqual({ predictions: [3] });
    expect(JSON.parse((await post(s, '/invocations', '{"inputs": [1.0], "params": {"k": 7}}')).text)).toEqual({ predictions: [7] });
    const bad = await post(s, '/invocations', '{"inputs": [1.0], "params": {"k": "seven"}}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });
});
