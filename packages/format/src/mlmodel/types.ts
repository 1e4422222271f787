import type { ModelSignature } from '../signature/types.js';

/** One flavor's configuration block, e.g. `flavors.onnx`. Keys are kept exactly as written. */
export type FlavorConfig = Record<string, unknown>;

export interface SavedInputExampleInfo {
  artifact_path: string;
  type: 'dataframe' | 'ndarray' | 'json_object' | 'sparse_matrix_csc' | 'sparse_matrix_csr' | string;
  pandas_orient?: 'split' | 'values' | string;
  serving_input_path?: string;
  /** The string `'true'` when the example was saved with params. */
  params?: string;
  [key: string]: unknown;
}

/**
 * The contents of an `MLmodel` file. Keys use MLflow's own (snake_case) names so what you read
 * here is what you read in the file. `extra` holds keys we do not know; they round-trip.
 */
export interface MLmodel {
  flavors: Record<string, FlavorConfig>;
  run_id?: string | null;
  artifact_path?: string | null;
  utc_time_created: string;
  model_uuid: string | null;
  model_id: string | null;
  mlflow_version?: string | null;
  signature?: ModelSignature | null;
  is_signature_from_type_hint?: boolean;
  type_hint_from_example?: boolean;
  saved_input_example_info?: SavedInputExampleInfo | null;
  metadata?: Record<string, unknown> | null;
  model_size_bytes?: number | null;
  databricks_runtime?: string | null;
  env_vars?: string[] | null;
  prompts: string[] | null;
  resources?: Record<string, unknown> | null;
  auth_policy?: Record<string, unknown> | null;
  extra: Record<string, unknown>;
}

export const KNOWN_KEYS = [
  'flavors',
  'run_id',
  'artifact_path',
  'utc_time_created',
  'model_uuid',
  'model_id',
  'mlflow_version',
  'signature',
  'is_signature_from_type_hint',
  'type_hint_from_example',
  'saved_input_example_info',
  'metadata',
  'model_size_bytes',
  'databricks_runtime',
  'env_vars',
  'prompts',
  'resources',
  'auth_policy',
] as const;
