/**
 * Prometheus metrics for one server process: requests and latency by route and status, queue
 * wait, batch size and model compute time by model. Each server gets its own registry, so two
 * servers in one process (tests) never share counters. The per-request metrics are our own cheap
 * histograms (`histogram.ts`), rendered as prom-client renders its own; the registry, process
 * metrics and cluster aggregation are prom-client's.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchReport } from '../adaptive-batching/adaptive-batcher.js';
import { CountOfHistogram, LabelledHistogram } from './histogram.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536];

/** A histogram bound to one set of labels. */
interface Observer {
  observe(value: number): void;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly latency: LabelledHistogram;
  private readonly queueWait: LabelledHistogram;
  private readonly batchRows: LabelledHistogram;
  private readonly batchRequests: LabelledHistogram;
  private readonly compute: LabelledHistogram;
  /** Bounded: routes are patterns, methods and statuses few. Keyed by route, then method and status. */
  private readonly byRequestLabels = new Map<string, Map<string, Map<number, Observer>>>();
  private readonly byModel = new Map<string, { queueWait: Observer; rows: Observer; requests: Observer; compute: Observer }>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const requestLabels = ['route', 'method', 'status'];
    this.latency = new LabelledHistogram(
      'mlmodel_http_request_duration_seconds',
      'Time from request start to response end, by route, method and status.',
      requestLabels,
      LATENCY_BUCKETS,
    );
    // the counter reads the latency histogram's counts (registered first, so /metrics keeps its order)
    new CountOfHistogram('mlmodel_http_requests_total', 'HTTP requests answered, by route, method and status.', this.latency, registers);
    this.registry.registerMetric(this.latency as unknown as Parameters<Registry['registerMetric']>[0]);
    this.queueWait = new LabelledHistogram(
      'mlmodel_queue_wait_seconds',
      'Time a request waited for a model call, by model.',
      ['model'],
      LATENCY_BUCKETS,
      registers,
    );
    this.batchRows = new LabelledHistogram('mlmodel_batch_rows', 'Rows per model call, by model.', ['model'], SIZE_BUCKETS, registers);
    this.batchRequests = new LabelledHistogram(
      'mlmodel_batch_requests',
      'Requests merged into one model call, by model.',
      ['model'],
      SIZE_BUCKETS.slice(0, 10),
      registers,
    );
    this.compute = new LabelledHistogram('mlmodel_model_compute_seconds', 'Model call time, by model.', ['model'], LATENCY_BUCKETS, registers);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'mlmodel_' });
  }

  /** One answered request. `route` is the route pattern (e.g. `/v2/models/:name/infer`), never the raw URL. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    // series cached by label values: no key string, labels object or status string per request
    let byMethod = this.byRequestLabels.get(route);
    if (!byMethod) this.byRequestLabels.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = this.latency.labels(route, method, String(status))));
    series.observe(seconds);
  }

  /** One model call. */
  observeBatch(model: string, r: BatchReport): void {
    let c = this.byModel.get(model);
    if (!c) {
      c = {
        queueWait: this.queueWait.labels(model),
        rows: this.batchRows.labels(model),
        requests: this.batchRequests.labels(model),
        compute: this.compute.labels(model),
      };
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
