/**
 * End-to-end helpers for `mlmodel serve`: run the real CLI binary as a child process on a free
 * port, wait until it is ready, read its memory and its descendants from /proc, stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'mlflow-3.5');
export const BIN = join(ROOT, 'packages', 'cli', 'bin', 'mlmodel.js');
export const PYTHON = '/usr/bin/python3';

export interface GoldenCase {
  readonly request: unknown;
  readonly predictions: unknown;
}
export const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { cases: Record<string, GoldenCase[]> };

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Everything the server wrote so far (stderr and stdout; $SERVE_LOG sets its --log-level, default warn). */
  stderr(): string;
  /** What the server wrote to stdout (its JSON log lines). */
  stdout(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGKILL the process (and its descendants) if still running: test cleanup. */
  kill(): void;
}

/** Start `mlmodel serve <args> --port <free> --log-level warn` and wait until GET /ping is 200. */
export async function startServe(args: readonly string[], opts: { readyTimeoutMs?: number; logLevel?: string } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--port', String(port), '--log-level', opts.logLevel ?? process.env.SERVE_LOG ?? 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    out += d;
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );
  const pid = child.pid!;
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    child,
    pid,
    port,
    url,
    stderr: () => err,
    stdout: () => out,
    exited,
    alive: () => running,
    kill: () => {
      const all = [pid, ...descendants(pid)];
      for (const p of all) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (!running) throw new Error(`mlmodel serve exited before it was ready:\n${err}`);
    try {
      const r = await fetch(`${url}/ping`);
      await r.arrayBuffer();
      if (r.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      server.kill();
      throw new Error(`mlmodel serve was not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Parent pid and state of a process, from /proc (null when it is gone). */
function procStat(pid: number): { ppid: number; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may contain spaces
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

/** Every live descendant of `pid` (children, grandchildren…), from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (!st) continue;
    const list = byParent.get(st.ppid) ?? [];
    list.push(Number(name));
    byParent.set(st.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const c of byParent.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Whether a process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  const st = procStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

/** Resident set size of a process in bytes (VmRSS from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Compare a JSON value with an expected one, numbers within `tol`; returns the first difference or null. */
export function jsonDiff(actual: unknown, expected: unknown, tol: number, path = '$'): string | null {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return `${path}: expected a number, got ${JSON.stringify(actual)}`;
    return Math.abs(actual - expected) <= tol ? null : `${path}: ${actual} vs ${expected}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array`;
    if (actual.length !== expected.length) return `${path}: length ${actual.length} vs ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = jsonDiff(actual[i], expected[i], tol, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: expected an object`;
    const ka = Object.keys(actual).sort().join(',');
    const ke = Object.keys(expected).sort().join(',');
    if (ka !== ke) return `${path}: keys ${ka} vs ${ke}`;
    for (const [k, v] of Object.entries(expected)) {
      const d = jsonDiff((actual as Record<string, unknown>)[k], v, tol, `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return actual === expected ? null : `${path}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`;
}
