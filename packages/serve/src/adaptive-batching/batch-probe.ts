/**
 * The check behind automatic batching: a model whose flavor says it takes any number of rows
 * (`capabilities.batchable`) is called with made-up rows, each alone and merged the way the
 * batcher merges requests at every batch size it may form, and batching is turned on only when
 * every row's answer is the same in both, bit for bit. That rules out what the declared shapes cannot: a graph that mixes rows
 * (batch statistics) and kernels that round differently at another batch size, which would make
 * a request's answer depend on its neighbours and differ from MLflow's (which scores each request
 * alone). Rows come from the input signature: float tensors with fixed dimensions after the first,
 * or float/double columns; anything else is not probed, and batching stays off.
 */
import {
  batchRows,
  concatBatches,
  slicePrediction,
  VarBinaryArray,
  type Batch,
  type ColSpec,
  type Prediction,
  type Schema,
  type Storage,
  type TensorSpec,
} from '@mlmodel/format';
import type { ModelRunner } from '@mlmodel/flavors';
import { isDeepStrictEqual } from 'node:util';

/** Rows probed: each alone, then in one call at every batch size up to this (automatic batching's largest). */
export const PROBE_ROWS = 64;
/** Longest the check may take (ms). */
export const PROBE_BUDGET_MS = 2000;
/** Most values per row the probe makes up (bounds its cost: larger inputs are not probed, and gain little from merging). */
export const PROBE_MAX_ROW_VALUES = 4096;

export type ProbeOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Value `j` of row `r`: distinct across rows, positive, exactly representable in float32. */
function probeValue(r: number, j: number): number {
  return (((r * 7919 + j * 104729) % 1000) + 50) / 256;
}

function floatStorage(dtype: 'float32' | 'float64', rows: number, width: number, offset: number): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(rows * width) : new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) out[r * width + j] = probeValue(r, offset + j);
  return out;
}

/** A batch of `rows` made-up rows for an input signature, or why none can be made. */
export function probeBatch(inputs: Schema | null | undefined, rows: number): Batch | string {
  if (!inputs) return 'the model has no input signature to make rows from';
  let offset = 0;
  if (inputs.kind === 'tensors') {
    const tensors = [];
    for (const spec of inputs.specs as readonly TensorSpec[]) {
      if (spec.dtype !== 'float32' && spec.dtype !== 'float64') return `input ${spec.name ?? '(unnamed)'} is ${spec.dtype}, not a float tensor`;
      const [first, ...rest] = spec.shape;
      if (first !== -1 || rest.some((d) => d < 1)) return `input ${spec.name ?? '(unnamed)'} has shape [${spec.shape.join(', ')}], not [-1, fixed…]`;
      const width = rest.reduce((a, d) => a * d, 1);
      offset += width;
      if (offset > PROBE_MAX_ROW_VALUES) return `rows hold more than ${PROBE_MAX_ROW_VALUES} values`;
      tensors.push({ name: spec.name, dtype: spec.dtype, shape: [rows, ...rest], values: floatStorage(spec.dtype, rows, width, offset - width) });
    }
    return { kind: 'tensors', tensors } as Batch;
  }
  const columns = [];
  for (const spec of inputs.specs as readonly ColSpec[]) {
    if (spec.name === null) return 'the input signature has unnamed columns';
    if (spec.type !== 'double' && spec.type !== 'float')
      return `column ${spec.name} is ${typeof spec.type === 'string' ? spec.type : spec.type.type}, not float or double`;
    const dtype = spec.type === 'double' ? 'float64' : 'float32';
    columns.push({ name: spec.name, dtype, values: floatStorage(dtype, rows, 1, offset++) });
    if (offset > PROBE_MAX_ROW_VALUES) return `rows hold more than ${PROBE_MAX_ROW_VALUES} values`;
  }
  return { kind: 'columns', numRows: rows, columns } as Batch;
}

