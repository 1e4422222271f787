/**
 * Splitting `log-batch` requests to fit MLflow's limits (mlflow/utils/validation.py): at most
 * 1000 metrics, 100 params and tags together, 1000 entities in all, and about 1 MB of JSON per
 * request. Params and tags go first, with as many metrics as still fit; the remaining metrics
 * follow in requests of up to 1000.
 */
import { pyJsonDumps } from '@mlmodel/format';
import type { LogBatchRequest, Metric, Param, Tag } from './types.js';

export const BATCH_LIMITS = { metrics: 1000, paramsAndTags: 100, entities: 1000, bytes: 1_000_000 } as const;

function size(x: Metric | Param | Tag): number {
  return pyJsonDumps(x).length + 2;
}

export function splitBatch(
  req: LogBatchRequest,
  limits: { metrics: number; paramsAndTags: number; entities: number; bytes: number } = BATCH_LIMITS,
): LogBatchRequest[] {
  const params = [...(req.params ?? [])];
  const tags = [...(req.tags ?? [])];
  const metrics = [...(req.metrics ?? [])];
  const out: LogBatchRequest[] = [];
  // leave room for the envelope: {"run_id": "<32 hex>", "metrics": [], ...}
  const budget = limits.bytes - 200;
  while (params.length || tags.length || metrics.length) {
    const batch: { params: Param[]; tags: Tag[]; metrics: Metric[] } = { params: [], tags: [], metrics: [] };
    let bytes = 0;
    let count = 0;
    const fits = (x: Metric | Param | Tag): boolean => count === 0 || bytes + size(x) <= budget;
    while (params.length && batch.params.length + batch.tags.length < limits.paramsAndTags && fits(params[0]!)) {
      const p = params.shift()!;
      bytes += size(p);
      count++;
      batch.params.push(p);
    }
    while (tags.length && batch.params.length + batch.tags.length < limits.paramsAndTags && fits(tags[0]!)) {
      const t = tags.shift()!;
      bytes += size(t);
      count++;
      batch.tags.push(t);
    }
    while (metrics.length && batch.metrics.length < limits.metrics && count < limits.entities && fits(metrics[0]!)) {
      const m = metrics.shift()!;
      bytes += size(m);
      count++;
      batch.metrics.push(m);
    }
    out.push({
      ...(batch.metrics.length ? { metrics: batch.metrics } : {}),
      ...(batch.params.length ? { params: batch.params } : {}),
      ...(batch.tags.length ? { tags: batch.tags } : {}),
    });
  }
  return out;
}
