/**
 * @mlmodel/batch-scorer — offline scoring of Parquet, Arrow and CSV files on every core
 * (`mlmodel batch`): the model runner of `@mlmodel/flavors` (the server's enforcement and predict
 * path) over the streaming table I/O of `@mlmodel/format/table`, with piscina worker threads.
 */
export {
  scoreFiles,
  DEFAULT_BATCH_ROWS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  MAX_SUMMARY_FAILURES,
  type ScoreFilesOptions,
  type BatchSummary,
  type BatchJob,
} from './engine.js';
export { MAX_PENDING_FAILURES, type BatchProgress, type BatchPhase } from './progress.js';
export { BatchScoringError, BatchCancelledError, ChunkScoringError, describeFailure, type ChunkFailure, type ErrorInfo } from './errors.js';
export { MAX_EXTRA_CALLS, type OnError } from './score-chunk.js';
export type { KeepColumns } from './columns.js';
export { resolveInputs, globToRegExp, type InputFile } from './inputs.js';
