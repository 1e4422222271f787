/**
 * MLflow's local file store (`./mlruns`), laid out as MLflow 3.5 writes it so `mlflow ui
 * --backend-store-uri ./mlruns` shows what is written here and runs written by MLflow read back
 * (reference §9.4; the `mlflow-3.5-tracking` fixture):
 *
 * ```
 * mlruns/<exp_id>/meta.yaml                         experiment
 * mlruns/<exp_id>/<run_id>/meta.yaml                run (status as an int, source_type 4)
 * mlruns/<exp_id>/<run_id>/{params,tags}/<key>      raw values, no trailing newline
 * mlruns/<exp_id>/<run_id>/metrics/<key>            "<ts> <value> <step>\n" lines
 * mlruns/<exp_id>/<run_id>/artifacts/               the run's artifacts
 * mlruns/<exp_id>/<run_id>/outputs/<model_id>/meta.yaml   run → logged model link
 * mlruns/<exp_id>/models/<model_id>/{meta.yaml,params,tags,metrics,artifacts}   MLflow 3 logged models
 * mlruns/models/<name>/…                            the model registry (see FileRegistry)
 * ```
 *
 * Timestamps and ids come from `options.now` and `options.ids` (defaults: the clock and random
 * ids like MLflow's), so tests can reproduce a tree byte for byte.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalArtifactRepository, fileUriOf } from '../artifacts/local-repository.js';
import { InvalidParameterError, ResourceAlreadyExistsError, ResourceNotFoundError, TrackingConfigError } from '../errors.js';
import type { ArtifactRepository, TrackingStore } from '../store.js';
import {
  LOGGED_MODEL_STATUS_CODES,
  RUN_STATUS_CODES,
  type CreateLoggedModelRequest,
  type CreateModelVersionRequest,
  type CreateRunRequest,
  type Experiment,
  type LifecycleStage,
  type LogBatchRequest,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  type ModelOutput,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  type SearchLoggedModelsRequest,
  type SearchModelVersionsRequest,
  type SearchRunsRequest,
  type Tag,
  type UpdateRunRequest,
} from '../types.js';
import { FileRegistry } from './file-registry.js';
import {
  META_FILE,
  appendMetric,
  checkKey,
  fileStoreContext,
  isDirectory,
  latestMetric,
  metaNumber,
  metaString,
  readKeyValue,
  readKeyValues,
  readMeta,
  readMetricFile,
  readMetrics,
  writeKeyValue,
  writeMeta,
} from './files.js';
import { comparator, matches, paginate, parseFilter, parseOrderBy, type Lookup } from './search-filter.js';
import { randomRunName } from './run-names.js';

export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
const TRASH = '.trash';
const MODELS = 'models';
const RUN_NAME_TAG = 'mlflow.runName';
/** MLflow's limits (mlflow/utils/validation.py). */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsTagsPerBatch: 100,
  entitiesPerBatch: 1000,
  paramValue: 6000,
  tagValue: 8000,
  experimentName: 500,
} as const;

const STATUS_BY_CODE = new Map<number, RunStatus>(Object.entries(RUN_STATUS_CODES).map(([k, v]) => [v, k as RunStatus]));
const MODEL_STATUS_BY_CODE = new Map<number, LoggedModelStatus>(Object.entries(LOGGED_MODEL_STATUS_CODES).map(([k, v]) => [v, k as LoggedModelStatus]));

export interface FileStoreOptions {
  /** Epoch milliseconds for timestamps the store sets itself (creation, last update, deletion). */
  readonly now?: () => number;
  readonly ids?: { readonly experiment?: () => string; readonly run?: () => string; readonly model?: () => string };
}

