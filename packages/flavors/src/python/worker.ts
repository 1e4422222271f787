/**
 * One Python worker process: spawn `python -u mlmodel_worker.py`, exchange frames over its
 * stdin/stdout, forward its stderr lines to the logger, and report how it ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import type { FlavorLogger } from '../flavor.js';
import { PythonLoadError, PythonTimeoutError, PythonWorkerDiedError, PythonWorkerError, summarizePythonException, type PythonException } from './errors.js';
import { FrameDecoder, MessageType, FRAME_HEADER_BYTES, SHARED_FLAG, encodeFrame, frameHeader, jsonPayload, parseJsonPayload, type Frame } from './protocol.js';
import { pollWhile } from './busy-wait.js';
import { SharedFiles } from './shared-files.js';
import { TRACE_ENV, bridgeTrace } from './trace.js';

/** The worker script shipped with this package. */
export const WORKER_SCRIPT = fileURLToPath(new URL('../../python/mlmodel_worker.py', import.meta.url));

/** What LOAD sends: the model directory and the MLmodel facts the worker needs (it reads no YAML). */
export interface LoadRequest {
  readonly model_dir: string;
  readonly python_function: Record<string, unknown>;
  readonly sklearn: Record<string, unknown> | null;
  readonly mlflow_version: string | null;
  /** `auto`: use mlflow when importable; `never`: always the built-in loaders; `always`: fail without mlflow. */
  readonly use_mlflow: 'auto' | 'never' | 'always';
}

/** What LOAD_OK reports. */
export interface LoadInfo {
  readonly protocol: number;
  readonly pid: number;
  readonly python: string;
  readonly executable: string;
  readonly loader: string;
  readonly [key: string]: unknown;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Pending {
  resolve(f: Frame): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
  what: string;
}

/** Lines of stderr kept to explain a worker that dies. */
const STDERR_TAIL_LINES = 20;

function describeExit(e: WorkerExit): string {
  if (e.signal) return `killed by ${e.signal}`;
  return `exit code ${e.code ?? '?'}`;
}

export class PythonWorker {
  readonly id: number;
  readonly python: string;
  readonly #child: ChildProcess;
  readonly #stdin: Writable;
  /** Files both processes read and write for large payloads (null when they could not be created). */
  readonly #shared: SharedFiles | null;
  /** Set when LOAD_OK says the worker reads PREDICT payloads from the shared request file. */
  #peerReadsShared = false;
  readonly #pending = new Map<number, Pending>();
  readonly #decoder = new FrameDecoder();
  readonly #stderrTail: string[] = [];
  readonly #exited: Promise<WorkerExit>;
  #exit: WorkerExit | null = null;
  #spawnError: Error | null = null;
  #nextId = 1;
  #stderrPartial = '';
  /** How long Node busy-waits for an answer before sleeping (see PROTOCOL.md, "Waiting"). */
  readonly #replySpinUs: number;

