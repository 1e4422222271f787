/**
 * The file store's model registry (`mlruns/models/`), laid out as MLflow's registry FileStore:
 *
 * ```
 * models/<name>/meta.yaml                 creation_timestamp, description, last_updated_timestamp, name
 * models/<name>/tags/<key>
 * models/<name>/aliases/<alias>           the version number, as text
 * models/<name>/version-<n>/meta.yaml     the version (current_stage, source, storage_location, run_id, status, …)
 * models/<name>/version-<n>/tags/<key>
 * ```
 *
 * There is no real-MLflow fixture for this part: it follows MLflow's registry FileStore source
 * (`mlflow/store/model_registry/file_store.py`), not a recorded tree.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameterError, ResourceAlreadyExistsError, ResourceNotFoundError } from '../errors.js';
import type { CreateModelVersionRequest, LoggedModel, ModelVersion, Page, RegisteredModel, Tag } from '../types.js';
import { checkKey, fileStoreContext, metaNumber, metaString, readKeyValue, readKeyValues, readMeta, writeKeyValue, writeMeta } from './files.js';
import { comparator, matches, paginate, parseFilter, parseOrderBy, type Lookup } from './search-filter.js';

const STAGES = ['None', 'Staging', 'Production', 'Archived'];
const DELETED_STAGE = 'Deleted_Internal';

/** MLflow's canonical stage spelling (`production` → `Production`). */
export function canonicalStage(stage: string): string {
  const s = STAGES.find((x) => x.toLowerCase() === stage.toLowerCase());
  if (!s) {
    throw new InvalidParameterError('INVALID_PARAMETER_VALUE', `Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`, {
      status: 0,
      endpoint: 'model registry',
      source: 'file store',
    });
  }
  return s;
}

export class FileRegistry {
  constructor(
    private readonly dir: string,
    private readonly now: () => number,
    private readonly getLoggedModel: (modelId: string) => Promise<LoggedModel>,
  ) {}

  private ctx(op: string): { status: number; endpoint: string; source: string } {
    return fileStoreContext(this.dir, op);
  }

  private checkName(name: string, op: string): void {
    if (!name || name.includes('/') || name.includes('\\') || name.includes('%') || name === '.' || name === '..' || name.startsWith('.')) {
      throw new InvalidParameterError(
        'INVALID_PARAMETER_VALUE',
        `Invalid name: '${name}'. Registered model names cannot be empty or contain path separators or '%'`,
        this.ctx(op),
      );
    }
  }

  private modelDir(name: string, op: string): string {
    this.checkName(name, op);
    return join(this.dir, name);
  }

