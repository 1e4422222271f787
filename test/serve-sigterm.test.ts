/**
 * SIGTERM under load loses no accepted request: the real `mlmodel serve` (the CLI binary, as a
 * child process) gets a steady stream of requests from 32 keep-alive clients, SIGTERM arrives
 * mid-stream, and the clients keep sending until the server has exited.
 *
 * The clients speak HTTP/1.1 over raw sockets so that every request's fate is known exactly:
 * - answered: a complete 200 with the correct predictions, or a 503 with `Connection: close`
 *   (after which the client waits as its Retry-After says, as a well-behaved client does);
 * - refused at connection level: the connection was refused (ECONNREFUSED), or the server had
 *   closed the keep-alive connection before the request was written;
 * - lost (a failure): a truncated response, an unexpected status, or a request the server read
 *   and never answered.
 *
 * A request written on a connection that was then reset with no response byte at all is
 * ambiguous from the client's side: the connection may have sat in the kernel's accept queue, or
 * in transit from the cluster primary to a worker, and never have been read. The server settles
 * it: on shutdown each server process logs `drained` with the requests it read and answered. The
 * test requires that every process read-and-answered all its requests, and that the responses
 * the clients received add up to exactly the responses the servers sent — so every reset request
 * is one no server process ever read, i.e. never accepted.
 *
 * Also asserted: some requests were in flight when SIGTERM arrived and completed with 200 after
 * it (requests are 1,000 rows, so they take a while); the server exits with code 0 within a few
 * seconds; no process it started (cluster workers, Python workers) outlives it.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, GOLDEN, PYTHON, descendants, isRunning, jsonDiff, startServe, type ServerProcess } from './support/serve-process.js';

const CLIENTS = 32;
/** SIGTERM is sent this long after the stream started. */
const SIGTERM_AFTER_MS = 700;
/** The stream lasts at least this long (and until the server has exited). */
const STREAM_MS = 1_500;
/** The server must have exited this long after SIGTERM. */
const EXIT_WITHIN_MS = 8_000;

interface Payload {
  readonly body: Buffer;
  readonly predictions: unknown;
  readonly tol: number;
  readonly rows: number;
}

/** The golden request repeated to about `rows` rows, with the golden predictions repeated alike. */
function repeated(model: string, rows: number): Payload {
  const g = GOLDEN.cases[model]![0]!;
  const req = g.request as { inputs?: number[][]; dataframe_split?: { columns: string[]; data: unknown[][] } };
  const base = req.inputs ?? req.dataframe_split!.data;
  const times = Math.max(1, Math.round(rows / base.length));
  const rep = <T>(xs: readonly T[]): T[] => Array.from({ length: times }, () => xs).flat();
  const request = req.inputs ? { inputs: rep(base) } : { dataframe_split: { columns: req.dataframe_split!.columns, data: rep(base) } };
  const p = g.predictions;
  const predictions = Array.isArray(p) ? rep(p) : Object.fromEntries(Object.entries(p as Record<string, unknown[]>).map(([k, v]) => [k, rep(v)]));
  return { body: Buffer.from(JSON.stringify(request)), predictions, tol: model === 'iris_onnx' ? 1e-6 : 0, rows: base.length * times };
}

type Fate =
  | { kind: 'ok'; sentAt: number; doneAt: number }
  | { kind: '503'; sentAt: number; doneAt: number }
  | { kind: 'refused'; at: number; why: string }
  | { kind: 'lost'; sentAt: number; at: number; why: string; responseBytes: number }
  | { kind: 'reset'; sentAt: number; at: number; why: string };

