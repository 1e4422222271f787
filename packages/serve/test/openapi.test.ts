/**
 * /openapi.json and /docs over real HTTP: the generated OpenAPI 3.1 document passes a real
 * OpenAPI validator, is typed from each fixture's signature, its examples match its schemas and
 * really score (POSTed to /invocations → 200), it is 503 until the models are ready, it sits
 * behind bearer auth when a token is set; the /docs page and its whitelisted swagger-ui assets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createServer, ModelRepository, type RunningServer } from '@mlmodel/serve';
import { fixtureSpec, jsModel, post, start } from './support.js';

/** A JSON Schema checker for the subset our documents use, so examples can be checked against their schemas. */
type Schema = Record<string, unknown>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeMatches(t: string, v: unknown): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isObj(v);
    default:
      throw new Error(`unknown JSON Schema type ${t}`);
  }
}

/** The problems of `value` against `schema` (empty: it conforms). `root` resolves `#/...` refs. */
function schemaErrors(schema: Schema, value: unknown, root: unknown, at = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), root);
    if (!isObj(target)) return [`${at}: unresolved ${schema.$ref}`];
    return schemaErrors(target, value, root, at);
  }
  const errs: string[] = [];
  if (Array.isArray(schema.oneOf)) {
    const n = (schema.oneOf as Schema[]).filter((s) => schemaErrors(s, value, root, at).length === 0).length;
    if (n !== 1) errs.push(`${at}: matches ${n} of oneOf`);
  }
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as Schema[]).some((s) => schemaErrors(s, value, root, at).length === 0))
    errs.push(`${at}: matches no anyOf`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, value))) return [...errs, `${at}: ${JSON.stringify(value)} is not ${types.join('|')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errs.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) errs.push(`${at}: below minimum`);
  if (isObj(value)) {
    const props = isObj(schema.properties) ? schema.properties : {};
    for (const r of (schema.required as string[] | undefined) ?? []) if (!(r in value)) errs.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(value)) {
      if (isObj(props[k])) errs.push(...schemaErrors(props[k] as Schema, v, root, `${at}.${k}`));
      else if (isObj(schema.additionalProperties)) errs.push(...schemaErrors(schema.additionalProperties, v, root, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected ${k}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errs.push(`${at}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errs.push(`${at}: more than ${schema.maxItems} items`);
    const prefix = (schema.prefixItems as Schema[] | undefined) ?? [];
    value.forEach((v, i) => {
      const s = prefix[i] ?? (isObj(schema.items) ? schema.items : undefined);
      if (s) errs.push(...schemaErrors(s, v, root, `${at}[${i}]`));
    });
  }
  return errs;
}

type Doc = {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
  security?: unknown[];
};
type MediaType = { schema: Schema; example?: unknown; examples?: Record<string, { summary: string; value: unknown }> };

async function getDoc(s: RunningServer, headers: Record<string, string> = {}): Promise<Doc> {
  const r = await fetch(s.url + '/openapi.json', { headers });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return (await r.json()) as Doc;
}

async function expectValidOpenApi(doc: Doc): Promise<void> {
  const validator = new Validator();
  const res = await validator.validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0]);
  expect(res.errors ?? [], JSON.stringify(res.errors, null, 1)).toEqual([]);
  expect(res.valid).toBe(true);
  expect(validator.version).toBe('3.1');
}

const invocationsBody = (doc: Doc): Record<string, MediaType> =>
  (doc.paths['/invocations']!.post!.requestBody as { content: Record<string, MediaType> }).content;
const component = (doc: Doc, name: string): Schema => doc.components.schemas[name]!;
/** The data schema of one JSON form in a model's request schema. */
function formSchema(doc: Doc, model: string, form: string): Schema {
  const branches = component(doc, `mlflow.${model}.request`).oneOf as Schema[];
  const b = branches.find((x) => (x.required as string[])[0] === form)!;
  return (b.properties as Record<string, Schema>)[form]!;
}

