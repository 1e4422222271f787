/**
 * The model runner: opening sources (directory, MLmodel file, file: URI, remote URIs through a
 * resolver), typed capabilities, flavor-checked load options, and its decode → prepare → predict →
 * encode → close steps, on real models saved by MLflow 3.5 (onnxruntime and the Python bridge).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlmodelError, ScoringRequestError, SchemaEnforcementError, type ModelUri, type TensorBatch } from '@mlmodel/format';
import { FlavorOptionError, ModelRunner, PredictCancelledError, createRegistry, type LoadedModel } from '../src/index.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const IRIS_ONNX = join(FIXTURES, 'iris_onnx');
const GOLDEN = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
  cases: { iris_onnx: { request: unknown; predictions: { label: number[] } }[] };
};
const REQUEST = new TextEncoder().encode(JSON.stringify(GOLDEN.cases.iris_onnx[0]!.request));
const JSON_CT = 'application/json';

describe('ModelRunner: opening a model', () => {
  it('opens a directory, its MLmodel file and a file: URI alike, and states the capabilities', async () => {
    const registry = createRegistry();
    for (const source of [IRIS_ONNX, join(IRIS_ONNX, 'MLmodel'), pathToFileURL(IRIS_ONNX).href]) {
      const runner = await ModelRunner.open(source, { registry });
      try {
        expect(runner.dir.dir).toBe(IRIS_ONNX);
        expect(runner.flavor).toBe('onnx');
        expect(runner.signature?.inputs?.kind).toBe('tensors');
        expect(runner.capabilities).toEqual({ maxConcurrency: 1, acceptsJson: false, signatureFromTypeHint: false, batchable: true });
      } finally {
        await runner.close();
      }
    }
  });

  it('hands remote model URIs to the resolver hook, and explains when none can resolve them', async () => {
    const registry = createRegistry();
    const seen: [ModelUri['kind'], string][] = [];
    const resolver = async (uri: Exclude<ModelUri, { kind: 'local' }>, raw: string): Promise<string | null> => {
      seen.push([uri.kind, raw]);
      return uri.kind === 'run' && uri.runId === 'abc123' ? IRIS_ONNX : null;
    };
    const runner = await ModelRunner.open('runs:/abc123/model', { registry, resolver });
    try {
      expect(seen).toEqual([['run', 'runs:/abc123/model']]);
      expect(runner.dir.dir).toBe(IRIS_ONNX);
      const { prediction } = await runner.score(REQUEST, JSON_CT);
      expect(Array.from((prediction as TensorBatch).tensors.find((t) => t.name === 'label')!.values as BigInt64Array, Number)).toEqual(
        GOLDEN.cases.iris_onnx[0]!.predictions.label,
      );
    } finally {
      await runner.close();
    }
    // a URI the resolver declines, and any remote URI without a resolver: the same actionable error
    await expect(ModelRunner.open('models:/iris/3', { registry, resolver })).rejects.toThrow(/models:\/iris\/3 is not a local model; download it first/);
    await expect(ModelRunner.open('runs:/abc123/model', { registry })).rejects.toThrow(/runs:\/abc123\/model is not a local model/);
  });

  it('passes load options to the flavor, which checks them (strings from a command line included)', async () => {
    const registry = createRegistry();
    expect(() => registry.checkOptions({ workers: '0' })).toThrow(FlavorOptionError);
    expect(() => registry.checkOptions({ workers: '0' })).toThrow('--python-workers must be a positive integer, got 0');
    expect(() => registry.checkOptions({ envManager: 'pip' })).toThrow('--env-manager must be local, virtualenv, uv or conda, got pip');
    expect(() => registry.checkOptions({ intraOpNumThreads: 'many' })).toThrow(/onnx load option intraOpNumThreads: expected a non-negative integer/);
    expect(() => registry.checkOptions({ backend: 'gpu-please' })).toThrow(/unknown tfjs backend "gpu-please"/);
    expect(() => registry.checkOptions({ workers: '2', envManager: 'local', intraOpNumThreads: 1, backend: 'wasm', somePluginOption: true })).not.toThrow();
    expect(registry.optionFlags().map((f) => [f.flag, f.option])).toEqual([
      ['--python <path>', 'python'],
      ['--python-workers <n>', 'workers'],
      ['--env-manager <name>', 'envManager'],
    ]);
    const runner = await ModelRunner.open(IRIS_ONNX, { registry, options: { intraOpNumThreads: 1 } });
    try {
      expect(runner.model.details.sessionOptions).toMatchObject({ intraOpNumThreads: 1 });
    } finally {
      await runner.close();
    }
  });
});

describe('ModelRunner: the steps', () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    runner = await ModelRunner.open(IRIS_ONNX, { registry: createRegistry() });
  });
  afterAll(() => runner.close());

  it('decode → prepare → predict → encode equals score, and matches the golden predictions', async () => {
    const decoded = await runner.decode(REQUEST, JSON_CT);
    expect(decoded.format).toBe('inputs');
    expect(decoded.params).toBeNull();
    const prepared = runner.prepare(decoded.input, decoded.params);
    expect(prepared.params).toEqual({});
    const encoded = await runner.encode(await runner.predict(prepared));
    expect(encoded.contentType).toBe('application/json');
    const scored = await runner.score(REQUEST, JSON_CT);
    expect(scored.body).toBe(encoded.body);
    const labels = (JSON.parse(encoded.body as string) as { predictions: { label: number[] } }).predictions.label;
    expect(labels).toEqual(GOLDEN.cases.iris_onnx[0]!.predictions.label);
  });

  it('encodes Arrow IPC when the Accept header prefers it', async () => {
    const scored = await runner.score(REQUEST, JSON_CT, { accept: 'application/vnd.apache.arrow.stream' });
    expect(scored.contentType).toBe('application/vnd.apache.arrow.stream');
    const { tableFromIPC } = await import('apache-arrow');
    const table = tableFromIPC(scored.body as Uint8Array);
    expect(table.numRows).toBe(GOLDEN.cases.iris_onnx[0]!.predictions.label.length);
    expect(Array.from(table.getChild('label')!.toArray() as BigInt64Array, Number)).toEqual(GOLDEN.cases.iris_onnx[0]!.predictions.label);
  });

  it('applies the decode limits and the signature, with the errors the server answers', async () => {
    await expect(runner.decode(REQUEST, JSON_CT, { maxBytes: 10 })).rejects.toSatisfy((e: unknown) => e instanceof ScoringRequestError && e.httpStatus === 413);
    await expect(runner.decode(REQUEST, 'text/html')).rejects.toSatisfy((e: unknown) => e instanceof ScoringRequestError && e.httpStatus === 415);
    const wrongShape = await runner.decode(new TextEncoder().encode('{"inputs": [[1, 2, 3]]}'), JSON_CT);
    expect(() => runner.prepare(wrongShape.input, null)).toThrow(SchemaEnforcementError);
    expect(() => runner.prepare({ kind: 'json', value: { anything: 1 } }, null)).toThrow(/this onnx model takes tabular or tensor input/);
  });

  it('does not call the model for a request its caller gave up', async () => {
    let calls = 0;
    const counting: LoadedModel = {
      ...runner.model,
      flavor: runner.model.flavor,
      signature: runner.model.signature,
      details: {},
      predict: async (input, params) => {
        calls++;
        return runner.model.predict(input, params);
      },
      close: async () => undefined,
    };
    const r = ModelRunner.fromLoaded(runner.dir, counting);
    const prepared = r.prepare((await r.decode(REQUEST, JSON_CT)).input, null);
    const controller = new AbortController();
    controller.abort();
    await expect(r.predict(prepared, controller.signal)).rejects.toBeInstanceOf(PredictCancelledError);
    expect(calls).toBe(0);
    await r.predict(prepared, { aborted: false });
    expect(calls).toBe(1);
  });

  it('closes once, and refuses to predict afterwards', async () => {
    const r = await ModelRunner.open(IRIS_ONNX, { registry: createRegistry() });
    const prepared = r.prepare((await r.decode(REQUEST, JSON_CT)).input, null);
    const first = r.close();
    expect(r.close()).toBe(first);
    await first;
    await expect(r.predict(prepared)).rejects.toSatisfy((e: unknown) => e instanceof MlmodelError && /is closed/.test(e.message));
  });
});

describe('ModelRunner: capabilities of a Python model', () => {
  it('takes its concurrency from the worker count the flavor parsed (a string from the command line)', async () => {
    const runner = await ModelRunner.open(join(FIXTURES, 'iris_sklearn'), {
      registry: createRegistry(),
      options: { python: '/usr/bin/python3', workers: '2' },
    });
    try {
      expect(runner.capabilities).toEqual({ maxConcurrency: 2, acceptsJson: false, signatureFromTypeHint: false, batchable: false });
      expect(runner.model.details.workers).toBe(2);
      const out = await runner.score(
        new TextEncoder().encode(
          '{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": [[5.1, 3.5, 1.4, 0.2]]}}',
        ),
        JSON_CT,
      );
      expect(out.body).toBe('{"predictions": [0]}');
    } finally {
      await runner.close();
    }
  });
});
