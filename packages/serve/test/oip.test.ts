/**
 * Open Inference Protocol v2 (KServe V2 REST) over real HTTP against real MLflow 3.5 models:
 * server and model metadata, health and readiness, JSON inference (nested and flat data), the
 * binary tensor data extension both ways, raw binary requests, output selection, id echo, and
 * error bodies/statuses. iris_onnx answers must equal MLflow's golden predictions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, ModelRepository, startServer, type ServedModelConfig, type RunningServer } from '@mlmodel/serve';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
  cases: Record<string, { request: Record<string, unknown>; predictions: unknown }[]>;
};
const IRIS_ONNX = GOLDEN.cases.iris_onnx![0]! as { request: { inputs: number[][] }; predictions: { probabilities: number[][]; label: number[] } };
const IRIS_SKLEARN = GOLDEN.cases.iris_sklearn![0]! as { request: { dataframe_split: { columns: string[]; data: number[][] } }; predictions: number[] };
const FEATURES = IRIS_SKLEARN.request.dataframe_split.columns;

const MODELS: ServedModelConfig[] = [
  { name: 'iris', path: join(FIXTURES, 'iris_onnx') },
  { name: 'iris-sk', version: '3', path: join(FIXTURES, 'iris_sklearn'), options: { python: '/usr/bin/python3' } },
];

interface OipOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: Record<string, unknown>;
}
interface OipResponse {
  model_name: string;
  model_version?: string;
  id: string;
  outputs: OipOutput[];
}

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json: () => unknown;
}

let s: RunningServer;

async function call(path: string, init: RequestInit = {}): Promise<Reply> {
  const r = await fetch(s.url + path, init);
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, json: () => JSON.parse(body.toString('utf8')) as unknown };
}

function infer(model: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return call(`/v2/models/${model}/infer`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', ...headers } });
}

/** A binary-extension body: the JSON header, then the blobs, with the header's length. */
function binaryBody(header: unknown, blobs: readonly Uint8Array[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...blobs]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.byteLength) },
  };
}

/** Split a binary response into its JSON header and the blob of each binary output, by name. */
function splitBinary(r: Reply): { header: OipResponse; blobs: Map<string, Buffer> } {
  const n = Number(r.headers.get('inference-header-content-length'));
  expect(Number.isInteger(n) && n > 0).toBe(true);
  const header = JSON.parse(r.body.subarray(0, n).toString('utf8')) as OipResponse;
  const blobs = new Map<string, Buffer>();
  let pos = n;
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (typeof size !== 'number') continue;
    expect(o.data).toBeUndefined();
    blobs.set(o.name, r.body.subarray(pos, pos + size));
    pos += size;
  }
  expect(pos).toBe(r.body.byteLength);
  return { header, blobs };
}

function f32(b: Buffer): number[] {
  const copy = new Uint8Array(b);
  return Array.from(new Float32Array(copy.buffer));
}

function i64(b: Buffer): number[] {
  const copy = new Uint8Array(b);
  return Array.from(new BigInt64Array(copy.buffer), Number);
}

const GOLDEN_PROBS = IRIS_ONNX.predictions.probabilities.flat();
const GOLDEN_LABELS = IRIS_ONNX.predictions.label;
const IRIS_ROWS = IRIS_ONNX.request.inputs;

function irisInput(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'input-0', datatype: 'FP32', shape: [IRIS_ROWS.length, 4], data, ...extra };
}

/** What this server's MLflow route answers for the golden request (set in beforeAll). */
let mlflowProbs: number[] = [];

/**
 * Probabilities equal MLflow's golden ones to 1e-6 (the tolerance the MLflow-protocol tests use:
 * onnxruntime versions differ in the last float32 bits) and bit for bit what /invocations answers.
 */
function expectGoldenProbs(actual: readonly number[] | undefined): void {
  expect(actual).toHaveLength(GOLDEN_PROBS.length);
  actual!.forEach((x, i) => expect(Math.abs(x - GOLDEN_PROBS[i]!), `probabilities[${i}]`).toBeLessThan(1e-6));
  expect(actual).toEqual(mlflowProbs);
}

