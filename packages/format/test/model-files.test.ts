import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Utf8Array,
  column,
  columnBatch,
  inputExampleToBatch,
  parseCondaEnv,
  parsePythonEnv,
  parseRequirements,
  parseSchema,
  readInputExample,
  readModelEnvironment,
  readServingInputExample,
  saveInputExample,
  serializeCondaEnv,
  serializePythonEnv,
  serializeRequirements,
  tensor,
  tensorBatch,
  writeModelEnvironment,
  type SavedInputExampleInfo,
} from '../src/index.js';
import { FIXTURE_MODELS, fixturePath } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const read = (p: string): string => readFileSync(p, 'utf8');

describe('environment files', () => {
  for (const name of FIXTURE_MODELS) {
    it(`${name}: conda.yaml, python_env.yaml and requirements.txt round-trip byte-identical`, () => {
      const conda = read(fixturePath(name, 'conda.yaml'));
      const pyenv = read(fixturePath(name, 'python_env.yaml'));
      const reqs = read(fixturePath(name, 'requirements.txt'));
      expect(serializeCondaEnv(parseCondaEnv(conda))).toBe(conda);
      expect(serializePythonEnv(parsePythonEnv(pyenv))).toBe(pyenv);
      expect(serializeRequirements(parseRequirements(reqs))).toBe(reqs);
    });
  }

  it('reads the environment of a model directory', async () => {
    const env = await readModelEnvironment(fixturePath('iris_onnx'));
    expect(env.pythonEnv).toEqual({
      python: '3.11.2',
      build_dependencies: ['pip==23.0.1', 'setuptools==66.1.1', 'wheel==0.38.4'],
      dependencies: ['-r requirements.txt'],
    });
    expect(env.requirements).toEqual(['mlflow==3.5.1', 'onnx==1.12.0', 'onnxruntime==1.20.1']);
    expect(env.conda?.dependencies).toEqual(['python=3.11.2', 'pip<=23.0.1', { pip: ['mlflow==3.5.1', 'onnx==1.12.0', 'onnxruntime==1.20.1'] }]);
  });

  it('writes environment files that read back the same', async () => {
    const dir = join(tmp, 'env');
    mkdirSync(dir);
    const env = {
      conda: { name: 'mlflow-env', channels: ['conda-forge'], dependencies: ['python=3.11.2', { pip: ['numpy==1.26.4'] }] },
      pythonEnv: { python: '3.11.2', build_dependencies: ['pip'], dependencies: ['-r requirements.txt'] },
      requirements: ['numpy==1.26.4', 'scikit-learn>=1.3'],
    };
    await writeModelEnvironment(dir, env);
    expect(read(join(dir, 'python_env.yaml'))).toBe('python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n');
    expect(read(join(dir, 'conda.yaml'))).toBe('channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip:\n  - numpy==1.26.4\nname: mlflow-env\n');
    expect(await readModelEnvironment(dir)).toEqual(env);
  });

  it('skips comments and blank lines in requirements', () => {
    expect(parseRequirements('# pinned\nnumpy==1.0  # inline\n\n-r other.txt\n')).toEqual(['numpy==1.0', '-r other.txt']);
  });

  it('rejects a python_env.yaml without a python version', () => {
    expect(() => parsePythonEnv('dependencies: []\n', 'x/python_env.yaml')).toThrow(/x\/python_env.yaml at python: expected a Python version string/);
  });
});

