import { pathToFileURL } from 'node:url';
import { MlmodelError, type ModelInput } from '@mlmodel/format';
import type { JsModelContext } from './context.js';
import { JsFunctionError, thrownMessage } from './errors.js';

/** What a model module's `load(context)` returns. */
export interface JsModelPredictor {
  /**
   * Called with the enforced input (a ColumnBatch, a TensorBatch, or `{kind: 'json', value}` for
   * raw JSON requests) and the params (defaults applied; `{}` when there are none). May be async.
   * Return a Batch, `{kind: 'json', value}`, or any JSON-able value (sent as JSON).
   */
  predict(input: ModelInput, params: Readonly<Record<string, unknown>>): unknown;
  /** Optional: release what `load` acquired. Called once, when the model is closed. */
  close?(): unknown;
}

/** The shape a model module must have: a named `load` export, or a default export with `load`. */
export interface JsModelModule {
  load(context: JsModelContext): JsModelPredictor | Promise<JsModelPredictor>;
}

type LoadFn = JsModelModule['load'];

/**
 * Import a model module. `version` goes into the URL's query so that a module whose file changed
 * (a model directory saved again at the same path) is imported afresh instead of coming from
 * Node's module cache. Relative imports inside the module resolve without the query.
 */
export async function importModelModule(file: string, label: string, version: string): Promise<LoadFn> {
  const url = new URL(pathToFileURL(file).href);
  url.searchParams.set('mlmodel', version);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ url.href)) as Record<string, unknown>;
  } catch (e) {
    throw new JsFunctionError(`cannot import model module ${label}: ${thrownMessage(e)}`, 'INVALID_PARAMETER_VALUE', { cause: e });
  }
  if (typeof mod.load === 'function') return mod.load as LoadFn;
  const def = mod.default as { load?: unknown } | null | undefined;
  if ((typeof def === 'object' || typeof def === 'function') && def !== null && typeof def.load === 'function') {
    return def.load.bind(def) as LoadFn;
  }
  const names = Object.keys(mod);
  throw new JsFunctionError(
    `model module ${label} does not export a load function: export \`async function load(context)\` returning ` +
      `{ predict(input, params) }, or a default export with such a load (its exports: ${names.length ? names.join(', ') : 'none'})`,
  );
}

/** Call the module's `load(context)` and check that it returned something with `predict`. */
export async function callLoad(load: LoadFn, context: JsModelContext, label: string): Promise<JsModelPredictor> {
  let predictor: unknown;
  try {
    predictor = await load(context);
  } catch (e) {
    // ours (context.loadModel's, which name the module already) and the model's own typed errors keep their message and code
    if (e instanceof MlmodelError) throw e;
    throw new JsFunctionError(`load(context) of model module ${label} failed: ${thrownMessage(e)}`, 'INVALID_PARAMETER_VALUE', {
      cause: e,
    });
  }
  if ((typeof predictor !== 'object' && typeof predictor !== 'function') || predictor === null) {
    throw new JsFunctionError(
      `load(context) of model module ${label} returned ${describeReturn(predictor)}; it must return an object with a predict(input, params) method`,
    );
  }
  const p = predictor as Record<string, unknown>;
  if (typeof p.predict !== 'function') {
    const keys = Object.keys(p);
    throw new JsFunctionError(
      `load(context) of model module ${label} returned an object without a predict method ` +
        `(its keys: ${keys.length ? keys.join(', ') : 'none'}); it must return { predict(input, params) }`,
    );
  }
  if (p.close !== undefined && typeof p.close !== 'function') {
    throw new JsFunctionError(`load(context) of model module ${label} returned an object whose close is not a function`);
  }
  return predictor as JsModelPredictor;
}

function describeReturn(v: unknown): string {
  if (v === undefined) return 'undefined (did load forget to return?)';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}
