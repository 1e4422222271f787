import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createMLmodel, openModelDir, writeMLmodel } from '@mlmodel/format';

import { FlavorError, ModelRunner, createRegistry } from '../src/index.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
const PLUGINS = fileURLToPath(new URL('./plugins/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-registry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function modelWith(flavors: Record<string, Record<string, unknown>>, name: string): Promise<string> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  await writeMLmodel(dir, createMLmodel({ flavors }));
  return dir;
}

describe('flavor registry', () => {
  it('tries native flavors in order (onnx, tfjs, js_function), python_function last', () => {
    expect(createRegistry().names()).toEqual(['onnx', 'tfjs', 'js_function', 'python_function']);
  });

  it('picks onnx for a model MLflow saved with onnx + python_function', async () => {
    const model = await openModelDir(join(FIXTURES, 'iris_onnx'));
    expect(createRegistry().pick(model).name).toBe('onnx');
  });

  it('falls back to python_function for Python models', async () => {
    const model = await openModelDir(join(FIXTURES, 'iris_sklearn'));
    expect(createRegistry().pick(model).name).toBe('python_function');
  });

  it('explains when no flavor can load a model', async () => {
    const model = await openModelDir(await modelWith({ h2o: { data: 'model.zip' } }, 'h2o-model'));
    expect(() => createRegistry().pick(model)).toThrow(FlavorError);
    expect(() => createRegistry().pick(model)).toThrow(/has flavors h2o, and mlmodel supports onnx, tfjs, js_function, python_function/);
  });

  it('--flavor overrides the choice and is checked', async () => {
    const model = await openModelDir(join(FIXTURES, 'iris_onnx'));
    const r = createRegistry();
    expect(() => r.pick(model, 'tfjs')).toThrow(/flavor 'tfjs' cannot load .* the model has flavors onnx, python_function/);
    expect(() => r.pick(model, 'nope')).toThrow(/unknown flavor 'nope'/);
  });

  it('loads a third-party flavor plugin from a module path and uses it first', async () => {
    const r = createRegistry();
    const f = await r.loadPlugin(join(PLUGINS, 'echo-flavor.mjs'));
    expect(f.name).toBe('echo');
    expect(r.names()[0]).toBe('echo');
    const dir = await modelWith({ echo: { greeting: 'hi' } }, 'echo-model');
    const runner = await ModelRunner.open(dir, { registry: r });
    expect(runner.model.details).toEqual({ greeting: 'hi' });
    const { prediction } = await runner.score(new TextEncoder().encode('{"dataframe_records": [{"a": 1}, {"a": 2}]}'), 'application/json');
    expect(prediction).toEqual({ kind: 'json', value: { rows: 2 } });
    await runner.close();
  });

  it('rejects modules that are not flavors, and modules that do not exist', async () => {
    const r = createRegistry();
    await expect(r.loadPlugin(join(PLUGINS, 'not-a-flavor.mjs'))).rejects.toThrow(
      /is not a flavor plugin: export an object with name, canLoad\(\) and load\(\)/,
    );
    await expect(r.loadPlugin('@mlmodel/no-such-flavor-package')).rejects.toThrow(/cannot import flavor plugin '@mlmodel\/no-such-flavor-package'/);
  });
});
