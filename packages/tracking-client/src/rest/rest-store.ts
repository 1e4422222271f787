/**
 * The tracking store behind an MLflow tracking server: one REST call per method, sent as MLflow's
 * Python client sends it (reference mlflow-tracking-rest.md): GET arguments as query parameters,
 * other bodies as `json.dumps` JSON with `Content-Type: application/json`, run-scoped GETs and
 * updates carrying both `run_id` and `run_uuid`, metric histories asked with `max_results=25000`.
 */
import { PyFloat, pyJsonDumps } from '@mlmodel/format';
import type { HttpSettings } from '../config.js';
import { LocalArtifactRepository } from '../artifacts/local-repository.js';
import { HttpArtifactRepository } from '../artifacts/http-repository.js';
import { ResourceNotFoundError, TrackingConfigError } from '../errors.js';
import { errorFromResponse } from '../http/response-errors.js';
import { HttpClient, readBody, type HttpMethod, type RetryObserver } from '../http/transport.js';
import type { ArtifactRepository, TrackingStore } from '../store.js';
import type {
  CreateLoggedModelRequest,
  CreateModelVersionRequest,
  CreateRunRequest,
  Experiment,
  FileInfo,
  LogBatchRequest,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelOutput,
  ModelVersion,
  Page,
  RegisteredModel,
  Run,
  RunInfo,
  SearchLoggedModelsRequest,
  SearchModelVersionsRequest,
  SearchRunsRequest,
  Tag,
  UpdateRunRequest,
} from '../types.js';
import { obj, toExperiment, toFileInfo, toLoggedModel, toModelVersion, toRegisteredModel, toRun, toRunInfo, toMetric } from './wire.js';

/** What the Python client asks for per metric-history page (`GET_METRIC_HISTORY_MAX_RESULTS`). */
export const METRIC_HISTORY_PAGE = 25_000;
const MAX_JSON_RESPONSE = 1024 * 1024 * 1024;

export interface RestStoreOptions {
  readonly settings: HttpSettings;
  readonly userAgent?: string;
  readonly onRetry?: RetryObserver | undefined;
}

function query(url: URL, args: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || v === null) continue;
    // requests' params=: lists repeat the key; Python's str() of booleans
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, typeof item === 'boolean' ? (item ? 'True' : 'False') : String(item));
  }
}

/** Metric values are doubles: `1.0`, never `1` (json.dumps of a Python float). */
function wireMetric(m: Metric): Record<string, unknown> {
  return {
    key: m.key,
    value: new PyFloat(m.value),
    timestamp: m.timestamp,
    step: m.step,
    ...(m.model_id ? { model_id: m.model_id } : {}),
    ...(m.dataset_name ? { dataset_name: m.dataset_name } : {}),
    ...(m.dataset_digest ? { dataset_digest: m.dataset_digest } : {}),
  };
}

export class RestStore implements TrackingStore {
  readonly description: string;
  private readonly http: HttpClient;

  constructor(
    readonly baseUrl: URL,
    opts: RestStoreOptions,
  ) {
    this.description = baseUrl.href.replace(/\/+$/, '');
    this.http = new HttpClient({
      settings: opts.settings,
      authOrigin: baseUrl.origin,
      userAgent: opts.userAgent ?? 'mlmodel-tracking-client',
      onRetry: opts.onRetry,
    });
  }

  close(): void {
    this.http.close();
  }

  /** One MLflow REST call: `endpoint` is relative to `/api/2.0/mlflow/`. */
  async call(method: HttpMethod, endpoint: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const url = new URL(`${this.baseUrl.href.replace(/\/+$/, '')}/api/2.0/mlflow/${endpoint}`);
    let body: Uint8Array | undefined;
    const headers: Record<string, string> = {};
    if (method === 'GET') query(url, args);
    else {
      body = Buffer.from(pyJsonDumps(args), 'utf8');
      headers['Content-Type'] = 'application/json';
    }
    const label = `${method} ${url.pathname}`;
    const text = await this.http.request({ method, url, headers, ...(body ? { body } : {}) }, async (res) => {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(res, label, this.description);
      return (await readBody(res.stream, MAX_JSON_RESPONSE)).toString('utf8');
    });
    if (text.trim() === '') return {};
    try {
      return obj(JSON.parse(text));
    } catch {
      throw new TrackingConfigError(
        `${label} on ${this.description} answered with something that is not JSON: is MLFLOW_TRACKING_URI an MLflow tracking server?`,
      );
    }
  }

