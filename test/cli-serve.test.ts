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
import { machineFacts } from '@mlmodel/serve';

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
    const s = serve(['-m', join(FIXTURES, 'iris_onnx'), '--host', '127.0.0.1', '--port', String(port), '--workers', '2', '--log-level', 'info']);
    // the primary announces once every worker is ready (/ping alone may answer from the first)
    await waitFor(() => /serving 1 model\(s\)/.test(s.stderr()));
    await waitForPing(port);
    const n = 40;
    const rs = await Promise.all(
      Array.from({ length: n }, () =>
        fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', body: ROW, headers: { 'content-type': 'application/json' } }),
      ),
    );
    for (const r of rs) expect((await r.json()) as unknown).toMatchObject({ predictions: { label: [0] } });

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = Number(/^mlmodel_http_requests_total\{route="\/invocations",method="POST",status="200"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(total).toBe(n);

    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const lines = s
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
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
      const status = await fetch(`http://127.0.0.1:${port}/ping`).then(
        (r) => r.status,
        () => 0,
      );
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

describe('mlmodel serve: where it listens, and its auth token (real binary)', () => {
  const IRIS = join(FIXTURES, 'iris_onnx');
  const logLines = (out: string): { level: number; msg: string }[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });

  it('prints the address it binds, and warns once when it binds every interface without a token', async () => {
    const port = await freePort();
    const open = serve(['-m', IRIS, '--host', '0.0.0.0', '--port', String(port), '--log-level', 'warn']);
    await waitFor(() => /serving 1 model\(s\)/.test(open.stderr()));
    expect(open.stderr()).toMatch(new RegExp(`^mlmodel: serving 1 model\\(s\\) at http://0\\.0\\.0\\.0:${port}\\b[^\\n]*\\n$`));
    await waitFor(() => open.stdout().includes('all interfaces'));
    expect(
      logLines(open.stdout())
        .filter((l) => l.level >= 40)
        .map((l) => l.msg),
    ).toEqual([
      `listening on all interfaces (http://0.0.0.0:${port}) without an auth token: anyone who can reach port ${port} can call the models; ` +
        'set a token (--auth-token or $MLMODEL_AUTH_TOKEN) or bind one interface (--host 127.0.0.1)',
    ]);
    open.child.kill('SIGTERM');
    expect(await open.exited).toBe(0);

    // with a token, or on one interface: no warning
    for (const args of [
      ['--host', '0.0.0.0', '--auth-token', 's3cret'],
      ['--host', '127.0.0.1'],
    ]) {
      const p = await freePort();
      const quiet = serve(['-m', IRIS, ...args, '--port', String(p), '--log-level', 'warn']);
      await waitFor(() => /serving 1 model\(s\)/.test(quiet.stderr()));
      expect(quiet.stderr()).toMatch(new RegExp(`^mlmodel: serving 1 model\\(s\\) at http://${args[1]!.replace(/\./g, '\\.')}:${p}\\b[^\\n]*\\n$`));
      quiet.child.kill('SIGTERM');
      expect(await quiet.exited).toBe(0);
      expect(logLines(quiet.stdout()).filter((l) => l.level >= 40)).toEqual([]);
    }
  });

  it('refuses an empty or blank token, from the flag or the environment, with a usage error (exit 2) instead of serving without auth', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.MLMODEL_AUTH_TOKEN;
    const cases: [string[], Record<string, string>, string][] = [
      [['--auth-token', ''], {}, '--auth-token is empty'],
      [['--auth-token', ' \n'], {}, '--auth-token is only whitespace'],
      [[], { MLMODEL_AUTH_TOKEN: '' }, '$MLMODEL_AUTH_TOKEN is empty'],
    ];
    for (const [args, extra, message] of cases) {
      const r = spawnSync(process.execPath, [BIN, 'serve', '-m', IRIS, '--port', String(port), ...args], {
        encoding: 'utf8',
        env: { ...env, ...extra },
        timeout: 20_000,
      });
      expect(r.status, `${args.join(' ')} ${JSON.stringify(extra)}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^error: ${message.replace(/[$]/g, '\\$')}: give the token clients must send, or leave `));
    }
  });

  it('trims the token (a secret file ends with a newline), and says so in --help', async () => {
    const port = await freePort();
    const s = serve(['-m', IRIS, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'], { MLMODEL_AUTH_TOKEN: 's3cret\n' });
    await waitForPing(port);
    const invoke = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', body: ROW, headers: { 'content-type': 'application/json', ...headers } });
    expect((await invoke({ authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await invoke({})).status).toBe(401);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('surrounding whitespace such as a trailing newline is trimmed; empty is refused');
  });
});

describe('mlmodel serve: defaults picked from the models and the machine (real binary)', () => {
  const IRIS = join(FIXTURES, 'iris_onnx');
  /** What the server picks with no flags: one process per core it may use (a cgroup CPU quota counts). */
  const cores = machineFacts().cpus;

  /** Start, send `n` concurrent requests, stop; the access lines' pids and the start line. */
  async function run(args: string[], env: Record<string, string> = {}, n = 40): Promise<{ pids: Set<number>; started: string }> {
    const port = await freePort();
    const s = serve(['-m', IRIS, '--host', '127.0.0.1', '--port', String(port), ...args], env);
    await waitFor(() => /serving 1 model\(s\)/.test(s.stderr()));
    const rs = await Promise.all(
      Array.from({ length: n }, () =>
        fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', body: ROW, headers: { 'content-type': 'application/json' } }),
      ),
    );
    for (const r of rs)
      expect(await r.text()).toBe('{"predictions": {"probabilities": [[0.9815917015075684, 0.01840827986598015, 1.447420139299993e-08]], "label": [0]}}');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    // the access log is written in whole-line chunks: every line is there after the exit
    const access = s
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; url?: string; pid: number })
      .filter((l) => l.msg === 'request completed' && l.url === '/invocations');
    expect(access).toHaveLength(n);
    return { pids: new Set(access.map((l) => l.pid)), started: s.stderr() };
  }

  it('serves an onnx model with one process per core without --workers, and with what --workers or $MLFLOW_MODELS_WORKERS says', async () => {
    const byDefault = await run([]);
    expect(byDefault.started).toMatch(new RegExp(`with ${cores} process(es)? \\(default: one per core, every model predicts in process\\)`));
    if (cores > 1) expect(byDefault.pids.size).toBeGreaterThan(1);

    const one = await run(['--workers', '1']);
    expect(one.started).toMatch(/with 1 process \(as given\)/);
    expect(one.pids.size).toBe(1);

    const fromEnv = await run([], { MLFLOW_MODELS_WORKERS: '1' });
    expect(fromEnv.pids.size).toBe(1);
  });

  it('says how it picks them in --help', () => {
    const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'else one per core when every model predicts in process (onnx, tfjs, js_function; capped to fit half the memory), else 1',
    );
  });
});