/** MLflow's `append_to_uri_path`: join path parts onto a URI with single slashes. */
export function appendToUri(uri: string, ...parts: string[]): string {
  return [uri.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}

/** An 18-digit random experiment id, like the file store's `_generate_unique_integer_id`. */
function randomExperimentId(): string {
  const n = randomBytes(8).readBigUInt64BE() % 900000000000000000n;
  return String(n + 100000000000000000n);
}

interface RunLocation {
  readonly expId: string;
  readonly dir: string;
}

export class FileStore implements TrackingStore {
  readonly description: string;
  readonly root: string;
  private readonly now: () => number;
  private readonly ids: Required<NonNullable<FileStoreOptions['ids']>>;
  private readonly registry: FileRegistry;
  private readonly runLocations = new Map<string, RunLocation>();

  constructor(root: string, opts: FileStoreOptions = {}) {
    this.root = root;
    this.description = `file store ${root}`;
    this.now = opts.now ?? Date.now;
    this.ids = {
      experiment: opts.ids?.experiment ?? randomExperimentId,
      run: opts.ids?.run ?? (() => randomUUID().replace(/-/g, '')),
      model: opts.ids?.model ?? (() => `m-${randomUUID().replace(/-/g, '')}`),
    };
    this.registry = new FileRegistry(join(root, MODELS), this.now, (id) => this.getLoggedModel(id));
  }

  close(): void {}

  private ctx(op: string): { status: number; endpoint: string; source: string } {
    return fileStoreContext(this.root, op);
  }

  private notFound(message: string, op: string): ResourceNotFoundError {
    return new ResourceNotFoundError('RESOURCE_DOES_NOT_EXIST', message, this.ctx(op));
  }

  private invalid(message: string, op: string): InvalidParameterError {
    return new InvalidParameterError('INVALID_PARAMETER_VALUE', message, this.ctx(op));
  }

  /**
   * Create the root, `.trash` and the Default experiment (`0`), as MLflow's FileStore does when it
   * starts on a missing directory. Writes call it; reads never create anything.
   */
  async initialize(): Promise<void> {
    if (await isDirectory(join(this.root, DEFAULT_EXPERIMENT_ID))) return;
    await mkdir(join(this.root, TRASH), { recursive: true });
    if (await this.experimentDir(DEFAULT_EXPERIMENT_ID)) return;
    const t = this.now();
    await writeMeta(join(this.root, DEFAULT_EXPERIMENT_ID), {
      artifact_location: appendToUri(fileUriOf(this.root), DEFAULT_EXPERIMENT_ID),
      creation_time: t,
      experiment_id: DEFAULT_EXPERIMENT_ID,
      last_update_time: t,
      lifecycle_stage: 'active',
      name: DEFAULT_EXPERIMENT_NAME,
    });
  }

  // --- experiments -------------------------------------------------------------------------------

  /** The directory of an experiment (active, or deleted in `.trash`), or null. */
  private async experimentDir(id: string): Promise<string | null> {
    if (!/^[\w-]+$/.test(id)) return null;
    for (const dir of [join(this.root, id), join(this.root, TRASH, id)]) if ((await stat(join(dir, META_FILE)).catch(() => null))?.isFile()) return dir;
    return null;
  }

  private async experimentIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const base of [this.root, join(this.root, TRASH)]) {
      for (const e of await readdir(base, { withFileTypes: true }).catch(() => [])) {
        if (
          e.isDirectory() &&
          e.name !== TRASH &&
          e.name !== MODELS &&
          !e.name.startsWith('.') &&
          (await stat(join(base, e.name, META_FILE)).catch(() => null))
        )
          ids.push(e.name);
      }
    }
    return ids;
  }

  private async readExperiment(dir: string): Promise<Experiment> {
    const m = (await readMeta(dir)) ?? {};
    return {
      experiment_id: metaString(m.experiment_id),
      name: metaString(m.name),
      artifact_location: metaString(m.artifact_location),
      lifecycle_stage: (metaString(m.lifecycle_stage) || 'active') as LifecycleStage,
      ...(metaNumber(m.last_update_time) !== undefined ? { last_update_time: metaNumber(m.last_update_time)! } : {}),
      ...(metaNumber(m.creation_time) !== undefined ? { creation_time: metaNumber(m.creation_time)! } : {}),
      tags: await readKeyValues(join(dir, 'tags')),
    };
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const dir = await this.experimentDir(experimentId);
    if (!dir) throw this.notFound(`Could not find experiment with ID ${experimentId}`, 'get experiment');
    return this.readExperiment(dir);
  }

  async getExperimentByName(name: string): Promise<Experiment | null> {
    for (const id of await this.experimentIds()) {
      const e = await this.readExperiment((await this.experimentDir(id))!);
      if (e.name === name) return e;
    }
    return null;
  }

  async createExperiment(name: string, opts: { artifact_location?: string; tags?: Tag[] } = {}): Promise<string> {
    if (!name || !name.trim()) throw this.invalid("Invalid experiment name: ''", 'create experiment');
    if (name.length > LIMITS.experimentName)
      throw this.invalid(`Experiment name exceeds the maximum length of ${LIMITS.experimentName} characters`, 'create experiment');
    await this.initialize();
    if (await this.getExperimentByName(name)) {
      throw new ResourceAlreadyExistsError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`, this.ctx('create experiment'));
    }
    let id = this.ids.experiment();
    while (await this.experimentDir(id)) id = this.ids.experiment();
    const t = this.now();
    const dir = join(this.root, id);
    await writeMeta(dir, {
      artifact_location: opts.artifact_location ?? appendToUri(fileUriOf(this.root), id),
      creation_time: t,
      experiment_id: id,
      last_update_time: t,
      lifecycle_stage: 'active',
      name,
    });
    for (const tag of opts.tags ?? []) {
      checkKey(tag.key, 'tag', this.root);
      await writeKeyValue(join(dir, 'tags'), tag.key, tag.value);
    }
    return id;
  }

  async searchExperiments(req: { max_results?: number; page_token?: string; filter?: string }): Promise<Page<Experiment>> {
    const clauses = parseFilter(req.filter);
    const all: Experiment[] = [];
    for (const id of await this.experimentIds()) {
      const e = await this.readExperiment((await this.experimentDir(id))!);
      if (e.lifecycle_stage !== 'active') continue;
      const lookup: Lookup = (type, key) =>
        type === 'tag'
          ? e.tags.find((t) => t.key === key)?.value
          : type === 'attribute'
            ? (e as unknown as Record<string, string | number | undefined>)[key]
            : undefined;
      if (matches(clauses, lookup)) all.push(e);
    }
    all.sort((a, b) => (b.creation_time ?? 0) - (a.creation_time ?? 0) || (a.experiment_id < b.experiment_id ? -1 : 1));
    return paginate(all, req.max_results, req.page_token);
  }

  // --- runs ----------------------------------------------------------------------------------------

  private async locateRun(runId: string, op: string): Promise<RunLocation> {
    const known = this.runLocations.get(runId);
    if (known && (await stat(join(known.dir, META_FILE)).catch(() => null))) return known;
    if (/^[\w-]+$/.test(runId)) {
      for (const expId of await this.experimentIds()) {
        const expDir = (await this.experimentDir(expId))!;
        const dir = join(expDir, runId);
        if ((await stat(join(dir, META_FILE)).catch(() => null))?.isFile()) {
          const loc = { expId, dir };
          this.runLocations.set(runId, loc);
          return loc;
        }
      }
    }
    const hint = (await isDirectory(this.root))
      ? ''
      : ` (there is no mlruns directory at ${this.root}: set MLFLOW_TRACKING_URI to the tracking server that has the run)`;
    throw this.notFound(`Run '${runId}' not found${hint}`, op);
  }

  private async readRunInfo(loc: RunLocation): Promise<RunInfo> {
    const m = (await readMeta(loc.dir)) ?? {};
    const rawStatus = m.status;
    const status = typeof rawStatus === 'number' ? (STATUS_BY_CODE.get(rawStatus) ?? 'RUNNING') : ((metaString(rawStatus) || 'RUNNING') as RunStatus);
    const id = metaString(m.run_id) || metaString(m.run_uuid);
    const start = metaNumber(m.start_time);
    const end = metaNumber(m.end_time);
    return {
      run_id: id,
      run_uuid: id,
      experiment_id: metaString(m.experiment_id),
      run_name: metaString(m.run_name),
      user_id: metaString(m.user_id),
      status,
      ...(start !== undefined ? { start_time: start } : {}),
      ...(end !== undefined ? { end_time: end } : {}),
      artifact_uri: metaString(m.artifact_uri),
      lifecycle_stage: (metaString(m.lifecycle_stage) || 'active') as LifecycleStage,
    };
  }

  /** `_make_persisted_run_info_dict` plus `deleted_time` when given. */
  private async writeRunInfo(loc: RunLocation, info: RunInfo, deletedTime?: number): Promise<void> {
    await writeMeta(loc.dir, {
      artifact_uri: info.artifact_uri,
      ...(deletedTime !== undefined ? { deleted_time: deletedTime } : {}),
      end_time: info.end_time ?? null,
      entry_point_name: '',
      experiment_id: info.experiment_id,
      lifecycle_stage: info.lifecycle_stage,
      run_id: info.run_id,
      run_name: info.run_name,
      source_name: '',
      source_type: 4,
      source_version: '',
      start_time: info.start_time ?? null,
      status: RUN_STATUS_CODES[info.status],
      tags: [],
      user_id: info.user_id,
    });
  }

  private async activeRun(runId: string, op: string): Promise<{ loc: RunLocation; info: RunInfo }> {
    const loc = await this.locateRun(runId, op);
    const info = await this.readRunInfo(loc);
    if (info.lifecycle_stage !== 'active') {
      throw this.invalid(`The run ${runId} must be in the 'active' state. Current state is ${info.lifecycle_stage}.`, op);
    }
    return { loc, info };
  }

  async createRun(req: CreateRunRequest): Promise<Run> {
    await this.initialize();
    const expDir = await this.experimentDir(req.experiment_id);
    if (!expDir) throw this.notFound(`Could not find experiment with ID ${req.experiment_id}`, 'create run');
    const exp = await this.readExperiment(expDir);
    if (exp.lifecycle_stage !== 'active') {
      throw this.invalid(`Could not create run under non-active experiment with ID ${req.experiment_id}.`, 'create run');
    }
    const tagName = req.tags?.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (req.run_name && tagName !== undefined && req.run_name !== tagName) {
      throw this.invalid(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${req.run_name}', mlflow.runName='${tagName}').`,
        'create run',
      );
    }
    const runName = req.run_name || tagName || randomRunName();
    const runId = this.ids.run();
    const loc = { expId: exp.experiment_id, dir: join(expDir, runId) };
    const info: RunInfo = {
      run_id: runId,
      run_uuid: runId,
      experiment_id: exp.experiment_id,
      run_name: runName,
      user_id: req.user_id ?? '',
      status: 'RUNNING',
      start_time: req.start_time ?? this.now(),
      artifact_uri: appendToUri(exp.artifact_location, runId, 'artifacts'),
      lifecycle_stage: 'active',
    };
    await mkdir(loc.dir, { recursive: true });
    await this.writeRunInfo(loc, info);
    // as MLflow: metrics/, params/ and artifacts/ exist from the start (MLflow 3.11 requires them); tags/ appears with the first tag
    for (const sub of ['metrics', 'params', 'artifacts']) await mkdir(join(loc.dir, sub), { recursive: true });
    this.runLocations.set(runId, loc);
    const tags = [...(req.tags ?? [])];
    if (tagName === undefined) tags.push({ key: RUN_NAME_TAG, value: runName });
    for (const t of tags) {
      checkKey(t.key, 'tag', this.root);
      await writeKeyValue(join(loc.dir, 'tags'), t.key, t.value);
    }
    return this.getRun(runId);
  }

  async updateRun(runId: string, req: UpdateRunRequest): Promise<RunInfo> {
    const { loc, info } = await this.activeRun(runId, 'update run');
    const next: RunInfo = {
      ...info,
      ...(req.status ? { status: req.status } : {}),
      ...(req.end_time !== undefined ? { end_time: req.end_time } : {}),
      ...(req.run_name ? { run_name: req.run_name } : {}),
    };
    if (req.run_name) await writeKeyValue(join(loc.dir, 'tags'), RUN_NAME_TAG, req.run_name);
    await this.writeRunInfo(loc, next);
    return next;
  }

  async deleteRun(runId: string): Promise<void> {
    const loc = await this.locateRun(runId, 'delete run');
    const info = await this.readRunInfo(loc);
    await this.writeRunInfo(loc, { ...info, lifecycle_stage: 'deleted' }, this.now());
  }

  async getRun(runId: string): Promise<Run> {
    const loc = await this.locateRun(runId, 'get run');
    return this.readRun(loc);
  }

  private async readRun(loc: RunLocation): Promise<Run> {
    const info = await this.readRunInfo(loc);
    const metrics: Metric[] = [];
    for (const history of await readMetrics(join(loc.dir, 'metrics'), false)) {
      const latest = latestMetric(history);
      if (latest) metrics.push(latest);
    }
    const outputs: ModelOutput[] = [];
    for (const e of await readdir(join(loc.dir, 'outputs'), { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      const m = await readMeta(join(loc.dir, 'outputs', e.name));
      if (m && metaString(m.destination_type) === 'MODEL_OUTPUT') outputs.push({ model_id: metaString(m.destination_id), step: metaNumber(m.step) ?? 0 });
    }
    return {
      info,
      data: { metrics, params: await readKeyValues(join(loc.dir, 'params')), tags: await readKeyValues(join(loc.dir, 'tags')) },
      inputs: {},
      outputs: outputs.length ? { model_outputs: outputs } : {},
    };
  }

  async searchRuns(req: SearchRunsRequest): Promise<Page<Run>> {
    const clauses = parseFilter(req.filter);
    const orderBy = parseOrderBy(req.order_by?.length ? req.order_by : ['attributes.start_time DESC']);
    const view = req.run_view_type ?? 'ACTIVE_ONLY';
    const runs: Run[] = [];
    for (const expId of req.experiment_ids) {
      const expDir = await this.experimentDir(expId);
      if (!expDir) continue;
      for (const e of await readdir(expDir, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === MODELS || e.name.startsWith('.')) continue;
        const loc = { expId, dir: join(expDir, e.name) };
        if (!(await stat(join(loc.dir, META_FILE)).catch(() => null))) continue;
        const run = await this.readRun(loc);
        const stage = run.info.lifecycle_stage;
        if ((view === 'ACTIVE_ONLY' && stage !== 'active') || (view === 'DELETED_ONLY' && stage !== 'deleted')) continue;
        if (matches(clauses, runLookup(run))) runs.push(run);
      }
    }
    runs.sort(comparator(orderBy, runLookup, (a, b) => (a.info.run_id < b.info.run_id ? -1 : a.info.run_id > b.info.run_id ? 1 : 0)));
    return paginate(runs, req.max_results, req.page_token);
  }

  async logBatch(runId: string, req: LogBatchRequest): Promise<void> {
    const metrics = req.metrics ?? [];
    const params = req.params ?? [];
    const tags = req.tags ?? [];
    const op = 'log batch';
    if (metrics.length > LIMITS.metricsPerBatch) {
      throw this.invalid(`A batch logging request can contain at most ${LIMITS.metricsPerBatch} metrics. Got ${metrics.length} metrics.`, op);
    }
    if (params.length + tags.length > LIMITS.paramsTagsPerBatch) {
      throw this.invalid(`A batch logging request can contain at most ${LIMITS.paramsTagsPerBatch} params and tags. Got ${params.length + tags.length}.`, op);
    }
    for (const p of params) {
      checkKey(p.key, 'parameter', this.root);
      if (p.value.length > LIMITS.paramValue)
        throw this.invalid(`Param value '${p.value.slice(0, 40)}…' had length ${p.value.length}, which exceeded length limit of ${LIMITS.paramValue}`, op);
    }
    for (const t of tags) {
      checkKey(t.key, 'tag', this.root);
      if (t.value.length > LIMITS.tagValue)
        throw this.invalid(`Tag value '${t.value.slice(0, 40)}…' had length ${t.value.length}, which exceeded length limit of ${LIMITS.tagValue}`, op);
    }
    for (const m of metrics) {
      checkKey(m.key, 'metric', this.root);
      if (typeof m.value !== 'number')
        throw this.invalid(
          `Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`,
          op,
        );
    }
    const { loc, info } = await this.activeRun(runId, op);
    for (const p of params) {
      const old = await readKeyValue(join(loc.dir, 'params'), p.key);
      if (old !== undefined && old !== p.value) {
        throw this.invalid(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
          op,
        );
      }
    }
    for (const p of params) await writeKeyValue(join(loc.dir, 'params'), p.key, p.value);
    for (const m of metrics) {
      await appendMetric(join(loc.dir, 'metrics'), m);
      if (m.model_id) {
        const model = await this.locateModel(m.model_id, op);
        await appendMetric(join(model.dir, 'metrics'), m, runId);
      }
    }
    for (const t of tags) {
      await writeKeyValue(join(loc.dir, 'tags'), t.key, t.value);
      if (t.key === RUN_NAME_TAG && t.value !== info.run_name) await this.writeRunInfo(loc, { ...(await this.readRunInfo(loc)), run_name: t.value });
    }
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const loc = await this.locateRun(runId, 'get metric history');
    checkKey(key, 'metric', this.root);
    const file = join(loc.dir, 'metrics', ...key.split('/'));
    if (!(await stat(file).catch(() => null))?.isFile()) return [];
    return readMetricFile(file, key, false);
  }

  async logOutputs(runId: string, models: ModelOutput[]): Promise<void> {
    const { loc } = await this.activeRun(runId, 'log outputs');
    for (const m of models) {
      await this.locateModel(m.model_id, 'log outputs');
      await writeMeta(join(loc.dir, 'outputs', m.model_id), {
        destination_id: m.model_id,
        destination_type: 'MODEL_OUTPUT',
        source_id: m.model_id,
        source_type: 'RUN_OUTPUT',
        step: m.step,
        tags: {},
      });
    }
  }

  // --- logged models ---------------------------------------------------------------------------------

  private async locateModel(modelId: string, op: string): Promise<{ expId: string; dir: string }> {
    if (/^[\w-]+$/.test(modelId)) {
      for (const expId of await this.experimentIds()) {
        const dir = join((await this.experimentDir(expId))!, MODELS, modelId);
        if ((await stat(join(dir, META_FILE)).catch(() => null))?.isFile()) return { expId, dir };
      }
    }
    throw this.notFound(`Logged model with ID '${modelId}' not found.`, op);
  }

  private async readModel(dir: string): Promise<LoggedModel> {
    const m = (await readMeta(dir)) ?? {};
    const rawStatus = m.status;
    const status =
      typeof rawStatus === 'number' ? (MODEL_STATUS_BY_CODE.get(rawStatus) ?? 'LOGGED_MODEL_PENDING') : (metaString(rawStatus) as LoggedModelStatus);
    const metrics = (await readMetrics(join(dir, 'metrics'), true)).flat();
    return {
      info: {
        model_id: metaString(m.model_id),
        experiment_id: metaString(m.experiment_id),
        name: metaString(m.name),
        creation_timestamp_ms: metaNumber(m.creation_timestamp) ?? 0,
        last_updated_timestamp_ms: metaNumber(m.last_updated_timestamp) ?? 0,
        artifact_uri: metaString(m.artifact_location),
        status,
        ...(m.status_message ? { status_message: metaString(m.status_message) } : {}),
        model_type: metaString(m.model_type),
        ...(m.source_run_id ? { source_run_id: metaString(m.source_run_id) } : {}),
        tags: await readKeyValues(join(dir, 'tags')),
      },
      data: { params: await readKeyValues(join(dir, 'params')), metrics },
    };
  }

  async createLoggedModel(req: CreateLoggedModelRequest): Promise<LoggedModel> {
    await this.initialize();
    const expDir = await this.experimentDir(req.experiment_id);
    if (!expDir) throw this.notFound(`Could not find experiment with ID ${req.experiment_id}`, 'create logged model');
    const exp = await this.readExperiment(expDir);
    if (exp.lifecycle_stage !== 'active')
      throw this.invalid(`Could not create model under non-active experiment with ID ${req.experiment_id}.`, 'create logged model');
    if (req.source_run_id) await this.locateRun(req.source_run_id, 'create logged model');
    for (const p of req.params ?? []) checkKey(p.key, 'parameter', this.root);
    for (const t of req.tags ?? []) checkKey(t.key, 'tag', this.root);
    const modelId = this.ids.model();
    const dir = join(expDir, MODELS, modelId);
    const t = this.now();
    const artifactLocation = appendToUri(exp.artifact_location, MODELS, modelId, 'artifacts');
    await writeMeta(dir, {
      artifact_location: artifactLocation,
      creation_timestamp: t,
      experiment_id: exp.experiment_id,
      last_updated_timestamp: t,
      model_id: modelId,
      model_type: req.model_type ?? null,
      name: req.name,
      source_run_id: req.source_run_id ?? null,
      status: LOGGED_MODEL_STATUS_CODES.LOGGED_MODEL_PENDING,
      status_message: null,
    });
    for (const sub of ['metrics', 'params', 'tags', 'artifacts']) await mkdir(join(dir, sub), { recursive: true });
    for (const p of req.params ?? []) await writeKeyValue(join(dir, 'params'), p.key, p.value);
    for (const tag of req.tags ?? []) await writeKeyValue(join(dir, 'tags'), tag.key, tag.value);
    return this.readModel(dir);
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    const { dir } = await this.locateModel(modelId, 'finalize logged model');
    const m = (await readMeta(dir)) ?? {};
    await writeMeta(dir, { ...m, last_updated_timestamp: this.now(), status: LOGGED_MODEL_STATUS_CODES[status] });
    return this.readModel(dir);
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const { dir } = await this.locateModel(modelId, 'get logged model');
    return this.readModel(dir);
  }

  async searchLoggedModels(req: SearchLoggedModelsRequest): Promise<Page<LoggedModel>> {
    const clauses = parseFilter(req.filter);
    const models: LoggedModel[] = [];
    for (const expId of req.experiment_ids) {
      const expDir = await this.experimentDir(expId);
      if (!expDir) continue;
      for (const e of await readdir(join(expDir, MODELS), { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || !(await stat(join(expDir, MODELS, e.name, META_FILE)).catch(() => null))) continue;
        const model = await this.readModel(join(expDir, MODELS, e.name));
        if (matches(clauses, modelLookup(model))) models.push(model);
      }
    }
    const order = (req.order_by ?? []).map((o) => ({ type: 'attribute' as const, key: o.field_name, ascending: o.ascending !== false }));
    const byCreation = (a: LoggedModel, b: LoggedModel): number =>
      b.info.creation_timestamp_ms - a.info.creation_timestamp_ms || (a.info.model_id < b.info.model_id ? -1 : a.info.model_id > b.info.model_id ? 1 : 0);
    models.sort(order.length ? comparator(order, modelLookup, byCreation) : byCreation);
    const p = paginate(models, req.max_results ?? 100, req.page_token);
    return p;
  }

  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<void> {
    const { dir } = await this.locateModel(modelId, 'set logged model tags');
    for (const t of tags) {
      checkKey(t.key, 'tag', this.root);
      await writeKeyValue(join(dir, 'tags'), t.key, t.value);
    }
  }

  // --- artifacts -------------------------------------------------------------------------------------

  artifactRepository(artifactUri: string): ArtifactRepository {
    if (artifactUri.startsWith('file:') || artifactUri.startsWith('/')) return new LocalArtifactRepository(artifactUri);
    throw new TrackingConfigError(
      `artifact URI ${artifactUri} is not a local file URI: the file store ${this.root} cannot reach it (set MLFLOW_TRACKING_URI to the server that serves it)`,
    );
  }

  // --- model registry (mlruns/models) --------------------------------------------------------------

  createRegisteredModel(name: string, opts?: { description?: string; tags?: Tag[] }): Promise<RegisteredModel> {
    return this.registry.createRegisteredModel(name, opts);
  }
  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.registry.getRegisteredModel(name);
  }
  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    if (req.run_id) await this.locateRun(req.run_id, 'create model version');
    return this.registry.createModelVersion(req);
  }
  getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.registry.getModelVersion(name, version);
  }
  getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return this.registry.getModelVersionDownloadUri(name, version);
  }
  setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    return this.registry.setRegisteredModelAlias(name, alias, version);
  }
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.registry.getModelVersionByAlias(name, alias);
  }
  getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    return this.registry.getLatestVersions(name, stages);
  }
  searchModelVersions(req: SearchModelVersionsRequest): Promise<Page<ModelVersion>> {
    return this.registry.searchModelVersions(req);
  }
}

