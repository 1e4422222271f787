/**
 * Whether a served model gets adaptive batching, and how: what the user set, or — when they set no
 * batch size — automatic batching, as Triton turns on its dynamic batcher for ONNX models whose
 * inputs and outputs all have a variable first dimension. Here the flavor makes that claim
 * (`capabilities.batchable`) and the batch probe must then find every row's answer the same
 * merged as alone; automatic batching never waits for company (delay 0: a call takes the requests
 * that arrived in the same event-loop turn, and more gather while the model is busy). The probe
 * runs once the model is ready, so it never delays readiness: until it ends (tens of ms for a
 * small model, at most ~2 s) requests are served one model call each.
 */
import type { FlavorLogger, ModelRunner } from '@mlmodel/flavors';
import type { BatchingConfig } from './adaptive-batcher.js';
import { probeBatching } from './batch-probe.js';

/** Automatic batching: up to 64 rows per call, no added delay, 1024 requests waiting at most. */
export const AUTO_BATCHING: BatchingConfig = { maxBatchSize: 64, maxBatchDelayMs: 0, maxQueueSize: 1024 };
/** The delay of batching the user turned on without giving one (ms). */
export const DEFAULT_BATCH_DELAY_MS = 2;

/**
 * Batching as configured for one model: `null` turns it off; a `maxBatchSize` turns it on at that
 * size (1 or less: off); without a `maxBatchSize` (or with no setting at all) the server decides,
 * and the other fields apply if it turns batching on.
 */
export type BatchingSetting = Partial<BatchingConfig> | null | undefined;

/** The batching the user's setting gives: a config, null (off), or 'auto' (the server decides once the model is loaded). */
export function configuredBatching(setting: BatchingSetting): BatchingConfig | null | 'auto' {
  if (setting === null) return null;
  const given = setting ?? {};
  if (given.maxBatchSize === undefined) return 'auto';
  if (given.maxBatchSize <= 1) return null;
  return {
    ...given,
    maxBatchSize: given.maxBatchSize,
    maxBatchDelayMs: given.maxBatchDelayMs ?? DEFAULT_BATCH_DELAY_MS,
    maxQueueSize: given.maxQueueSize ?? AUTO_BATCHING.maxQueueSize,
  };
}

/**
 * Automatic batching for a loaded model (null: none), telling the logger why: only for a model
 * whose flavor says rows can be merged (no message otherwise: the usual case for Python models)
 * and whose batch probe passes. `stillServed` is asked before anything is said or decided (a
 * server closing meanwhile makes the probe fail for that reason only). Never throws.
 */
export async function automaticBatching(
  setting: BatchingSetting,
  runner: ModelRunner,
  name: string,
  logger: FlavorLogger,
  stillServed: () => boolean = () => true,
): Promise<BatchingConfig | null> {
  if (!runner.capabilities.batchable) return null;
  const outcome = await probeBatching(runner);
  if (!stillServed()) return null;
  if (!outcome.ok) {
    logger.info(`[${name}] adaptive batching stays off: ${outcome.reason} (--max-batch-size N turns it on anyway)`);
    return null;
  }
  const given = setting ?? {};
  const chosen: BatchingConfig = {
    ...AUTO_BATCHING,
    ...(given.maxBatchDelayMs !== undefined ? { maxBatchDelayMs: given.maxBatchDelayMs } : {}),
    ...(given.maxQueueSize !== undefined ? { maxQueueSize: given.maxQueueSize } : {}),
    ...(given.maxConcurrency !== undefined ? { maxConcurrency: given.maxConcurrency } : {}),
  };
  logger.info(
    `[${name}] adaptive batching on: concurrent requests share model calls of up to ${chosen.maxBatchSize} rows` +
      `${chosen.maxBatchDelayMs > 0 ? ` (waiting up to ${chosen.maxBatchDelayMs} ms)` : ', without waiting'}; ` +
      'each row was checked to get the same answer merged as alone (--max-batch-size 1 turns it off)',
  );
  return chosen;
}
