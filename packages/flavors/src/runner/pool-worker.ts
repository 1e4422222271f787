/**
 * A worker thread of the runner's `WorkerPool`: runs one task at a time — an exported function of
 * a module, imported once — and posts back its value (moving the buffers it lists) or its error.
 * Afterwards it frees the task's input buffers and collects its garbage: tasks are large requests,
 * and an idle thread would otherwise keep their memory (the decoded text of a 100 MB body…).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { releaseBuffers } from './release.js';
import { errorToWire, type PoolTaskFunction, type WorkerReply, type WorkerRequest } from './worker-pool.js';

const port = parentPort;
if (!port) throw new Error('pool-worker.js runs as a worker thread of WorkerPool');

// a full collection of this thread's heap after each task (the flag only adds `gc` to new contexts)
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function handle(req: WorkerRequest): Promise<void> {
  let mod = modules.get(req.module);
  if (!mod) modules.set(req.module, (mod = import(req.module) as Promise<Record<string, unknown>>));
  const fn = (await mod)[req.fn];
  if (typeof fn !== 'function') throw new TypeError(`${req.module} exports no function ${req.fn}`);
  const result = await (fn as (args: unknown) => ReturnType<PoolTaskFunction>)(req.args);
  if (req.id !== 0) port!.postMessage({ id: req.id, ok: true, value: result.value } satisfies WorkerReply, (result.transfer ?? []) as ArrayBuffer[]);
  releaseBuffers(result.release ?? []);
}

// one task at a time, in order (a broadcast may arrive while a task awaits)
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  chain = chain.then(async () => {
    try {
      await handle(req);
    } catch (e) {
      if (req.id !== 0) port.postMessage({ id: req.id, ok: false, error: errorToWire(e) } satisfies WorkerReply);
    }
    collectGarbage();
  });
});
