/**
 * Prediction → response bytes: MLflow's `{"predictions": ...}` JSON, or Arrow IPC when the client's
 * Accept header prefers it (our extension). Arrow code loads on first use.
 *
 * Large JSON answers (`encodePredictionChunked`) are encoded in row ranges (json-chunks.ts) written
 * into large Buffers, so no string of the whole answer is built: in a worker thread when the runner
 * has workers (`encodeJsonBlocks`), else here, yielding to the event loop between ranges and
 * stopping when `cancel` fires.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CONTENT_TYPE_ARROW_STREAM, CONTENT_TYPE_JSON, encodePredictions, type Prediction } from '@mlmodel/format';
import { wantsArrow } from './accept.js';
import type { Cancellation } from './cancellation.js';
import { predictionPieces } from './json-chunks.js';
import { TaskCancelledError } from './worker-pool.js';
import { inputElements } from './wire.js';

/** An encoded prediction, ready to send or write. */
export interface EncodedPrediction {
  readonly body: string | Uint8Array;
  readonly contentType: string;
}

/** An encoded prediction in pieces, to send or write one after the other. */
export interface ChunkedPrediction {
  readonly chunks: readonly (string | Uint8Array)[];
  readonly contentType: string;
}

export interface EncodeOptions {
  /** The client's Accept header: Arrow IPC when it prefers `application/vnd.apache.arrow.stream`. */
  readonly accept?: string | undefined;
  /** Answer without the `predictions` wrapper (MLflow does for unified-LLM requests). */
  readonly unwrapped?: boolean | undefined;
}

export interface ChunkedEncodeOptions extends EncodeOptions {
  /** Stop (rejecting with `TaskCancelledError`) when this fires. */
  readonly cancel?: Cancellation | undefined;
  /** JSON predictions of at least this many elements are encoded in pieces (default 256 Ki). */
  readonly minElements?: number | undefined;
}

export const DEFAULT_CHUNKED_ENCODE_MIN_ELEMENTS = 1 << 18;

/** Encode for at most this long before letting the event loop run (when encoding on it). */
const SLICE_MS = 5;
/** Encoded text goes into Buffers this large: the allocator maps them directly and unmaps them when they are freed. */
const BLOCK_BYTES = 32 * 1024 * 1024;

export async function encodePrediction(prediction: Prediction, opts: EncodeOptions = {}): Promise<EncodedPrediction> {
  if (prediction.kind !== 'json' && wantsArrow(opts.accept)) {
    const { batchToIPC } = await import('@mlmodel/format/arrow');
    return { body: batchToIPC(prediction, 'stream'), contentType: CONTENT_TYPE_ARROW_STREAM };
  }
  return { body: encodePredictions(prediction, { unwrapped: opts.unwrapped ?? false }), contentType: CONTENT_TYPE_JSON };
}

/** Whether `encodePredictionChunked` encodes this prediction in pieces (a large JSON answer). */
export function isLargeJsonAnswer(prediction: Prediction, opts: ChunkedEncodeOptions = {}): boolean {
  return prediction.kind !== 'json' && !wantsArrow(opts.accept) && inputElements(prediction) >= (opts.minElements ?? DEFAULT_CHUNKED_ENCODE_MIN_ELEMENTS);
}

/** Text pieces → a few large Buffers. */
class BlockWriter {
  readonly #blocks: Uint8Array[] = [];
  #block: Buffer | null = null;
  #pos = 0;

  write(text: string): void {
    const n = Buffer.byteLength(text);
    if (this.#block === null || this.#pos + n > this.#block.length) {
      this.#flush();
      this.#block = Buffer.allocUnsafeSlow(Math.max(BLOCK_BYTES, n));
      this.#pos = 0;
    }
    this.#pos += this.#block.write(text, this.#pos);
  }

  finish(): Uint8Array[] {
    this.#flush();
    return this.#blocks;
  }

  #flush(): void {
    if (this.#block !== null && this.#pos > 0) this.#blocks.push(this.#block.subarray(0, this.#pos));
    this.#block = null;
  }
}

/** A prediction's JSON answer in large Buffers, in one go (a worker thread's way). */
export function encodeJsonBlocks(prediction: Prediction, unwrapped: boolean): Uint8Array[] {
  const out = new BlockWriter();
  for (const piece of predictionPieces(prediction, unwrapped)) out.write(piece);
  return out.finish();
}

/** Like `encodePrediction`, for answers that may be large: a large JSON prediction in a few large Buffers, encoded in slices that let the event loop run. */
export async function encodePredictionChunked(prediction: Prediction, opts: ChunkedEncodeOptions = {}): Promise<ChunkedPrediction> {
  if (!isLargeJsonAnswer(prediction, opts)) {
    const e = await encodePrediction(prediction, opts);
    return { chunks: [e.body], contentType: e.contentType };
  }
  const out = new BlockWriter();
  let since = performance.now();
  for (const piece of predictionPieces(prediction, opts.unwrapped ?? false)) {
    out.write(piece);
    if (performance.now() - since >= SLICE_MS) {
      await yieldToLoop();
      if (opts.cancel?.aborted) throw new TaskCancelledError();
      since = performance.now();
    }
  }
  return { chunks: out.finish(), contentType: CONTENT_TYPE_JSON };
}