describe('input examples', () => {
  it('reads a dataframe example and types it by the signature', async () => {
    const info: SavedInputExampleInfo = { artifact_path: 'input_example.json', type: 'dataframe', pandas_orient: 'split' };
    const ex = await readInputExample(fixturePath('churn_pipeline'), info);
    const schema = parseSchema(
      '[{"type": "string", "name": "plan", "required": true}, {"type": "long", "name": "tenure_months", "required": true}, {"type": "double", "name": "monthly_charges", "required": true}]',
    );
    const batch = inputExampleToBatch(ex, schema);
    expect(batch.kind).toBe('columns');
    if (batch.kind !== 'columns') return;
    expect(batch.numRows).toBe(2);
    expect(batch.columns.map((c) => [c.name, c.dtype])).toEqual([
      ['plan', 'str'],
      ['tenure_months', 'int64'],
      ['monthly_charges', 'float64'],
    ]);
    expect((batch.columns[0]!.values as Utf8Array).toArray()).toEqual(['pro', 'plus']);
    expect(Array.from(batch.columns[1]!.values as BigInt64Array)).toEqual([46n, 58n]);
  });

  it('reads an ndarray example as a float32 tensor when the signature says so', async () => {
    const ex = await readInputExample(fixturePath('iris_onnx'), { artifact_path: 'input_example.json', type: 'ndarray' });
    const batch = inputExampleToBatch(ex, parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'));
    expect(batch.kind === 'tensors' && batch.tensors[0]).toMatchObject({ name: null, dtype: 'float32', shape: [3, 4] });
  });

  it('reads the serving example', async () => {
    const body = await readServingInputExample(fixturePath('iris_sklearn'), {
      artifact_path: 'input_example.json',
      type: 'dataframe',
      serving_input_path: 'serving_input_example.json',
    });
    expect(Object.keys(body as object)).toEqual(['dataframe_split']);
  });

  it('saves a dataframe example exactly like MLflow', async () => {
    const dir = join(tmp, 'ex-df');
    mkdirSync(dir);
    const batch = columnBatch([
      column('sepal_length', 'float64', new Float64Array([5.1, 4.9, 4.7])),
      column('sepal_width', 'float64', new Float64Array([3.5, 3.0, 3.2])),
      column('petal_length', 'float64', new Float64Array([1.4, 1.4, 1.3])),
      column('petal_width', 'float64', new Float64Array([0.2, 0.2, 0.2])),
    ]);
    const info = await saveInputExample(dir, { batch });
    expect(info).toEqual({ artifact_path: 'input_example.json', type: 'dataframe', pandas_orient: 'split', serving_input_path: 'serving_input_example.json' });
    // byte-identical to the files MLflow 3.5 wrote for the same data
    expect(read(join(dir, 'input_example.json'))).toBe(read(fixturePath('iris_sklearn', 'input_example.json')));
    expect(read(join(dir, 'serving_input_example.json'))).toBe(read(fixturePath('iris_sklearn', 'serving_input_example.json')));
  });

  it('saves a mixed-type dataframe example exactly like MLflow', async () => {
    const dir = join(tmp, 'ex-churn');
    mkdirSync(dir);
    const batch = columnBatch([
      column('plan', 'str', Utf8Array.fromStrings(['pro', 'plus'])),
      column('tenure_months', 'int64', new BigInt64Array([46n, 58n])),
      column('monthly_charges', 'float64', new Float64Array([31.12, 75.89])),
    ]);
    await saveInputExample(dir, { batch });
    expect(read(join(dir, 'input_example.json'))).toBe(read(fixturePath('churn_pipeline', 'input_example.json')));
    expect(read(join(dir, 'serving_input_example.json'))).toBe(read(fixturePath('churn_pipeline', 'serving_input_example.json')));
  });

  it('saves an ndarray example exactly like MLflow', async () => {
    const dir = join(tmp, 'ex-nd');
    mkdirSync(dir);
    const src = JSON.parse(read(fixturePath('diabetes_tensor', 'input_example.json'))) as number[][];
    const info = await saveInputExample(dir, { batch: tensorBatch([tensor(null, 'float64', [2, 10], new Float64Array(src.flat()))]) });
    expect(info.type).toBe('ndarray');
    expect(read(join(dir, 'input_example.json'))).toBe(read(fixturePath('diabetes_tensor', 'input_example.json')));
    expect(read(join(dir, 'serving_input_example.json'))).toBe(read(fixturePath('diabetes_tensor', 'serving_input_example.json')));
  });

  it('saves params with the example and reads them back', async () => {
    const dir = join(tmp, 'ex-params');
    mkdirSync(dir);
    const info = await saveInputExample(dir, { json: ['hello'] }, { temperature: 0.5 });
    expect(info).toMatchObject({ type: 'json_object', params: 'true' });
    expect(read(join(dir, 'input_example.json'))).toBe('{"inputs": ["hello"], "params": {"temperature": 0.5}}');
    expect(JSON.parse(read(join(dir, 'serving_input_example.json')))).toEqual({ inputs: ['hello'], params: { temperature: 0.5 } });
    expect(await readInputExample(dir, info)).toEqual({ type: 'json_object', data: ['hello'], params: { temperature: 0.5 } });
  });

  it('reads Python NaN tokens without touching strings that contain "NaN"', async () => {
    const dir = join(tmp, 'ex-nan');
    mkdirSync(dir);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'input_example.json'), '{"columns": ["name", "x"], "data": [["NaN bread", NaN], ["a", 1.5]]}');
    const ex = await readInputExample(dir, { artifact_path: 'input_example.json', type: 'dataframe', pandas_orient: 'split' });
    expect(ex.data).toEqual({
      columns: ['name', 'x'],
      data: [
        ['NaN bread', NaN],
        ['a', 1.5],
      ],
    });
  });

  it('reports a corrupt example file', async () => {
    const dir = join(tmp, 'ex-bad');
    mkdirSync(dir);
    await saveInputExample(dir, { json: { a: 1 } });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'input_example.json'), '{"a": ');
    await expect(readInputExample(dir, { artifact_path: 'input_example.json', type: 'json_object' })).rejects.toThrow(/input_example.json: not valid JSON/);
  });
});