  constructor(opts: { id: number; python: string; script?: string; logger: FlavorLogger; env?: NodeJS.ProcessEnv; replySpinUs?: number; idleSpinUs?: number }) {
    this.id = opts.id;
    this.python = opts.python;
    this.#replySpinUs = opts.replySpinUs ?? 0;
    const logger = opts.logger;
    this.#shared = SharedFiles.open();
    const fds = this.#shared ? [this.#shared.requestFd, this.#shared.resultFd] : [];
    this.#child = spawn(opts.python, ['-u', opts.script ?? WORKER_SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe', ...fds],
      env: {
        ...(opts.env ?? process.env),
        PYTHONUNBUFFERED: '1',
        MLMODEL_WORKER_SPIN_US: String(opts.idleSpinUs ?? 0),
        ...(this.#shared ? { MLMODEL_SHARED_FDS: '3,4' } : {}),
        ...(bridgeTrace ? { [TRACE_ENV]: bridgeTrace.file } : {}),
      },
    });
    // the child holds its own copies of the shared descriptors now
    const child = this.#child;
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    this.#stdin = child.stdin as Writable;
    this.#exited = new Promise<WorkerExit>((resolve) => {
      child.once('close', (code, signal) => {
        const exit = { code, signal };
        this.#exit = exit;
        this.#flushStderr(logger);
        this.#shared?.close();
        this.#failAll((what) => this.#deathError(what));
        resolve(exit);
      });
    });
    child.once('error', (e) => {
      // spawn failure (ENOENT, EACCES): 'close' still follows
      this.#spawnError = e;
    });
    this.#stdin.on('error', () => {
      // EPIPE when the worker is gone: the 'close' handler reports it
    });
    stdout.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
        if (bridgeTrace) for (const f of frames) bridgeTrace.mark(child.pid, f.id, 'recv');
        frames = frames.map((f) => this.#unshare(f));
      } catch (e) {
        this.#failAll(new PythonWorkerError(`the Python worker ${this.#label()} broke the protocol: ${(e as Error).message}; it is being replaced`, e));
        this.kill();
        return;
      }
      for (const f of frames) this.#dispatch(f);
    });
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (this.#stderrPartial + text).split('\n');
      this.#stderrPartial = lines.pop() ?? '';
      for (const line of lines) this.#logLine(logger, line);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#exit === null && this.#spawnError === null;
  }

  /** Resolves when the process has exited and been reaped. */
  get exited(): Promise<WorkerExit> {
    return this.#exited;
  }

  /** Send one request and wait for its answer (or the worker's death, or the timeout). */
  request(type: (typeof MessageType)[keyof typeof MessageType], parts: readonly Uint8Array[], what: string, timeoutMs?: number): Promise<Frame> {
    if (!this.alive) return Promise.reject(this.#deathError(what));
    const id = this.#nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const pending: Pending = { resolve, reject, timer: undefined, what };
      if (timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        pending.timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(
            new PythonTimeoutError(
              `${what} took longer than the ${timeoutMs} ms timeout; the Python worker ${this.#label()} was killed and is being restarted`,
            ),
          );
          this.kill();
        }, timeoutMs);
      }
      this.#pending.set(id, pending);
      this.#send(type, id, parts);
      if (type === MessageType.PREDICT) pollWhile(() => this.#pending.has(id), this.#replySpinUs);
    });
  }

  /** LOAD the model; rejects with a PythonLoadError carrying the Python exception. */
  async load(req: LoadRequest, timeoutMs: number): Promise<LoadInfo> {
    let frame: Frame;
    try {
      frame = await this.request(MessageType.LOAD, [jsonPayload(req)], 'loading the model', timeoutMs);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new PythonLoadError(`cannot load ${req.model_dir} in Python: ${msg}`, undefined, e);
    }
    if (frame.type === MessageType.LOAD_OK) {
      const info = parseJsonPayload(frame.payload) as LoadInfo;
      this.#peerReadsShared = this.#shared !== null && info['shared_files'] === true;
      return info;
    }
    if (frame.type === MessageType.LOAD_ERR) {
      const exc = parseJsonPayload(frame.payload) as PythonException;
      const detail = exc.user_error ? exc.message : summarizePythonException(exc);
      throw new PythonLoadError(`cannot load ${req.model_dir} with ${this.python}: ${detail}`, exc);
    }
    throw new PythonWorkerError(`the Python worker answered LOAD with message type ${frame.type}`);
  }

  /** Ask the worker to exit; SIGKILL it if it has not after `graceMs`. Resolves once it is reaped. */
  async shutdown(graceMs = 2000): Promise<WorkerExit> {
    if (this.alive) {
      const stdin = this.#stdin;
      for (const c of encodeFrame(MessageType.SHUTDOWN, 0)) stdin.write(c);
      stdin.end();
      const timer = setTimeout(() => this.kill(), graceMs);
      try {
        return await this.#exited;
      } finally {
        clearTimeout(timer);
      }
    }
    if (this.#exit === null) this.kill();
    return this.#exited;
  }

  /** SIGKILL the process (no-op once it has exited). */
  kill(): void {
    if (this.#exit === null && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  /**
   * Write one frame. A payload of at least SharedFiles.MIN_BYTES goes through the shared request file and
   * only a 13-byte frame crosses the socket (Node's end of a child's stdio socket has a ~200 KB send
   * buffer it cannot raise, so a larger frame would wait for the worker to drain it piece by piece).
   */
  #send(type: (typeof MessageType)[keyof typeof MessageType], id: number, parts: readonly Uint8Array[]): void {
    bridgeTrace?.mark(this.#child.pid, id, 'send');
    let total = 0;
    for (const p of parts) total += p.byteLength;
    if (this.#shared && this.#peerReadsShared && total >= SharedFiles.MIN_BYTES && this.#tryWriteShared(parts, total)) {
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, total, true);
      const head = frameHeader(type, id, 4);
      head[4] = type | SHARED_FLAG;
      this.#stdin.write(Buffer.concat([head, len]));
    } else {
      // one Buffer, one write: the socket gets the frame in a single send
      this.#stdin.write(Buffer.concat(encodeFrame(type, id, parts), FRAME_HEADER_BYTES + total));
    }
    bridgeTrace?.mark(this.#child.pid, id, 'written');
  }

  /** False when the shared file cannot take the payload (say /dev/shm is full): the socket carries it. */
  #tryWriteShared(parts: readonly Uint8Array[], total: number): boolean {
    try {
      this.#shared!.writeRequest(parts, total);
      return true;
    } catch {
      return false;
    }
  }

  /** A frame whose payload the worker left in the shared result file, read back into its own buffer. */
  #unshare(f: Frame): Frame {
    if ((f.type & SHARED_FLAG) === 0) return f;
    if (!this.#shared || f.payload.byteLength !== 4) throw new Error(`shared-file frame (type ${f.type}) without a shared result file`);
    const length = new DataView(f.payload.buffer, f.payload.byteOffset, 4).getUint32(0, true);
    return { type: f.type & ~SHARED_FLAG, id: f.id, payload: this.#shared.readResult(length) };
  }

  /** The worker's number, for messages. No pid: messages reach HTTP responses; the pool logs the pid when a worker exits. */
  #label(): string {
    return `#${this.id}`;
  }

  #dispatch(f: Frame): void {
    bridgeTrace?.mark(this.#child.pid, f.id, 'read');
    const p = this.#pending.get(f.id);
    if (!p) return; // a late answer to a request that timed out
    this.#pending.delete(f.id);
    if (p.timer) clearTimeout(p.timer);
    p.resolve(f);
  }

  #failAll(e: Error | ((what: string) => Error)): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(typeof e === 'function' ? e(p.what) : e);
    }
  }

  /** Why a request of kind `what` failed when the process ended: a predict can be sent again once the worker is replaced. */
  #deathError(what: string): Error {
    if (this.#spawnError) {
      const code = (this.#spawnError as NodeJS.ErrnoException).code;
      return new PythonWorkerError(
        `cannot start the Python interpreter ${JSON.stringify(this.python)} (${code ?? this.#spawnError.message}); set options.python or MLMODEL_PYTHON to a Python with numpy and pandas`,
        this.#spawnError,
      );
    }
    const how = this.#exit ? describeExit(this.#exit) : 'it stopped answering';
    const tail = this.#stderrTail.length > 0 ? `; its last log lines:\n${this.#stderrTail.slice(-5).join('\n')}` : '';
    if (what !== 'predict') return new PythonWorkerError(`the Python worker ${this.#label()} died (${how})${tail}`);
    return new PythonWorkerDiedError(
      `the Python worker ${this.#label()} died (${how}); it is being restarted and the model re-loaded: send the request again${tail}`,
    );
  }

  #logLine(logger: FlavorLogger, line: string): void {
    if (line === '') return;
    this.#stderrTail.push(line);
    if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
    logger.info(`[python worker ${this.id}] ${line}`);
  }

  #flushStderr(logger: FlavorLogger): void {
    if (this.#stderrPartial) this.#logLine(logger, this.#stderrPartial);
    this.#stderrPartial = '';
  }
}
