/**
 * Requests refused before any route runs — by Node's HTTP parser (malformed Content-Length or
 * chunk, headers or request line over the size limit, headers not received in time) or by
 * fastify's router (undecodable path, path parameter over the length limit) — get the error body
 * of the protocol of the path (MLflow's `{"error_code", "message"}`, OIP's `{"error"}` under /v2)
 * and never echo the request. Sent over raw sockets (node:net), as no HTTP client sends them.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@mlmodel/serve';
import { fixtureSpec, start } from './support.js';

interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

let s: RunningServer;
let port: number;

beforeAll(async () => {
  // auth on: none of these refusals needs (or gets past) it; a short request timeout for the 408
  s = await start([fixtureSpec('iris_onnx', { name: 'iris' })], { authToken: 's3cret', requestTimeoutMs: 200 });
  port = Number(new URL(s.url).port);
});
afterAll(() => s?.close());

/** Write `parts` (100 ms apart) on a new connection and read until the server closes it. */
function exchange(...parts: string[]): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4) });
    });
    parts.forEach((p, i) => setTimeout(() => socket.write(p), i * 100));
  });
}

const request = (line: string, ...headers: string[]): string =>
  `${line} HTTP/1.1\r\nHost: localhost\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`;

/** MLflow's error body with `status`, its message matching `message`. */
function expectMlflow(r: RawReply, status: number, message: RegExp): void {
  expect(r.status, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error_code', 'message']);
  expect(body.message).toMatch(message);
}

/** The Open Inference Protocol's error body with `status`, its message matching `message`. */
function expectOip(r: RawReply, status: number, message: RegExp): void {
  expect(r.status, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(message);
}

describe("requests fastify's router refuses", () => {
  it('answers a path that cannot be percent-decoded with 400, without echoing it', async () => {
    const mlflow = await exchange(request('GET /invocations%zzsecret%'));
    expectMlflow(mlflow, 400, /^The request path is not a valid URL/);
    expect(mlflow.body).not.toContain('zzsecret');
    const oip = await exchange(request('GET /v2/models/iris%zzsecret%/ready'));
    expectOip(oip, 400, /^The request path is not a valid URL/);
    expect(oip.body).not.toContain('zzsecret');
  });

  it('answers a path parameter over the limit with 414, without echoing it; a 128-character model name still routes', async () => {
    const oip = await exchange(request(`GET /v2/models/${'m'.repeat(129)}/ready`));
    expectOip(oip, 414, /^The URL is too long: a model name or version in it is longer than 128 characters\.$/);
    expect(oip.body).not.toContain('mmmm');
    expectOip(await exchange(request(`GET /v2/models/${'m'.repeat(128)}/ready`, 'Authorization: Bearer s3cret')), 404, /is not served here/);
    const mlflow = await exchange(request(`GET /docs/assets/${'a'.repeat(200)}.js`));
    expectMlflow(mlflow, 414, /^The URL is too long/);
    expect(mlflow.body).not.toContain('aaaa');
  });
});

describe("requests Node's HTTP parser refuses (clientError)", () => {
  it('answers a negative or invalid Content-Length with 400 in the protocol of the path', async () => {
    expectMlflow(
      await exchange(request('POST /invocations', 'Content-Type: application/json', 'Content-Length: -1')),
      400,
      /^The HTTP request is malformed: Invalid character in Content-Length\.$/,
    );
    expectOip(
      await exchange(request('POST /v2/models/iris/infer', 'Content-Type: application/json', 'Content-Length: 12abc')),
      400,
      /^The HTTP request is malformed: /,
    );
  });

  it('answers a malformed body chunk of a request already routed in its protocol', async () => {
    const head =
      'POST /v2/models/iris/infer HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer s3cret\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    // the bad chunk arrives alone: the path comes from the request in flight, not from these bytes
    expectOip(await exchange(head, 'zz\r\n'), 400, /^The HTTP request is malformed: Invalid character in chunk size\.$/);
  });

  it('answers a request line over the header size limit with 414, without echoing it', async () => {
    const mlflow = await exchange(request(`GET /invocations?q=${'x'.repeat(20_000)}`));
    expectMlflow(mlflow, 414, /^The URL is too long: the request line must fit, with the headers, in \d+ bytes\.$/);
    expect(mlflow.body).not.toContain('xxxx');
    expectOip(await exchange(request(`GET /v2/health/ready?q=${'x'.repeat(20_000)}`)), 414, /^The URL is too long/);
  });

  it('answers headers over the size limit with 431, without echoing them', async () => {
    const mlflow = await exchange(request('GET /ping', `X-Big: ${'h'.repeat(20_000)}`));
    expectMlflow(mlflow, 431, /^The request headers are too large: the request line and headers must fit in \d+ bytes\.$/);
    expect(mlflow.body).not.toContain('hhhh');
    expectOip(await exchange(request('GET /v2/health/live', `X-Big: ${'h'.repeat(20_000)}`)), 431, /^The request headers are too large/);
  });

  it('answers headers not received within the request timeout with 408 (MLflow body: the path is not known)', async () => {
    const r = await exchange('GET /v2/health/ready HTTP/1.1\r\nHost: localhost\r\n');
    expectMlflow(r, 408, /^Request timeout: the server did not receive the complete request headers in time\.$/);
    expect(JSON.parse(r.body)).toMatchObject({ error_code: 'DEADLINE_EXCEEDED' });
  });

  it('keeps serving afterwards', async () => {
    expect((await fetch(`${s.url}/ping`)).status).toBe(200);
  });
});

describe('errors of unknown paths (auth hook) in the protocol of the path', () => {
  it('answers 401 with MLflow’s body outside /v2 and the OIP body under /v2', async () => {
    const mlflow = await fetch(`${s.url}/nope`);
    expect(mlflow.status).toBe(401);
    expect(await mlflow.json()).toMatchObject({ error_code: 'UNAUTHENTICATED', message: expect.stringMatching(/bearer token/) as unknown });
    const oip = await fetch(`${s.url}/v2/nope`);
    expect(oip.status).toBe(401);
    const body = (await oip.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(/bearer token/);
  });
});
