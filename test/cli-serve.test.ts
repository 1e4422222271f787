/**
 * End to end: the real `mlmodel serve` binary as a child process: several worker processes
 * sharing one port with aggregated metrics, JSON access logs with request ids and no bodies,
 * SageMaker's port variable, exit codes for user and usage errors, SIGTERM → exit 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'mlmodel.js');
const ROW = '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

interface Served {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function serve(args: string[], env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForPing(port: number, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ping`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no /ping 200 on port ${port} within ${ms} ms`);
}

describe('mlmodel serve (real binary)', () => {
  it('runs two worker processes on one port, aggregates /metrics, logs JSON lines with request ids, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const s = serve(['-m', join(FIXTURES, 'iris_onnx'), '--port', String(port), '--workers', '2', '--log-level', 'info']);
    // the primary announces once every worker is ready (/ping alone may answer from the first)
    await waitFor(() => /serving 1 model\(s\)/.test(s.stderr()));
    await waitForPing(port);
    const n = 40;
    const rs = await Promise.all(
      Array.from({ length: n }, () => fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', body: ROW, headers: { 'content-type': 'application/json' } })),
    );
    for (const r of rs) expect((await r.json()) as unknown).toMatchObject({ predictions: { label: [0] } });

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = Number(/^mlmodel_http_requests_total\{route="\/invocations",method="POST",status="200"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(total).toBe(n);

    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const lines = s.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = lines.filter((l) => l.msg === 'request completed' && l.url === '/invocations');
    expect(access.length).toBe(n);
    expect(new Set(access.map((l) => l.pid)).size).toBe(2);
    for (const l of access) expect(l.reqId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    // no request body in the logs
    expect(s.stdout()).not.toContain('"inputs"');
    expect(s.stdout()).not.toContain('3.5, 1.4');
    expect(s.stderr()).toMatch(/serving 1 model\(s\) at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('listens on $SAGEMAKER_BIND_TO_PORT', async () => {
    const port = await freePort();
    const s = serve(['-m', join(FIXTURES, 'iris_onnx'), '--log-level', 'warn'], { SAGEMAKER_BIND_TO_PORT: String(port) });
    await waitForPing(port);
    const p = await fetch(`http://127.0.0.1:${port}/execution-parameters`);
    expect(await p.json()).toMatchObject({ BatchStrategy: 'MULTI_RECORD' });
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('stops cleanly (exit 0, no Python workers left) on SIGTERM while a model is still loading', async () => {
    const port = await freePort();
    const s = serve(['-m', join(FIXTURES, 'iris_sklearn'), '--python', '/usr/bin/python3', '--port', String(port), '--log-level', 'warn']);
    // listening comes first; the Python model takes a while to load
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const status = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.status, () => 0);
      if (status === 503) break;
      if (status === 200) throw new Error('the model loaded before the test could stop it: make it slower');
      await new Promise((r) => setTimeout(r, 10));
    }
    // the Python workers it has started so far (children of the server process)
    const children = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/status`, 'utf8').includes(`\nPPid:\t${s.child.pid}\n`);
        } catch {
          return false;
        }
      });
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toBe('');
    await new Promise((r) => setTimeout(r, 200));
    expect(children.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
  });

  it('exits 1 with one line for a model that cannot load, and 2 for bad options', async () => {
    const port = await freePort();
    const bad = serve(['-m', join(FIXTURES, 'does-not-exist'), '--port', String(port), '--log-level', 'silent']);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr().trim().split('\n')).toHaveLength(1);
    expect(bad.stderr()).toMatch(/^error: .*does-not-exist/);

    const usage = spawnSync(process.execPath, [BIN, 'serve', '-m', join(FIXTURES, 'iris_onnx'), '--workers', '0'], { encoding: 'utf8', timeout: 30_000 });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--workers must be an integer ≥ 1/);
  });
});
