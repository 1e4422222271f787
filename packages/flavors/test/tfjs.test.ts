/**
 * The native tfjs flavor against real TensorFlow.js models (vladmandic/human graph models, the
 * nsfwjs Keras layers model, a layers model built here) on the real wasm backend, compared with
 * the same models run directly through tfjs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  Utf8Array,
  column,
  columnBatch,
  createMLmodel,
  openModelDir,
  tensor,
  tensorBatch,
  writeMLmodel,
  type Batch,
  type ModelDir,
  type Prediction,
  type Tensor,
} from '@mlmodel/format';
import type { LoadedModel, SavedFlavor } from '../src/flavor.js';
import { diskSaveHandler, tfjsFlavor, TfjsInputError, TfjsModelFileError, type TfjsSaveInput } from '../src/tfjs/index.js';
import { packageRoot, randomFloats } from '../../../test/support/test-data.js';

const require = createRequire(import.meta.url);

const HUMAN_MODELS = join(packageRoot('@vladmandic/human'), 'models');
const NSFWJS_MOBILENET = join(packageRoot('nsfwjs'), 'dist/models/mobilenet_v2');

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-tfjs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let tmpCount = 0;
const freshDir = async (label: string): Promise<string> => {
  const d = join(tmp, `${label}-${tmpCount++}`);
  await mkdir(d, { recursive: true });
  return d;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function tensorsOf(p: Prediction): readonly Tensor[] {
  if (p.kind !== 'tensors') throw new Error(`expected tensors, got ${p.kind}`);
  return p.tensors;
}

/** model.json + shards read by hand into tfjs artifacts: the reference path, independent of the flavor's handler. */
async function referenceArtifacts(modelJson: string): Promise<tf.io.ModelArtifacts> {
  const j = JSON.parse(await readFile(modelJson, 'utf8')) as tf.io.ModelJSON;
  const parts: Buffer[] = [];
  for (const g of j.weightsManifest) for (const p of g.paths) parts.push(await readFile(join(dirname(modelJson), p)));
  const all = Buffer.concat(parts);
  return {
    modelTopology: j.modelTopology,
    format: j.format,
    ...(j.signature !== undefined ? { signature: j.signature } : {}),
    weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  };
}

/** Save with the flavor, write the MLmodel like `mlmodel` does, and reopen the directory. */
async function saveAndOpen(input: TfjsSaveInput, label: string): Promise<{ saved: SavedFlavor; model: ModelDir }> {
  const dir = await freshDir(label);
  const saved = await tfjsFlavor.save!(input, dir);
  await writeMLmodel(dir, createMLmodel({ flavors: saved.flavors, signature: saved.inferredSignature ?? null }));
  return { saved, model: await openModelDir(dir) };
}

