/**
 * The runner's steps as worker-pool tasks (run by `pool-worker.js`): the same `decodeRequest` and
 * `prepareInput` as on the calling thread, predict on the worker's own copy of a model (loaded once
 * per worker from the model's directory, flavor and load options, with the native flavors), and the
 * JSON encoding of large answers. Each task gives back the buffers it received once it is done.
 */
import { batchTransferList, type ModelSignature, type ScoringFormat } from '@mlmodel/format';
import { createRegistry } from '../index.js';
import { decodeRequest, type DecodeLimits } from './decode.js';
import { encodeJsonBlocks } from './encode.js';
import { ModelRunner } from './model-runner.js';
import { prepareInput } from './prepare.js';
import type { PoolTaskResult } from './worker-pool.js';
import { fromWire, modelKey, toWire, type ModelSource, type WireValue } from './wire.js';

export type { ModelSource } from './wire.js';

/** What decoding and preparing need to know of a model (plain data). */
export interface OffThreadTarget {
  readonly flavor: string;
  readonly signature: ModelSignature | null;
  readonly signatureFromTypeHint: boolean;
  readonly acceptsJson: boolean;
}

export interface DecodeTaskArgs {
  readonly body: Uint8Array;
  readonly contentType: string | undefined | null;
  readonly limits: DecodeLimits;
  readonly target: OffThreadTarget;
}

export interface DecodedWire {
  readonly input: WireValue;
  readonly params: Record<string, unknown>;
  readonly format: ScoringFormat;
}

/** Decode a request body and prepare it (signature enforcement, params): the runner's `decode` and `prepare`. */
export async function decodeAndPrepare(args: DecodeTaskArgs): Promise<PoolTaskResult> {
  const decoded = await decodeRequest(args.target, args.body, args.contentType, args.limits);
  const prepared = prepareInput(args.target, decoded.input, decoded.params);
  const { value, transfer } = toWire(prepared.input);
  return {
    value: { input: value, params: prepared.params, format: decoded.format } satisfies DecodedWire,
    transfer,
    release: [args.body.buffer as ArrayBuffer],
  };
}

const models = new Map<string, Promise<ModelRunner>>();

export interface PredictTaskArgs {
  readonly model: ModelSource;
  readonly input: WireValue;
  readonly params: Record<string, unknown>;
}

/** Predict on this worker's copy of the model (loaded on first use). */
export async function predict(args: PredictTaskArgs): Promise<PoolTaskResult> {
  const key = modelKey(args.model);
  let runner = models.get(key);
  if (!runner) {
    runner = ModelRunner.open(args.model.dir, { registry: createRegistry(), flavor: args.model.flavor, options: args.model.options });
    models.set(key, runner);
    void runner.catch(() => models.delete(key));
  }
  const input = fromWire(args.input);
  const prediction = await (await runner).predict({ input, params: args.params });
  return { ...toWire(prediction), release: input.kind === 'json' ? [] : batchTransferList(input) };
}

export interface EncodeTaskArgs {
  readonly prediction: WireValue;
  readonly unwrapped: boolean;
}

/** A prediction's JSON answer in large Buffers (`encodeJsonBlocks`). */
export function encode(args: EncodeTaskArgs): PoolTaskResult {
  const prediction = fromWire(args.prediction);
  const blocks = encodeJsonBlocks(prediction, args.unwrapped);
  return { value: blocks, transfer: blocks.map((b) => b.buffer as ArrayBuffer), release: prediction.kind === 'json' ? [] : batchTransferList(prediction) };
}

/** Drop this worker's copy of a model (its runner on the main thread was closed). */
export async function closeModel(args: { readonly key: string }): Promise<PoolTaskResult> {
  const runner = models.get(args.key);
  models.delete(args.key);
  if (runner)
    await runner.then(
      (r) => r.close(),
      () => undefined,
    );
  return { value: null };
}
