import { randomUUID } from 'node:crypto';
import { SignatureError, ModelFormatError, MlmodelError } from '../errors.js';
import { parseSignature } from '../signature/parse.js';
import { signatureToDict } from '../signature/serialize.js';
import type { ModelSignature } from '../signature/types.js';
import { dumpYaml, loadYaml } from '../yaml/index.js';
import { KNOWN_KEYS, type FlavorConfig, type MLmodel, type SavedInputExampleInfo } from './types.js';
import { validateMLmodelDict } from './validate.js';

export const MLMODEL_FILE_NAME = 'MLmodel';

/** `str(datetime.now(utc).replace(tzinfo=None))`: microseconds dropped when zero, as Python does. */
export function utcTimeCreated(date = new Date()): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? base : `${base}.${String(ms).padStart(3, '0')}000`;
}

/** A new MLmodel with the keys MLflow 3 always writes. */
export function createMLmodel(init: Partial<Omit<MLmodel, 'extra'>> & { extra?: Record<string, unknown> } = {}): MLmodel {
  return {
    flavors: {},
    utc_time_created: utcTimeCreated(),
    model_uuid: randomUUID().replace(/-/g, ''),
    model_id: null,
    prompts: null,
    ...init,
    extra: init.extra ?? {},
  };
}

/** Build an MLmodel from the mapping read out of the YAML file (after validation). */
export function mlmodelFromDict(d: Record<string, unknown>, file?: string): MLmodel {
  validateMLmodelDict(d, file);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) if (!(KNOWN_KEYS as readonly string[]).includes(k)) extra[k] = v;
  let signature: ModelSignature | null = null;
  if (d.signature) {
    try {
      signature = parseSignature(d.signature);
    } catch (e) {
      if (e instanceof SignatureError) throw new ModelFormatError(e.message, { file, cause: e });
      throw e;
    }
  }
  const m: MLmodel = {
    flavors: d.flavors as Record<string, FlavorConfig>,
    utc_time_created: (d.utc_time_created as string | undefined) ?? '',
    model_uuid: (d.model_uuid as string | null | undefined) ?? null,
    model_id: (d.model_id as string | null | undefined) ?? null,
    prompts: (d.prompts as string[] | null | undefined) ?? null,
    signature,
    extra,
  };
  const required = ['flavors', 'utc_time_created', 'model_uuid', 'model_id', 'prompts', 'signature'];
  const optional = KNOWN_KEYS.filter((k) => !required.includes(k));
  for (const k of optional) if (k in d) (m as unknown as Record<string, unknown>)[k] = d[k];
  return m;
}

/** MLflow's `Model.to_dict()`: which keys are written, and when (reference §1.1). */
export function mlmodelToDict(m: MLmodel): Record<string, unknown> {
  const d: Record<string, unknown> = {
    ...m.extra,
    flavors: m.flavors,
    utc_time_created: m.utc_time_created,
    model_uuid: m.model_uuid,
    model_id: m.model_id,
    prompts: m.prompts,
  };
  if (m.run_id != null) d.run_id = m.run_id;
  if (m.artifact_path != null) d.artifact_path = m.artifact_path;
  if (m.mlflow_version != null) d.mlflow_version = m.mlflow_version;
  if (m.databricks_runtime != null) d.databricks_runtime = m.databricks_runtime;
  if (m.signature) {
    d.signature = signatureToDict(m.signature);
    d.is_signature_from_type_hint = m.is_signature_from_type_hint ?? false;
    d.type_hint_from_example = m.type_hint_from_example ?? false;
  }
  const whenSet = ['saved_input_example_info', 'metadata', 'resources', 'model_size_bytes', 'auth_policy', 'env_vars'] as const;
  for (const k of whenSet) if (m[k] != null) d[k] = m[k];
  return d;
}

/** Parse the text of an MLmodel file. `file` is used in error messages. */
export function parseMLmodel(text: string, file = MLMODEL_FILE_NAME): MLmodel {
  const d = loadYaml(text, { file, requireMapping: true }) as Record<string, unknown>;
  return mlmodelFromDict(d, file);
}

/** The text of an MLmodel file, in PyYAML's `safe_dump(default_flow_style=False)` style. */
export function serializeMLmodel(m: MLmodel): string {
  return dumpYaml(mlmodelToDict(m));
}

/** Names of the flavors in a model, in file order. */
export function flavorNames(m: MLmodel): string[] {
  return Object.keys(m.flavors);
}

export function getFlavor(m: MLmodel, name: string): FlavorConfig | undefined {
  return m.flavors[name];
}

export function requireFlavor(m: MLmodel, name: string): FlavorConfig {
  const f = m.flavors[name];
  if (!f) {
    throw new MlmodelError(`model has no '${name}' flavor (it has: ${flavorNames(m).join(', ') || 'none'})`, 'INVALID_PARAMETER_VALUE');
  }
  return f;
}

export type { SavedInputExampleInfo };
