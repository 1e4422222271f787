import http from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferedLines, type RunningServer } from '@mlmodel/serve';
import { fixtureSpec, post, start } from './support.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A destination whose writes are recorded as text. */
function recorder(): { lines: () => string[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines: () => chunks.join('').split('\n').filter(Boolean), stream };
}

/** The buffered stdout destination the server uses by default, writing into an array instead of fd 1. */
function bufferedRecorder(flushMs = 60_000): { lines: () => string[]; out: BufferedLines; writes: () => number } {
  const chunks: string[] = [];
  const out = new BufferedLines(1, {
    flushMs,
    write: (b) => {
      chunks.push(Buffer.from(b).toString('utf8'));
      return b.byteLength;
    },
  });
  return { lines: () => chunks.join('').split('\n').filter(Boolean), out, writes: () => chunks.length };
}

/** A request whose path Node sends as given (fetch would percent-encode quotes). */
function rawRequest(s: RunningServer, path: string, id: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(s.url);
    const req = http.request({ hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const BODY = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
/** Time and duration differ from run to run: the rest of the line must not. */
const normalized = (line: string): string => line.replace(/"time":\d+/, '"time":0').replace(/"ms":[\d.e-]+/, '"ms":0');

describe('access log', () => {
  it("writes, on the default buffered destination, the same bytes as pino's line for every request (request ids, odd URLs, errors)", async () => {
    const direct = recorder();
    const buffered = bufferedRecorder();
    const a = await start([fixtureSpec('iris_onnx')], { logLevel: 'info', logStream: direct.stream });
    const b = await start([fixtureSpec('iris_onnx')], { logLevel: 'info', logStream: buffered.out });
    servers.push(a, b);
    for (const s of [a, b]) {
      expect((await post(s, '/invocations', BODY, { 'content-type': 'application/json', 'x-request-id': 'client-id.1:2' })).status).toBe(200);
      expect(await rawRequest(s, '/invocations?q="quoted"\\&x', 'bad-json', '{')).toBe(400);
      expect((await fetch(`${s.url}/nowhere`, { headers: { 'x-request-id': 'four-oh-four' } })).status).toBe(404);
    }
    buffered.out.flush();
    const access = (lines: string[]): string[] => lines.filter((l) => l.includes('"msg":"request completed"')).map(normalized);
    const pinoLines = access(direct.lines());
    const deferredLines = access(buffered.lines());
    expect(pinoLines).toHaveLength(3);
    // pid and hostname are the same process's; everything but time and duration is byte for byte pino's
    expect(deferredLines).toEqual(pinoLines);
    expect(JSON.parse(deferredLines[1]!)).toMatchObject({ level: 30, reqId: 'bad-json', method: 'POST', status: 400 });
    // a URL that needs escaping in JSON: quotes and a backslash
    expect(deferredLines[1]).toContain(String.raw`"url":"/invocations?q=\"quoted\"\\&x"`);
  });

  it('keeps the order in which lines were logged and writes a waiting line within flushMs', async () => {
    const buffered = bufferedRecorder(1000);
    const s = await start([fixtureSpec('iris_onnx')], { logLevel: 'info', logStream: buffered.out });
    servers.push(s);
    buffered.out.flush();
    const written = buffered.writes();
    // the first request's access line waits; the second is refused, which pino logs at once while handling it
    expect((await post(s, '/invocations', BODY, { 'content-type': 'application/json', 'x-request-id': 'first' })).status).toBe(200);
    expect((await post(s, '/invocations', '{"inputs": "nope"}', { 'content-type': 'application/json', 'x-request-id': 'second' })).status).toBe(400);
    // nothing written yet: the lines wait in the buffer (or as fields) for flushMs
    expect(buffered.writes()).toBe(written);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(buffered.writes()).toBeGreaterThan(written);
    const ids = buffered
      .lines()
      .map((l) => JSON.parse(l) as { reqId?: string; msg: string })
      .filter((l) => l.reqId === 'first' || l.reqId === 'second')
      .map((l) => `${l.reqId}: ${l.msg}`);
    expect(ids).toEqual(['first: request completed', 'second: request refused', 'second: request completed']);
  });

  it('turns waiting lines into text once 64 wait, without waiting for the flush, and loses none', async () => {
    const buffered = bufferedRecorder();
    const s = await start([fixtureSpec('iris_onnx')], { logLevel: 'info', logStream: buffered.out });
    servers.push(s);
    const answers = await Promise.all(Array.from({ length: 300 }, () => post(s, '/invocations', BODY)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    // flushMs is a minute: only the cap (64 lines, then a full 4 KiB buffer) can have written
    expect(buffered.writes()).toBeGreaterThan(0);
    buffered.out.flush();
    const access = buffered.lines().map((l) => JSON.parse(l) as { msg: string; status: number; reqId: string });
    const done = access.filter((l) => l.msg === 'request completed' && l.status === 200);
    expect(done).toHaveLength(300);
    expect(new Set(done.map((l) => l.reqId)).size).toBe(300);
  });

  it('takes the lines of every server that shares the destination, also of one that closed', async () => {
    const buffered = bufferedRecorder();
    const a = await start([fixtureSpec('iris_onnx')], { logLevel: 'info', logStream: buffered.out });
    const b = await start([fixtureSpec('iris_onnx')], { logLevel: 'info', logStream: buffered.out });
    servers.push(b);
    for (const [s, id] of [
      [a, 'to-a'],
      [b, 'to-b'],
      [a, 'to-a-again'],
    ] as const)
      expect((await post(s, '/invocations', BODY, { 'content-type': 'application/json', 'x-request-id': id })).status).toBe(200);
    await a.close();
    expect((await post(b, '/invocations', BODY, { 'content-type': 'application/json', 'x-request-id': 'to-b-after' })).status).toBe(200);
    buffered.out.flush();
    const ids = buffered
      .lines()
      .map((l) => JSON.parse(l) as { reqId?: string; msg: string })
      .filter((l) => l.msg === 'request completed')
      .map((l) => l.reqId);
    expect(ids.sort()).toEqual(['to-a', 'to-a-again', 'to-b', 'to-b-after']);
  });

  it('writes no access line below info', async () => {
    const buffered = bufferedRecorder();
    const s = await start([fixtureSpec('iris_onnx')], { logLevel: 'warn', logStream: buffered.out });
    servers.push(s);
    expect((await post(s, '/invocations', BODY)).status).toBe(200);
    buffered.out.flush();
    expect(buffered.lines().filter((l) => l.includes('request completed'))).toEqual([]);
  });
});
