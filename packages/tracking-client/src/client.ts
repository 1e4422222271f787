/**
 * `TrackingClient`: what callers use, over a `TrackingStore` (REST or file store). It adds what
 * MLflow's Python client adds over its stores: experiment get-or-create, the context tags of a new
 * run (`mlflow.user`, `mlflow.source.name`, `mlflow.source.type`), batch splitting, pagination,
 * and the `mlflow.log-model.history` run tag.
 */
import { userInfo } from 'node:os';
import { pyJsonDumps } from '@mlmodel/format';
import { splitBatch } from './batching.js';
import { ResourceAlreadyExistsError } from './errors.js';
import type { ArtifactRepository, TrackingStore } from './store.js';
import type {
  CreateRunRequest,
  Experiment,
  LogBatchRequest,
  LoggedModel,
  ModelVersion,
  Page,
  Run,
  SearchLoggedModelsRequest,
  SearchRunsRequest,
  Tag,
} from './types.js';

/** The run tag MLflow appends logged models to (`mlflow/utils/mlflow_tags.py::MLFLOW_LOGGED_MODELS`). */
export const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';
const MAX_TAG_VALUE = 8000;
const MAX_PAGES = 100_000;

/** The user name MLflow records (`getpass.getuser()`: $LOGNAME, $USER, $LNAME, $USERNAME, then the account). */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LOGNAME || env.USER || env.LNAME || env.USERNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The tags MLflow's fluent API puts on a new run and a new logged model. */
export function contextTags(sourceName: string, env: NodeJS.ProcessEnv = process.env): Tag[] {
  return [
    { key: 'mlflow.user', value: currentUser(env) },
    { key: 'mlflow.source.name', value: sourceName },
    { key: 'mlflow.source.type', value: 'LOCAL' },
  ];
}

export interface TrackingClientOptions {
  /** Registry calls go here when set (`MLFLOW_REGISTRY_URI`); else to the tracking store. */
  readonly registry?: TrackingStore | undefined;
  /** `mlflow.source.name` of runs and models created by this client (default `mlmodel`). */
  readonly sourceName?: string;
}

export class TrackingClient {
  readonly registry: TrackingStore;
  readonly sourceName: string;

  constructor(
    readonly store: TrackingStore,
    opts: TrackingClientOptions = {},
  ) {
    this.registry = opts.registry ?? store;
    this.sourceName = opts.sourceName ?? 'mlmodel';
  }

  close(): void {
    this.store.close();
    if (this.registry !== this.store) this.registry.close();
  }

  /** The experiment of that name, created when missing (a concurrent creation is tolerated). */
  async getOrCreateExperiment(name: string): Promise<Experiment> {
    const found = await this.store.getExperimentByName(name);
    if (found) return found;
    try {
      return await this.store.getExperiment(await this.store.createExperiment(name));
    } catch (e) {
      if (!(e instanceof ResourceAlreadyExistsError)) throw e;
      const again = await this.store.getExperimentByName(name);
      if (!again) throw e;
      return again;
    }
  }

  /** A new run with MLflow's context tags and this user's id (both overridable through `req`). */
  async createRun(req: CreateRunRequest): Promise<Run> {
    const tags = new Map(contextTags(this.sourceName).map((t) => [t.key, t.value]));
    for (const t of req.tags ?? []) tags.set(t.key, t.value);
    return this.store.createRun({
      ...req,
      user_id: req.user_id ?? currentUser(),
      start_time: req.start_time ?? Date.now(),
      tags: [...tags].map(([key, value]) => ({ key, value })),
    });
  }

  /** Log metrics, params and tags, split into as many requests as MLflow's limits need. */
  async logBatch(runId: string, req: LogBatchRequest): Promise<void> {
    for (const part of splitBatch(req)) await this.store.logBatch(runId, part);
  }

  /** Every run a search returns, following page tokens (MLflow may send one on the last full page; the next page is then empty). */
  async searchAllRuns(req: Omit<SearchRunsRequest, 'page_token'>, limit = Infinity): Promise<Run[]> {
    return collectPages((page_token) => this.store.searchRuns({ ...req, ...(page_token ? { page_token } : {}) }), limit);
  }

  async searchAllLoggedModels(req: Omit<SearchLoggedModelsRequest, 'page_token'>, limit = Infinity): Promise<LoggedModel[]> {
    return collectPages((page_token) => this.store.searchLoggedModels({ ...req, ...(page_token ? { page_token } : {}) }), limit);
  }

  async searchAllModelVersions(filter: string | undefined, limit = Infinity): Promise<ModelVersion[]> {
    return collectPages((page_token) => this.registry.searchModelVersions({ ...(filter ? { filter } : {}), ...(page_token ? { page_token } : {}) }), limit);
  }

  artifactRepository(artifactUri: string): ArtifactRepository {
    return this.store.artifactRepository(artifactUri);
  }

  /**
   * Append a model to the run's `mlflow.log-model.history` tag: a JSON list of
   * `{run_id, artifact_path, utc_time_created, model_uuid, flavors}` (flavors without their
   * `config`), as MLflow's `record_logged_model` writes it. Entries that no longer fit MLflow's
   * 8000-character tag limit are dropped oldest first.
   */
  async recordLoggedModel(
    runId: string,
    entry: { run_id: string; artifact_path: string; utc_time_created: string; model_uuid: string; flavors: Record<string, unknown> },
  ): Promise<void> {
    const run = await this.store.getRun(runId);
    const current = run.data.tags.find((t) => t.key === LOG_MODEL_HISTORY_TAG)?.value;
    let history: unknown[] = [];
    if (current) {
      try {
        const parsed = JSON.parse(current) as unknown;
        if (Array.isArray(parsed)) history = parsed;
      } catch {
        history = [];
      }
    }
    const flavors = Object.fromEntries(
      Object.entries(entry.flavors).map(([k, v]) => [k, v && typeof v === 'object' && !Array.isArray(v) ? omit(v as Record<string, unknown>, 'config') : v]),
    );
    history.push({ run_id: entry.run_id, artifact_path: entry.artifact_path, utc_time_created: entry.utc_time_created, model_uuid: entry.model_uuid, flavors });
    let value = pyJsonDumps(history);
    while (value.length > MAX_TAG_VALUE && history.length > 1) {
      history.shift();
      value = pyJsonDumps(history);
    }
    if (value.length > MAX_TAG_VALUE) return;
    await this.store.logBatch(runId, { tags: [{ key: LOG_MODEL_HISTORY_TAG, value }] });
  }

  /** Register a model version (creating the registered model when missing). `source` is e.g. `models:/m-…`. */
  async registerModel(name: string, source: string, opts: { run_id?: string; model_id?: string; description?: string } = {}): Promise<ModelVersion> {
    try {
      await this.registry.createRegisteredModel(name);
    } catch (e) {
      if (!(e instanceof ResourceAlreadyExistsError)) throw e;
    }
    return this.registry.createModelVersion({ name, source, ...opts });
  }
}

function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = o;
  return rest;
}

/** Concatenate pages until a page has no token or no items (or `limit` items are collected). */
export async function collectPages<T>(fetchPage: (token: string | undefined) => Promise<Page<T>>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await fetchPage(token);
    out.push(...page.items);
    if (out.length >= limit) return out.slice(0, limit);
    token = page.next_page_token;
    if (!token || page.items.length === 0) break;
  }
  return out;
}
