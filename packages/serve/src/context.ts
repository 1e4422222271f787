import type { WorkerPool } from '@mlmodel/flavors';
import type { MemoryBudget } from './memory-budget.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import type { ModelRepository } from './models/model-repository.js';
import type { ResolvedServerOptions } from './options.js';

/** What every route plugin gets: the models, the options and the metrics of its server. */
export interface ServeContext {
  readonly repo: ModelRepository;
  readonly options: ResolvedServerOptions;
  readonly metrics: ServerMetrics;
  /** Admission of large requests by the memory they will need. */
  readonly memory: MemoryBudget;
  /** Worker threads for large requests (decoding, large model calls, encoding); closed with the server. */
  readonly workers: WorkerPool;
}
