/**
 * @mlmodel/serve/launch — what a command line needs to start a server: the process plan for the
 * models and the machine, and `serve` (one process, or a primary forking server processes).
 * Importing it loads neither fastify nor the routes: a primary that only forks starts its
 * workers sooner; each process loads the server when it serves.
 */
export { serve, type ServeOptions } from './cluster.js';
export { planProcesses, type ProcessPlan, type PlanOptions } from './process-defaults.js';
export type { ServedModelConfig } from './models/model-repository.js';
export type { BatchingConfig } from './adaptive-batching/adaptive-batcher.js';
export type { BatchingSetting } from './adaptive-batching/batching-choice.js';