function expectIrisGolden(outputs: readonly OipOutput[]): void {
  const probs = outputs.find((o) => o.name === 'probabilities')!;
  const label = outputs.find((o) => o.name === 'label')!;
  expect(probs).toMatchObject({ datatype: 'FP32', shape: [IRIS_ROWS.length, 3] });
  expectGoldenProbs(probs.data as number[]);
  expect(label).toMatchObject({ datatype: 'INT64', shape: [IRIS_ROWS.length], data: GOLDEN_LABELS });
}

async function expectError(r: Reply, status: number, message: RegExp): Promise<void> {
  expect(r.status, r.body.toString()).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  const body = r.json() as { error: string };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(message);
}

beforeAll(async () => {
  s = await startServer({ models: MODELS, port: 0, logLevel: 'silent', handleSignals: false, version: '7.7.7' });
  await s.ready;
  const r = await call('/invocations', { method: 'POST', body: JSON.stringify(IRIS_ONNX.request), headers: { 'content-type': 'application/json' } });
  const mlflow = r.json() as { predictions: { probabilities: number[][]; label: number[] } };
  expect(mlflow.predictions.label).toEqual(GOLDEN_LABELS);
  mlflowProbs = mlflow.predictions.probabilities.flat();
});
afterAll(() => s?.close());

describe('OIP v2: health and metadata', () => {
  it('answers server metadata with the binary tensor data extension', async () => {
    const r = await call('/v2');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ name: 'mlmodel', version: '7.7.7', extensions: expect.arrayContaining(['binary_tensor_data']) as unknown });
  });

  it('is live and ready once the models have loaded', async () => {
    expect((await call('/v2/health/live')).status).toBe(200);
    expect((await call('/v2/health/ready')).status).toBe(200);
    expect((await call('/v2/models/iris/ready')).status).toBe(200);
    expect((await call('/v2/models/iris-sk/ready')).status).toBe(200);
    expect((await call('/v2/models/iris-sk/versions/3/ready')).status).toBe(200);
  });

  it('describes the ONNX tensor model from its signature (unnamed input-0, -1 for variable dims, no versions)', async () => {
    const r = await call('/v2/models/iris');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({
      name: 'iris',
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4], parameters: { content_type: 'np' } }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3], parameters: { content_type: 'np' } },
        { name: 'label', datatype: 'INT64', shape: [-1], parameters: { content_type: 'np' } },
      ],
    });
  });

  it('describes the ColSpec model with MLServer datatypes, and its version', async () => {
    for (const path of ['/v2/models/iris-sk', '/v2/models/iris-sk/versions/3']) {
      const r = await call(path);
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({
        name: 'iris-sk',
        versions: ['3'],
        platform: 'mlflow_python_function',
        inputs: FEATURES.map((name) => ({ name, datatype: 'FP64', shape: [-1], parameters: { content_type: 'np' } })),
        outputs: [{ name: 'output-0', datatype: 'INT64', shape: [-1], parameters: { content_type: 'np' } }],
      });
    }
  });

  it('answers 404 for unknown models and versions, also on readiness', async () => {
    await expectError(await call('/v2/models/nope'), 404, /'nope'/);
    await expectError(await call('/v2/models/nope/ready'), 404, /'nope'/);
    await expectError(await call('/v2/models/iris-sk/versions/4'), 404, /version '4'/);
    // an unversioned model refuses versioned URLs
    await expectError(await call('/v2/models/iris/versions/1/infer', { method: 'POST', body: '{}' }), 404, /version '1'/);
    await expectError(await infer('nope', { inputs: [irisInput(IRIS_ROWS)] }), 404, /'nope'/);
  });

  it('answers 405 with Allow for wrong methods', async () => {
    const r = await call('/v2/models/iris/infer', { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(r.json()).toHaveProperty('error');
    const m = await call('/v2/models/iris', { method: 'DELETE' });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('GET');
    expect((await call('/v2/health/ready', { method: 'POST' })).status).toBe(405);
  });
});

