/**
 * What a tracking backend does: the REST client (`RestStore`) and the local file store
 * (`FileStore`) both implement it, one MLflow call per method, with the same typed errors.
 * Higher-level flows (batch splitting, pagination, logging a model, resolving model URIs) live
 * in `TrackingClient`, on top of either.
 */
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
} from './types.js';

/** Files under an artifact URI: list, download, upload. Paths are relative to the repository root, `/`-separated. */
export interface ArtifactRepository {
  /** The root artifact URI. */
  readonly uri: string;
  /**
   * The direct children of `relPath` (default: the root), with paths relative to the root
   * (`notes/readme.txt`). A path that does not exist lists as empty, as MLflow's does.
   */
  list(relPath?: string): Promise<FileInfo[]>;
  /** Write the file at `relPath` to `destFile`, returning its size and SHA-256 (hex). */
  downloadFile(relPath: string, destFile: string): Promise<{ size: number; sha256: string }>;
  /** Upload a local file to `relPath`. */
  uploadFile(localFile: string, relPath: string): Promise<void>;
}

export interface TrackingStore {
  /** Where it stores: the server's URL or the mlruns directory (for messages). */
  readonly description: string;

  getExperimentByName(name: string): Promise<Experiment | null>;
  getExperiment(experimentId: string): Promise<Experiment>;
  createExperiment(name: string, opts?: { artifact_location?: string; tags?: Tag[] }): Promise<string>;
  searchExperiments(req: { max_results?: number; page_token?: string; filter?: string }): Promise<Page<Experiment>>;

  createRun(req: CreateRunRequest): Promise<Run>;
  updateRun(runId: string, req: UpdateRunRequest): Promise<RunInfo>;
  getRun(runId: string): Promise<Run>;
  deleteRun(runId: string): Promise<void>;
  searchRuns(req: SearchRunsRequest): Promise<Page<Run>>;
  /** One batch, within MLflow's limits (the client splits larger ones). */
  logBatch(runId: string, req: LogBatchRequest): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  /** Link logged models to a run as its outputs (`runs/outputs`). */
  logOutputs(runId: string, models: ModelOutput[]): Promise<void>;

  createLoggedModel(req: CreateLoggedModelRequest): Promise<LoggedModel>;
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel>;
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  searchLoggedModels(req: SearchLoggedModelsRequest): Promise<Page<LoggedModel>>;
  setLoggedModelTags(modelId: string, tags: Tag[]): Promise<void>;

  /** The repository for an artifact URI this store hands out (a run's `artifact_uri`, a logged model's, a version's download URI). */
  artifactRepository(artifactUri: string): ArtifactRepository;

  createRegisteredModel(name: string, opts?: { description?: string; tags?: Tag[] }): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  getModelVersionDownloadUri(name: string, version: string): Promise<string>;
  setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  /** The newest version in each of `stages` (all stages when omitted). */
  getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]>;
  searchModelVersions(req: SearchModelVersionsRequest): Promise<Page<ModelVersion>>;

  /** Release connections. */
  close(): void;
}
