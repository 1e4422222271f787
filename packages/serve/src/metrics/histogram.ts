/**
 * Histograms (and the request counter derived from one) that cost a bucket search and three adds
 * per observation, rendered exactly as prom-client's `Histogram` and `Counter` render: they
 * implement the metric shape prom-client's `Registry` and `AggregatorRegistry` read (`get`,
 * `getForPromString`, `aggregator`). prom-client's own `observe` hashes the label set, checks it
 * and copies objects on every call: a few µs per request over the five observations a request
 * makes, a measurable share of a small request.
 */
import type { Registry } from 'prom-client';

/** One value line as prom-client's metrics produce them. */
interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName?: string;
  exemplar?: null;
}

/** What prom-client's registries read from a metric. */
interface MetricData {
  name: string;
  help: string;
  type: 'histogram' | 'counter';
  values: ValuePair[];
  aggregator: 'sum';
}

/** One label set's counts. `counts[i]`: observations in bucket i alone (not cumulative). */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    if (i < b.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** Give every value its own copy of the labels with the shared ones merged (prom-client's `get`). */
function splay(values: ValuePair[]): ValuePair[] {
  return values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
}

export class LabelledHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
    registers: readonly Registry[] = [],
  ) {
    if (labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    for (const r of registers) r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of one label set (values in `labelNames` order), created on first use. Keep it: observing through it is the cheap path. */
  labels(...values: string[]): HistogramSeries {
    const key = values.join('\u0000');
    let s = this.#series.get(key);
    if (!s) {
      if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      s = new HistogramSeries(labels, this.buckets);
      this.#series.set(key, s);
    }
    return s;
  }

  /** Every label set, in the order first observed. */
  series(): IterableIterator<HistogramSeries> {
    return this.#series.values();
  }

  /** Zero every series in place (callers keep the series they hold; prom-client would drop them until observed again). */
  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  async getForPromString(): Promise<MetricData> {
    const bucket = `${this.name}_bucket`;
    const values: ValuePair[] = [];
    for (const s of this.#series.values()) {
      // one object for all of a series' lines, never changed: prom-client caches its rendering by identity
      const shared = s.labels as Record<string, string>;
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le }, sharedLabels: shared, value: acc, metricName: bucket, exemplar: null });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: s.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: shared, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    return { ...data, values: splay(data.values) };
  }
}

/**
 * A counter whose value per label set is a histogram's observation count (every answered request
 * is observed once in the latency histogram): counting costs nothing more.
 */
export class CountOfHistogram {
  readonly type = 'counter';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly of: LabelledHistogram,
    registers: readonly Registry[] = [],
  ) {
    for (const r of registers) r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  reset(): void {
    // the histogram's counts are the source; resetting it resets this
  }

  async get(): Promise<MetricData> {
    const values: ValuePair[] = [];
    for (const s of this.of.series()) values.push({ value: s.count, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}
