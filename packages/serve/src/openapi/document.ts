/**
 * The OpenAPI 3.1 document of a server: MLflow's scoring protocol for the default model, health,
 * version and metrics routes, and the Open Inference Protocol v2 routes of every model, all typed
 * from the models' signatures. A pure function of `ModelDescription`s.
 */
import { typeToString, type ModelSignature, type Schema } from '@mlmodel/format';
import { csvExample, jsonExamples } from './examples.js';
import type { JsonSchema } from './json-schema.js';
import { modelMetadata, schemaTensors } from '../oip/metadata.js';
import { oipComponents, oipExampleFromRequest, oipInferenceRequestSchema } from './oip.js';
import { jsonRequestSchema, predictionsSchema } from './request-forms.js';

/** What the document needs to know about one served model. */
export interface ModelDescription {
  readonly name: string;
  readonly version: string | null;
  readonly flavor: string;
  readonly signature: ModelSignature | null;
  /** The signature came from type hints: JSON `inputs` goes to the model as it is. */
  readonly fromTypeHint: boolean;
  /** A complete `/invocations` JSON body, or null. */
  readonly example: Record<string, unknown> | null;
  /** Whether `example` is the model's saved input example (else synthesized). */
  readonly exampleSaved: boolean;
}

export interface DocumentOptions {
  /** The server version (`/version`, info.version). */
  readonly version: string;
  /** The models; the first is the one `/invocations` serves. */
  readonly models: readonly ModelDescription[];
  /** Bearer auth is on: mark every non-public operation as needing it. */
  readonly auth: boolean;
  /** Paths that need no auth (health checks). */
  readonly isPublicPath: (path: string) => boolean;
}

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Operation>> };
type Operation = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ 'application/json': { schema, ...extra } });

/** A component name made of the characters OpenAPI allows. */
export function componentName(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('.');
}

function schemaSummary(s: Schema | null): string {
  if (!s) return 'none';
  if (s.kind === 'tensors') return s.specs.map((t) => `${t.name ? `${t.name}: ` : ''}${t.dtype} [${t.shape.join(', ')}]`).join(', ');
  return s.specs.map((c) => `${c.name ? `${c.name}: ` : ''}${typeToString(c.type)}${c.required === false ? ' (optional)' : ''}`).join(', ');
}

function describeModels(models: readonly ModelDescription[]): string {
  const lines = models.map((m, i) => {
    const sig = m.signature;
    const parts = [`- **${m.name}**${m.version ? ` version ${m.version}` : ''} (flavor \`${m.flavor}\`)${i === 0 ? ' — served by `/invocations`' : ''}`];
    if (!sig) parts.push('  - no signature: requests are not validated');
    else {
      parts.push(`  - inputs: ${schemaSummary(sig.inputs)}`, `  - outputs: ${schemaSummary(sig.outputs)}`);
      if (sig.params && sig.params.length > 0)
        parts.push(
          `  - params: ${sig.params.map((p) => `${p.name}: ${typeof p.type === 'string' ? p.type : typeToString(p.type)} = ${JSON.stringify(p.default)}`).join(', ')}`,
        );
    }
    return parts.join('\n');
  });
  return `Scoring API of \`mlmodel serve\`: MLflow's scoring protocol (\`/invocations\`) and the Open Inference Protocol v2 (\`/v2\`).\n\nModels:\n\n${lines.join('\n')}`;
}