function bytesOf(v: ArrayBufferView): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function storageEqual(a: Storage, b: Storage): boolean {
  if (a instanceof VarBinaryArray || b instanceof VarBinaryArray) {
    if (!(a instanceof VarBinaryArray && b instanceof VarBinaryArray) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!bytesOf(a.bytesAt(i)).equals(bytesOf(b.bytesAt(i)))) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) return isDeepStrictEqual(a, b);
  // bit for bit: -0 and 0 differ, as do NaNs with other payloads
  return a.constructor === b.constructor && bytesOf(a).equals(bytesOf(b));
}

function validityEqual(a: Uint8Array | undefined, b: Uint8Array | undefined, rows: number): boolean {
  for (let i = 0; i < rows; i++) if ((a?.[i] ?? 1) !== (b?.[i] ?? 1)) return false;
  return true;
}

/** Two predictions hold the same values, bit for bit. */
export function samePrediction(a: Prediction, b: Prediction): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'json' || b.kind === 'json') return isDeepStrictEqual(a, b);
  if (a.kind === 'columns' && b.kind === 'columns') {
    return (
      a.numRows === b.numRows &&
      a.columns.length === b.columns.length &&
      a.columns.every((c, i) => {
        const d = b.columns[i]!;
        return c.name === d.name && c.dtype === d.dtype && storageEqual(c.values, d.values) && validityEqual(c.validity, d.validity, a.numRows);
      })
    );
  }
  if (a.kind === 'tensors' && b.kind === 'tensors') {
    return (
      a.tensors.length === b.tensors.length &&
      a.tensors.every((t, i) => {
        const u = b.tensors[i]!;
        return t.name === u.name && t.dtype === u.dtype && isDeepStrictEqual(t.shape, u.shape) && storageEqual(t.values, u.values);
      })
    );
  }
  return false;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Whether merging requests leaves every row's answer unchanged, at every batch size up to `rows`:
 * `rows` made-up rows are predicted one by one, then the first k of them in one call for every k
 * from 2 to `rows` (kernels may switch code paths at some size: tree ensembles, GEMM blocking),
 * all through the runner's own preparation, as requests are; each row's slice of a merged answer
 * must equal its answer alone. A model slower than `budgetMs` for the whole check is not checked
 * further, and not batched: merging saves a per-call cost that such a model barely notices.
 */
export async function probeBatching(runner: ModelRunner, rows = PROBE_ROWS, budgetMs = PROBE_BUDGET_MS): Promise<ProbeOutcome> {
  const batch = probeBatch(runner.signature?.inputs, rows);
  if (typeof batch === 'string') return { ok: false, reason: `no rows to check it with (${batch})` };
  const started = performance.now();
  const overBudget = (): ProbeOutcome | null => {
    const ms = performance.now() - started;
    return ms > budgetMs
      ? { ok: false, reason: `its calls are too slow to check at every batch size within ${budgetMs} ms (merging would save little)` }
      : null;
  };
  try {
    const singles = [];
    for (let r = 0; r < rows; r++) {
      const one = runner.prepare(sliceRow(batch, r), null);
      singles.push({ input: one, out: await runner.predict(one) });
      const late = overBudget();
      if (late) return late;
    }
    for (let k = 2; k <= rows; k++) {
      const merged = await runner.predict({ input: concatBatches(singles.slice(0, k).map((s) => s.input.input as Batch)), params: singles[0]!.input.params });
      for (let r = 0; r < k; r++) {
        const part = slicePrediction(merged, k, r, r + 1);
        if (part === null) return { ok: false, reason: 'its answer to several rows does not have one row per input row' };
        if (!samePrediction(part, singles[r]!.out))
          return { ok: false, reason: `row ${r} gets another answer in one call with ${k - 1} other row${k === 2 ? '' : 's'} than alone` };
      }
      const late = overBudget();
      if (late) return late;
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `the check failed: ${message(e)}` };
  }
}

/** Row `r` of a made-up batch, as a one-row batch. */
function sliceRow(batch: Batch, r: number): Batch {
  const n = batchRows(batch);
  const part = slicePrediction(batch, n, r, r + 1);
  if (part === null || part.kind === 'json') throw new RangeError('made-up rows cannot be sliced');
  return part;
}
