/**
 * @mlmodel/serve — the REST scoring server: MLflow's scoring protocol, Open Inference Protocol
 * v2, Arrow IPC, adaptive batching, Prometheus metrics, OpenAPI.
 */
export { createServer } from './server.js';
export { isPublicPath } from './http/public-paths.js';
export type { ServeContext } from './context.js';
export * from './options.js';
export { BufferedLines, type DeferredLines } from './logging/buffered-lines.js';
export * from './errors.js';
export { ModelRepository, type ServedModelConfig, type ModelSlot, type ReadySlot, type ModelState, type LoadAllOptions } from './models/model-repository.js';
export { ServedModel, type BatchObserver } from './models/served-model.js';
export { AdaptiveBatcher, type BatchingOptions, type BatchingConfig, type BatchReport } from './adaptive-batching/adaptive-batcher.js';
export { AUTO_BATCHING, DEFAULT_BATCH_DELAY_MS, type BatchingSetting } from './adaptive-batching/batching-choice.js';
export { probeBatching, type ProbeOutcome } from './adaptive-batching/batch-probe.js';
export { ServerMetrics } from './metrics/server-metrics.js';
export { startServer, type RunOptions, type RunningServer } from './run.js';
export { serve, type ServeOptions } from './cluster.js';
export {
  planProcesses,
  planFromFacts,
  inspectModel,
  machineFacts,
  cgroupCpuLimit,
  PROCESS_BASE_BYTES,
  MEMORY_SHARE,
  type MachineFacts,
  type ModelFacts,
  type ProcessPlan,
  type PlanOptions,
} from './process-defaults.js';