function mlflowErrorResponses(auth: boolean): Record<string, unknown> {
  const err = (description: string): Record<string, unknown> => ({ description, content: json(ref('MlflowError')) });
  return {
    '400': err('The request does not match the protocol or the model signature.'),
    ...(auth ? { '401': err('Missing or invalid bearer token.') } : {}),
    '413': err('The body is larger than the server accepts.'),
    '415': {
      description: 'Unsupported content type or content-type parameter (plain text, as MLflow answers).',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    '503': err('The model is still loading, failed to load, or is overloaded (see Retry-After).'),
    '504': err('The request took longer than the request timeout.'),
  };
}

function invocationsOperation(m: ModelDescription, auth: boolean): Operation {
  const request = componentName('mlflow', m.name, 'request');
  const binary = (what: string): Record<string, unknown> => ({ schema: { type: 'string', format: 'binary', description: what } });
  const examples = jsonExamples(m.example, m.exampleSaved);
  const csv = m.example ? csvExample(m.example) : null;
  return {
    tags: ['MLflow scoring'],
    operationId: 'invocations',
    summary: `Predict with ${m.name}`,
    description: `MLflow's scoring protocol: a JSON body in one of four forms (plus optional \`params\`), CSV, Parquet or Arrow IPC. Answers \`{"predictions": ...}\`, or Arrow IPC when \`Accept\` asks for \`application/vnd.apache.arrow.stream\`.`,
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: ref(request), ...(Object.keys(examples).length > 0 ? { examples } : {}) },
        'text/csv': { schema: { type: 'string', description: 'a CSV table with a header row (no params)' }, ...(csv ? { example: csv } : {}) },
        'application/vnd.apache.parquet': binary('a Parquet file (no params)'),
        'application/vnd.apache.arrow.stream': binary('an Arrow IPC stream (no params)'),
      },
    },
    responses: {
      '200': {
        description: "The predictions, typed by the model's output schema when it has one (MLflow does not enforce it).",
        content: {
          ...json(ref(componentName('mlflow', m.name, 'response'))),
          'application/vnd.apache.arrow.stream': binary('the predictions as an Arrow IPC stream (when the prediction is a table or tensors)'),
        },
      },
      ...mlflowErrorResponses(auth),
    },
  };
}

function oipPaths(m: ModelDescription, auth: boolean): Record<string, Record<string, Operation>> {
  const metadata = modelMetadata(m.name, m.version, m.flavor, m.signature);
  const err = (description: string): Record<string, unknown> => ({ description, content: json(ref('OipError')) });
  const errors = {
    '400': err('Invalid inference request.'),
    ...(auth ? { '401': err('Missing or invalid bearer token.') } : {}),
    '404': err('No such model (or version).'),
    '503': err('The model is not ready.'),
  };
  const tags = ['Open Inference Protocol v2'];
  const oipExample = m.example ? oipExampleFromRequest(m.example, metadata.inputs) : null;
  const out: Record<string, Record<string, Operation>> = {};
  const prefixes = [
    `/v2/models/${encodeURIComponent(m.name)}`,
    ...(m.version ? [`/v2/models/${encodeURIComponent(m.name)}/versions/${encodeURIComponent(m.version)}`] : []),
  ];
  for (const [i, base] of prefixes.entries()) {
    const id = componentName(m.name, ...(i > 0 ? ['version'] : [])).replace(/\./g, '_');
    out[base] = {
      get: {
        tags,
        operationId: `oip_metadata_${id}`,
        summary: `Metadata of ${m.name}`,
        responses: { '200': { description: 'Model metadata.', content: json(ref('OipModelMetadata'), { example: metadata }) }, ...errors },
      },
    };
    out[`${base}/ready`] = {
      get: { tags, operationId: `oip_ready_${id}`, summary: `Whether ${m.name} is ready`, responses: { '200': { description: 'Ready.' }, ...errors } },
    };
    out[`${base}/infer`] = {
      post: {
        tags,
        operationId: `oip_infer_${id}`,
        summary: `Infer with ${m.name}`,
        requestBody: { required: true, content: json(ref(componentName('oip', m.name, 'request')), oipExample ? { example: oipExample } : {}) },
        responses: {
          '200': { description: 'The outputs.', content: json(ref('OipInferenceResponse')) },
          ...errors,
          '415': err('The Content-Type is neither application/json nor application/octet-stream with Inference-Header-Content-Length.'),
          '500': err('The model failed.'),
        },
      },
    };
  }
  return out;
}

function healthOperation(summary: string, tag: string, operationId: string, ok: Record<string, unknown>, unavailable: boolean): Operation {
  return {
    tags: [tag],
    operationId,
    summary,
    responses: { '200': ok, ...(unavailable ? { '503': { description: 'Not ready yet (models still loading, or one failed to load).' } } : {}) },
  };
}

