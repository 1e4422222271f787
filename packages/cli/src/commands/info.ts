import {
  openModelDir,
  readInputExample,
  readModelEnvironment,
  typeToString,
  type ModelDir,
  type ModelEnvironment,
  type ModelUriResolver,
  type ParamSpec,
  type Schema,
} from '@mlmodel/format';
import { modelResolver } from '../args.js';
import { table, toJson, truncate, type Io } from '../output.js';

export interface SchemaRow {
  name: string | null;
  type: string;
  shape?: number[];
  required: boolean | null;
}

export interface ModelInfo {
  path: string;
  flavors: Record<string, Record<string, unknown>>;
  signature: { inputs: SchemaRow[] | null; outputs: SchemaRow[] | null; params: ParamSpec[] | null } | null;
  /** `file` holds the example's data; `servingFile` (when MLflow saved one) is it as a scoring request. `mlmodel predict -i` takes either. */
  inputExample: { type: string; file: string; servingFile: string | null; data: unknown; params?: Record<string, unknown> } | null;
  environment: { python: string | null; requirements: string[] | null; conda: boolean; virtualenv: boolean };
  provenance: {
    run_id: string | null;
    artifact_path: string | null;
    utc_time_created: string;
    mlflow_version: string | null;
    model_uuid: string | null;
    model_id: string | null;
    model_size_bytes: number | null;
  };
  metadata: Record<string, unknown> | null;
  /** How the model would run here (e.g. the tfjs backend this machine gives). */
  runtime: Record<string, string>;
}

function schemaRows(schema: Schema | null): SchemaRow[] | null {
  if (!schema) return null;
  if (schema.kind === 'tensors') {
    return schema.specs.map((s) => ({ name: s.name, type: `tensor(${s.dtype})`, shape: [...s.shape], required: true }));
  }
  return schema.specs.map((s) => ({ name: s.name, type: typeToString(s.type), required: s.required }));
}

function pythonVersion(model: ModelDir, env: ModelEnvironment): string | null {
  const pf = model.mlmodel.flavors.python_function;
  if (env.pythonEnv) return env.pythonEnv.python;
  return pf && typeof pf.python_version === 'string' ? pf.python_version : null;
}

/** Everything `mlmodel info` shows, as data. `resolver` turns runs:/ and models:/ URIs into local directories. */
export async function describeModel(path: string, resolver?: ModelUriResolver): Promise<ModelInfo> {
  const model = await openModelDir(path, { resolver });
  const m = model.mlmodel;
  const env = await readModelEnvironment(model.dir);
  const exInfo = m.saved_input_example_info;
  const example = exInfo ? await readInputExample(model.dir, exInfo) : null;
  return {
    path: model.dir,
    flavors: m.flavors,
    signature: m.signature
      ? { inputs: schemaRows(m.signature.inputs), outputs: schemaRows(m.signature.outputs), params: m.signature.params ? [...m.signature.params] : null }
      : null,
    inputExample:
      example && exInfo
        ? {
            type: String(example.type),
            file: exInfo.artifact_path,
            servingFile: exInfo.serving_input_path ?? null,
            data: example.data,
            ...(example.params ? { params: example.params } : {}),
          }
        : null,
    environment: {
      python: pythonVersion(model, env),
      requirements: env.requirements ?? null,
      conda: env.conda !== undefined,
      virtualenv: env.pythonEnv !== undefined,
    },
    provenance: {
      run_id: m.run_id ?? null,
      artifact_path: m.artifact_path ?? null,
      utc_time_created: m.utc_time_created,
      mlflow_version: m.mlflow_version ?? null,
      model_uuid: m.model_uuid,
      model_id: m.model_id,
      model_size_bytes: m.model_size_bytes ?? null,
    },
    metadata: m.metadata ?? null,
    runtime: await runtimeFacts(model),
  };
}

async function runtimeFacts(model: ModelDir): Promise<Record<string, string>> {
  const facts: Record<string, string> = {};
  if (model.mlmodel.flavors.tfjs) {
    const { ensureTfjsBackend } = await import('@mlmodel/flavors');
    const b = await ensureTfjsBackend(undefined);
    facts.tfjs_backend = `${b.name} (${b.description})`;
  }
  return facts;
}