describe('OIP v2: JSON inference', () => {
  it('equals the golden predictions for nested data, and echoes the id', async () => {
    const r = await infer('iris', { id: 'req-42', inputs: [irisInput(IRIS_ROWS)] });
    expect(r.status, r.body.toString()).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const body = r.json() as OipResponse;
    expect(body.model_name).toBe('iris');
    expect(body).not.toHaveProperty('model_version');
    expect(body.id).toBe('req-42');
    expect(body.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
    expectIrisGolden(body.outputs);
  });

  it('equals the golden predictions for flat data, and gives an id when none was sent', async () => {
    const r = await infer('iris', { inputs: [irisInput(IRIS_ROWS.flat())] });
    expect(r.status, r.body.toString()).toBe(200);
    const body = r.json() as OipResponse;
    expect(typeof body.id).toBe('string');
    expect(body.id.length).toBeGreaterThan(0);
    expectIrisGolden(body.outputs);
  });

  it('returns only the requested outputs, in the requested order', async () => {
    const r = await infer('iris', { inputs: [irisInput(IRIS_ROWS)], outputs: [{ name: 'label' }] });
    expect(r.status).toBe(200);
    const body = r.json() as OipResponse;
    expect(body.outputs).toEqual([{ name: 'label', datatype: 'INT64', shape: [3], data: GOLDEN_LABELS }]);
    const both = (await infer('iris', { inputs: [irisInput(IRIS_ROWS)], outputs: [{ name: 'label' }, { name: 'probabilities' }] })).json() as OipResponse;
    expect(both.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
  });

  it('feeds a ColSpec model one column per input (shape [rows] or [rows, 1]) and matches MLflow', async () => {
    const rows = IRIS_SKLEARN.request.dataframe_split.data;
    const inputs = FEATURES.map((name, j) => ({ name, datatype: 'FP64', shape: [rows.length], data: rows.map((row) => row[j]) }));
    const r = await infer('iris-sk', { id: 'sk-1', inputs });
    expect(r.status, r.body.toString()).toBe(200);
    expect(r.json()).toEqual({
      model_name: 'iris-sk',
      model_version: '3',
      id: 'sk-1',
      outputs: [{ name: 'output-0', datatype: 'INT64', shape: [rows.length], data: IRIS_SKLEARN.predictions }],
    });
    // [rows, 1] columns on the versioned URL
    const r2 = await call('/v2/models/iris-sk/versions/3/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: FEATURES.map((name, j) => ({ name, datatype: 'FP64', shape: [rows.length, 1], data: rows.map((row) => [row[j]]) })) }),
    });
    expect(r2.status, r2.body.toString()).toBe(200);
    expect((r2.json() as OipResponse).outputs[0]!.data).toEqual(IRIS_SKLEARN.predictions);
  });

  it('lets MLflow enforcement cast ColSpec inputs safely (INT32 → double) and refuse unsafe ones', async () => {
    const ints = FEATURES.map((name, j) => ({ name, datatype: 'INT32', shape: [2], data: [5 + j, 6 + j] }));
    const ok = await infer('iris-sk', { inputs: ints });
    expect(ok.status, ok.body.toString()).toBe(200);
    const strings = FEATURES.map((name) => ({ name, datatype: 'BYTES', shape: [1], data: ['five'] }));
    await expectError(await infer('iris-sk', { inputs: strings }), 400, /sepal_length/);
    const missing = FEATURES.slice(1).map((name) => ({ name, datatype: 'FP64', shape: [1], data: [1] }));
    await expectError(await infer('iris-sk', { inputs: missing }), 400, /missing inputs \['sepal_length'\]/);
    const ragged = FEATURES.map((name, j) => ({ name, datatype: 'FP64', shape: [j === 0 ? 2 : 1], data: j === 0 ? [1, 2] : [1] }));
    await expectError(await infer('iris-sk', { inputs: ragged }), 400, /rows/);
  });
});

describe('OIP v2: binary tensor data extension', () => {
  const rowsF32 = new Float32Array(IRIS_ROWS.flat());
  const blob = new Uint8Array(rowsF32.buffer);

  it('takes a binary input and returns binary outputs (binary_data_output)', async () => {
    const { body, headers } = binaryBody(
      { id: 'bin', parameters: { binary_data_output: true }, inputs: [irisInput(undefined, { parameters: { binary_data_size: blob.byteLength } })] },
      [blob],
    );
    const r = await infer('iris', body, headers);
    expect(r.status, r.body.toString()).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const { header, blobs } = splitBinary(r);
    expect(header.id).toBe('bin');
    expect(header.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [3, 3]],
      ['label', 'INT64', [3]],
    ]);
    expectGoldenProbs(f32(blobs.get('probabilities')!));
    expect(i64(blobs.get('label')!)).toEqual(GOLDEN_LABELS);
  });

  it('takes requests without a Content-Type as Triton does (tritonclient sends none): JSON, or binary with Inference-Header-Content-Length', async () => {
    // a byte body: fetch adds no Content-Type
    const json = await call('/v2/models/iris/infer', { method: 'POST', body: Buffer.from(JSON.stringify({ inputs: [irisInput(IRIS_ROWS)] })) });
    expect(json.status, json.body.toString()).toBe(200);
    expect((JSON.parse(json.body.toString()) as OipResponse).outputs.find((o) => o.name === 'label')!.data).toEqual(GOLDEN_LABELS);
    const { body, headers } = binaryBody({ inputs: [irisInput(undefined, { parameters: { binary_data_size: blob.byteLength } })] }, [blob]);
    const binary = await call('/v2/models/iris/infer', {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': headers['inference-header-content-length']! },
    });
    expect(binary.status, binary.body.toString()).toBe(200);
    expect((JSON.parse(binary.body.toString()) as OipResponse).outputs.find((o) => o.name === 'label')!.data).toEqual(GOLDEN_LABELS);
    // not JSON, no type: the JSON parser says what is wrong
    const garbage = await call('/v2/models/iris/infer', { method: 'POST', body: Buffer.from('a,b\n1,2\n') });
    expect(garbage.status).toBe(400);
  });

  it('mixes JSON and binary outputs per output binary_data', async () => {
    const r = await infer('iris', {
      inputs: [irisInput(IRIS_ROWS)],
      outputs: [
        { name: 'probabilities', parameters: { binary_data: true } },
        { name: 'label', parameters: { binary_data: false } },
      ],
    });
    expect(r.status, r.body.toString()).toBe(200);
    const { header, blobs } = splitBinary(r);
    expectGoldenProbs(f32(blobs.get('probabilities')!));
    expect(header.outputs[1]).toEqual({ name: 'label', datatype: 'INT64', shape: [3], data: GOLDEN_LABELS });
    // binary_data: false overrides binary_data_output
    const json = await infer('iris', {
      parameters: { binary_data_output: true },
      inputs: [irisInput(IRIS_ROWS)],
      outputs: [{ name: 'label', parameters: { binary_data: false } }],
    });
    expect(json.headers.get('inference-header-content-length')).toBeNull();
    expect((json.json() as OipResponse).outputs[0]!.data).toEqual(GOLDEN_LABELS);
  });

  it('takes binary FP64 columns for the ColSpec model', async () => {
    const rows = IRIS_SKLEARN.request.dataframe_split.data;
    const blobs = FEATURES.map((_n, j) => new Uint8Array(new Float64Array(rows.map((row) => row[j]!)).buffer));
    const { body, headers } = binaryBody(
      { inputs: FEATURES.map((name, j) => ({ name, datatype: 'FP64', shape: [rows.length], parameters: { binary_data_size: blobs[j]!.byteLength } })) },
      blobs,
    );
    const r = await infer('iris-sk', body, headers);
    expect(r.status, r.body.toString()).toBe(200);
    expect((r.json() as OipResponse).outputs[0]!.data).toEqual(IRIS_SKLEARN.predictions);
  });

  it('takes a raw binary request (header 0) for a single-input model and answers in binary', async () => {
    const r = await infer('iris', Buffer.from(blob), { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' });
    expect(r.status, r.body.toString()).toBe(200);
    const { header, blobs } = splitBinary(r);
    expect(header.outputs.map((o) => o.shape)).toEqual([[3, 3], [3]]);
    expectGoldenProbs(f32(blobs.get('probabilities')!));
    expect(i64(blobs.get('label')!)).toEqual(GOLDEN_LABELS);
    const one = await infer('iris', Buffer.from(blob.subarray(0, 16)), { 'inference-header-content-length': '0' });
    expect(one.status).toBe(200);
    expect(f32(splitBinary(one).blobs.get('probabilities')!)).toEqual(mlflowProbs.slice(0, 3));
  });

  it('refuses raw binary requests that do not fit the model', async () => {
    await expectError(await infer('iris', Buffer.from(blob.subarray(0, 10)), { 'inference-header-content-length': '0' }), 400, /multiple of 16 bytes, got 10/);
    await expectError(await infer('iris-sk', Buffer.from(blob), { 'inference-header-content-length': '0' }), 400, /exactly one input; this model has 4 inputs/);
  });

  it('refuses binary data that does not add up', async () => {
    const input = (size: number) => irisInput(undefined, { parameters: { binary_data_size: size } });
    // truncated: the header claims more than the body holds
    let b = binaryBody({ inputs: [input(blob.byteLength)] }, [blob.subarray(0, 20)]);
    await expectError(await infer('iris', b.body, b.headers), 400, /only 20 bytes of binary data are left/);
    // size disagrees with the shape
    b = binaryBody({ inputs: [input(20)] }, [blob.subarray(0, 20)]);
    await expectError(await infer('iris', b.body, b.headers), 400, /binary_data_size is 20 bytes, but 12 FP32 elements take 48/);
    // bytes nobody claims
    b = binaryBody({ inputs: [input(blob.byteLength)] }, [blob, new Uint8Array(8)]);
    await expectError(await infer('iris', b.body, b.headers), 400, /8 bytes of binary data after the JSON header that no input claims/);
    // header length beyond the body
    await expectError(await infer('iris', '{"inputs": []}', { 'inference-header-content-length': '999' }), 400, /only 14 bytes/);
    await expectError(await infer('iris', '{"inputs": []}', { 'inference-header-content-length': 'abc' }), 400, /non-negative integer/);
    // binary_data_size without the header
    await expectError(await infer('iris', { inputs: [input(48)] }), 400, /needs the Inference-Header-Content-Length header/);
    // both data and binary_data_size
    b = binaryBody({ inputs: [irisInput(IRIS_ROWS, { parameters: { binary_data_size: 48 } })] }, [blob]);
    await expectError(await infer('iris', b.body, b.headers), 400, /either "data" or/);
    // a BYTES element whose length runs past the blob
    const bad = Buffer.alloc(8);
    bad.writeUInt32LE(100, 0);
    b = binaryBody(
      { inputs: FEATURES.map((name) => ({ name, datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 8 } })) },
      FEATURES.map(() => bad),
    );
    await expectError(await infer('iris-sk', b.body, b.headers), 400, /claims 100 bytes, but only 4 remain/);
  });
});