  // --- experiments -------------------------------------------------------------------------

  async getExperimentByName(name: string): Promise<Experiment | null> {
    try {
      return toExperiment((await this.call('GET', 'experiments/get-by-name', { experiment_name: name })).experiment);
    } catch (e) {
      if (e instanceof ResourceNotFoundError) return null;
      throw e;
    }
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return toExperiment((await this.call('GET', 'experiments/get', { experiment_id: experimentId })).experiment);
  }

  async createExperiment(name: string, opts: { artifact_location?: string; tags?: Tag[] } = {}): Promise<string> {
    const r = await this.call('POST', 'experiments/create', {
      name,
      artifact_location: opts.artifact_location,
      tags: opts.tags?.length ? opts.tags : undefined,
    });
    return String(r.experiment_id);
  }

  async searchExperiments(req: { max_results?: number; page_token?: string; filter?: string }): Promise<Page<Experiment>> {
    const r = await this.call('POST', 'experiments/search', { max_results: req.max_results ?? 1000, page_token: req.page_token, filter: req.filter });
    return page(r, 'experiments', toExperiment);
  }

  // --- runs ----------------------------------------------------------------------------------

  async createRun(req: CreateRunRequest): Promise<Run> {
    const r = await this.call('POST', 'runs/create', {
      experiment_id: req.experiment_id,
      user_id: req.user_id,
      run_name: req.run_name,
      start_time: req.start_time ?? Date.now(),
      tags: req.tags?.length ? req.tags : undefined,
    });
    return toRun(r.run);
  }

  async updateRun(runId: string, req: UpdateRunRequest): Promise<RunInfo> {
    const r = await this.call('POST', 'runs/update', { run_uuid: runId, status: req.status, end_time: req.end_time, run_name: req.run_name, run_id: runId });
    return toRunInfo(r.run_info);
  }

  async getRun(runId: string): Promise<Run> {
    return toRun((await this.call('GET', 'runs/get', { run_uuid: runId, run_id: runId })).run);
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/delete', { run_id: runId });
  }

  async searchRuns(req: SearchRunsRequest): Promise<Page<Run>> {
    const r = await this.call('POST', 'runs/search', {
      experiment_ids: req.experiment_ids,
      filter: req.filter || undefined,
      run_view_type: req.run_view_type,
      max_results: req.max_results ?? 1000,
      order_by: req.order_by?.length ? req.order_by : undefined,
      page_token: req.page_token,
    });
    return page(r, 'runs', toRun);
  }

  async logBatch(runId: string, req: LogBatchRequest): Promise<void> {
    await this.call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: req.metrics?.length ? req.metrics.map(wireMetric) : undefined,
      params: req.params?.length ? req.params : undefined,
      tags: req.tags?.length ? req.tags : undefined,
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let token: string | undefined;
    // without max_results the server returns no metrics, only a token (recording #14)
    for (let i = 0; i < 100_000; i++) {
      const r = await this.call('GET', 'metrics/get-history', { run_id: runId, metric_key: key, max_results: METRIC_HISTORY_PAGE, page_token: token });
      const metrics = Array.isArray(r.metrics) ? r.metrics.map(toMetric) : [];
      out.push(...metrics);
      token = typeof r.next_page_token === 'string' && r.next_page_token ? r.next_page_token : undefined;
      if (!token || metrics.length === 0) break;
    }
    return out;
  }

  async logOutputs(runId: string, models: ModelOutput[]): Promise<void> {
    await this.call('POST', 'runs/outputs', { run_id: runId, models });
  }

  /** The tracking API's listing of a run's artifacts (`artifacts/list`): paths relative to the run's artifact root. */
  async listRunArtifacts(runId: string, path?: string): Promise<FileInfo[]> {
    const r = await this.call('GET', 'artifacts/list', { run_id: runId, path: path || undefined });
    return Array.isArray(r.files) ? r.files.map(toFileInfo) : [];
  }

  // --- logged models (MLflow 3) -----------------------------------------------------------------

