/**
 * The server's own histograms render byte for byte as prom-client's Histogram and Counter do, in
 * one registry and summed across processes by prom-client's AggregatorRegistry.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CountOfHistogram, LabelledHistogram } from '../src/metrics/histogram.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LABELS = ['route', 'method', 'status'];
/** Values on, between, below and beyond the bounds, for three label sets (one with characters to escape). */
const OBSERVATIONS: [string[], number][] = [
  [['/invocations', 'POST', '200'], 0.0003],
  [['/invocations', 'POST', '200'], 0.0005],
  [['/invocations', 'POST', '200'], 0.0123456789],
  [['/v2/models/:name/infer', 'POST', '400'], 61],
  [['/invocations', 'POST', '200'], 2.5],
  [['/we"ird\\route\n', 'GET', '404'], 0.07],
  [['/v2/models/:name/infer', 'POST', '400'], 0],
];

function ours(registry: Registry): LabelledHistogram {
  const h = new LabelledHistogram('x_seconds', 'Latency, by route.', LABELS, BUCKETS);
  new CountOfHistogram('x_total', 'Requests, by route.', h, [registry]);
  registry.registerMetric(h as unknown as Parameters<Registry['registerMetric']>[0]);
  for (const [labels, v] of OBSERVATIONS) h.labels(...labels).observe(v);
  return h;
}

function theirs(registry: Registry): void {
  const c = new Counter({ name: 'x_total', help: 'Requests, by route.', labelNames: LABELS, registers: [registry] });
  const h = new Histogram({ name: 'x_seconds', help: 'Latency, by route.', labelNames: LABELS, buckets: BUCKETS, registers: [registry] });
  for (const [labels, v] of OBSERVATIONS) {
    c.labels(...labels).inc();
    h.labels(...labels).observe(v);
  }
}

describe('LabelledHistogram and CountOfHistogram', () => {
  it('render exactly as prom-client does, before and after observations', async () => {
    const [a, b] = [new Registry(), new Registry()];
    const h = new LabelledHistogram('empty_seconds', 'Nothing yet.', ['model'], [1, 2], [a]);
    new Histogram({ name: 'empty_seconds', help: 'Nothing yet.', labelNames: ['model'], buckets: [1, 2], registers: [b] });
    expect(await a.metrics()).toBe(await b.metrics());
    h.labels('m').observe(1.5);
    expect(await a.metrics()).toContain('empty_seconds_bucket{le="2",model="m"} 1');

    const [mine, reference] = [new Registry(), new Registry()];
    ours(mine);
    theirs(reference);
    const text = await mine.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('x_total{route="/invocations",method="POST",status="200"} 4');
    expect(text).toContain('x_seconds_bucket{le="0.0005",route="/invocations",method="POST",status="200"} 2');
    expect(await mine.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it('sum across processes like prom-client metrics (AggregatorRegistry)', async () => {
    const mine = [new Registry(), new Registry()];
    const reference = [new Registry(), new Registry()];
    mine.forEach(ours);
    reference.forEach(theirs);
    const aggregated = async (rs: Registry[]): Promise<string> =>
      AggregatorRegistry.aggregate(await Promise.all(rs.map((r) => r.getMetricsAsJSON()))).metrics();
    const text = await aggregated(mine);
    expect(text).toBe(await aggregated(reference));
    expect(text).toContain('x_total{route="/invocations",method="POST",status="200"} 8');
  });

  it('keeps one series per label set and refuses a wrong number of labels', () => {
    const h = new LabelledHistogram('y', 'y', ['model'], [1]);
    expect(h.labels('a')).toBe(h.labels('a'));
    h.labels('a').observe(Number.NaN);
    expect(h.labels('a').count).toBe(0);
    expect(() => h.labels('a', 'b')).toThrow(/expected 1 label values/);
    // a reset zeroes in place: a series a caller holds keeps counting
    const a = h.labels('a');
    a.observe(0.5);
    h.reset();
    expect([a.count, a.sum, [...a.counts]]).toEqual([0, 0, [0]]);
    a.observe(2);
    expect(h.labels('a').count).toBe(1);
    expect(() => new LabelledHistogram('z', 'z', ['le'], [1])).toThrow(/reserved/);
  });
});
