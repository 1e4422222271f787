/** Helpers for server tests: fixture paths, a real server on a free port, tiny JS models built on the fly. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsFunctionFlavor } from '@mlmodel/flavors';
import { createMLmodel, parseSignature, writeMLmodel } from '@mlmodel/format';
import { startServer, type ServedModelConfig, type RunOptions, type RunningServer } from '@mlmodel/serve';

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/mlflow-3.5/', import.meta.url));
export const PYTHON = '/usr/bin/python3';

export interface GoldenCase {
  request: Record<string, unknown>;
  predictions: unknown;
}

export function golden(model: string): GoldenCase[] {
  const g = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { cases: Record<string, GoldenCase[]> };
  return g.cases[model]!;
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A fixture as a ServedModelConfig (python fixtures get Debian's interpreter). */
export function fixtureSpec(name: string, extra: Partial<ServedModelConfig> = {}): ServedModelConfig {
  const python = ['iris_sklearn', 'churn_pipeline', 'diabetes_tensor'].includes(name);
  return { name, path: fixture(name), ...(python ? { options: { python: PYTHON } } : {}), ...extra };
}

/** Start a real server on a free port, wait until its models are ready. */
export async function start(models: ServedModelConfig[], opts: Partial<RunOptions> = {}): Promise<RunningServer> {
  const s = await startServer({ models, port: 0, logLevel: 'silent', handleSignals: false, processMetrics: false, ...opts });
  await s.ready;
  return s;
}

export async function post(
  s: RunningServer,
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; headers: Headers; text: string; bytes: Uint8Array }> {
  const r = await fetch(s.url + path, { method: 'POST', body, headers });
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, text: new TextDecoder().decode(bytes), bytes };
}

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-serve-test-'));
let counter = 0;
// each test file imports this module afresh: its models go when that file's tests are done
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A js_function model from inline module source, with a signature given as MLflow's JSON strings
 * (`{"inputs": "[...]", "outputs": ..., "params": ...}`). Returns its directory.
 */
export async function jsModel(
  source: string,
  signature: { inputs: string; outputs?: string; params?: string } | null,
  opts: { typeHint?: boolean } = {},
): Promise<string> {
  const src = join(tmp, `src-${++counter}`);
  mkdirSync(src);
  writeFileSync(join(src, 'model.mjs'), source);
  const dir = join(tmp, `model-${counter}`);
  mkdirSync(dir);
  const saved = await jsFunctionFlavor.save!({ modulePath: join(src, 'model.mjs'), validate: false }, dir);
  const mlmodel = createMLmodel({ flavors: saved.flavors, signature: signature ? parseSignature(signature) : null });
  if (opts.typeHint) mlmodel.is_signature_from_type_hint = true;
  await writeMLmodel(dir, mlmodel);
  return dir;
}