/** Build the OpenAPI 3.1 document for a server's models. */
export function buildOpenApiDocument(opts: DocumentOptions): OpenApiDocument {
  const [first] = opts.models;
  if (!first) throw new RangeError('an OpenAPI document needs at least one model');
  const schemas: Record<string, JsonSchema> = {
    MlflowError: {
      type: 'object',
      required: ['error_code', 'message'],
      properties: { error_code: { type: 'string', examples: ['BAD_REQUEST'] }, message: { type: 'string' }, stack_trace: { type: 'string' } },
    },
    ...oipComponents(),
  };
  for (const m of opts.models) {
    schemas[componentName('mlflow', m.name, 'request')] = jsonRequestSchema(m.signature, m.fromTypeHint);
    schemas[componentName('mlflow', m.name, 'response')] = {
      type: 'object',
      required: ['predictions'],
      properties: { predictions: predictionsSchema(m.signature?.outputs ?? null) },
    };
    schemas[componentName('oip', m.name, 'request')] = oipInferenceRequestSchema(
      schemaTensors(m.signature?.inputs ?? null, 'input'),
      schemaTensors(m.signature?.outputs ?? null, 'output'),
    );
  }
  const pingOk = { description: 'The model is loaded (body: a newline).', content: json({ type: 'string' }) };
  const paths: Record<string, Record<string, Operation>> = {
    '/invocations': { post: invocationsOperation(first, opts.auth) },
    '/ping': { get: healthOperation('Health check (MLflow)', 'Health', 'ping', pingOk, true) },
    '/health': { get: healthOperation('Health check (MLflow)', 'Health', 'health', pingOk, true) },
    '/version': {
      get: healthOperation(
        'Server version',
        'Health',
        'version',
        { description: 'The version, as a bare string.', content: json({ type: 'string', example: opts.version }) },
        false,
      ),
    },
    '/execution-parameters': {
      get: healthOperation(
        'SageMaker batch transform parameters',
        'MLflow scoring',
        'executionParameters',
        {
          description: 'Parameters for SageMaker batch transform.',
          content: json({
            type: 'object',
            properties: { MaxConcurrentTransforms: { type: 'integer' }, BatchStrategy: { type: 'string' }, MaxPayloadInMB: { type: 'integer' } },
          }),
        },
        false,
      ),
    },
    '/v2': {
      get: healthOperation(
        'Server metadata (OIP)',
        'Open Inference Protocol v2',
        'oip_server_metadata',
        { description: 'Server metadata.', content: json(ref('OipServerMetadata')) },
        false,
      ),
    },
    '/v2/health/live': { get: healthOperation('Liveness (OIP)', 'Health', 'oip_live', { description: 'The server is live.' }, false) },
    '/v2/health/ready': { get: healthOperation('Readiness (OIP): every model loaded', 'Health', 'oip_ready', { description: 'Every model is ready.' }, true) },
    '/metrics': {
      get: healthOperation(
        'Prometheus metrics',
        'Metrics',
        'metrics',
        { description: 'Prometheus text exposition.', content: { 'text/plain': { schema: { type: 'string' } } } },
        false,
      ),
    },
  };
  for (const m of opts.models) Object.assign(paths, oipPaths(m, opts.auth));

  if (opts.auth) {
    for (const [path, item] of Object.entries(paths)) {
      if (!opts.isPublicPath(path)) continue;
      for (const op of Object.values(item)) op.security = [];
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'mlmodel', version: opts.version, description: describeModels(opts.models) },
    tags: [
      { name: 'MLflow scoring', description: "MLflow's scoring protocol (`mlflow models serve`)." },
      { name: 'Open Inference Protocol v2', description: 'KServe / Triton / MLServer inference protocol.' },
      { name: 'Health' },
      { name: 'Metrics' },
    ],
    paths,
    components: {
      schemas,
      ...(opts.auth
        ? {
            securitySchemes: {
              bearerAuth: { type: 'http', scheme: 'bearer', description: "The server's auth token, sent as `Authorization: Bearer <token>`." },
            },
          }
        : {}),
    },
    ...(opts.auth ? { security: [{ bearerAuth: [] }] } : {}),
  };
}