describe('OIP v2: invalid requests are 400s with clear messages', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown datatype', { inputs: [irisInput(IRIS_ROWS, { datatype: 'FP128' })] }, /unsupported datatype the string "FP128"/],
    ['a datatype the model does not take', { inputs: [irisInput(IRIS_ROWS, { datatype: 'FP64' })] }, /datatype FP64 does not match the model's FP32/],
    ['a shape that disagrees with the data', { inputs: [irisInput(IRIS_ROWS, { shape: [2, 4] })] }, /shape \[2, 4\] needs 8 elements, but "data" has 12/],
    ['a negative dimension', { inputs: [irisInput(IRIS_ROWS, { shape: [-1, 4] })] }, /non-negative integers, got \[-1, 4\]/],
    ['a fractional dimension', { inputs: [irisInput(IRIS_ROWS, { shape: [1.5, 4] })] }, /non-negative integers/],
    ['a huge shape', { inputs: [irisInput(IRIS_ROWS, { shape: [1e9, 1e9] })] }, /more elements than a request of \d+ bytes can carry/],
    ['a huge dimension next to a zero one', { inputs: [irisInput([], { shape: [1e11, 0] })] }, /more elements than a request/],
    ['a shape that is not a list', { inputs: [irisInput(IRIS_ROWS, { shape: '3,4' })] }, /"shape" must be a list/],
    [
      'a ragged nested list',
      {
        inputs: [
          irisInput(
            [
              [1, 2, 3, 4],
              [1, 2],
            ],
            { shape: [2, 4] },
          ),
        ],
      },
      /ragged/,
    ],
    ['data that is not a list', { inputs: [irisInput('1,2,3', { shape: [3] })] }, /"data" must be a list/],
    ['a string in FP32 data', { inputs: [irisInput([1, 2, 3, 'x'], { shape: [1, 4] })] }, /element 3 must be a number \(FP32\), got the string "x"/],
    ['a fraction in INT32 data', { inputs: [{ name: 'a', datatype: 'INT32', shape: [2], data: [1, 1.5] }] }, /element 1 must be an integer \(INT32\)/],
    ['an out-of-range UINT8', { inputs: [{ name: 'a', datatype: 'UINT8', shape: [1], data: [256] }] }, /in \[0, 255\]/],
    ['an INT64 beyond 2^53', { inputs: [{ name: 'a', datatype: 'INT64', shape: [1], data: [2 ** 60] }] }, /binary tensor data extension/],
    ['a number in BYTES data', { inputs: [{ name: 'a', datatype: 'BYTES', shape: [1], data: [1] }] }, /must be a string \(BYTES\)/],
    ['a missing name', { inputs: [{ datatype: 'FP32', shape: [1], data: [1] }] }, /"name" must be a non-empty string/],
    ['no data', { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }] }, /"data" is missing/],
    ['empty inputs', { inputs: [] }, /"inputs" must be a non-empty list/],
    ['no inputs', { id: 'x' }, /"inputs" must be a non-empty list/],
    ['the same input twice', { inputs: [irisInput(IRIS_ROWS), irisInput(IRIS_ROWS)] }, /given twice/],
    [
      'two inputs for an unnamed single-input model',
      { inputs: [irisInput(IRIS_ROWS), irisInput(IRIS_ROWS, { name: 'b' })] },
      /^Unknown input 'b'; this model's inputs are: 'input-0'$/,
    ],
    ['a non-string id', { id: 42, inputs: [irisInput(IRIS_ROWS)] }, /"id" must be a string/],
    ['parameters that are not an object', { parameters: [1], inputs: [irisInput(IRIS_ROWS)] }, /"parameters" must be an object/],
    [
      'a non-boolean binary_data_output',
      { parameters: { binary_data_output: 'yes' }, inputs: [irisInput(IRIS_ROWS)] },
      /"binary_data_output" must be a boolean/,
    ],
    [
      'an unknown requested output',
      { inputs: [irisInput(IRIS_ROWS)], outputs: [{ name: 'logits' }] },
      /Unknown output 'logits'; this model's outputs are: 'probabilities', 'label'/,
    ],
    ['outputs that are not a list', { inputs: [irisInput(IRIS_ROWS)], outputs: { name: 'label' } }, /"outputs" must be a list/],
    ['a wrong shape for the model', { inputs: [irisInput([1, 2, 3], { shape: [1, 3] })] }, /Shape of input \(1, 3\) does not match expected shape \(-1, 4\)/],
  ];
  for (const [what, body, message] of cases) {
    it(`refuses ${what}`, async () => {
      await expectError(await infer('iris', body), 400, message);
    });
  }

  it('refuses bodies that are not JSON objects', async () => {
    await expectError(await infer('iris', '{"inputs": ['), 400, /not valid JSON/);
    await expectError(await infer('iris', '[1, 2]'), 400, /must be a JSON object/);
    await expectError(await infer('iris', ''), 400, /empty/);
    await expectError(await infer('iris', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, /UTF-8/);
  });

  it('never answers 5xx to mangled requests', async () => {
    const good = JSON.stringify({ id: 'x', inputs: [irisInput(IRIS_ROWS)], outputs: [{ name: 'label', parameters: { binary_data: true } }] });
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const tokens = ['null', '[]', '{}', '-1', '1e999', '"BYTES"', 'true', '[[[]]]', '"x"', '0'];
    for (let k = 0; k < 60; k++) {
      // replace one JSON value with a random token, or cut the body short
      const cut = rand(good.length);
      const body =
        k % 3 === 0
          ? good.slice(0, cut)
          : good.replace(/:(\[[^\]]*\]|"[^"]*"|[\d.]+|true|false)/g, (m, _v, offset: number) =>
              offset >= cut && offset < cut + 40 ? `:${tokens[rand(tokens.length)]}` : m,
            );
      const r = await infer('iris', body);
      expect(r.status, `${body} → ${r.body.toString()}`).toBeLessThan(500);
    }
  });
});

