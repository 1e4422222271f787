/**
 * MLflow's JSON (as its server sends it) to the entity types: repeated fields that the server
 * omits when empty become `[]`, int64 fields become numbers (whether sent as numbers or as
 * protobuf-JSON strings), and `"NaN"`/`"Infinity"` metric values become numbers.
 */
import type {
  Experiment,
  FileInfo,
  KeyValue,
  LifecycleStage,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  RunStatus,
} from '../types.js';

type Json = Record<string, unknown>;

export function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback;
}

/** int64 or double from JSON: a number, or a string holding one (protobuf JSON, `"NaN"`). */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

function optNum<K extends string>(key: K, v: unknown): Partial<Record<K, number>> {
  const n = num(v);
  return n === undefined ? {} : ({ [key]: n } as Record<K, number>);
}

export function keyValues(v: unknown): KeyValue[] {
  return arr(v).map((x) => ({ key: str(obj(x).key), value: str(obj(x).value) }));
}

export function toExperiment(v: unknown): Experiment {
  const e = obj(v);
  return {
    experiment_id: str(e.experiment_id),
    name: str(e.name),
    artifact_location: str(e.artifact_location),
    lifecycle_stage: (str(e.lifecycle_stage) || 'active') as LifecycleStage,
    ...optNum('last_update_time', e.last_update_time),
    ...optNum('creation_time', e.creation_time),
    tags: keyValues(e.tags),
  };
}

export function toMetric(v: unknown): Metric {
  const m = obj(v);
  return {
    key: str(m.key),
    value: num(m.value) ?? NaN,
    timestamp: num(m.timestamp) ?? 0,
    step: num(m.step) ?? 0,
    ...(typeof m.model_id === 'string' && m.model_id ? { model_id: m.model_id } : {}),
    ...(typeof m.dataset_name === 'string' && m.dataset_name ? { dataset_name: m.dataset_name } : {}),
    ...(typeof m.dataset_digest === 'string' && m.dataset_digest ? { dataset_digest: m.dataset_digest } : {}),
    ...(typeof m.run_id === 'string' && m.run_id ? { run_id: m.run_id } : {}),
  };
}

export function toRunInfo(v: unknown): RunInfo {
  const i = obj(v);
  const id = str(i.run_id) || str(i.run_uuid);
  return {
    run_id: id,
    run_uuid: id,
    experiment_id: str(i.experiment_id),
    run_name: str(i.run_name),
    user_id: str(i.user_id),
    status: (str(i.status) || 'RUNNING') as RunStatus,
    ...optNum('start_time', i.start_time),
    ...optNum('end_time', i.end_time),
    artifact_uri: str(i.artifact_uri),
    lifecycle_stage: (str(i.lifecycle_stage) || 'active') as LifecycleStage,
  };
}

export function toRun(v: unknown): Run {
  const r = obj(v);
  const data = obj(r.data);
  const inputs = obj(r.inputs);
  const outputs = obj(r.outputs);
  return {
    info: toRunInfo(r.info),
    data: { metrics: arr(data.metrics).map(toMetric), params: keyValues(data.params), tags: keyValues(data.tags) },
    inputs: {
      ...(Array.isArray(inputs.dataset_inputs) ? { dataset_inputs: inputs.dataset_inputs } : {}),
      ...(Array.isArray(inputs.model_inputs) ? { model_inputs: inputs.model_inputs.map((x) => ({ model_id: str(obj(x).model_id) })) } : {}),
    },
    outputs: Array.isArray(outputs.model_outputs)
      ? { model_outputs: outputs.model_outputs.map((x) => ({ model_id: str(obj(x).model_id), step: num(obj(x).step) ?? 0 })) }
      : {},
  };
}

export function toLoggedModel(v: unknown): LoggedModel {
  const m = obj(v);
  const i = obj(m.info);
  const d = obj(m.data);
  return {
    info: {
      model_id: str(i.model_id),
      experiment_id: str(i.experiment_id),
      name: str(i.name),
      creation_timestamp_ms: num(i.creation_timestamp_ms) ?? 0,
      last_updated_timestamp_ms: num(i.last_updated_timestamp_ms) ?? 0,
      artifact_uri: str(i.artifact_uri),
      status: (str(i.status) || 'LOGGED_MODEL_PENDING') as LoggedModelStatus,
      ...(typeof i.status_message === 'string' && i.status_message ? { status_message: i.status_message } : {}),
      model_type: str(i.model_type),
      ...(typeof i.source_run_id === 'string' && i.source_run_id ? { source_run_id: i.source_run_id } : {}),
      tags: keyValues(i.tags),
    },
    data: { params: keyValues(d.params), metrics: arr(d.metrics).map(toMetric) },
  };
}

export function toModelVersion(v: unknown): ModelVersion {
  const m = obj(v);
  return {
    name: str(m.name),
    version: str(m.version),
    creation_timestamp: num(m.creation_timestamp) ?? 0,
    last_updated_timestamp: num(m.last_updated_timestamp) ?? 0,
    current_stage: str(m.current_stage, 'None'),
    description: str(m.description),
    source: str(m.source),
    run_id: str(m.run_id),
    status: str(m.status, 'READY'),
    ...(typeof m.status_message === 'string' && m.status_message ? { status_message: m.status_message } : {}),
    run_link: str(m.run_link),
    ...(typeof m.user_id === 'string' && m.user_id ? { user_id: m.user_id } : {}),
    aliases: arr(m.aliases).map((a) => str(a)),
    tags: keyValues(m.tags),
    ...(typeof m.model_id === 'string' && m.model_id ? { model_id: m.model_id } : {}),
  };
}

export function toRegisteredModel(v: unknown): RegisteredModel {
  const m = obj(v);
  return {
    name: str(m.name),
    creation_timestamp: num(m.creation_timestamp) ?? 0,
    last_updated_timestamp: num(m.last_updated_timestamp) ?? 0,
    description: str(m.description),
    latest_versions: arr(m.latest_versions).map(toModelVersion),
    aliases: arr(m.aliases).map((a) => ({ alias: str(obj(a).alias), version: str(obj(a).version) })),
    tags: keyValues(m.tags),
  };
}

export function toFileInfo(v: unknown): FileInfo {
  const f = obj(v);
  const size = num(f.file_size);
  return { path: str(f.path), is_dir: f.is_dir === true, ...(size !== undefined ? { file_size: size } : {}) };
}
