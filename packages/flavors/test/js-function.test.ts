import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  columnBatch,
  columnFromValues,
  createMLmodel,
  openModelDir,
  parseMLmodel,
  serializeMLmodel,
  tensorFromNested,
  writeMLmodel,
  type ColumnBatch,
  type Utf8Array,
  type ModelSignature,
  type Prediction,
} from '@mlmodel/format';
import { FlavorRegistry } from '../src/registry.js';
import type { LoadedModel, SaveContext } from '../src/flavor.js';
import { JsFunctionError, ModelPredictError, jsFunctionFlavor, type JsFunctionSaveInput } from '../src/js-function/index.js';

const MODELS = fileURLToPath(new URL('./js-models/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-jsfn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function freshDir(name: string): string {
  const dir = join(tmp, `${name}-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Save with the flavor, then write the MLmodel file the way a build does. */
async function saveModel(input: JsFunctionSaveInput, name: string, signature: ModelSignature | null = null, context?: SaveContext): Promise<string> {
  const dir = freshDir(name);
  const saved = await jsFunctionFlavor.save!(input, dir, context);
  await writeMLmodel(dir, createMLmodel({ flavors: saved.flavors, signature }));
  return dir;
}

async function loadDir(dir: string, options?: Parameters<typeof jsFunctionFlavor.load>[1]): Promise<LoadedModel> {
  const model = await openModelDir(dir);
  expect(jsFunctionFlavor.canLoad(model)).toBe(true);
  return jsFunctionFlavor.load(model, options);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

function column(p: Prediction, name: string): ColumnBatch['columns'][number] {
  if (p.kind !== 'columns') throw new Error(`expected columns, got ${p.kind}`);
  const c = p.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
}

const pricingInput = (plans: string[], qty: bigint[]): ColumnBatch =>
  columnBatch([columnFromValues('plan', plans, 'str'), columnFromValues('qty', qty, 'int64')]);

describe('js_function: a business-logic model', () => {
  const pricing = {
    modulePath: join(MODELS, 'pricing/model.mjs'),
    artifacts: { prices: join(MODELS, 'pricing/prices.json') },
    config: { bulk_qty: 10, bulk_discount: 0.2 },
  };

  it('saves module, artifact and config, and writes the documented flavor block', async () => {
    const dir = freshDir('pricing-save');
    const saved = await jsFunctionFlavor.save!(pricing, dir);
    expect(saved.flavors).toEqual({
      js_function: {
        entry: 'code/model.mjs',
        code: 'code',
        artifacts: { prices: { path: 'artifacts/prices' } },
        config: { bulk_qty: 10, bulk_discount: 0.2 },
        node_version: process.versions.node,
      },
    });
    expect(saved.flavors.python_function).toBeUndefined();
    expect(listFiles(dir)).toEqual(['artifacts/prices', 'code/model.mjs', 'code/package.json']);
    expect(readFileSync(join(dir, 'artifacts/prices'), 'utf8')).toBe(readFileSync(pricing.artifacts.prices, 'utf8'));
    // the block survives the MLmodel file (PyYAML-style YAML) unchanged
    const text = serializeMLmodel(createMLmodel({ flavors: saved.flavors }));
    expect(parseMLmodel(text).flavors.js_function).toEqual(saved.flavors.js_function);
  });

  it('loads from the model directory and predicts a computed float64 column', async () => {
    const dir = await saveModel(pricing, 'pricing');
    const logged: string[] = [];
    const model = await loadDir(dir, { logger: { info: (m) => logged.push(m), warn: (m) => logged.push(`warn: ${m}`) } });
    try {
      expect(model.flavor).toBe('js_function');
      expect(model.capabilities?.acceptsJson).toBe(true);
      expect(model.details).toEqual({ entry: 'code/model.mjs', artifacts: ['prices'] });
      expect(logged).toEqual(['pricing model: 3 plans']);

      const out = await model.predict(pricingInput(['basic', 'pro', 'team', 'pro'], [2n, 10n, 1n, 0n]));
      const total = column(out, 'total');
      expect(total.dtype).toBe('float64');
      expect(total.values).toBeInstanceOf(Float64Array);
      expect(Array.from(total.values as Float64Array)).toEqual([19, 29 * 10 * 0.8, 99, 0]);
      expect((column(out, 'plan').values as Utf8Array).toArray()).toEqual(['basic', 'pro', 'team', 'pro']);

      // params reach predict
      const eur = await model.predict(pricingInput(['basic'], [4n]), { fx_rate: 0.5 });
      expect(Array.from(column(eur, 'total').values as Float64Array)).toEqual([19]);
    } finally {
      await model.close();
    }
  });

  it('takes the signature from MLmodel and lets the load options override the model config', async () => {
    const signature: ModelSignature = {
      inputs: {
        kind: 'columns',
        specs: [
          { kind: 'column', type: 'string', name: 'plan', required: true },
          { kind: 'column', type: 'long', name: 'qty', required: true },
        ],
      },
      outputs: null,
      params: [{ name: 'fx_rate', type: 'double', default: 1, shape: null }],
    };
    const dir = await saveModel(pricing, 'pricing-sig', signature);
    const model = await loadDir(dir, { options: { modelConfig: { bulk_discount: 0.5 } } });
    try {
      expect(model.signature).toEqual(signature);
      const out = await model.predict(pricingInput(['pro'], [10n]));
      expect(Array.from(column(out, 'total').values as Float64Array)).toEqual([145]);
    } finally {
      await model.close();
    }
  });
});

describe('js_function: code paths and relative imports', () => {
  it('keeps relative imports working from another cwd after the source directory is gone', async () => {
    const src = freshDir('relative-src');
    cpSync(join(MODELS, 'relative'), src, { recursive: true });
    const out = freshDir('relative-out');
    const before = process.cwd();
    try {
      process.chdir(src);
      const saved = await jsFunctionFlavor.save!({ modulePath: 'model.js', codePaths: ['lib'], config: { unit: 'K' } }, out);
      await writeMLmodel(out, createMLmodel({ flavors: saved.flavors }));
    } finally {
      process.chdir(before);
    }
    expect(listFiles(out)).toEqual(['MLmodel', 'code/lib/helpers.mjs', 'code/lib/units.js', 'code/model.js', 'code/package.json']);
    // model.js and units.js are ES modules because their package says so; the copy says it too
    expect(JSON.parse(readFileSync(join(out, 'code/package.json'), 'utf8'))).toEqual({ private: true, type: 'module' });

    rmSync(src, { recursive: true });
    const elsewhere = freshDir('elsewhere');
    process.chdir(elsewhere);
    let model: LoadedModel | undefined;
    try {
      model = await loadDir(out);
      const p = await model.predict(columnBatch([columnFromValues('celsius', [0, 100], 'float64')]));
      expect(p).toEqual({ kind: 'json', value: ['273.1 K', '373.1 K'] });
    } finally {
      process.chdir(before);
      await model?.close();
    }
  });

  it('copies the module directory when it is the code path, leaving out the model being written inside it', async () => {
    const src = freshDir('whole-dir');
    cpSync(join(MODELS, 'relative'), src, { recursive: true });
    const out = join(src, 'build', 'model');
    mkdirSync(out, { recursive: true });
    const saved = await jsFunctionFlavor.save!({ modulePath: join(src, 'model.js'), codePaths: [src], config: { unit: 'C' } }, out);
    expect(saved.flavors.js_function!.entry).toBe('code/model.js');
    // the source's own package.json was copied, build/ (holding the output) was not
    expect(listFiles(join(out, 'code'))).toEqual(['lib/helpers.mjs', 'lib/units.js', 'model.js', 'package.json']);
    expect(readFileSync(join(out, 'code/package.json'), 'utf8')).toBe(readFileSync(join(src, 'package.json'), 'utf8'));
  });

  it('follows symlinks that stay inside the module directory', async () => {
    const src = freshDir('links-in');
    cpSync(join(MODELS, 'relative'), src, { recursive: true });
    rmSync(join(src, 'lib/units.js'));
    mkdirSync(join(src, 'shared'));
    cpSync(join(MODELS, 'relative/lib/units.js'), join(src, 'shared/units.js'));
    symlinkSync('../shared/units.js', join(src, 'lib/units.js'));
    const dir = await saveModel({ modulePath: join(src, 'model.js'), codePaths: [join(src, 'lib')] }, 'links-in');
    const model = await loadDir(dir);
    try {
      expect(await model.predict(columnBatch([columnFromValues('celsius', [100], 'float64')]))).toEqual({ kind: 'json', value: ['212.0 °F'] });
    } finally {
      await model.close();
    }
  });

  it('refuses a code path outside the module directory', async () => {
    const src = freshDir('outside');
    cpSync(join(MODELS, 'relative'), join(src, 'app'), { recursive: true });
    mkdirSync(join(src, 'vendor'));
    writeFileSync(join(src, 'vendor/x.mjs'), 'export const x = 1;\n');
    const out = freshDir('outside-out');
    const err = await jsFunctionFlavor.save!({ modulePath: join(src, 'app/model.js'), codePaths: [join(src, 'app/lib'), join(src, 'vendor')] }, out).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JsFunctionError);
    expect((err as Error).message).toContain(`code path ${join(src, 'vendor')}`);
    expect((err as Error).message).toContain(`is outside the model module's directory ${join(src, 'app')}`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a symlink inside a code path or artifact that points outside it', async () => {
    const src = freshDir('links-out');
    cpSync(join(MODELS, 'relative'), join(src, 'app'), { recursive: true });
    writeFileSync(join(src, 'secret.txt'), 'do not ship\n');
    symlinkSync(join(src, 'secret.txt'), join(src, 'app/lib/secret.txt'));
    const out = freshDir('links-out-out');
    await expect(jsFunctionFlavor.save!({ modulePath: join(src, 'app/model.js'), codePaths: [join(src, 'app/lib')] }, out)).rejects.toThrow(
      `is a symlink to ${join(src, 'secret.txt')}, outside ${join(src, 'app')}`,
    );
    expect(readdirSync(out)).toEqual([]);

    mkdirSync(join(src, 'data'));
    writeFileSync(join(src, 'data/table.json'), '{}');
    symlinkSync(join(src, 'secret.txt'), join(src, 'data/secret.txt'));
    await expect(jsFunctionFlavor.save!({ modulePath: join(MODELS, 'pricing/model.mjs'), artifacts: { prices: join(src, 'data') } }, out)).rejects.toThrow(
      `artifact 'prices': ${join(src, 'data/secret.txt')} is a symlink to ${join(src, 'secret.txt')}, outside ${join(src, 'data')}`,
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it('says which import is missing from the saved copy', async () => {
    const out = freshDir('missing-import');
    const err = await jsFunctionFlavor.save!({ modulePath: join(MODELS, 'errors/imports-missing.mjs') }, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsFunctionError);
    expect((err as Error).message).toMatch(/cannot import model module .*imports-missing\.mjs: .*not-listed\/helper\.mjs/);
    expect((err as Error).message).toContain('add the imported file or its directory to codePaths');
    expect(readdirSync(out)).toEqual([]);

    // listing it fixes the model
    const dir = await saveModel(
      { modulePath: join(MODELS, 'errors/imports-missing.mjs'), codePaths: [join(MODELS, 'errors/not-listed')] },
      'missing-import-fixed',
    );
    const model = await loadDir(dir);
    expect(await model.predict({ kind: 'json', value: null })).toEqual({ kind: 'json', value: 'helped' });
    await model.close();
  });
});

describe('js_function: wrapping an inner model', () => {
  it('post-processes the MLflow iris ONNX model loaded through the registry', async () => {
    const { onnxFlavor } = await import('../src/onnx/index.js');
    const registry = new FlavorRegistry().register(jsFunctionFlavor).register(onnxFlavor);
    // the registry hands js_function a loader for inner models in the load options
    {
      const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
        cases: { iris_onnx: { request: { inputs: number[][] }; predictions: { probabilities: number[][]; label: number[] } }[] };
      };
      const [{ request, predictions }] = golden.cases.iris_onnx as [(typeof golden.cases.iris_onnx)[number]];
      const dir = await saveModel(
        {
          modulePath: join(MODELS, 'iris-wrapper/model.mjs'),
          artifacts: { inner: join(FIXTURES, 'iris_onnx') },
          config: { class_names: ['setosa', 'versicolor', 'virginica'] },
        },
        'iris-wrapper',
        null,
        { loadModel: (path, opts) => registry.load(path, opts) },
      );
      expect(existsSync(join(dir, 'artifacts/inner/model.onnx'))).toBe(true);
      expect(existsSync(join(dir, 'artifacts/inner/MLmodel'))).toBe(true);

      const model = await registry.load(dir);
      expect(model.flavor).toBe('js_function');
      try {
        const out = await model.predict({ kind: 'tensors', tensors: [tensorFromNested(null, request.inputs, 'float32')] });
        expect((column(out, 'class').values as Utf8Array).toArray()).toEqual(['setosa', 'versicolor', 'virginica']);
        const confidence = Array.from(column(out, 'confidence').values as Float64Array);
        const expected = predictions.label.map((l, i) => predictions.probabilities[i]![l]!);
        confidence.forEach((c, i) => expect(c).toBeCloseTo(expected[i]!, 5));
      } finally {
        await model.close();
      }
      // the inner ONNX session was closed with the wrapper: a closed model refuses to predict
      await expect(model.predict({ kind: 'tensors', tensors: [tensorFromNested(null, request.inputs, 'float32')] })).rejects.toThrow(/is closed/);
    }
  });

  it('takes the inner loader from the load options, and explains when there is none', async () => {
    const dir = await saveModel(
      {
        modulePath: join(MODELS, 'iris-wrapper/model.mjs'),
        artifacts: { inner: join(FIXTURES, 'iris_onnx') },
        config: { class_names: ['a', 'b', 'c'] },
        validate: false,
      },
      'iris-no-loader',
    );
    await expect(loadDir(dir)).rejects.toThrow(`context.loadModel("inner") in ${join(dir, 'code/model.mjs')}: no inner model loader is set`);

    const seen: string[] = [];
    const { onnxFlavor } = await import('../src/onnx/index.js');
    const model = await loadDir(dir, {
      loadModel: async (path: string) => {
        seen.push(path);
        return onnxFlavor.load(await openModelDir(path));
      },
    });
    try {
      expect(seen).toEqual([join(dir, 'artifacts/inner')]);
      const out = await model.predict({ kind: 'tensors', tensors: [tensorFromNested(null, [[5.1, 3.5, 1.4, 0.2]], 'float32')] });
      expect((column(out, 'class').values as Utf8Array).toArray()).toEqual(['a']);
    } finally {
      await model.close();
    }
  });
});

describe('js_function: module contract and errors', () => {
  it('accepts a default export with load, and passes raw JSON input through', async () => {
    const dir = await saveModel({ modulePath: join(MODELS, 'relative/model.js'), codePaths: [join(MODELS, 'relative/lib')] }, 'default-export');
    const model = await loadDir(dir);
    try {
      expect(await model.predict(columnBatch([columnFromValues('celsius', [-40], 'float64')]))).toEqual({ kind: 'json', value: ['-40.0 °F'] });
    } finally {
      await model.close();
    }
  });

  it('rejects a module without load, naming the file and its exports', async () => {
    const out = freshDir('no-load');
    const err = await jsFunctionFlavor.save!({ modulePath: join(MODELS, 'errors/no-load.mjs') }, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsFunctionError);
    expect((err as Error).message).toBe(
      `model module ${join(MODELS, 'errors/no-load.mjs')} does not export a load function: export \`async function load(context)\` returning ` +
        '{ predict(input, params) }, or a default export with such a load (its exports: predict, version)',
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it('rejects a load that returns no predict', async () => {
    const err = await jsFunctionFlavor.save!({ modulePath: join(MODELS, 'errors/no-predict.mjs') }, freshDir('no-predict')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsFunctionError);
    expect((err as Error).message).toContain('no-predict.mjs returned an object without a predict method (its keys: run)');
  });

  it('reports a module that throws on import with its message', async () => {
    const err = await jsFunctionFlavor.save!({ modulePath: join(MODELS, 'errors/throws-on-import.mjs') }, freshDir('import-throws')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsFunctionError);
    expect((err as Error).message).toBe(
      `cannot import model module ${join(MODELS, 'errors/throws-on-import.mjs')}: MLMODEL_TEST_NEVER_SET is not set: cannot reach the pricing service`,
    );
  });

  it('refuses TypeScript and other non-ES-module files', async () => {
    await expect(jsFunctionFlavor.save!({ modulePath: join(MODELS, 'model.ts') }, freshDir('ts'))).rejects.toThrow(/is TypeScript.*compile it to JavaScript/);
    await expect(jsFunctionFlavor.save!({ modulePath: join(MODELS, 'pricing/prices.json') }, freshDir('json'))).rejects.toThrow(
      /must be an ES module file ending in \.mjs or \.js, got '\.json'/,
    );
  });

  it('names a missing artifact and leaves nothing behind', async () => {
    const out = freshDir('missing-artifact');
    const missing = join(MODELS, 'pricing/no-such-table.json');
    const err = await jsFunctionFlavor.save!({ modulePath: join(MODELS, 'pricing/model.mjs'), artifacts: { prices: missing } }, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsFunctionError);
    expect((err as Error).message).toBe(`artifact 'prices': ${missing} does not exist`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses to overwrite and rejects a config that is not JSON', async () => {
    const out = freshDir('overwrite');
    mkdirSync(join(out, 'code'));
    await expect(jsFunctionFlavor.save!({ modulePath: join(MODELS, 'errors/modes.mjs') }, out)).rejects.toThrow(`refusing to overwrite ${join(out, 'code')}`);
    expect(readdirSync(out)).toEqual(['code']);
    await expect(jsFunctionFlavor.save!({ modulePath: join(MODELS, 'errors/modes.mjs'), config: { at: new Date() } }, freshDir('cfg'))).rejects.toThrow(
      /config must be a plain object of JSON values/,
    );
  });

  it('keeps the message of an error thrown by predict, and keeps working', async () => {
    const dir = await saveModel({ modulePath: join(MODELS, 'errors/modes.mjs') }, 'modes');
    const model = await loadDir(dir);
    const input = columnBatch([columnFromValues('x', [1, 2], 'float64')]);
    try {
      const err = await model.predict(input, { mode: 'throw', threshold: 3 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelPredictError);
      const e = err as ModelPredictError;
      expect(e.message).toBe(`js_function model ${join(dir, 'code/modes.mjs')}: predict failed: threshold must be in [0, 1], got 3`);
      expect(e.errorCode).toBe('BAD_REQUEST');
      expect(e.cause).toBeInstanceOf(RangeError);
      expect(e.stackTrace).toMatch(/RangeError: threshold must be in \[0, 1\], got 3\n\s+at .*modes\.mjs/);

      const s = await model.predict(input, { mode: 'throw-string' }).catch((x: unknown) => x);
      expect((s as Error).message).toMatch(/predict failed: plain string failure$/);
      expect((s as ModelPredictError).stackTrace).toBeUndefined();

      // the model state survived: this is its third call
      expect(await model.predict(input, {})).toEqual({ kind: 'json', value: { calls: 3, input_kind: 'columns' } });
      expect(await model.predict({ kind: 'json', value: { a: 1 } }, { mode: 'echo' })).toEqual({ kind: 'json', value: { a: 1 } });
      expect(await model.predict(input, { mode: 'echo' })).toBe(input);
    } finally {
      await model.close();
    }
  });

  it('rejects outputs that cannot be sent, naming the problem', async () => {
    const dir = await saveModel({ modulePath: join(MODELS, 'errors/modes.mjs') }, 'modes-out');
    const model = await loadDir(dir);
    const input = columnBatch([columnFromValues('x', [1], 'float64')]);
    try {
      await expect(model.predict(input, { mode: 'bad-batch' })).rejects.toThrow(
        'predict returned an invalid ColumnBatch: column "score" has 2 values, expected numRows = 3',
      );
      await expect(model.predict(input, { mode: 'wrong-storage' })).rejects.toThrow(
        'predict returned an invalid TensorBatch: tensors[0]: dtype float32 needs a Float32Array, got Array',
      );
      await expect(model.predict(input, { mode: 'typed-array' })).rejects.toThrow(/predict returned a Float32Array; wrap typed arrays in a TensorBatch/);
      await expect(model.predict(input, { mode: 'nothing' })).rejects.toThrow(ModelPredictError);
      await expect(model.predict(input, { mode: 'nothing' })).rejects.toThrow(/predict returned undefined/);
    } finally {
      await model.close();
    }
  });

  it('calls the module close once, however often the model is closed', async () => {
    const log = join(freshDir('close'), 'close.log');
    const dir = await saveModel({ modulePath: join(MODELS, 'errors/modes.mjs'), config: { close_log: log } }, 'close');
    // save validated the module by loading and closing it once
    expect(readFileSync(log, 'utf8')).toBe('closed\n');
    const model = await loadDir(dir);
    await Promise.all([model.close(), model.close()]);
    await model.close();
    expect(readFileSync(log, 'utf8')).toBe('closed\nclosed\n');
    await expect(model.predict(columnBatch([]), {})).rejects.toThrow(/is closed/);
  });

  it('loads two copies of one model directory independently', async () => {
    const a = await saveModel({ modulePath: join(MODELS, 'errors/modes.mjs') }, 'copy-a');
    const b = freshDir('copy-b');
    cpSync(a, b, { recursive: true });
    const [ma, ma2, mb] = [await loadDir(a), await loadDir(a), await loadDir(b)];
    const input = columnBatch([]);
    try {
      await ma.predict(input, {});
      await ma.predict(input, {});
      // each load has its own predictor state, whether from the same directory or a copy
      expect(await ma.predict(input, {})).toEqual({ kind: 'json', value: { calls: 3, input_kind: 'columns' } });
      expect(await ma2.predict(input, {})).toEqual({ kind: 'json', value: { calls: 1, input_kind: 'columns' } });
      expect(await mb.predict(input, {})).toEqual({ kind: 'json', value: { calls: 1, input_kind: 'columns' } });
    } finally {
      await Promise.all([ma.close(), ma2.close(), mb.close()]);
    }
  });

  it('explains a model directory whose module or artifact went missing', async () => {
    const dir = await saveModel({ modulePath: join(MODELS, 'pricing/model.mjs'), artifacts: { prices: join(MODELS, 'pricing/prices.json') } }, 'broken');
    rmSync(join(dir, 'artifacts/prices'));
    await expect(loadDir(dir)).rejects.toThrow(
      `${join(dir, 'MLmodel')} at flavors.js_function.artifacts.prices.path: artifact 'prices' (artifacts/prices) is missing from the model directory`,
    );
    rmSync(join(dir, 'code/model.mjs'));
    await expect(loadDir(dir)).rejects.toThrow(/at flavors\.js_function\.entry: the model module code\/model\.mjs is missing/);
  });
});
