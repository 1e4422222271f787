import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ModelFormatError,
  checkModelFiles,
  createMLmodel,
  openModelDir,
  parseMLmodel,
  parseSchema,
  serializeMLmodel,
  utcTimeCreated,
  writeMLmodel,
} from '../src/index.js';
import { FIXTURE_MODELS, fixturePath } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-format-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MLmodel files written by MLflow 3.5', () => {
  for (const name of FIXTURE_MODELS) {
    it(`${name}: parses and writes back byte-identical`, () => {
      const text = readFileSync(fixturePath(name, 'MLmodel'), 'utf8');
      const m = parseMLmodel(text);
      expect(Object.keys(m.flavors).length).toBeGreaterThan(0);
      expect(m.mlflow_version).toBe('3.5.2.dev0');
      expect(m.signature?.inputs).not.toBeNull();
      expect(serializeMLmodel(m)).toBe(text);
    });

    it(`${name}: opens as a model directory with every referenced file present`, async () => {
      const model = await openModelDir(fixturePath(name));
      expect(await checkModelFiles(model)).toEqual([]);
    });
  }

  it('reads the typed keys', () => {
    const m = parseMLmodel(readFileSync(fixturePath('churn_pipeline', 'MLmodel'), 'utf8'));
    expect(m.flavors.python_function).toMatchObject({ loader_module: 'mlflow.sklearn', predict_fn: 'predict_proba', python_version: '3.11.2' });
    expect(m.model_uuid).toBe('d8692d15e38242bb813479f55d2b8783');
    expect(m.model_id).toBeNull();
    expect(m.prompts).toBeNull();
    expect(m.model_size_bytes).toBe(28030);
    expect(m.utc_time_created).toBe('2026-11-28 01:07:37.280888');
    expect(m.saved_input_example_info).toEqual({
      artifact_path: 'input_example.json',
      pandas_orient: 'split',
      serving_input_path: 'serving_input_example.json',
      type: 'dataframe',
    });
  });
});

