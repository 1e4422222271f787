/**
 * Clients that stop in the middle, through a real server and raw sockets:
 * - a client that sends its headers and then stalls in the body (Content-Length or chunked) gets a
 *   408 in the protocol of its route once the request timeout has passed, and its connection is
 *   closed; health checks answer meanwhile;
 * - a client that leaves while its request waits for a busy python_function worker has that
 *   request dropped: the model never runs it, so the next client does not wait for it.
 */
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@mlmodel/serve';
// the python_function bridge tests' toy models: `slow` sleeps its input's seconds, then returns its worker's pid
import { PYTHON, toyModel } from '../../flavors/test/python-support.js';
import { fixtureSpec, post, start } from './support.js';

interface RawAnswer {
  status: number;
  body: string;
  headers: string;
  /** ms from the first byte sent to the connection's close. */
  closedAfterMs: number;
}

/** Send `head` (and nothing more) on a new connection; resolve with what comes back once the server closes it. */
function sendAndStall(s: RunningServer, head: string): Promise<RawAnswer> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const t0 = performance.now();
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [headers = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1] ?? 0), headers, body, closedAfterMs: performance.now() - t0 });
    });
    socket.write(head);
  });
}

describe('a client that stalls after its headers', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start([fixtureSpec('iris_onnx')], { requestTimeoutMs: 1000 });
  });
  afterAll(async () => s?.close());

  it('gets 408 in MLflow format on /invocations after the request timeout, and the connection closes', async () => {
    const answer = sendAndStall(s, 'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inp');
    // the server keeps answering health checks meanwhile
    await new Promise((r) => setTimeout(r, 300));
    const ping = await fetch(`${s.url}/ping`);
    expect(ping.status).toBe(200);
    const r = await answer;
    expect(r.status, r.headers + r.body).toBe(408);
    expect(JSON.parse(r.body)).toEqual({ error_code: 'DEADLINE_EXCEEDED', message: 'Request timeout: the request body was not received within 1 s.' });
    expect(r.headers.toLowerCase()).toContain('connection: close');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(950);
    expect(r.closedAfterMs).toBeLessThan(2500);
  });

  it('gets 408 for a chunked body that stops', async () => {
    const r = await sendAndStall(
      s,
      'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"inp\r\n',
    );
    expect(r.status, r.body).toBe(408);
    expect((JSON.parse(r.body) as { error_code: string }).error_code).toBe('DEADLINE_EXCEEDED');
    expect(r.closedAfterMs).toBeLessThan(2500);
  });

  it("gets 408 in the Open Inference Protocol's format on /v2", async () => {
    const r = await sendAndStall(
      s,
      'POST /v2/models/iris_onnx/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{"inputs": [',
    );
    expect(r.status, r.body).toBe(408);
    expect(JSON.parse(r.body)).toEqual({ error: 'Request timeout: the request body was not received within 1 s.' });
  });

  it('does not time out a body that arrives slowly but within the timeout', async () => {
    const { port } = new URL(s.url);
    const body = '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}';
    const status = await new Promise<number>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (d: Buffer) => {
        data += d.toString('utf8');
        if (data.includes('\r\n\r\n') && data.endsWith('}')) {
          socket.destroy();
          resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0));
        }
      });
      socket.on('error', reject);
      socket.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      setTimeout(() => socket.write(body.slice(10)), 500);
    });
    expect(status).toBe(200);
  });
});

describe('a client that leaves while its request waits for the model', () => {
  let root: string;
  let s: RunningServer;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mlmodel-serve-departed-'));
    const model = await toyModel(root, 'slow', 'slow');
    s = await start([{ name: 'toy', path: model.dir, options: { python: PYTHON, workers: 1 } }]);
    // the worker is up and answering
    expect((await post(s, '/invocations', '{"inputs": [0]}')).status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** POST on a raw socket and close it (FIN, or reset with `destroy`) after `ms`, without reading the answer. */
  function postAndLeave(path: string, body: string, ms: number, how: 'end' | 'destroy'): Promise<void> {
    const { port } = new URL(s.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        setTimeout(() => {
          if (how === 'end') socket.end();
          else socket.destroy();
          resolve();
        }, ms);
      });
      socket.on('error', reject);
    });
  }

  for (const [how, path] of [
    ['end', '/invocations'],
    ['destroy', '/v2/models/toy/infer'],
  ] as const) {
    it(`drops a queued request whose client closed its connection (${how}, ${path})`, async () => {
      const t0 = performance.now();
      // A holds the only worker for 1.5 s
      const a = post(s, '/invocations', '{"inputs": [1.5]}');
      await new Promise((r) => setTimeout(r, 200));
      // B would hold it 4 s more, but its client leaves while B waits behind A
      const bBody = path === '/invocations' ? '{"inputs": [4]}' : '{"inputs": [{"name": "input-0", "shape": [1], "datatype": "FP64", "data": [4]}]}';
      await postAndLeave(path, bBody, 200, how);
      // C, sent after B, runs right after A: it does not wait for B's 4 s
      const c = await post(s, '/invocations', '{"inputs": [0]}');
      const cMs = performance.now() - t0;
      expect((await a).status).toBe(200);
      expect(c.status, c.text).toBe(200);
      expect(cMs).toBeGreaterThan(1400);
      expect(cMs).toBeLessThan(3500);
    });
  }
});
