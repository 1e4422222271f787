export { ModelRunner, PredictCancelledError, type Cancellation, type OpenModelOptions, type ScoredRequest, type ScoreOptions } from './model-runner.js';
export { decodeRequest, type DecodeLimits, type DecodedRequest, type DecodeTarget } from './decode.js';
export { prepareInput, type PreparedInput, type PrepareTarget } from './prepare.js';
export { encodePrediction, type EncodedPrediction, type EncodeOptions } from './encode.js';
export { wantsArrow } from './accept.js';
