/** Running a loaded model on prepared inputs without leaking tensors. */
import type { DataType, Tensor } from '@tensorflow/tfjs-core';
import type { PreparedInput } from './convert.js';
import { asksForExecuteAsync, type IoSpec, type TfjsRunner } from './runner.js';
import type { Tfjs } from './runtime.js';

/** One output read back from tfjs. */
export interface OutputData {
  readonly spec: IoSpec;
  readonly dtype: DataType;
  readonly shape: number[];
  readonly data: Float32Array | Int32Array | Uint8Array | Uint8Array[];
}

/**
 * Create the input tensors, run the model, read the outputs and dispose every tensor created on
 * the way: synchronous runs go through tf.tidy (which also frees intermediates when a kernel
 * throws); inputs and outputs are disposed explicitly. When a graph's `execute` reports that it
 * needs `executeAsync`, the runner switches for good and `onAsync` is called once.
 */
export async function runModel(tf: Tfjs, runner: TfjsRunner, inputs: readonly PreparedInput[], onAsync?: () => void): Promise<OutputData[]> {
  const feeds: Tensor[] = [];
  try {
    for (const p of inputs) feeds.push(tf.core.tensor(p.values, p.shape, p.dtype));
    let outs: Tensor[] | undefined;
    if (!runner.isAsync) {
      try {
        outs = tf.core.tidy(() => runner.run(feeds) as Tensor[]);
      } catch (e) {
        if (runner.modelType !== 'graph' || !asksForExecuteAsync(e)) throw e;
        runner.isAsync = true;
        onAsync?.();
      }
    }
    outs ??= await runner.run(feeds);
    try {
      return await Promise.all(
        outs.map(async (t, i) => ({
          spec: runner.outputs[i] ?? { name: `output_${i}`, key: `output_${i}`, dtype: t.dtype, shape: undefined },
          dtype: t.dtype,
          shape: [...t.shape],
          data: t.dtype === 'string' ? ((await t.bytes()) as Uint8Array[]) : await t.data(),
        })),
      );
    } finally {
      tf.core.dispose(outs);
    }
  } finally {
    tf.core.dispose(feeds);
  }
}

/**
 * Validate a freshly loaded model by running it once on zeros of its declared input shapes
 * (batch 1 for a free batch dimension), and complete the outputs' dtypes and shapes from the
 * result: graph models converted without a signature often declare neither. An output batch
 * dimension of 1 becomes -1 again when an input's batch dimension is free.
 *
 * Returns undefined when the inputs have free dimensions besides the batch (or strings), since
 * no input can be made up then; throws when the model fails to run (e.g. an op tfjs lacks, which
 * graph loading alone does not catch).
 */
export async function runOnZeros(tf: Tfjs, runner: TfjsRunner): Promise<readonly IoSpec[] | undefined> {
  const probeable = runner.inputs.every(
    (s) => s.shape !== undefined && s.dtype !== undefined && s.dtype !== 'string' && s.dtype !== 'complex64' && s.shape.every((d, i) => d >= 0 || i === 0),
  );
  if (!probeable) return undefined;
  const freeBatch = runner.inputs.some((s) => s.shape![0] === -1);
  const zeros: PreparedInput[] = runner.inputs.map((s) => {
    const shape = s.shape!.map((d) => (d < 0 ? 1 : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const values = s.dtype === 'float32' ? new Float32Array(n) : s.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
    return { spec: s, dtype: s.dtype!, shape, values };
  });
  const outs = await runModel(tf, runner, zeros);
  return runner.outputs.map((o, i) => {
    const got = outs[i];
    if (!got) return o;
    const shape = o.shape ?? got.shape.map((d, k) => (k === 0 && freeBatch && d === 1 ? -1 : d));
    return { ...o, dtype: o.dtype ?? got.dtype, shape };
  });
}
