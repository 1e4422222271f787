/**
 * /metrics across `--workers N` processes: the worker that receives the scrape asks the primary,
 * which collects every worker's registry (prom-client's cluster protocol) and sums them, so one
 * scrape sees the whole server.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { ServerMetrics } from './server-metrics.js';

const ASK = 'mlmodel:metrics?';
const ANSWER = 'mlmodel:metrics!';

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  error?: string;
}

/** In the primary: answer workers' requests for the aggregated metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: Ask) => {
    if (msg?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: ANSWER, id: msg.id, body } satisfies Answer),
      (e: Error) => worker.send({ type: ANSWER, id: msg.id, error: e.message } satisfies Answer),
    );
  });
}

/** In a worker: expose this worker's registry to the primary and render scrapes through it. */
export function useClusterMetrics(metrics: ServerMetrics): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  let next = 0;
  const waiting = new Map<number, (a: Answer) => void>();
  process.on('message', (msg: Answer) => {
    if (msg?.type === ANSWER) waiting.get(msg.id)?.(msg);
  });
  metrics.render = () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary process did not answer the metrics request within 5 s'));
      }, 5_000);
      waiting.set(id, (a) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (a.body !== undefined) resolve({ contentType: metrics.registry.contentType, body: a.body });
        else reject(new Error(a.error ?? 'metrics aggregation failed'));
      });
      process.send!({ type: ASK, id } satisfies Ask);
    });
}
