/**
 * MLflow tracking entities, with MLflow's own (snake_case) field names so what you read here is
 * what the REST API sends (reference: mlflow-tracking-rest.md). The REST client and the file
 * store both return these shapes, with repeated fields always present (the server omits empty
 * ones) and int64 fields as numbers.
 */

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type LifecycleStage = 'active' | 'deleted';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
export type LoggedModelStatus = 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';

/** Integer codes the file store writes in meta.yaml (`mlflow/protos/service.proto`). */
export const RUN_STATUS_CODES: Readonly<Record<RunStatus, number>> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };
export const LOGGED_MODEL_STATUS_CODES: Readonly<Record<LoggedModelStatus, number>> = {
  LOGGED_MODEL_PENDING: 1,
  LOGGED_MODEL_READY: 2,
  LOGGED_MODEL_UPLOAD_FAILED: 3,
};

export interface KeyValue {
  key: string;
  value: string;
}
export type Param = KeyValue;
export type Tag = KeyValue;

export interface Metric {
  key: string;
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
  step: number;
  /** The logged model the value belongs to (MLflow 3), when logged for one. */
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
  /** Set on a logged model's metrics: the run that logged the value. */
  run_id?: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  last_update_time?: number;
  creation_time?: number;
  tags: Tag[];
}

export interface RunInfo {
  run_id: string;
  /** Same as run_id (MLflow still sends both). */
  run_uuid: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: LifecycleStage;
}

export interface RunData {
  /** The latest value of each metric (largest step, then timestamp, then value). */
  metrics: Metric[];
  params: Param[];
  tags: Tag[];
}

export interface ModelOutput {
  model_id: string;
  step: number;
}

export interface Run {
  info: RunInfo;
  data: RunData;
  inputs: { dataset_inputs?: unknown[]; model_inputs?: { model_id: string }[] };
  outputs: { model_outputs?: ModelOutput[] };
}

export interface LoggedModelInfo {
  model_id: string;
  experiment_id: string;
  name: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  artifact_uri: string;
  status: LoggedModelStatus;
  status_message?: string;
  model_type: string;
  source_run_id?: string;
  tags: Tag[];
}

export interface LoggedModel {
  info: LoggedModelInfo;
  data: { params: Param[]; metrics: Metric[] };
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  status: string;
  status_message?: string;
  run_link: string;
  user_id?: string;
  aliases: string[];
  tags: Tag[];
  model_id?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  latest_versions: ModelVersion[];
  aliases: { alias: string; version: string }[];
  tags: Tag[];
}

/** One artifact listing entry. `path` is relative to the listed root (a file store or artifacts/list) or a basename (mlflow-artifacts). */
export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page (MLflow may also send one on a last full page; the next page is then empty). */
  next_page_token?: string;
}

export interface CreateRunRequest {
  experiment_id: string;
  run_name?: string;
  /** Epoch ms (default: now). */
  start_time?: number;
  tags?: Tag[];
  user_id?: string;
}

export interface UpdateRunRequest {
  status?: RunStatus;
  end_time?: number;
  run_name?: string;
}

export interface SearchRunsRequest {
  experiment_ids: string[];
  /** MLflow's search syntax, e.g. `metrics.rmse < 1 and params.alpha = '0.5'`. */
  filter?: string;
  run_view_type?: ViewType;
  max_results?: number;
  order_by?: string[];
  page_token?: string;
}

export interface LogBatchRequest {
  metrics?: Metric[];
  params?: Param[];
  tags?: Tag[];
}

export interface CreateLoggedModelRequest {
  experiment_id: string;
  name: string;
  source_run_id?: string;
  model_type?: string;
  params?: Param[];
  tags?: Tag[];
}

export interface SearchLoggedModelsRequest {
  experiment_ids: string[];
  filter?: string;
  max_results?: number;
  order_by?: { field_name: string; ascending?: boolean }[];
  page_token?: string;
}

export interface CreateModelVersionRequest {
  name: string;
  source: string;
  run_id?: string;
  model_id?: string;
  description?: string;
  tags?: Tag[];
}

export interface SearchModelVersionsRequest {
  filter?: string;
  max_results?: number;
  order_by?: string[];
  page_token?: string;
}