function recordingLogger(): { lines: string[]; info(m: string): void; warn(m: string): void } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`) };
}

describe('graph model: human emotion (input_1 f32[-1,64,64,1] → Identity f32[N,7])', () => {
  const source = join(HUMAN_MODELS, 'emotion.json');
  let saved: SavedFlavor;
  let model: ModelDir;
  let loaded: LoadedModel;
  let direct: tf.InferenceModel & { execute(x: tf.Tensor): tf.Tensor | tf.Tensor[]; dispose(): void };
  const logger = recordingLogger();

  beforeAll(async () => {
    ({ saved, model } = await saveAndOpen({ modelJson: source }, 'emotion'));
    loaded = await tfjsFlavor.load(model, { logger });
    direct = await loadGraphModel(tf.io.fromMemory(await referenceArtifacts(source)));
  });
  afterAll(async () => {
    await loaded?.close();
    direct?.dispose();
  });

  it('copies model.json and its shard into model/ and writes the tfjs flavor block', async () => {
    expect(saved.flavors).toEqual({ tfjs: { model_type: 'graph', path: 'model', model_json: 'model.json', tfjs_version: '4.22.0' } });
    expect(await readFile(join(model.dir, 'model/model.json'), 'utf8')).toBe(await readFile(source, 'utf8'));
    expect(await readFile(join(model.dir, 'model/emotion.bin'))).toEqual(await readFile(join(HUMAN_MODELS, 'emotion.bin')));
    expect(model.mlmodel.flavors).toEqual(saved.flavors);
  });

  it('infers a tensor signature; the output shape comes from running the model once', () => {
    const expected = {
      inputs: { kind: 'tensors', specs: [{ kind: 'tensor', name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }] },
      outputs: { kind: 'tensors', specs: [{ kind: 'tensor', name: 'Identity', dtype: 'float32', shape: [-1, 7] }] },
      params: null,
    };
    expect(saved.inferredSignature).toEqual(expected);
    expect(model.mlmodel.signature).toEqual(expected);
    expect(loaded.signature).toEqual(expected);
  });

  it('loads on the wasm backend, reports it in details and logs it', () => {
    expect(loaded.flavor).toBe('tfjs');
    expect(loaded.details.backend).toBe('wasm');
    expect(loaded.details.modelType).toBe('graph');
    expect(loaded.details.execution).toBe('execute');
    expect(loaded.details.inputs).toEqual([{ name: 'input_1', dtype: 'float32', shape: [-1, 64, 64, 1] }]);
    expect(logger.lines.some((l) => l.startsWith('info: ') && l.includes('wasm backend') && l.includes(model.dir))).toBe(true);
    expect(tf.getBackend()).toBe('wasm');
  });

  for (const rows of [1, 3]) {
    it(`predicts batch ${rows} exactly like tfjs run directly`, async () => {
      const x = randomFloats(rows * 64 * 64, 1000 + rows);
      const out = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'float32', [rows, 64, 64, 1], x)])));
      expect(out).toHaveLength(1);
      const t = out[0]!;
      expect([t.name, t.dtype, t.shape]).toEqual(['Identity', 'float32', [rows, 7]]);
      const ref = tf.tidy(() => direct.execute(tf.tensor(x, [rows, 64, 64, 1])) as tf.Tensor);
      const refData = ref.dataSync();
      ref.dispose();
      expect(maxAbsDiff(t.values as Float32Array, refData)).toBeLessThanOrEqual(1e-5);
      // softmax rows: a real model output, not zeros
      for (let r = 0; r < rows; r++) {
        const row = Array.from((t.values as Float32Array).subarray(r * 7, r * 7 + 7));
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }
    });
  }

  it('takes the input by name and casts float64 and small int64 data', async () => {
    const x = randomFloats(64 * 64, 7);
    const base = tensorsOf(await loaded.predict(tensorBatch([tensor('input_1', 'float32', [1, 64, 64, 1], x)])))[0]!;
    const f64 = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'float64', [1, 64, 64, 1], Float64Array.from(x))])))[0]!;
    expect(maxAbsDiff(base.values as Float32Array, f64.values as Float32Array)).toBe(0);
    const ints = BigInt64Array.from(x, (v) => BigInt(Math.round(v * 255)));
    const viaInt = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'int64', [1, 64, 64, 1], ints)])))[0]!;
    const asFloat = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'float32', [1, 64, 64, 1], Float32Array.from(ints, Number))])))[0]!;
    expect(maxAbsDiff(viaInt.values as Float32Array, asFloat.values as Float32Array)).toBe(0);
  });

  it('rejects a wrong shape, naming the input and both shapes', async () => {
    const bad = loaded.predict(tensorBatch([tensor(null, 'float32', [1, 32, 32, 1], new Float32Array(32 * 32))]));
    await expect(bad).rejects.toThrow(TfjsInputError);
    await expect(bad).rejects.toThrow("input 'input_1': expected shape [-1, 64, 64, 1] (-1 = any size), got [1, 32, 32, 1]");
  });

  it('rejects strings and integers float32 cannot hold', async () => {
    const strs = Utf8Array.fromStrings(Array.from({ length: 64 * 64 }, () => 'a'));
    await expect(loaded.predict(tensorBatch([tensor(null, 'str', [1, 64, 64, 1], strs)]))).rejects.toThrow(
      "input 'input_1' expects float32 values, got strings (str)",
    );
    const big = new BigInt64Array(64 * 64).fill(2n ** 53n + 1n);
    await expect(loaded.predict(tensorBatch([tensor(null, 'int64', [1, 64, 64, 1], big)]))).rejects.toThrow(
      "input 'input_1' expects float32 values, got int64 values: element 0 (9007199254740993) is not exactly representable as float32",
    );
  });

  it('rejects a missing named input, naming it and the unknown one', async () => {
    const bad = loaded.predict(tensorBatch([tensor('image', 'float32', [1, 64, 64, 1], new Float32Array(64 * 64))]));
    await expect(bad).rejects.toThrow(TfjsInputError);
    await expect(bad).rejects.toThrow("missing input 'input_1'; unknown tensor 'image': the model's inputs are 'input_1'");
  });
});

describe('graph model with control flow: human handtrack (needs executeAsync)', () => {
  it('runs through executeAsync and matches tfjs run directly', async () => {
    const source = join(HUMAN_MODELS, 'handtrack.json');
    const { model } = await saveAndOpen({ modelJson: source }, 'handtrack');
    const loaded = await tfjsFlavor.load(model);
    const direct = await loadGraphModel(tf.io.fromMemory(await referenceArtifacts(source)));
    try {
      expect(loaded.details.execution).toBe('executeAsync');
      const x = Int32Array.from(randomFloats(64 * 64 * 3, 3), (v) => Math.floor(v * 256));
      const out = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'int32', [1, 64, 64, 3], x)])));
      const names = direct.outputNodes;
      expect(out.map((t) => t.name)).toEqual(names.map((n) => n.replace(/:0$/, '')));
      const input = tf.tensor(x, [1, 64, 64, 3], 'int32');
      const ref = (await direct.executeAsync(input, names)) as tf.Tensor[];
      input.dispose();
      for (const [i, r] of ref.entries()) {
        expect(out[i]!.shape).toEqual(r.shape);
        expect(maxAbsDiff(out[i]!.values as Float32Array, r.dataSync() as Float32Array)).toBeLessThanOrEqual(1e-5);
      }
      tf.dispose(ref);
    } finally {
      await loaded.close();
      direct.dispose();
    }
  });
});

describe('layers model: nsfwjs mobilenet_v2 (Keras topology, uint8-quantized weights)', () => {
  let src: string;
  beforeAll(async () => {
    // nsfwjs ships model.json and its shards as UMD modules: the JSON object and base64 strings
    src = await freshDir('nsfwjs-src');
    const json = require(join(NSFWJS_MOBILENET, 'model.min.js')) as tf.io.ModelJSON;
    await writeFile(join(src, 'model.json'), JSON.stringify(json));
    for (const p of json.weightsManifest.flatMap((g) => g.paths)) {
      const b64 = require(join(NSFWJS_MOBILENET, `${p}.min.js`)) as string;
      await writeFile(join(src, p), Buffer.from(b64, 'base64'));
    }
  });

  it('saves, loads and predicts batch 2 like tfjs run directly, as one unnamed tensor', async () => {
    const { saved, model } = await saveAndOpen({ dir: src }, 'nsfwjs');
    expect(saved.flavors.tfjs).toMatchObject({ model_type: 'layers', path: 'model', model_json: 'model.json' });
    expect(saved.inferredSignature).toEqual({
      inputs: { kind: 'tensors', specs: [{ kind: 'tensor', name: 'input_1', dtype: 'float32', shape: [-1, 224, 224, 3] }] },
      outputs: { kind: 'tensors', specs: [{ kind: 'tensor', name: null, dtype: 'float32', shape: [-1, 5] }] },
      params: null,
    });
    const loaded = await tfjsFlavor.load(model);
    const direct = await tfl.loadLayersModel(tf.io.fromMemory(await referenceArtifacts(join(src, 'model.json'))));
    try {
      expect(loaded.details).toMatchObject({ backend: 'wasm', modelType: 'layers', outputs: [{ name: 'dense_3', dtype: 'float32', shape: [-1, 5] }] });
      const x = randomFloats(2 * 224 * 224 * 3, 42);
      const out = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'float32', [2, 224, 224, 3], x)])));
      expect(out).toHaveLength(1);
      expect([out[0]!.name, out[0]!.shape]).toEqual([null, [2, 5]]);
      const ref = tf.tidy(() => direct.predict(tf.tensor(x, [2, 224, 224, 3])) as tf.Tensor);
      expect(maxAbsDiff(out[0]!.values as Float32Array, ref.dataSync() as Float32Array)).toBeLessThanOrEqual(1e-5);
      ref.dispose();
    } finally {
      await loaded.close();
      direct.dispose();
    }
  });
});

describe('a layers model built and saved here: columns, backend options, no leaks', () => {
  let net: tfl.Sequential;
  let loaded: LoadedModel;
  let model: ModelDir;

  beforeAll(async () => {
    net = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 8, inputShape: [4], activation: 'relu', name: 'hidden' }),
        tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }),
      ],
    });
    const src = await freshDir('tiny-src');
    await net.save(diskSaveHandler(src));
    ({ model } = await saveAndOpen({ dir: src }, 'tiny'));
    loaded = await tfjsFlavor.load(model, { options: { backend: 'wasm' } });
  });
  afterAll(async () => {
    await loaded?.close();
    net?.dispose();
  });

  it('round-trips through the save handler and predicts like the in-memory model', async () => {
    expect(model.mlmodel.flavors.tfjs).toMatchObject({ model_type: 'layers' });
    expect(model.mlmodel.signature?.inputs).toEqual({ kind: 'tensors', specs: [{ kind: 'tensor', name: 'hidden_input', dtype: 'float32', shape: [-1, 4] }] });
    const x = randomFloats(5 * 4, 9).map((v) => v * 4 - 2);
    const out = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'float32', [5, 4], x)])))[0]!;
    const ref = tf.tidy(() => net.predict(tf.tensor(x, [5, 4])) as tf.Tensor);
    expect(out.shape).toEqual([5, 3]);
    expect(maxAbsDiff(out.values as Float32Array, ref.dataSync() as Float32Array)).toBeLessThanOrEqual(1e-6);
    ref.dispose();
  });

  it('stacks the columns of a table into [rows, columns] for a single input', async () => {
    const x = randomFloats(6 * 4, 11);
    const cols = ['a', 'b', 'c', 'd'].map((name, j) =>
      column(
        name,
        'float64',
        Float64Array.from({ length: 6 }, (_, i) => x[i * 4 + j]!),
      ),
    );
    const fromColumns = tensorsOf(await loaded.predict(columnBatch(cols)))[0]!;
    const fromTensor = tensorsOf(await loaded.predict(tensorBatch([tensor(null, 'float32', [6, 4], x)])))[0]!;
    expect(fromColumns.shape).toEqual([6, 3]);
    expect(maxAbsDiff(fromColumns.values as Float32Array, fromTensor.values as Float32Array)).toBe(0);
    await expect(loaded.predict(columnBatch(cols.slice(0, 3)))).rejects.toThrow("input 'hidden_input': expected shape [-1, 4] (-1 = any size), got [6, 3]");
  });

  it('refuses a second backend in the same process and unknown backend names', async () => {
    await expect(tfjsFlavor.load(model, { options: { backend: 'cpu' } })).rejects.toThrow(
      "the tfjs backend of this process is already 'wasm', so a model cannot use 'cpu'",
    );
    await expect(tfjsFlavor.load(model, { options: { backend: 'gpu' } })).rejects.toThrow(`unknown tfjs backend "gpu"; use one of 'tfjs-node', 'wasm', 'cpu'`);
  });

  it('leaks no tensors and no backend memory over 10,000 predictions', async () => {
    const batch: Batch = tensorBatch([tensor(null, 'float32', [1, 4], Float32Array.of(0.5, -1, 2, 0.25))]);
    const heapBytes = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    for (let i = 0; i < 50; i++) await loaded.predict(batch);
    const before = tf.memory();
    const heapBefore = heapBytes();
    let last: Prediction | undefined;
    for (let i = 0; i < 10_000; i++) last = await loaded.predict(batch);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    expect(heapBytes()).toBe(heapBefore);
    expect(tensorsOf(last!)[0]!.shape).toEqual([1, 3]);
  });

  it('close is idempotent and later predictions fail clearly', async () => {
    const second = await tfjsFlavor.load(model);
    const tensorsBefore = tf.memory().numTensors;
    await second.close();
    await second.close();
    expect(tf.memory().numTensors).toBeLessThan(tensorsBefore);
    await expect(second.predict(tensorBatch([tensor(null, 'float32', [1, 4], new Float32Array(4))]))).rejects.toThrow('has been closed');
  });
});

describe('a layers model with two inputs and two outputs', () => {
  it('feeds inputs by name and returns every output named', async () => {
    const a = tfl.input({ shape: [2], name: 'a' });
    const b = tfl.input({ shape: [3], name: 'b' });
    const joined = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    const sum = tfl.layers.dense({ units: 1, name: 'sum' }).apply(joined) as tfl.SymbolicTensor;
    const probs = tfl.layers.dense({ units: 4, activation: 'softmax', name: 'probs' }).apply(joined) as tfl.SymbolicTensor;
    const net = tfl.model({ inputs: [a, b], outputs: [sum, probs] });
    const src = await freshDir('two-io-src');
    await net.save(diskSaveHandler(src));
    const { saved, model } = await saveAndOpen({ dir: src, signatureName: 'serving_default' }, 'two-io');
    expect(saved.flavors.tfjs).toMatchObject({ model_type: 'layers', signature_name: 'serving_default' });
    expect(model.mlmodel.signature?.outputs).toEqual({
      kind: 'tensors',
      specs: [
        { kind: 'tensor', name: 'sum', dtype: 'float32', shape: [-1, 1] },
        { kind: 'tensor', name: 'probs', dtype: 'float32', shape: [-1, 4] },
      ],
    });
    const loaded = await tfjsFlavor.load(model);
    try {
      expect(loaded.details.signatureName).toBe('serving_default');
      const xa = randomFloats(3 * 2, 5);
      const xb = randomFloats(3 * 3, 6);
      // given in the other order: matched by name
      const out = tensorsOf(await loaded.predict(tensorBatch([tensor('b', 'float32', [3, 3], xb), tensor('a', 'float32', [3, 2], xa)])));
      expect(out.map((t) => [t.name, t.shape])).toEqual([
        ['sum', [3, 1]],
        ['probs', [3, 4]],
      ]);
      const ref = tf.tidy(() => net.predict([tf.tensor(xa, [3, 2]), tf.tensor(xb, [3, 3])]) as tf.Tensor[]);
      ref.forEach((r, i) => expect(maxAbsDiff(out[i]!.values as Float32Array, r.dataSync() as Float32Array)).toBeLessThanOrEqual(1e-6));
      tf.dispose(ref);
      // a table feeds each input from the column of its name
      const table = columnBatch([
        column(
          'a',
          'object',
          [0, 1, 2].map((r) => Array.from(xa.subarray(r * 2, r * 2 + 2))),
        ),
        column(
          'b',
          'object',
          [0, 1, 2].map((r) => Array.from(xb.subarray(r * 3, r * 3 + 3))),
        ),
      ]);
      const fromTable = tensorsOf(await loaded.predict(table));
      expect(maxAbsDiff(fromTable[1]!.values as Float32Array, out[1]!.values as Float32Array)).toBe(0);
      await expect(loaded.predict(tensorBatch([tensor(null, 'float32', [3, 2], xa)]))).rejects.toThrow(
        "the model has 2 inputs ('a', 'b'); send them as named tensors, not one unnamed tensor",
      );
      await expect(loaded.predict(tensorBatch([tensor('a', 'float32', [3, 2], xa)]))).rejects.toThrow("missing input 'b': the model's inputs are 'a', 'b'");
    } finally {
      await loaded.close();
      net.dispose();
    }
  });
});

describe('broken model files', () => {
  const emotionJson = join(HUMAN_MODELS, 'emotion.json');
  const emotionBin = join(HUMAN_MODELS, 'emotion.bin');

  it('a missing shard names the shard and the model.json', async () => {
    const src = await freshDir('no-shard');
    await copyFile(emotionJson, join(src, 'model.json'));
    const out = await freshDir('out');
    const err = await tfjsFlavor.save!({ dir: src }, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TfjsModelFileError);
    expect((err as Error).message).toBe(
      `${join(src, 'model.json')}: weight shard "emotion.bin" listed in weightsManifest[0].paths is missing (looked for ${join(src, 'emotion.bin')})`,
    );
    expect(existsSync(join(out, 'model'))).toBe(false);
  });

  it('a truncated shard reports the bytes it holds and needs', async () => {
    const src = await freshDir('short-shard');
    await copyFile(emotionJson, join(src, 'emotion.json'));
    await copyFile(emotionBin, join(src, 'emotion.bin'));
    const size = (await stat(emotionBin)).size;
    await truncate(join(src, 'emotion.bin'), size - 100);
    await expect(tfjsFlavor.save!({ modelJson: join(src, 'emotion.json') }, await freshDir('out'))).rejects.toThrow(
      `weight shards "emotion.bin" hold ${size - 100} bytes, but weightsManifest[0] needs ${size} bytes for its 23 weights`,
    );
  });

  it('invalid JSON and JSON that is not a model are refused, naming the file', async () => {
    const src = await freshDir('bad-json');
    const file = join(src, 'model.json');
    await writeFile(file, '{"modelTopology": {"node": [');
    await expect(tfjsFlavor.save!({ dir: src }, await freshDir('out'))).rejects.toThrow(`${file}: is not valid JSON (`);
    await writeFile(file, JSON.stringify({ hello: 'world' }));
    await expect(tfjsFlavor.save!({ dir: src }, await freshDir('out'))).rejects.toThrow(
      `${file}: is not a TensorFlow.js model.json: it has no "modelTopology"`,
    );
    await writeFile(file, JSON.stringify([{ paths: ['x.bin'], weights: [] }]));
    await expect(tfjsFlavor.save!({ dir: src }, await freshDir('out'))).rejects.toThrow('a bare weights manifest without a model topology');
    await writeFile(file, JSON.stringify({ modelTopology: { something: 1 }, weightsManifest: [] }));
    await expect(tfjsFlavor.save!({ dir: src }, await freshDir('out'))).rejects.toThrow('cannot tell whether this is a graph or a layers model');
    await expect(tfjsFlavor.save!({ dir: join(src, 'nowhere') }, await freshDir('out'))).rejects.toThrow(
      `${join(src, 'nowhere', 'model.json')}: TensorFlow.js model.json not found`,
    );
  });

  it('a graph with an op tfjs lacks is refused at save (loading alone does not notice)', async () => {
    const src = await freshDir('bad-op');
    const j = JSON.parse(await readFile(emotionJson, 'utf8')) as { modelTopology: { node: { op: string }[] } };
    j.modelTopology.node.find((n) => n.op === 'Softmax')!.op = 'NoSuchOp';
    await writeFile(join(src, 'model.json'), JSON.stringify(j));
    await copyFile(emotionBin, join(src, 'emotion.bin'));
    await expect(tfjsFlavor.save!({ dir: src }, await freshDir('out'))).rejects.toThrow(
      `${join(src, 'model.json')}: TensorFlow.js loaded this graph model but cannot run it on zeros of its declared input shapes: Unknown op 'NoSuchOp'`,
    );
  });

  it('a saved model whose shard went missing fails to load, naming the shard', async () => {
    const { model } = await saveAndOpen({ modelJson: emotionJson }, 'emotion-broken');
    await rm(join(model.dir, 'model/emotion.bin'));
    await expect(tfjsFlavor.load(model)).rejects.toThrow(`weight shard "emotion.bin" listed in weightsManifest[0].paths is missing`);
  });

  it('an MLmodel whose model_type disagrees with model.json is refused', async () => {
    const { model } = await saveAndOpen({ modelJson: emotionJson }, 'emotion-mistyped');
    model.mlmodel.flavors.tfjs = { ...model.mlmodel.flavors.tfjs, model_type: 'layers' };
    await expect(tfjsFlavor.load(model)).rejects.toThrow("at flavors.tfjs.model_type: says model_type 'layers', but");
    model.mlmodel.flavors.tfjs = { ...model.mlmodel.flavors.tfjs, model_type: 'keras' };
    await expect(tfjsFlavor.load(model)).rejects.toThrow("at flavors.tfjs.model_type: must be 'graph' or 'layers', got \"keras\"");
  });
});