interface Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One keep-alive HTTP/1.1 connection that sends one request at a time. */
class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: { resolve: (r: Response) => void; reject: (e: Error & { responseBytes?: number }) => void } | null = null;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.tryParse();
    });
    socket.on('end', () => this.fail('the server closed the connection'));
    socket.on('close', () => this.fail('the connection closed'));
    socket.on('error', (e) => this.fail(`${(e as NodeJS.ErrnoException).code ?? e.message}`));
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, noDelay: true });
      s.once('connect', () => resolve(new Connection(s)));
      s.once('error', reject);
    });
  }

  /** Whether the server already closed its side (so a request would never be read). */
  get closedByServer(): boolean {
    return this.ended || this.socket.destroyed || this.socket.readableEnded;
  }

  private fail(why: string): void {
    this.ended = true;
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    w.reject(Object.assign(new Error(why), { responseBytes: this.buf.length }));
  }

  private tryParse(): void {
    if (!this.waiter) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? NaN);
    if (!Number.isFinite(length)) {
      this.fail(`response without content-length: ${head[0]}`);
      return;
    }
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.subarray(end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const w = this.waiter;
    this.waiter = null;
    w.resolve({ status, headers, body: Buffer.from(body) });
  }

  /** Send a request; `onWritten` runs once its bytes were handed to the kernel. */
  request(path: string, body: Buffer, onWritten: () => void): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      this.waiter = { resolve, reject };
      const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      this.socket.write(Buffer.concat([Buffer.from(head), body]), (err) => {
        if (!err) onWritten();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

interface RunResult {
  fates: Fate[];
  sigtermAt: number;
  exitedAt: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  badPredictions: string[];
  leftovers: number[];
}

async function drive(server: ServerProcess, payloads: readonly Payload[]): Promise<RunResult> {
  const fates: Fate[] = [];
  const badPredictions: string[] = [];
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  let exitedAt = Infinity;
  let stop = false;
  // what the server started: cluster workers, Python workers
  const family = descendants(server.pid);
  void server.exited.then(() => {
    exitedAt = now();
  });

  const client = async (id: number): Promise<void> => {
    let conn: Connection | null = null;
    let n = id;
    while (!stop) {
      if (!conn) {
        try {
          conn = await Connection.open(server.port);
        } catch (e) {
          fates.push({ kind: 'refused', at: now(), why: (e as NodeJS.ErrnoException).code ?? String(e) });
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
      }
      if (conn.closedByServer) {
        // closed before we wrote anything: a clean refusal
        fates.push({ kind: 'refused', at: now(), why: 'keep-alive connection closed by the server before the request' });
        conn.close();
        conn = null;
        continue;
      }
      const p = payloads[n++ % payloads.length]!;
      let sentAt = -1;
      const startedAt = now();
      try {
        const res = await conn.request('/invocations', p.body, () => (sentAt = now()));
        const doneAt = now();
        if (res.status === 200) {
          const diff = jsonDiff((JSON.parse(res.body.toString('utf8')) as { predictions: unknown }).predictions, p.predictions, p.tol);
          if (diff) badPredictions.push(diff);
          fates.push({ kind: 'ok', sentAt: sentAt < 0 ? startedAt : sentAt, doneAt });
        } else if (res.status === 503 && res.headers.connection?.toLowerCase() === 'close') {
          fates.push({ kind: '503', sentAt: sentAt < 0 ? startedAt : sentAt, doneAt });
        } else {
          fates.push({
            kind: 'lost',
            sentAt,
            at: doneAt,
            why: `unexpected ${res.status} (connection: ${res.headers.connection}): ${res.body.toString('utf8', 0, 200)}`,
            responseBytes: res.body.length,
          });
        }
        if (res.headers.connection?.toLowerCase() === 'close') {
          conn.close();
          conn = null;
        }
        // a well-behaved client honours Retry-After (capped: the test keeps sending)
        const retryAfter = Number(res.headers['retry-after']);
        if (res.status === 503 && retryAfter > 0) await new Promise((r) => setTimeout(r, Math.min(retryAfter * 1000, 1000)));
      } catch (e) {
        const err = e as Error & { responseBytes?: number };
        if (sentAt < 0) fates.push({ kind: 'refused', at: now(), why: `before the request was written: ${err.message}` });
        else if (!err.responseBytes) fates.push({ kind: 'reset', sentAt, at: now(), why: err.message });
        else fates.push({ kind: 'lost', sentAt, at: now(), why: err.message, responseBytes: err.responseBytes });
        conn?.close();
        conn = null;
      }
    }
    conn?.close();
  };

  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
  await new Promise((r) => setTimeout(r, SIGTERM_AFTER_MS));
  const sigtermAt = now();
  process.kill(server.pid, 'SIGTERM');
  const exitTimer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_WITHIN_MS));
  const exit = await Promise.race([server.exited, exitTimer]);
  // keep sending a little after the exit (those attempts must be refused cleanly)
  await new Promise((r) => setTimeout(r, Math.max(100, STREAM_MS - now())));
  stop = true;
  await Promise.all(clients);
  if (exit === 'timeout') {
    server.kill();
    throw new Error(`the server did not exit within ${EXIT_WITHIN_MS} ms of SIGTERM:\n${server.stderr().slice(-3000)}`);
  }
  // give the kernel a moment to reap, then look for survivors
  await new Promise((r) => setTimeout(r, 200));
  return { fates, sigtermAt, exitedAt, exit, badPredictions, leftovers: family.filter(isRunning) };
}

function summarize(name: string, r: RunResult): void {
  const count = (k: Fate['kind']): number => r.fates.filter((f) => f.kind === k).length;
  const drained = r.fates.filter((f) => f.kind === 'ok' && f.sentAt < r.sigtermAt && f.doneAt > r.sigtermAt).length;
  const why = new Map<string, number>();
  for (const f of r.fates)
    if (f.kind === 'refused' || f.kind === 'lost' || f.kind === 'reset') why.set(`${f.kind}: ${f.why}`, (why.get(`${f.kind}: ${f.why}`) ?? 0) + 1);
  console.log(
    `${name}: ${r.fates.length} requests; 200×${count('ok')} (${drained} in flight at SIGTERM) 503×${count('503')} refused×${count('refused')} reset×${count('reset')} lost×${count('lost')}; ` +
      `exit ${r.exit.code ?? r.exit.signal} ${(r.exitedAt - r.sigtermAt).toFixed(0)} ms after SIGTERM\n${[...why].map(([k, n]) => `  ${n}× ${k}`).join('\n')}`,
  );
}

interface DrainLog {
  received: number;
  answered: number;
  abandoned: number;
  unanswered: number;
}

function assertClean(r: RunResult, server: ServerProcess, processes: number): void {
  // every server process read and answered all its requests, and the clients got every response sent
  const drainLogs = server
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"drained"'))
    .map((l) => JSON.parse(l) as DrainLog & { msg: string })
    .filter((l) => l.msg === 'drained');
  expect(drainLogs.length, server.stderr().slice(-2000)).toBe(processes);
  expect(drainLogs.map((d) => d.unanswered + d.abandoned)).toEqual(drainLogs.map(() => 0));
  const answered = drainLogs.reduce((a, d) => a + d.answered, 0);
  const responses = r.fates.filter((f) => f.kind === 'ok' || f.kind === '503' || (f.kind === 'lost' && f.responseBytes > 0)).length;
  // /ping probes of the test helper are answered too
  const pings = server
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"url":"/ping"')).length;
  expect(responses + pings).toBe(answered);
  const lost = r.fates.filter((f): f is Extract<Fate, { kind: 'lost' }> => f.kind === 'lost');
  expect(
    lost.map(
      (f) =>
        `${f.why} (written at ${f.sentAt.toFixed(0)} ms, failed at ${f.at.toFixed(0)} ms, SIGTERM at ${r.sigtermAt.toFixed(0)} ms, ${f.responseBytes} response bytes)`,
    ),
    server.stderr().slice(-2000),
  ).toEqual([]);
  expect(r.badPredictions).toEqual([]);
  // the drain was exercised: requests in flight at SIGTERM completed with 200 after it
  const drained = r.fates.filter((f) => f.kind === 'ok' && f.sentAt < r.sigtermAt && f.doneAt > r.sigtermAt);
  expect(drained.length).toBeGreaterThan(0);
  expect(r.fates.filter((f) => f.kind === 'ok').length).toBeGreaterThan(drained.length);
  expect(r.exit, server.stderr().slice(-2000)).toEqual({ code: 0, signal: null });
  expect(r.exitedAt - r.sigtermAt).toBeLessThan(EXIT_WITHIN_MS);
  expect(r.leftovers).toEqual([]);
  expect(server.stderr()).not.toMatch(/internal error|unhandled|Error:/i);
}

const servers: ServerProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill();
});