/** Every example of /invocations matches its schema, and scores with a 200 from this very server. */
async function expectExamplesWork(s: RunningServer, doc: Doc, checkOutputs = true): Promise<number> {
  const content = invocationsBody(doc);
  const json = content['application/json']!;
  const examples = Object.values(json.examples ?? {});
  expect(examples.length).toBeGreaterThan(0);
  let n = 0;
  for (const ex of examples) {
    expect(schemaErrors(json.schema, ex.value, doc), ex.summary).toEqual([]);
    const r = await post(s, '/invocations', JSON.stringify(ex.value));
    expect(r.status, `${ex.summary}: ${r.text}`).toBe(200);
    const answer = JSON.parse(r.text) as Record<string, unknown>;
    expect(Object.keys(answer)).toEqual(['predictions']);
    const responseSchema = (doc.paths['/invocations']!.post!.responses as Record<string, { content: Record<string, MediaType> }>)['200']!.content[
      'application/json'
    ]!.schema;
    if (checkOutputs) expect(schemaErrors(responseSchema, answer, doc), ex.summary).toEqual([]);
    n++;
  }
  const csv = content['text/csv']!.example;
  if (typeof csv === 'string') {
    const r = await post(s, '/invocations', csv, { 'content-type': 'text/csv' });
    expect(r.status, r.text).toBe(200);
    n++;
  }
  return n;
}

