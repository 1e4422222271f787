/**
 * Prediction → response bytes: MLflow's `{"predictions": ...}` JSON, or Arrow IPC when the client's
 * Accept header prefers it (our extension). Arrow code loads on first use.
 */
import { CONTENT_TYPE_ARROW_STREAM, CONTENT_TYPE_JSON, encodePredictions, type Prediction } from '@mlmodel/format';
import { wantsArrow } from './accept.js';

/** An encoded prediction, ready to send or write. */
export interface EncodedPrediction {
  readonly body: string | Uint8Array;
  readonly contentType: string;
}

export interface EncodeOptions {
  /** The client's Accept header: Arrow IPC when it prefers `application/vnd.apache.arrow.stream`. */
  readonly accept?: string | undefined;
  /** Answer without the `predictions` wrapper (MLflow does for unified-LLM requests). */
  readonly unwrapped?: boolean | undefined;
}

export async function encodePrediction(prediction: Prediction, opts: EncodeOptions = {}): Promise<EncodedPrediction> {
  if (prediction.kind !== 'json' && wantsArrow(opts.accept)) {
    const { batchToIPC } = await import('@mlmodel/format/arrow');
    return { body: batchToIPC(prediction, 'stream'), contentType: CONTENT_TYPE_ARROW_STREAM };
  }
  return { body: encodePredictions(prediction, { unwrapped: opts.unwrapped ?? false }), contentType: CONTENT_TYPE_JSON };
}
