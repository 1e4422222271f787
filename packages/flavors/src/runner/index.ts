export {
  ModelRunner,
  type DecodeAndPrepareOptions,
  type OpenModelOptions,
  type PreparedRequest,
  type ScoredRequest,
  type ScoreOptions,
} from './model-runner.js';
export { PredictCancelledError, type Cancellation } from './cancellation.js';
export { decodeRequest, type DecodeLimits, type DecodedRequest, type DecodeTarget } from './decode.js';
export { prepareInput, type PreparedInput, type PrepareTarget } from './prepare.js';
export {
  encodePrediction,
  encodePredictionChunked,
  DEFAULT_CHUNKED_ENCODE_MIN_ELEMENTS,
  type ChunkedEncodeOptions,
  type ChunkedPrediction,
  type EncodedPrediction,
  type EncodeOptions,
} from './encode.js';
export { wantsArrow } from './accept.js';
export { releaseBuffers, releaseBuffersGradually } from './release.js';
export { toWire, fromWire, inputElements, type WireValue } from './wire.js';
export {
  WorkerPool,
  TaskCancelledError,
  PoolClosedError,
  WorkerCrashedError,
  DEFAULT_MIN_BODY_BYTES,
  DEFAULT_MIN_PREDICT_ELEMENTS,
  type WorkerPoolOptions,
  type PoolTask,
  type PoolTaskResult,
  runnableModule,
} from './worker-pool.js';