/** Filter/order lookups over a run: `metrics.x`, `params.x`, `tags.x`, and attributes by their MLflow names. */
export function runLookup(run: Run): Lookup {
  return (type, key) => {
    switch (type) {
      case 'metric':
        return run.data.metrics.find((m) => m.key === key)?.value;
      case 'param':
        return run.data.params.find((p) => p.key === key)?.value;
      case 'tag':
        return run.data.tags.find((t) => t.key === key)?.value;
      case 'attribute': {
        const k = key === 'run_uuid' || key === 'id' ? 'run_id' : key === 'name' ? 'run_name' : key === 'created' ? 'start_time' : key;
        const v = (run.info as unknown as Record<string, string | number | undefined>)[k];
        return v;
      }
      default:
        return undefined;
    }
  };
}

export function modelLookup(model: LoggedModel): Lookup {
  return (type, key) => {
    switch (type) {
      case 'metric':
        return latestMetric(model.data.metrics.filter((m) => m.key === key))?.value;
      case 'param':
        return model.data.params.find((p) => p.key === key)?.value;
      case 'tag':
        return model.info.tags.find((t) => t.key === key)?.value;
      case 'attribute': {
        const k =
          key === 'creation_time' || key === 'creation_timestamp'
            ? 'creation_timestamp_ms'
            : key === 'last_updated_timestamp'
              ? 'last_updated_timestamp_ms'
              : key;
        const v = (model.info as unknown as Record<string, unknown>)[k];
        return typeof v === 'string' || typeof v === 'number' ? v : undefined;
      }
      default:
        return undefined;
    }
  };
}
