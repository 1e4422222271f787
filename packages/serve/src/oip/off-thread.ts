/**
 * The Open Inference Protocol codec for large requests, off the event loop: a body of at least the
 * pool's `minBodyBytes` is parsed into the model's input in a worker thread (`parseInferRequest` +
 * `toModelInput`, the same code), and a prediction of many elements is encoded there
 * (`predictionOutputs` + `encodeInferResponse`). Inputs and predictions cross threads by transfer
 * (the runner's wire format); the codec's errors come back as the same 400s. Smaller requests are
 * handled on the calling thread, as before.
 *
 * The `…Task` functions run in the runner's pool workers; the others are the routes' entry points.
 */
import {
  DEFAULT_CHUNKED_ENCODE_MIN_ELEMENTS,
  fromWire,
  inputElements,
  toWire,
  type Cancellation,
  type PoolTaskResult,
  type WireValue,
  type WorkerPool,
} from '@mlmodel/flavors';
import type { ModelInput, ModelSignature, Prediction, Schema } from '@mlmodel/format';
import { toModelInput } from './input.js';
import type { MetadataTensor } from './metadata.js';
import { parseInferRequest, type InferRequest } from './request.js';
import { encodeInferResponse, predictionOutputs, type EncodedResponse, type ResponseOptions } from './response.js';

/** This module, as the pool's workers import it (from sources: its compiled file). */
const TASKS = new URL(import.meta.url.endsWith('.ts') ? './off-thread.ts' : './off-thread.js', import.meta.url);

/** A decoded inference request: its fields besides the inputs, and the model's input. */
export interface DecodedInfer {
  readonly request: Omit<InferRequest, 'inputs'>;
  readonly input: ModelInput;
}

interface DecodeArgs {
  readonly body: Uint8Array;
  readonly headerLength: string | string[] | undefined;
  readonly modelInputs: readonly MetadataTensor[];
  readonly signature: ModelSignature | null;
}

interface DecodedWire {
  readonly request: Omit<InferRequest, 'inputs'>;
  readonly input: WireValue;
}

function decodeHere(args: DecodeArgs): DecodedInfer {
  const { inputs, ...request } = parseInferRequest(args.body, args.headerLength, { modelInputs: args.modelInputs });
  return { request, input: toModelInput(inputs, args.signature) };
}

/** Worker side of `decodeInfer`. */
export function decodeInferTask(args: DecodeArgs): PoolTaskResult {
  const { request, input } = decodeHere(args);
  const { value, transfer } = toWire(input);
  return { value: { request, input: value } satisfies DecodedWire, transfer, release: [args.body.buffer as ArrayBuffer] };
}

/** Parse an inference request into the model's input; a large body in a worker (it moves there: `body` is unusable afterwards). */
export async function decodeInfer(workers: WorkerPool, args: DecodeArgs, cancel: Cancellation): Promise<DecodedInfer> {
  if (args.body.byteLength < workers.minBodyBytes) return decodeHere(args);
  const body = args.body.byteOffset === 0 && args.body.byteLength === args.body.buffer.byteLength ? args.body : args.body.slice();
  const out = await workers.run<DecodedWire>({ module: TASKS, fn: 'decodeInferTask', args: { ...args, body }, transfer: [body.buffer as ArrayBuffer] }, cancel);
  return { request: out.request, input: fromWire(out.input) };
}

interface EncodeArgs {
  readonly prediction: WireValue;
  readonly outputSchema: Schema | null;
  readonly options: ResponseOptions;
}

function encodeHere(prediction: Prediction, outputSchema: Schema | null, options: ResponseOptions): EncodedResponse {
  return encodeInferResponse(predictionOutputs(prediction, outputSchema), options);
}

/** Worker side of `encodeInfer`. */
export function encodeInferTask(args: EncodeArgs): PoolTaskResult {
  const prediction = fromWire(args.prediction) as Prediction;
  const encoded = encodeHere(prediction, args.outputSchema, args.options);
  const body = encoded.body.byteOffset === 0 && encoded.body.byteLength === encoded.body.buffer.byteLength ? encoded.body : Buffer.from(encoded.body);
  return { value: { body, headerLength: encoded.headerLength }, transfer: [body.buffer as ArrayBuffer] };
}

/** Encode an inference response; a prediction of many elements in a worker (its buffers move there). */
export async function encodeInfer(
  workers: WorkerPool,
  prediction: Prediction,
  outputSchema: Schema | null,
  options: ResponseOptions,
  cancel: Cancellation,
): Promise<EncodedResponse> {
  if (inputElements(prediction) < DEFAULT_CHUNKED_ENCODE_MIN_ELEMENTS) return encodeHere(prediction, outputSchema, options);
  const { value, transfer } = toWire(prediction);
  const out = await workers.run<{ body: Uint8Array; headerLength: number | null }>(
    { module: TASKS, fn: 'encodeInferTask', args: { prediction: value, outputSchema, options } satisfies EncodeArgs, transfer },
    cancel,
  );
  return { body: Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength), headerLength: out.headerLength };
}