describe.each([
  { name: 'iris_onnx', saved: 'inputs', outputsMatch: true },
  { name: 'iris_sklearn', saved: 'dataframe_split', outputsMatch: true },
  // its output schema (int64 labels) was inferred from predict, but it serves predict_proba; MLflow never enforces outputs
  { name: 'churn_pipeline', saved: 'dataframe_split', outputsMatch: false },
  { name: 'diabetes_tensor', saved: 'inputs', outputsMatch: true },
])('/openapi.json for $name', ({ name, saved, outputsMatch }) => {
  let s: RunningServer;
  let doc: Doc;
  beforeAll(async () => {
    s = await start([fixtureSpec(name)], { version: '1.2.3' });
    doc = await getDoc(s);
  });
  afterAll(() => s?.close());

  it('is a valid OpenAPI 3.1 document with info and every route', async () => {
    await expectValidOpenApi(doc);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('mlmodel');
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.info.description).toContain(`**${name}**`);
    for (const p of [
      '/invocations',
      '/ping',
      '/health',
      '/version',
      '/metrics',
      '/v2/health/live',
      '/v2/health/ready',
      `/v2/models/${name}`,
      `/v2/models/${name}/ready`,
      `/v2/models/${name}/infer`,
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.security).toBeUndefined();
    expect(doc.components.securitySchemes).toBeUndefined();
  });

  it("uses the model's saved input example, and every example scores with a 200", async () => {
    const json = invocationsBody(doc)['application/json']!;
    expect(json.examples!.input_example!.summary).toContain(saved);
    expect(Object.keys(json.examples!.input_example!.value as object)).toEqual([saved]);
    expect(await expectExamplesWork(s, doc, outputsMatch)).toBeGreaterThanOrEqual(2);
  });

  it('documents the binary bodies, the 200 and the MLflow error responses', () => {
    const content = invocationsBody(doc);
    expect(Object.keys(content)).toEqual(['application/json', 'text/csv', 'application/vnd.apache.parquet', 'application/vnd.apache.arrow.stream']);
    expect(content['application/vnd.apache.parquet']!.schema).toMatchObject({ type: 'string', format: 'binary' });
    const responses = doc.paths['/invocations']!.post!.responses as Record<string, { content: Record<string, MediaType> }>;
    expect(Object.keys(responses)).toEqual(['200', '400', '413', '415', '503', '504']);
    for (const code of ['400', '413', '503', '504'])
      expect(responses[code]!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/MlflowError' });
    expect(component(doc, 'MlflowError')).toMatchObject({ required: ['error_code', 'message'] });
    expect(component(doc, `mlflow.${name}.response`)).toMatchObject({ required: ['predictions'] });
  });

  it('documents the OIP routes as they answer: metadata, and an infer example that works', async () => {
    const meta = (doc.paths[`/v2/models/${name}`]!.get!.responses as Record<string, { content: Record<string, MediaType> }>)['200']!.content[
      'application/json'
    ]!;
    const r = await fetch(`${s.url}/v2/models/${name}`);
    expect(r.status).toBe(200);
    const actual = await r.json();
    expect(meta.example).toEqual(actual);
    expect(schemaErrors(meta.schema, actual, doc)).toEqual([]);
    const infer = (doc.paths[`/v2/models/${name}/infer`]!.post!.requestBody as { content: Record<string, MediaType> }).content['application/json']!;
    expect(schemaErrors(infer.schema, infer.example, doc)).toEqual([]);
    const res = await post(s, `/v2/models/${name}/infer`, JSON.stringify(infer.example));
    expect(res.status, res.text).toBe(200);
    const okSchema = (doc.paths[`/v2/models/${name}/infer`]!.post!.responses as Record<string, { content: Record<string, MediaType> }>)['200']!.content[
      'application/json'
    ]!.schema;
    expect(schemaErrors(okSchema, JSON.parse(res.text), doc)).toEqual([]);
    // a body of another type is a 415 {"error"}, documented as such
    const refused = await post(s, `/v2/models/${name}/infer`, JSON.stringify(infer.example), { 'content-type': 'text/plain' });
    expect(refused.status).toBe(415);
    const documented = (doc.paths[`/v2/models/${name}/infer`]!.post!.responses as Record<string, { content: Record<string, MediaType> }>)['415']!.content[
      'application/json'
    ]!.schema;
    expect(schemaErrors(documented, JSON.parse(refused.text), doc)).toEqual([]);
  });

  it('rejects, by its schema, bodies the server refuses', () => {
    const schema = invocationsBody(doc)['application/json']!.schema;
    expect(schemaErrors(schema, { dataframe_split: { data: [] }, inputs: [] }, doc)).not.toEqual([]);
    expect(schemaErrors(schema, {}, doc)).not.toEqual([]);
    expect(schemaErrors(schema, { instances: 'nope' }, doc)).not.toEqual([]);
  });
});

describe('schemas derived from the fixtures’ signatures', () => {
  let s: RunningServer;
  let docs: Record<string, Doc>;
  beforeAll(async () => {
    // one server per default model is not needed here: component schemas exist for every model
    s = await start([fixtureSpec('iris_onnx'), fixtureSpec('churn_pipeline'), fixtureSpec('iris_sklearn', { version: '7' })]);
    const doc = await getDoc(s);
    docs = { doc };
  });
  afterAll(() => s?.close());

  it('maps ColSpec types to JSON types, per column, in all four forms', () => {
    const doc = docs.doc!;
    const records = formSchema(doc, 'churn_pipeline', 'dataframe_records');
    expect(records.items).toMatchObject({
      type: 'object',
      required: ['plan', 'tenure_months', 'monthly_charges'],
      properties: {
        plan: { type: 'string', title: 'string' },
        tenure_months: { type: 'integer', format: 'int64', title: 'long' },
        monthly_charges: { type: 'number', format: 'double', title: 'double' },
      },
    });
    const split = formSchema(doc, 'churn_pipeline', 'dataframe_split');
    expect(split).toMatchObject({ type: 'object', required: ['data'] });
    const props = split.properties as Record<string, Schema>;
    expect(props.columns).toMatchObject({ items: { enum: ['plan', 'tenure_months', 'monthly_charges'] } });
    expect((props.data!.items as Schema).prefixItems).toMatchObject([{ type: 'string' }, { type: 'integer' }, { type: 'number' }]);
    expect(formSchema(doc, 'churn_pipeline', 'instances').items).toEqual(records.items);
    expect((formSchema(doc, 'churn_pipeline', 'inputs').anyOf as Schema[])[0]).toMatchObject({
      properties: { plan: { type: 'array', items: { type: 'string' } } },
    });
  });

  it('maps a TensorSpec to nested arrays of its dtype with its shape', () => {
    const doc = docs.doc!;
    const inputs = formSchema(doc, 'iris_onnx', 'inputs');
    expect(inputs).toMatchObject({ type: 'array', items: { type: 'array', minItems: 4, maxItems: 4, items: { type: 'number', format: 'float' } } });
    expect(inputs).not.toHaveProperty('minItems');
    const predictions = (component(doc, 'mlflow.iris_onnx.response').properties as Record<string, Schema>).predictions!;
    expect(predictions).toMatchObject({
      type: 'object',
      properties: {
        probabilities: { type: 'array', items: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number' } } },
        label: { type: 'array', items: { type: 'integer', format: 'int64' } },
      },
    });
  });

  it('documents the OIP routes of every model, with the model’s input names', () => {
    const doc = docs.doc!;
    const req = component(doc, 'oip.churn_pipeline.request');
    const input = ((req.properties as Record<string, Schema>).inputs!.items as Schema).properties as Record<string, Schema>;
    expect(input.name!.enum).toEqual(['plan', 'tenure_months', 'monthly_charges']);
    expect(
      ((component(doc, 'oip.iris_onnx.request').properties as Record<string, Schema>).inputs!.items as { properties: { name: Schema } }).properties.name.enum,
    ).toEqual(['input-0']);
    const meta = doc.paths['/v2/models/iris_onnx']!.get!.responses as Record<string, { content: Record<string, MediaType> }>;
    expect(meta['200']!.content['application/json']!.example).toMatchObject({
      name: 'iris_onnx',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }],
    });
    // a versioned model also gets its versioned paths
    expect(doc.paths['/v2/models/iris_sklearn/versions/7/infer']).toBeDefined();
    expect(doc.paths['/v2/models/churn_pipeline/versions/7/infer']).toBeUndefined();
    const infer = doc.paths['/v2/models/churn_pipeline/infer']!.post!;
    const ex = (infer.requestBody as { content: Record<string, MediaType> }).content['application/json']!;
    expect(schemaErrors(ex.schema, ex.example, doc)).toEqual([]);
    expect(ex.example).toMatchObject({
      inputs: [
        { name: 'plan', datatype: 'BYTES', shape: [2], data: ['pro', 'plus'] },
        { name: 'tenure_months', datatype: 'INT64' },
        { name: 'monthly_charges', datatype: 'FP64' },
      ],
    });
    expect(doc.info.description).toMatch(/\*\*iris_onnx\*\* \(flavor `onnx`\) — served by `\/invocations`/);
    expect(doc.info.description).toContain('**iris_sklearn** version 7');
  });

  it('is built once and cached', async () => {
    const a = await (await fetch(s.url + '/openapi.json')).text();
    const b = await (await fetch(s.url + '/openapi.json')).text();
    expect(a).toBe(b);
  });
});

