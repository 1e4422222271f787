import { spawn } from 'node:child_process';
import type { FlavorLogger } from '../../flavor.js';
import { CommandFailedError } from './errors.js';

export interface RunCommandOptions {
  /** Kill the command (and its process group) after this many milliseconds. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Receives each output line as `info` (prefixed with `label`). */
  readonly logger?: FlavorLogger;
  readonly label?: string;
  /** How many trailing output lines to keep for error messages (default 30). */
  readonly tailLines?: number;
}

export interface CommandResult {
  readonly command: readonly string[];
  /** Everything written to stdout (capped at 4 MiB). */
  readonly stdout: string;
  /** The last lines of stderr. */
  readonly stderrTail: string;
  readonly durationMs: number;
}

const STDOUT_CAP = 4 * 1024 * 1024;
const KILL_GRACE_MS = 2000;

/** A command line as a user would type it (arguments with spaces or quotes are quoted). */
export function formatCommand(cmd: readonly string[]): string {
  return cmd.map((a) => (/^[\w@%+=:,./<>=!~-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Keeps the last `max` complete lines of a stream and hands each complete line to `onLine`. */
class LineTail {
  private partial = '';
  private readonly lines: string[] = [];
  constructor(
    private readonly max: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.add(l);
  }

  end(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  text(): string {
    return this.lines.join('\n');
  }

  private add(line: string): void {
    if (!line.trim()) return;
    this.onLine(line);
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    // the child leads its own process group (detached), so helpers it started (ensurepip, pip's builds) stop too
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Run a command without a shell. Resolves with its output when it exits 0; rejects with a
 * CommandFailedError naming the command, how it ended and the tail of its output otherwise.
 */
export function runCommand(cmd: readonly string[], opts: RunCommandOptions = {}): Promise<CommandResult> {
  const [exe, ...args] = cmd;
  if (!exe) return Promise.reject(new TypeError('runCommand: empty command'));
  const label = opts.label ?? exe;
  const max = opts.tailLines ?? 30;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    const outTail = new LineTail(max, (l) => opts.logger?.info(`${label}: ${l}`));
    const errTail = new LineTail(max, (l) => opts.logger?.info(`${label}: ${l}`));
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length < STDOUT_CAP) stdout += s.slice(0, STDOUT_CAP - stdout.length);
      outTail.push(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => errTail.push(s));

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child.pid, 'SIGTERM');
            killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
          }, opts.timeoutMs)
        : undefined;
    const clear = (): void => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
    };

    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clear();
      outTail.end();
      errTail.end();
      const tail = errTail.text() || outTail.text();
      const shown = formatCommand(cmd);
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? `${exe} was not found` : code === 'EACCES' ? `${exe} is not executable` : spawnError.message;
        reject(
          new CommandFailedError(`could not start \`${shown}\`: ${why}`, {
            command: cmd,
            outputTail: '',
            exitCode: null,
            signal: null,
            timedOut: false,
            cause: spawnError,
          }),
        );
        return;
      }
      if (timedOut || code !== 0) {
        const how = timedOut
          ? `did not finish within ${opts.timeoutMs} ms and was stopped`
          : code !== null
            ? `exited with code ${code}`
            : `was killed by ${signal}`;
        const msg = `\`${shown}\` ${how}` + (tail ? `; its last output:\n${tail}` : ' (it wrote nothing)');
        reject(new CommandFailedError(msg, { command: cmd, outputTail: tail, exitCode: code, signal, timedOut }));
        return;
      }
      resolve({ command: cmd, stdout, stderrTail: errTail.text(), durationMs: Date.now() - started });
    });
  });
}