  private async existingModelDir(name: string, op: string): Promise<string> {
    const dir = this.modelDir(name, op);
    if (!(await readMeta(dir))) throw new ResourceNotFoundError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`, this.ctx(op));
    return dir;
  }

  private async touch(dir: string): Promise<void> {
    const m = (await readMeta(dir)) ?? {};
    await writeMeta(dir, { ...m, last_updated_timestamp: this.now() });
  }

  async createRegisteredModel(name: string, opts: { description?: string; tags?: Tag[] } = {}): Promise<RegisteredModel> {
    const op = 'create registered model';
    const dir = this.modelDir(name, op);
    if (await readMeta(dir)) throw new ResourceAlreadyExistsError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`, this.ctx(op));
    for (const t of opts.tags ?? []) checkKey(t.key, 'tag', this.dir);
    const t = this.now();
    await writeMeta(dir, { creation_timestamp: t, description: opts.description ?? null, last_updated_timestamp: t, name });
    for (const tag of opts.tags ?? []) await writeKeyValue(join(dir, 'tags'), tag.key, tag.value);
    return this.getRegisteredModel(name);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const dir = await this.existingModelDir(name, 'get registered model');
    const m = (await readMeta(dir)) ?? {};
    return {
      name: metaString(m.name) || name,
      creation_timestamp: metaNumber(m.creation_timestamp) ?? 0,
      last_updated_timestamp: metaNumber(m.last_updated_timestamp) ?? 0,
      description: metaString(m.description),
      latest_versions: await this.getLatestVersions(name),
      aliases: (await readKeyValues(join(dir, 'aliases'))).map((a) => ({ alias: a.key, version: a.value })),
      tags: await readKeyValues(join(dir, 'tags')),
    };
  }

  private async versionNumbers(dir: string): Promise<number[]> {
    const out: number[] = [];
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const m = /^version-(\d+)$/.exec(e.name);
      if (e.isDirectory() && m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  private async readVersion(dir: string, name: string, version: number): Promise<ModelVersion | null> {
    const vdir = join(dir, `version-${version}`);
    const m = await readMeta(vdir);
    if (!m || metaString(m.current_stage) === DELETED_STAGE) return null;
    const aliases = (await readKeyValues(join(dir, 'aliases'))).filter((a) => a.value === String(version)).map((a) => a.key);
    return {
      name: metaString(m.name) || name,
      version: String(version),
      creation_timestamp: metaNumber(m.creation_timestamp) ?? 0,
      last_updated_timestamp: metaNumber(m.last_updated_timestamp) ?? 0,
      current_stage: metaString(m.current_stage) || 'None',
      description: metaString(m.description),
      source: metaString(m.source),
      run_id: metaString(m.run_id),
      status: metaString(m.status) || 'READY',
      ...(m.status_message ? { status_message: metaString(m.status_message) } : {}),
      run_link: metaString(m.run_link),
      ...(m.user_id ? { user_id: metaString(m.user_id) } : {}),
      aliases,
      tags: await readKeyValues(join(vdir, 'tags')),
      ...(m.model_id ? { model_id: metaString(m.model_id) } : {}),
      // the download location, when it differs from `source` (read by getModelVersionDownloadUri)
      ...(m.storage_location ? ({ storage_location: metaString(m.storage_location) } as object) : {}),
    };
  }

  private async versionOrThrow(name: string, version: string, op: string): Promise<ModelVersion> {
    const dir = await this.existingModelDir(name, op);
    const n = Number(version);
    const mv = Number.isInteger(n) && n > 0 ? await this.readVersion(dir, name, n) : null;
    if (!mv) throw new ResourceNotFoundError('RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=${version}) not found`, this.ctx(op));
    return mv;
  }

  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    const op = 'create model version';
    const dir = await this.existingModelDir(req.name, op);
    for (const t of req.tags ?? []) checkKey(t.key, 'tag', this.dir);
    // a models:/<id> source is stored with the logged model's artifact location, which get-download-uri returns
    let storageLocation = req.source;
    const logged = /^models:\/+(m-[\w-]+)\/?$/.exec(req.source);
    if (logged) storageLocation = (await this.getLoggedModel(logged[1]!)).info.artifact_uri;
    const versions = await this.versionNumbers(dir);
    const version = (versions[versions.length - 1] ?? 0) + 1;
    const t = this.now();
    await writeMeta(join(dir, `version-${version}`), {
      aliases: [],
      creation_timestamp: t,
      current_stage: 'None',
      description: req.description ?? null,
      last_updated_timestamp: t,
      name: req.name,
      run_id: req.run_id ?? null,
      run_link: null,
      source: req.source,
      status: 'READY',
      status_message: null,
      storage_location: storageLocation,
      user_id: null,
      version,
      ...(req.model_id ? { model_id: req.model_id } : {}),
    });
    for (const tag of req.tags ?? []) await writeKeyValue(join(dir, `version-${version}`, 'tags'), tag.key, tag.value);
    await this.touch(dir);
    return this.versionOrThrow(req.name, String(version), op);
  }

  getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.versionOrThrow(name, version, 'get model version');
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const mv = await this.versionOrThrow(name, version, 'get model version download uri');
    return (mv as ModelVersion & { storage_location?: string }).storage_location || mv.source;
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    const op = 'set registered model alias';
    const dir = await this.existingModelDir(name, op);
    if (!/^[\w-]+$/.test(alias) || /^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') {
      throw new InvalidParameterError('INVALID_PARAMETER_VALUE', `Invalid alias name: '${alias}'.`, this.ctx(op));
    }
    await this.versionOrThrow(name, version, op);
    await writeKeyValue(join(dir, 'aliases'), alias, String(Number(version)));
    await this.touch(dir);
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const op = 'get model version by alias';
    const dir = await this.existingModelDir(name, op);
    const version = /^[\w-]+$/.test(alias) ? await readKeyValue(join(dir, 'aliases'), alias) : undefined;
    // MLflow answers an unknown alias with INVALID_PARAMETER_VALUE (recording #47)
    if (version === undefined) throw new InvalidParameterError('INVALID_PARAMETER_VALUE', `Registered model alias ${alias} not found.`, this.ctx(op));
    return this.versionOrThrow(name, version, op);
  }

  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const dir = await this.existingModelDir(name, 'get latest versions');
    const wanted = new Set((stages?.length ? stages : STAGES).map(canonicalStage));
    const latest = new Map<string, ModelVersion>();
    for (const n of await this.versionNumbers(dir)) {
      const mv = await this.readVersion(dir, name, n);
      if (mv && wanted.has(mv.current_stage)) latest.set(mv.current_stage, mv);
    }
    return [...latest.values()];
  }

  async searchModelVersions(req: { filter?: string; max_results?: number; order_by?: string[]; page_token?: string }): Promise<Page<ModelVersion>> {
    const clauses = parseFilter(req.filter);
    const all: ModelVersion[] = [];
    for (const e of await readdir(this.dir, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory() || !(await stat(join(this.dir, e.name, 'meta.yaml')).catch(() => null))) continue;
      const dir = join(this.dir, e.name);
      for (const n of await this.versionNumbers(dir)) {
        const mv = await this.readVersion(dir, e.name, n);
        if (mv && matches(clauses, versionLookup(mv))) all.push(mv);
      }
    }
    const order = parseOrderBy(req.order_by?.length ? req.order_by : ['last_updated_timestamp DESC', 'name ASC', 'version_number DESC']);
    all.sort(comparator(order, versionLookup, () => 0));
    return paginate(all, req.max_results ?? 10_000, req.page_token);
  }

  /** Remove a registered model (tests and cleanup). */
  async deleteRegisteredModel(name: string): Promise<void> {
    await rm(await this.existingModelDir(name, 'delete registered model'), { recursive: true });
  }
}

function versionLookup(mv: ModelVersion): Lookup {
  return (type, key) => {
    if (type === 'tag') return mv.tags.find((t) => t.key === key)?.value;
    if (type !== 'attribute') return undefined;
    if (key === 'version_number') return Number(mv.version);
    if (key === 'source_path') return mv.source;
    const v = (mv as unknown as Record<string, unknown>)[key];
    return typeof v === 'string' || typeof v === 'number' ? v : undefined;
  };
}