describe('models without a saved example or without a signature', () => {
  const source = `export async function load() {
    return { predict(input, params) { return { kind: 'json', value: { kind: input.kind, params } }; } };
  }`;
  let rich: RunningServer;
  let bare: RunningServer;
  beforeAll(async () => {
    const richDir = await jsModel(source, {
      inputs: JSON.stringify([
        { type: 'long', name: 'id', required: true },
        { type: 'binary', name: 'blob', required: true },
        { type: 'datetime', name: 'at', required: true },
        { type: 'boolean', name: 'flag', required: false },
        { type: 'array', items: { type: 'string' }, name: 'tags', required: true },
        { type: 'object', properties: { a: { type: 'double', required: true }, b: { type: 'string', required: false } }, name: 'obj', required: true },
        { type: 'map', values: { type: 'long' }, name: 'counts', required: true },
      ]),
      params: JSON.stringify([
        { name: 'temperature', default: 0.5, shape: null, type: 'double' },
        { name: 'stops', default: ['a'], shape: [-1], type: 'string' },
        { name: 'k', default: 3, shape: null, type: 'long' },
      ]),
    });
    rich = await start([{ name: 'rich', path: richDir }]);
    bare = await start([{ name: 'bare', path: await jsModel(source, null) }]);
  });
  afterAll(async () => {
    await rich?.close();
    await bare?.close();
  });

  it('types Array/Object/Map/binary/datetime/optional columns and params, and synthesizes a working example', async () => {
    const doc = await getDoc(rich);
    await expectValidOpenApi(doc);
    const props = (formSchema(doc, 'rich', 'dataframe_records').items as Schema).properties as Record<string, Schema>;
    expect(props.blob).toMatchObject({ type: 'string', contentEncoding: 'base64' });
    expect(props.at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props.flag).toEqual({ anyOf: [{ type: 'boolean', title: 'boolean' }, { type: 'null' }] });
    expect(props.tags).toMatchObject({ type: 'array', items: { type: 'string' }, title: 'Array(string)' });
    expect(props.obj).toMatchObject({
      type: 'object',
      required: ['a'],
      properties: { a: { type: 'number' }, b: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
    });
    expect(props.counts).toMatchObject({ type: 'object', additionalProperties: { type: 'integer' } });
    expect((formSchema(doc, 'rich', 'dataframe_records').items as Schema).required).toEqual(['id', 'blob', 'at', 'tags', 'obj', 'counts']);
    const branch = (component(doc, 'mlflow.rich.request').oneOf as Schema[])[0]!;
    expect((branch.properties as Record<string, Schema>).params).toMatchObject({
      type: 'object',
      properties: {
        temperature: { type: 'number', default: 0.5 },
        stops: { type: 'array', items: { type: 'string' }, default: ['a'] },
        k: { type: 'integer', default: 3 },
      },
    });
    const json = invocationsBody(doc)['application/json']!;
    expect(Object.keys(json.examples!)).toEqual(['synthesized', 'dataframe_records']);
    expect(json.examples!.synthesized!.value).toMatchObject({ params: { temperature: 0.5, stops: ['a'], k: 3 } });
    expect(await expectExamplesWork(rich, doc)).toBe(2);
  });

  it('gives permissive schemas and no example to a model without a signature', async () => {
    const doc = await getDoc(bare);
    await expectValidOpenApi(doc);
    const json = invocationsBody(doc)['application/json']!;
    expect(json.examples).toBeUndefined();
    for (const body of [{ inputs: { anything: [1, 'x'] } }, { instances: [1, 2] }, { dataframe_records: [{ a: 1 }] }, { dataframe_split: { data: [[1]] } }]) {
      expect(schemaErrors(json.schema, body, doc)).toEqual([]);
    }
    expect(doc.info.description).toContain('no signature');
    expect(component(doc, 'oip.bare.request')).toMatchObject({ properties: { inputs: { items: { properties: { name: { type: 'string' } } } } } });
  });
});

describe('before the models are ready', () => {
  it('answers /openapi.json with a 503 JSON error while a model loads, and after one failed', async () => {
    const repo = new ModelRepository([fixtureSpec('iris_onnx')]);
    const { app } = createServer(repo, { logLevel: 'silent', processMetrics: false });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      let r = await fetch(url + '/openapi.json');
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(await r.json()).toEqual({
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: "The API description is not available yet: model 'iris_onnx' is still loading, so its signature is not known.",
      });
      repo.markFailed('iris_onnx', new Error('load failed'));
      r = await fetch(url + '/openapi.json');
      expect(r.status).toBe(503);
      expect(((await r.json()) as { message: string }).message).toContain("'iris_onnx' failed to load");
      // the page itself is static and answers at once
      expect((await fetch(url + '/docs')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('with bearer auth', () => {
  let s: RunningServer;
  const auth = { authorization: 'Bearer s3cret' };
  beforeAll(async () => {
    s = await start([fixtureSpec('iris_onnx')], { authToken: 's3cret' });
  });
  afterAll(() => s?.close());

  it('keeps /openapi.json and /docs behind the token', async () => {
    for (const p of ['/openapi.json', '/docs', '/docs/assets/swagger-ui.css', '/docs/assets/init.js']) {
      const r = await fetch(s.url + p);
      expect(r.status, p).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await r.json()) as { error_code: string }).error_code).toBe('UNAUTHENTICATED');
      expect((await fetch(s.url + p, { headers: auth })).status, p).toBe(200);
    }
  });

  it('marks bearer auth as the security scheme, with the health checks public', async () => {
    const doc = await getDoc(s, auth);
    await expectValidOpenApi(doc);
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    for (const p of ['/ping', '/health', '/v2/health/live', '/v2/health/ready']) expect(doc.paths[p]!.get!.security, p).toEqual([]);
    for (const p of ['/version', '/metrics']) expect(doc.paths[p]!.get!.security, p).toBeUndefined();
    expect(Object.keys(doc.paths['/invocations']!.post!.responses as object)).toContain('401');
    const ex = invocationsBody(doc)['application/json']!.examples!.input_example!.value;
    const r = await post(s, '/invocations', JSON.stringify(ex), { 'content-type': 'application/json', ...auth });
    expect(r.status).toBe(200);
  });
});

describe('/docs', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start([fixtureSpec('iris_onnx')]);
  });
  afterAll(() => s?.close());

  it('serves an HTML page with a strict CSP and no inline script', async () => {
    const r = await fetch(s.url + '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await r.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => m[1]!.trim())).toEqual(['src="docs/assets/swagger-ui-bundle.js"', 'src="docs/assets/init.js"']);
    for (const m of scripts) expect(m[2]).toBe('');
    expect(html).toContain('href="docs/assets/swagger-ui.css"');
    expect(html).not.toMatch(/https?:\/\//);
    const slash = await fetch(s.url + '/docs/', { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(new URL(slash.headers.get('location')!, s.url + '/docs/').pathname).toBe('/docs');
  });

  it('serves the whitelisted swagger-ui-dist 5.35.0 files and the init script, with cache headers', async () => {
    const cases: [string, string, number][] = [
      ['swagger-ui.css', 'text/css; charset=utf-8', 100_000],
      ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8', 1_000_000],
      ['favicon-32x32.png', 'image/png', 100],
      ['init.js', 'text/javascript; charset=utf-8', 100],
    ];
    for (const [name, type, minSize] of cases) {
      const r = await fetch(`${s.url}/docs/assets/${name}`);
      expect(r.status, name).toBe(200);
      expect(r.headers.get('content-type')).toBe(type);
      expect(r.headers.get('cache-control')).toBe('public, max-age=86400');
      const etag = r.headers.get('etag')!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(minSize);
      const again = await fetch(`${s.url}/docs/assets/${name}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    const init = await (await fetch(`${s.url}/docs/assets/init.js`)).text();
    expect(init).toContain('SwaggerUIBundle(');
    expect(init).toContain("'openapi.json'");
  });

  it('refuses any other file name', async () => {
    for (const name of [
      'index.html',
      'swagger-ui.js.map',
      'package.json',
      '..%2Fpackage.json',
      '..%2F..%2Fpackage.json',
      'swagger-initializer.js',
      '%2Fetc%2Fpasswd',
    ]) {
      const r = await fetch(`${s.url}/docs/assets/${name}`);
      expect(r.status, name).toBe(404);
    }
  });
});