describe('OIP v2: as strict as /invocations', () => {
  const good = { inputs: [irisInput(IRIS_ROWS)] };

  it('refuses an input the metadata does not list, naming it and the ones it lists', async () => {
    // the ONNX graph's own name for the input is not an OIP name either
    await expectError(
      await infer('iris', { inputs: [irisInput(IRIS_ROWS, { name: 'features' })] }),
      400,
      /^Unknown input 'features'; this model's inputs are: 'input-0'$/,
    );
    const rows = IRIS_SKLEARN.request.dataframe_split.data;
    const inputs = [...FEATURES, 'petal_colour'].map((name, j) => ({ name, datatype: 'FP64', shape: [rows.length], data: rows.map((row) => row[j] ?? 1) }));
    await expectError(
      await infer('iris-sk', { inputs }),
      400,
      /^Unknown input 'petal_colour'; this model's inputs are: 'sepal_length', 'sepal_width', 'petal_length', 'petal_width'$/,
    );
  });

  it('names an empty input as the metadata does (input-0), not as the ONNX graph does (features)', async () => {
    await expectError(
      await infer('iris', { inputs: [irisInput([], { shape: [0, 4] })] }),
      400,
      /^input 'input-0' is empty \(shape \[0, 4\]\): send at least one row$/,
    );
  });

  it('takes application/json, or application/octet-stream with Inference-Header-Content-Length; any other type is a 415 naming them', async () => {
    const body = JSON.stringify(good);
    const accepted = /send application\/json, or application\/octet-stream with the Inference-Header-Content-Length header/;
    await expectError(await infer('iris', body, { 'content-type': 'text/csv' }), 415, /^Unsupported Content-Type "text\/csv": /);
    await expectError(await infer('iris', body, { 'content-type': 'text/plain;charset=UTF-8' }), 415, accepted);
    await expectError(
      await infer('iris', body, { 'content-type': 'application/octet-stream' }),
      415,
      /application\/octet-stream needs the Inference-Header-Content-Length header/,
    );
    expect((await infer('iris', body, { 'content-type': 'Application/JSON; charset=utf-8' })).status).toBe(200);
    const b = binaryBody(good, []);
    expect((await infer('iris', b.body, b.headers)).status).toBe(200);
  });

  it('limits the nesting of parameters as the MLflow JSON parser does (64 levels)', async () => {
    const withParams = (levels: number) => `{"parameters": {"p": ${'['.repeat(levels)}${']'.repeat(levels)}}, "inputs": ${JSON.stringify(good.inputs)}}`;
    // the request object, its parameters, then 62 lists: 64 levels
    expect((await infer('iris', withParams(62))).status).toBe(200);
    await expectError(await infer('iris', withParams(63)), 400, /^the request: "parameters" nest arrays and objects deeper than the limit of 64 levels$/);
    await expectError(await infer('iris', withParams(100_000)), 400, /deeper than the limit of 64 levels/);
    const deepInput = `{"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4], "parameters": {"p": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`;
    await expectError(await infer('iris', deepInput), 400, /^input 'input-0': "parameters" nest arrays and objects deeper than the limit of 64 levels$/);
  });
});

