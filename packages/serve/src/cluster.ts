/**
 * `--workers N`: N server processes sharing one port (node:cluster), like uvicorn/gunicorn
 * workers. The primary loads no model; it starts the workers, restarts one that dies, forwards
 * SIGTERM/SIGINT so each drains, and exits when all have. A worker that fails before it is ready
 * (a model that cannot load) stops the whole server with that error. The server itself (fastify,
 * the routes, the flavors' runtimes) is imported only where it runs: the primary forks its workers
 * without loading it, so they start sooner.
 */
import cluster, { type Worker } from 'node:cluster';
import { MlmodelError } from '@mlmodel/format';
import { ShuttingDownError } from './errors.js';
import { serveClusterMetrics, useClusterMetrics } from './metrics/cluster-metrics.js';
import type { RunOptions } from './run.js';
import { defaultMemoryBudgetBytes } from './memory-budget.js';

const READY = 'mlmodel:ready';
const FAILED = 'mlmodel:failed';

export interface ServeOptions extends RunOptions {
  /** Server processes (default 1: serve in this process). */
  readonly workers?: number;
  /** Called once every process serves with all models ready, with the address as bound (`http://0.0.0.0:8080` when every interface is). */
  readonly onReady?: (url: string) => void;
}

/** Serve until SIGTERM/SIGINT; resolves after the drain. Rejects if a model fails to load. */
export async function serve(opts: ServeOptions): Promise<void> {
  const workers = opts.workers ?? 1;
  if (cluster.isWorker) return serveAsWorker(opts);
  if (workers <= 1) {
    const { startServer } = await import('./run.js');
    const s = await startServer(opts);
    try {
      await s.ready;
    } catch (e) {
      // a SIGTERM while models were loading is a normal stop, not a failed start
      if (e instanceof ShuttingDownError) return s.closed;
      throw e;
    }
    opts.onReady?.(s.url);
    await s.closed;
    return;
  }
  return servePrimary(opts, workers);
}

async function serveAsWorker(opts: ServeOptions): Promise<void> {
  let s;
  try {
    // one warning about exposure, from the first worker (its replacements have other ids)
    // the default budget is the server's, shared by its processes; an explicit one is per process
    const memoryBudgetBytes = opts.memoryBudgetBytes ?? Math.floor(defaultMemoryBudgetBytes() / Math.max(1, opts.workers ?? 1));
    const { startServer } = await import('./run.js');
    s = await startServer({ ...opts, memoryBudgetBytes, handleSignals: true, listenAfterLoad: true, warnWithoutAuth: cluster.worker?.id === 1 });
    useClusterMetrics(s.context.metrics);
    await s.ready;
  } catch (e) {
    process.send!({ type: FAILED, message: (e as Error).message });
    throw e;
  }
  process.send!({ type: READY, url: s.url });
  // a primary that died (SIGKILL, OOM) leaves no one to forward signals: drain and exit
  const server = s;
  process.once('disconnect', () => void server.close());
  await s.closed;
  // the IPC channel to the primary would keep this process alive
  if (process.connected) cluster.worker?.disconnect();
}

function servePrimary(opts: ServeOptions, n: number): Promise<void> {
  serveClusterMetrics();
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    let readyCount = 0;
    let announced = false;
    const ready = new WeakSet<Worker>();
    const fork = (): void => {
      const w = cluster.fork();
      w.on('message', (msg: { type?: string; url?: string; message?: string }) => {
        if (msg?.type === READY && !ready.has(w)) {
          ready.add(w);
          if (++readyCount === n && !announced) {
            announced = true;
            opts.onReady?.(msg.url!);
          }
        } else if (msg?.type === FAILED) {
          stop();
          reject(new MlmodelError(msg.message ?? 'a worker failed to start'));
        }
      });
    };
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    };
    cluster.on('exit', (w, code, signal) => {
      if (!stopping && ready.has(w)) {
        console.error(`mlmodel: worker ${w.process.pid} exited (${signal ?? code}); starting a new one`);
        readyCount--;
        fork();
        return;
      }
      if (!stopping && !ready.has(w)) {
        stop();
        reject(new MlmodelError(`a server worker exited (${signal ?? code}) before it was ready`));
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
    });
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    for (let i = 0; i < n; i++) fork();
  });
}
