/**
 * Open Inference Protocol v2 (KServe V2 REST) codec: pure functions from request bytes to the
 * model's input and from predictions to response bytes, with the binary tensor data extension.
 * The routes (routes/oip.ts) only look models up, call these and predict.
 */
export * from './datatype.js';
export * from './errors.js';
export * from './metadata.js';
export * from './request.js';
export * from './input.js';
export * from './response.js';
