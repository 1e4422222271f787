/**
 * Prometheus metrics for one server process: requests and latency by route and status, queue
 * wait, batch size and model compute time by model. Each server gets its own registry, so two
 * servers in one process (tests) never share counters.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchReport } from '../adaptive-batching/adaptive-batcher.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536];

/** A histogram bound to one set of labels. */
interface Observer {
  observe(value: number): void;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method' | 'status'>;
  private readonly queueWait: Histogram<'model'>;
  private readonly batchRows: Histogram<'model'>;
  private readonly batchRequests: Histogram<'model'>;
  private readonly compute: Histogram<'model'>;
  /** Bounded: routes are patterns, methods and statuses few. */
  private readonly byRequestLabels = new Map<string, { requests: { inc(): void }; latency: Observer }>();
  private readonly byModel = new Map<string, { queueWait: Observer; rows: Observer; requests: Observer; compute: Observer }>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'mlmodel_http_requests_total', help: 'HTTP requests answered, by route, method and status.', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({
      name: 'mlmodel_http_request_duration_seconds',
      help: 'Time from request start to response end, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.queueWait = new Histogram({ name: 'mlmodel_queue_wait_seconds', help: 'Time a request waited for a model call, by model.', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    this.batchRows = new Histogram({ name: 'mlmodel_batch_rows', help: 'Rows per model call, by model.', labelNames: ['model'], buckets: SIZE_BUCKETS, registers });
    this.batchRequests = new Histogram({ name: 'mlmodel_batch_requests', help: 'Requests merged into one model call, by model.', labelNames: ['model'], buckets: SIZE_BUCKETS.slice(0, 10), registers });
    this.compute = new Histogram({ name: 'mlmodel_model_compute_seconds', help: 'Model call time, by model.', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'mlmodel_' });
  }

  /** One answered request. `route` is the route pattern (e.g. `/v2/models/:name/infer`), never the raw URL. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    // label-bound children, cached: no labels object or status string per request
    const key = `${route} ${method} ${status}`;
    let c = this.byRequestLabels.get(key);
    if (!c) {
      const labels = [route, method, String(status)];
      c = { requests: this.requests.labels(...labels), latency: this.latency.labels(...labels) };
      this.byRequestLabels.set(key, c);
    }
    c.requests.inc();
    c.latency.observe(seconds);
  }

  /** One model call. */
  observeBatch(model: string, r: BatchReport): void {
    let c = this.byModel.get(model);
    if (!c) {
      c = { queueWait: this.queueWait.labels(model), rows: this.batchRows.labels(model), requests: this.batchRequests.labels(model), compute: this.compute.labels(model) };
      this.byModel.set(model, c);
    }
    for (const w of r.queueWaitSeconds) c.queueWait.observe(w);
    c.rows.observe(r.rows);
    c.requests.observe(r.requests);
    c.compute.observe(r.computeSeconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
