import type { ServerMetrics } from './metrics/server-metrics.js';
import type { ModelRepository } from './models/model-repository.js';
import type { ResolvedServerOptions } from './options.js';

/** What every route plugin gets: the models, the options and the metrics of its server. */
export interface ServeContext {
  readonly repo: ModelRepository;
  readonly options: ResolvedServerOptions;
  readonly metrics: ServerMetrics;
}