describe('writing MLmodel files', () => {
  it('writes every key MLflow writes, unknown keys included, and reads them back', () => {
    const m = createMLmodel({
      flavors: { onnx: { data: 'model.onnx', onnx_version: '1.17.0', providers: ['CPUExecutionProvider'], onnx_session_options: null, code: null } },
      run_id: '0123456789abcdef0123456789abcdef',
      artifact_path: 'mlflow-artifacts:/1/models/m-0123/artifacts',
      utc_time_created: '2026-01-02 03:04:05.000006',
      model_uuid: 'm-0123456789abcdef0123456789abcdef',
      model_id: 'm-0123456789abcdef0123456789abcdef',
      mlflow_version: '3.5.1',
      signature: { inputs: parseSchema('[{"type": "double", "name": "x", "required": true}]'), outputs: null, params: null },
      is_signature_from_type_hint: false,
      type_hint_from_example: false,
      saved_input_example_info: {
        artifact_path: 'input_example.json',
        type: 'dataframe',
        pandas_orient: 'split',
        serving_input_path: 'serving_input_example.json',
      },
      metadata: { team: 'risk', 'version tag': '14.3', nested: { ok: true } },
      model_size_bytes: 1234,
      databricks_runtime: '14.3',
      env_vars: ['API_KEY'],
      prompts: ['prompts:/greeting/1'],
      resources: { api_version: '1', databricks: { serving_endpoint: [{ name: 'e' }] } },
      auth_policy: { user_auth_policy: { api_scopes: ['serving'] } },
      extra: { custom_key: { a: 1 } },
    });
    const text = serializeMLmodel(m);
    expect(text).toBe(`artifact_path: mlflow-artifacts:/1/models/m-0123/artifacts
auth_policy:
  user_auth_policy:
    api_scopes:
    - serving
custom_key:
  a: 1
databricks_runtime: '14.3'
env_vars:
- API_KEY
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.17.0
    providers:
    - CPUExecutionProvider
is_signature_from_type_hint: false
metadata:
  nested:
    ok: true
  team: risk
  version tag: '14.3'
mlflow_version: 3.5.1
model_id: m-0123456789abcdef0123456789abcdef
model_size_bytes: 1234
model_uuid: m-0123456789abcdef0123456789abcdef
prompts:
- prompts:/greeting/1
resources:
  api_version: '1'
  databricks:
    serving_endpoint:
    - name: e
run_id: 0123456789abcdef0123456789abcdef
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: null
  params: null
type_hint_from_example: false
utc_time_created: '2026-01-02 03:04:05.000006'
`);
    const back = parseMLmodel(text);
    expect(back.extra).toEqual({ custom_key: { a: 1 } });
    expect(serializeMLmodel(back)).toBe(text);
  });

  it('omits run_id, artifact_path and mlflow_version when unset but always writes model_id and prompts', () => {
    const text = serializeMLmodel(
      createMLmodel({ flavors: { js_function: { entry: 'model.js' } }, utc_time_created: '2026-01-01 00:00:00', model_uuid: 'abc' }),
    );
    expect(text).toBe(`flavors:
  js_function:
    entry: model.js
model_id: null
model_uuid: abc
prompts: null
utc_time_created: '2026-01-01 00:00:00'
`);
  });

  it('formats utc_time_created like Python str(datetime)', () => {
    expect(utcTimeCreated(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 60)))).toBe('2026-01-02 03:04:05.060000');
    expect(utcTimeCreated(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 0)))).toBe('2026-01-02 03:04:05');
  });

  it('writes atomically into a directory and reopens it', async () => {
    const dir = join(tmp, 'written');
    mkdirSync(dir);
    await writeMLmodel(dir, createMLmodel({ flavors: { python_function: { loader_module: 'mlflow.pyfunc.model' } } }));
    const model = await openModelDir(`file://${dir}`);
    expect(model.mlmodel.flavors.python_function?.loader_module).toBe('mlflow.pyfunc.model');
    expect(model.mlmodel.model_uuid).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('broken models give errors naming the file, key and expectation', () => {
  const write = (name: string, text: string): string => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'MLmodel'), text);
    return dir;
  };
  const expectError = async (dir: string, re: RegExp): Promise<void> => {
    const err = await openModelDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain(dir);
  };

  it('missing flavors', () => expectError(write('no-flavors', 'model_uuid: abc\n'), /MLmodel at flavors: is required but missing/));
  it('empty flavors', () => expectError(write('empty-flavors', 'flavors: {}\n'), /at flavors: must contain at least one entry/));
  it('a flavor that is not a mapping', () => expectError(write('flavor-str', 'flavors:\n  onnx: yes\n'), /at flavors.onnx: expected object/));
  it('python_function without loader_module', () =>
    expectError(write('no-loader', 'flavors:\n  python_function:\n    data: x\n'), /at flavors.python_function.loader_module: is required but missing/));
  it('wrong type of a top-level key', () =>
    expectError(write('bad-size', 'flavors:\n  onnx:\n    data: m.onnx\nmodel_size_bytes: big\n'), /at model_size_bytes: expected integer or null/));
  it('wrong type in a list', () => expectError(write('bad-prompts', 'flavors:\n  a: {}\nprompts:\n- 1\n'), /at prompts.0: expected string/));
  it('invalid YAML', () => expectError(write('bad-yaml', 'flavors:\n  onnx: [unclosed\n'), /MLmodel/));
  it('empty file', () => expectError(write('empty', ''), /empty/));
  it('non-mapping document', () => expectError(write('list-doc', '- a\n- b\n'), /mapping/));
  it('duplicate keys', () => expectError(write('dup', 'flavors:\n  a: {}\nflavors:\n  b: {}\n'), /duplicate/i));
  it('an alias bomb is rejected quickly', async () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      bomb.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = Date.now();
    await expectError(write('bomb', `flavors:\n  x: {}\n${bomb.join('\n')}\n`), /alias/i);
    expect(Date.now() - started).toBeLessThan(2000);
  });
  it('invalid signature JSON', () =>
    expectError(
      write('bad-sig', `flavors:\n  a: {}\nsignature:\n  inputs: '[{"type": '\n  outputs: null\n  params: null\n`),
      /signature.inputs: not valid JSON/,
    ));
  it('signature with an unknown type', () =>
    expectError(
      write('bad-sig-type', `flavors:\n  a: {}\nsignature:\n  inputs: '[{"type": "decimal", "name": "x"}]'\n  outputs: null\n  params: null\n`),
      /unknown type "decimal"/,
    ));
  it('a directory without MLmodel', async () => {
    const dir = join(tmp, 'no-mlmodel');
    mkdirSync(dir);
    await expectError(dir, /not a model directory: it has no MLmodel file/);
  });
  it('a path that does not exist', () => expectError(join(tmp, 'nope'), /does not exist/));
  it('a referenced file that is missing', async () => {
    const model = await openModelDir(write('missing-data', 'flavors:\n  onnx:\n    data: model.onnx\n'));
    expect(await checkModelFiles(model)).toEqual([expect.stringMatching(/at flavors.onnx.data: refers to "model.onnx", which does not exist/)]);
  });
  it('a referenced path that escapes the model directory', async () => {
    const model = await openModelDir(write('escape', 'flavors:\n  onnx:\n    data: ../../etc/passwd\n'));
    expect(await checkModelFiles(model)).toEqual([expect.stringMatching(/points outside the model directory/)]);
  });
});

describe('the precompiled MLmodel validator', () => {
  it('is up to date with mlmodel-schema.json', () => {
    const script = new URL('../scripts/generate-validator.mjs', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