describe('OIP v2: mangled binary requests', () => {
  it('never answers 5xx to random header lengths, sizes and blobs', async () => {
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const datatypes = ['FP32', 'BYTES', 'BOOL', 'INT64', 'FP16', 'UINT8'];
    for (let k = 0; k < 40; k++) {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'input-0', datatype: datatypes[rand(datatypes.length)], shape: [rand(4), 4], parameters: { binary_data_size: rand(64) } }],
          parameters: { binary_data_output: rand(2) === 1 },
        }),
      );
      const blob = Buffer.from(Array.from({ length: rand(80) }, () => rand(256)));
      const headerLength = String([header.byteLength, 0, rand(header.byteLength + blob.byteLength + 8)][rand(3)]);
      const r = await infer('iris', Buffer.concat([header, blob]), { 'inference-header-content-length': headerLength });
      expect(r.status, `${header.toString()} + ${blob.byteLength} bytes, header length ${headerLength} → ${r.body.toString()}`).toBeLessThan(500);
    }
  });
});

describe('OIP v2: readiness while models load', () => {
  it('is live but not ready, and answers 503 for models still loading', async () => {
    const repo = new ModelRepository([{ name: 'later', path: join(FIXTURES, 'iris_onnx') }]);
    const { app } = createServer(repo, { logLevel: 'silent' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const get = async (path: string, init?: RequestInit) => (await fetch(url + path, init)).status;
      expect(await get('/v2/health/live')).toBe(200);
      expect(await get('/v2/health/ready')).toBe(503);
      expect(await get('/v2/models/later/ready')).toBe(503);
      expect(await get('/v2/models/later')).toBe(503);
      const r = await fetch(`${url}/v2/models/later/infer`, { method: 'POST', body: JSON.stringify({ inputs: [irisInput(IRIS_ROWS)] }) });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: string }).error).toMatch(/still loading/);
    } finally {
      await app.close();
    }
  });
});
