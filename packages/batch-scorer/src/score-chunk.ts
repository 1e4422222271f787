/**
 * One chunk through the model: the runner's `prepare` (schema enforcement, params: the server's
 * checks) then `predict`, the prediction turned into named output columns. The same function runs
 * in the worker threads (in-process flavors) and on the main thread (python_function).
 *
 * When the chunk fails and failures are tolerated (`skip`/`null`), the rows at fault are searched
 * for by halving: each failing range is split in two and each half tried again, down to single
 * rows, so only the failing rows are skipped or nulled. A chunk whose every row fails (a missing
 * column, a column of the wrong type) would take a model call per row that way, so the search
 * stops after `MAX_EXTRA_CALLS` calls and the ranges still failing fail whole. A crashed worker
 * (thread or Python process) is not searched: its whole range fails.
 */
import type { ModelRunner } from '@mlmodel/flavors';
import { batchRows, type Batch } from '@mlmodel/format';
import { predictionColumns, sliceRows } from './columns.js';
import { errorInfo, isCrash, type ErrorInfo } from './errors.js';

/** What to do with a chunk that fails: stop the run, leave its rows out, or keep them with null predictions. */
export type OnError = 'fail' | 'skip' | 'null';

/** Most extra model calls spent finding the failing rows of one chunk. */
export const MAX_EXTRA_CALLS = 128;

export interface ChunkSettings {
  readonly params: Readonly<Record<string, unknown>> | null;
  readonly onError: OnError;
  /** Names from the output signature (see `predictionColumns`). */
  readonly outputNames: readonly (string | null)[] | null;
}

/** Rows `start..end` of a chunk (0-based within it, end exclusive) and their predictions, or why they failed. */
export type RangeOutcome =
  { readonly start: number; readonly end: number; readonly prediction: Batch } | { readonly start: number; readonly end: number; readonly error: ErrorInfo };

async function attempt(runner: ModelRunner, input: Batch, start: number, end: number, settings: ChunkSettings): Promise<RangeOutcome> {
  try {
    const rows = end - start;
    const prepared = runner.prepare(sliceRows(input, start, end), settings.params);
    const prediction = await runner.predict(prepared);
    return { start, end, prediction: predictionColumns(prediction, rows, settings.outputNames) };
  } catch (e) {
    return { start, end, error: errorInfo(e) };
  }
}

/** Score a chunk: its ranges in row order, each predicted or failed (one failed range under `fail`). */
export async function scoreChunk(runner: ModelRunner, input: Batch, settings: ChunkSettings): Promise<RangeOutcome[]> {
  const rows = batchRows(input);
  if (rows === 0) return [];
  const first = await attempt(runner, input, 0, rows, settings);
  if ('prediction' in first || settings.onError === 'fail' || rows === 1 || isCrash(first.error)) return [first];
  const done: RangeOutcome[] = [];
  const failing: RangeOutcome[] = [first];
  let budget = MAX_EXTRA_CALLS;
  // depth first, so the rows of one range are settled before the budget runs out on others
  while (failing.length > 0) {
    const r = failing.pop()!;
    if (r.end - r.start === 1 || budget < 2 || ('error' in r && isCrash(r.error))) {
      done.push(r);
      continue;
    }
    budget -= 2;
    const mid = r.start + Math.floor((r.end - r.start) / 2);
    const left = await attempt(runner, input, r.start, mid, settings);
    const right = await attempt(runner, input, mid, r.end, settings);
    // the right half goes under the left one on the stack: the left one is searched first
    for (const half of [right, left]) {
      if ('prediction' in half) done.push(half);
      else failing.push(half);
    }
  }
  return mergeFailures(done.sort((a, b) => a.start - b.start));
}

/** Adjacent failed ranges with the same error as one range (a column-level error fails row after row alike). */
function mergeFailures(outcomes: readonly RangeOutcome[]): RangeOutcome[] {
  const out: RangeOutcome[] = [];
  for (const o of outcomes) {
    const last = out.at(-1);
    if (last && 'error' in last && 'error' in o && last.end === o.start && last.error.message === o.error.message) {
      out[out.length - 1] = { start: last.start, end: o.end, error: last.error };
    } else out.push(o);
  }
  return out;
}