async function run(name: string, args: string[], payloads: Payload[], processes = 1): Promise<void> {
  // info level: the access log and each process's `drained` accounting
  const server = await startServe(args, { logLevel: 'info' });
  servers.push(server);
  const r = await drive(server, payloads);
  summarize(name, r);
  assertClean(r, server, processes);
}

describe('SIGTERM under load: every accepted request is answered, then a clean exit', () => {
  const iris = join(FIXTURES, 'iris_onnx');

  it('iris_onnx, one process, 1,000-row requests', async () => {
    // one process explicitly: without --workers an onnx model gets one per core
    await run('iris_onnx', ['-m', iris, '--workers', '1'], [repeated('iris_onnx', 1000)]);
  }, 60_000);

  it('iris_onnx, --workers 2 (cluster: the primary forwards SIGTERM, both workers drain)', async () => {
    await run('iris_onnx --workers 2', ['-m', iris, '--workers', '2'], [repeated('iris_onnx', 1000)], 2);
  }, 60_000);

  it('iris_sklearn through Python with adaptive batching: queued and running batches are drained', async () => {
    // small requests are merged into batches of up to 32 rows; the large ones run alone
    const payloads = [repeated('iris_sklearn', 4), repeated('iris_sklearn', 8), repeated('iris_sklearn', 4), repeated('iris_sklearn', 1000)];
    await run('iris_sklearn --max-batch-size 32', ['-m', join(FIXTURES, 'iris_sklearn'), '--python', PYTHON, '--max-batch-size', '32'], payloads);
  }, 60_000);
});