function flavorSummary(cfg: Record<string, unknown>): string {
  return Object.entries(cfg)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

function renderSchema(title: string, rows: SchemaRow[] | null): string[] {
  if (!rows) return [`  ${title}: (none)`];
  const hasShape = rows.some((r) => r.shape);
  const header = hasShape ? ['name', 'type', 'shape'] : ['name', 'type', 'required'];
  const body = rows.map((r) => [r.name ?? '(unnamed)', r.type, hasShape ? `(${(r.shape ?? []).join(', ')})` : r.required === false ? 'optional' : 'required']);
  return [`  ${title}:`, table(header, body, '    ')];
}

export function renderInfo(info: ModelInfo): string {
  const lines: string[] = [`Model: ${info.path}`, '', 'Flavors:'];
  const width = Math.max(...Object.keys(info.flavors).map((k) => k.length));
  for (const [name, cfg] of Object.entries(info.flavors)) lines.push(`  ${name.padEnd(width)}  ${flavorSummary(cfg)}`.trimEnd());
  lines.push('', 'Signature:');
  if (!info.signature) lines.push('  (none: inputs are not checked before predict)');
  else {
    lines.push(...renderSchema('inputs', info.signature.inputs), ...renderSchema('outputs', info.signature.outputs));
    const params = info.signature.params;
    if (!params) lines.push('  params: (none)');
    else {
      lines.push(
        '  params:',
        table(
          ['name', 'type', 'default', 'shape'],
          params.map((p) => [
            p.name,
            typeof p.type === 'string' ? p.type : typeToString(p.type),
            JSON.stringify(p.default),
            p.shape ? `(${p.shape.join(', ')})` : 'scalar',
          ]),
          '    ',
        ),
      );
    }
  }
  lines.push('', 'Input example:');
  if (!info.inputExample) lines.push('  (none)');
  else {
    lines.push(`  ${info.inputExample.type} in ${info.inputExample.file}: ${truncate(JSON.stringify(info.inputExample.data), 200)}`);
    if (info.inputExample.params) lines.push(`  params: ${truncate(JSON.stringify(info.inputExample.params), 200)}`);
    if (info.inputExample.servingFile) {
      lines.push(`  as a request: ${info.inputExample.servingFile} (for a server; mlmodel predict -i takes either file)`);
    }
  }
  const env = info.environment;
  lines.push('', 'Environment:');
  lines.push(`  python: ${env.python ?? 'unknown'}`);
  const files = [env.conda ? 'conda.yaml' : null, env.virtualenv ? 'python_env.yaml' : null, env.requirements ? 'requirements.txt' : null].filter(Boolean);
  lines.push(`  files: ${files.length ? files.join(', ') : '(none)'}`);
  if (env.requirements) lines.push(`  requirements: ${env.requirements.join(', ') || '(empty)'}`);
  const p = info.provenance;
  lines.push('', 'Provenance:');
  lines.push(`  run id:         ${p.run_id ?? '(none)'}`);
  if (p.artifact_path) lines.push(`  artifact path:  ${p.artifact_path}`);
  lines.push(`  created (UTC):  ${p.utc_time_created || '(unknown)'}`);
  lines.push(`  mlflow version: ${p.mlflow_version ?? '(not written by MLflow)'}`);
  lines.push(`  model uuid:     ${p.model_uuid ?? '(none)'}`);
  if (p.model_id) lines.push(`  model id:       ${p.model_id}`);
  if (p.model_size_bytes !== null) lines.push(`  size:           ${p.model_size_bytes} bytes`);
  if (info.metadata) lines.push('', `Metadata: ${truncate(JSON.stringify(info.metadata), 200)}`);
  for (const [k, v] of Object.entries(info.runtime)) lines.push('', `Runtime: ${k.replace(/_/g, ' ')}: ${v}`);
  return lines.join('\n');
}

export async function infoCommand(path: string, opts: { json?: boolean }, io: Io): Promise<number> {
  const info = await describeModel(path, modelResolver({ log: io.err }));
  io.out(opts.json ? toJson(info) : renderInfo(info));
  return 0;
}