  async createLoggedModel(req: CreateLoggedModelRequest): Promise<LoggedModel> {
    const r = await this.call('POST', 'logged-models', {
      experiment_id: req.experiment_id,
      name: req.name,
      model_type: req.model_type,
      source_run_id: req.source_run_id,
      params: req.params?.length ? req.params : undefined,
      tags: req.tags?.length ? req.tags : undefined,
    });
    return toLoggedModel(r.model);
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    return toLoggedModel((await this.call('PATCH', `logged-models/${encodeURIComponent(modelId)}`, { model_id: modelId, status })).model);
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    return toLoggedModel((await this.call('GET', `logged-models/${encodeURIComponent(modelId)}`)).model);
  }

  async searchLoggedModels(req: SearchLoggedModelsRequest): Promise<Page<LoggedModel>> {
    const r = await this.call('POST', 'logged-models/search', {
      experiment_ids: req.experiment_ids,
      filter: req.filter || undefined,
      order_by: req.order_by?.length ? req.order_by : undefined,
      max_results: req.max_results ?? 100,
      page_token: req.page_token,
    });
    return page(r, 'models', toLoggedModel);
  }

  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<void> {
    await this.call('PATCH', `logged-models/${encodeURIComponent(modelId)}/tags`, { model_id: modelId, tags });
  }

  // --- artifacts ---------------------------------------------------------------------------------

  artifactRepository(artifactUri: string): ArtifactRepository {
    if (artifactUri.startsWith('mlflow-artifacts:') || /^https?:\/\//i.test(artifactUri))
      return new HttpArtifactRepository(artifactUri, this.http, this.baseUrl);
    if (artifactUri.startsWith('file:') || artifactUri.startsWith('/')) return new LocalArtifactRepository(artifactUri);
    const scheme = /^([a-zA-Z][\w+.-]*):/.exec(artifactUri)?.[1] ?? artifactUri;
    throw new TrackingConfigError(
      `artifact URI ${artifactUri}: the ${scheme} artifact store is not reachable from here; start the server with --serve-artifacts so artifacts go through mlflow-artifacts:/`,
    );
  }

  // --- model registry --------------------------------------------------------------------------

  async createRegisteredModel(name: string, opts: { description?: string; tags?: Tag[] } = {}): Promise<RegisteredModel> {
    const r = await this.call('POST', 'registered-models/create', { name, tags: opts.tags?.length ? opts.tags : undefined, description: opts.description });
    return toRegisteredModel(r.registered_model);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return toRegisteredModel((await this.call('GET', 'registered-models/get', { name })).registered_model);
  }

  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    const r = await this.call('POST', 'model-versions/create', {
      name: req.name,
      source: req.source,
      run_id: req.run_id,
      tags: req.tags?.length ? req.tags : undefined,
      description: req.description,
      model_id: req.model_id,
    });
    return toModelVersion(r.model_version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return toModelVersion((await this.call('GET', 'model-versions/get', { name, version })).model_version);
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return String((await this.call('GET', 'model-versions/get-download-uri', { name, version })).artifact_uri ?? '');
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', 'registered-models/alias', { name, alias, version });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return toModelVersion((await this.call('GET', 'registered-models/alias', { name, alias })).model_version);
  }

  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const r = await this.call('POST', 'registered-models/get-latest-versions', { name, stages: stages?.length ? stages : undefined });
    return Array.isArray(r.model_versions) ? r.model_versions.map(toModelVersion) : [];
  }

  async searchModelVersions(req: SearchModelVersionsRequest): Promise<Page<ModelVersion>> {
    const r = await this.call('GET', 'model-versions/search', {
      filter: req.filter || undefined,
      max_results: req.max_results ?? 10_000,
      order_by: req.order_by?.length ? req.order_by : undefined,
      page_token: req.page_token,
    });
    return page(r, 'model_versions', toModelVersion);
  }
}

function page<T>(r: Record<string, unknown>, key: string, convert: (v: unknown) => T): Page<T> {
  const items = Array.isArray(r[key]) ? (r[key] as unknown[]).map(convert) : [];
  const token = typeof r.next_page_token === 'string' && r.next_page_token ? r.next_page_token : undefined;
  return { items, ...(token ? { next_page_token: token } : {}) };
}
