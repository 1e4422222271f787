/**
 * The real Docker engine for end-to-end image tests, through the `docker` CLI (a client of its
 * own, independent of the image builder's dockerode): images, containers, exec, signals. There
 * is no skipping: the test command (scripts/test.sh) installs and starts an engine and makes the
 * local base images, so a missing engine or base image fails the tests with what to run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';

/** Local base images made by scripts/make-base-images.sh (no registry is reachable in CI). */
export const NODE_BASE = process.env.MLMODEL_NODE_BASE_IMAGE ?? 'mlmodel-local/node:20-bookworm-slim';
export const PYTHON_BASE = process.env.MLMODEL_PYTHON_BASE_IMAGE ?? 'mlmodel-local/node-python:20-bookworm-sklearn';

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function docker(args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Run {
  const r = spawnSync('docker', [...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, input: opts.input });
  if (r.error) throw new Error(`docker ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `docker ...` that must succeed; returns its trimmed stdout. */
export function dockerOk(args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): string {
  const r = docker(args, opts);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** Fails (never skips) when no engine answers or a base image is missing, saying what to run. */
export function requireEngineAndBases(bases: readonly string[]): void {
  const info = docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  if (info.status !== 0) throw new Error(`no Docker engine answers (run scripts/docker-setup.sh as root): ${info.stderr.trim()}`);
  for (const b of bases) {
    if (docker(['image', 'inspect', b]).status !== 0) throw new Error(`base image ${b} is missing: run scripts/make-base-images.sh`);
  }
}

export function imageSize(ref: string): number {
  return Number(dockerOk(['image', 'inspect', '--format', '{{.Size}}', ref]));
}

/** Containers started through `startContainer`, removed by `removeContainers`. */
const started: string[] = [];

export function startContainer(image: string, opts: { args?: readonly string[]; runArgs?: readonly string[] } = {}): string {
  const id = dockerOk(['run', '-d', ...(opts.runArgs ?? []), image, ...(opts.args ?? [])]);
  started.push(id);
  return id;
}

export function removeContainers(): void {
  if (started.length > 0) docker(['rm', '-f', ...started.splice(0)]);
}

export function logs(id: string): string {
  const r = docker(['logs', id]);
  return r.stdout + r.stderr;
}

/** Exit code of a stopped container (waits for it to stop). */
export function waitExit(id: string, timeoutMs = 60_000): number {
  return Number(dockerOk(['wait', id], { timeoutMs }));
}

export function running(id: string): boolean {
  return dockerOk(['inspect', '--format', '{{.State.Running}}', id]) === 'true';
}

/**
 * An HTTP request made from inside the container (`docker exec ... node`), for containers that
 * have no network the test can reach (`--network none`).
 */
export function execHttp(id: string, path: string, body?: unknown, port = 8080): { status: number; body: string } {
  // the body goes through stdin: a large request would not fit in an argument
  const script = `const [path, port] = process.argv.slice(1);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
  const body = Buffer.concat(chunks).toString('utf8');
  const init = body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : {};
  fetch('http://127.0.0.1:' + port + path, init).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })));
});`;
  const out = dockerOk(['exec', '-i', id, 'node', '-e', script, path, String(port)], { input: body === undefined ? '' : JSON.stringify(body) });
  return JSON.parse(out) as { status: number; body: string };
}

/** Poll GET /ping from inside the container until 200; returns the milliseconds it took. */
export async function waitReadyInside(id: string, timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (!running(id)) throw new Error(`the container exited before it was ready:\n${logs(id)}`);
    if (execHttp(id, '/ping').status === 200) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not ready within ${timeoutMs} ms:\n${logs(id)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Poll GET url/ping from the test process until 200; returns the milliseconds it took. */
export async function waitReady(url: string, id: string, timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(`${url}/ping`);
      await r.arrayBuffer();
      if (r.status === 200) return Date.now() - t0;
    } catch {
      // not listening yet
    }
    if (!running(id)) throw new Error(`the container exited before it was ready:\n${logs(id)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`not ready within ${timeoutMs} ms:\n${logs(id)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the test looks at text
  }
  return { status: r.status, json, text };
}

/**
 * A request in flight when SIGTERM arrives: headers and half the body are sent, the container
 * gets SIGTERM (`docker kill -s TERM`), and the rest of the body follows `afterMs` later. Resolves
 * with the response and when SIGTERM was sent relative to it.
 */
export function requestAcrossSigterm(
  port: number,
  path: string,
  body: string,
  container: string,
  afterMs = 400,
): Promise<{ status: number; text: string; sigtermAt: number; respondedAt: number }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(body);
    const half = Math.floor(data.length / 2);
    let sigtermAt = 0;
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), sigtermAt, respondedAt: Date.now() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(data.subarray(0, half), () => {
      // the server has the request line, the headers and half the body: now it is told to stop
      setTimeout(() => {
        const kill = spawn('docker', ['kill', '--signal', 'TERM', container], { stdio: 'ignore' });
        kill.on('exit', () => {
          sigtermAt = Date.now();
          setTimeout(() => req.end(data.subarray(half)), afterMs);
        });
      }, 200);
    });
  });
}
