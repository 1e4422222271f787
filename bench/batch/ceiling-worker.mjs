// A piscina worker for bench/batch's ceiling: onnxruntime-node alone (one intra-op thread), the
// same model and batch shape as the pipeline, on one fixed input: no reading, no writing.
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { model, shape } = workerData;
const session = ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => (i % 251) / 125 - 1);

export default async function run() {
  const s = await session;
  await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', input, shape) });
  return shape[0];
}
