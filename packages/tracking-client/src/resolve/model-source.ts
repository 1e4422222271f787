/**
 * Where the files of a model URI live (reference §8.2), as MLflow resolves them:
 *
 * - `runs:/<run>/<path>`: the run's `artifact_uri` + path; when nothing is there, MLflow 3's
 *   fallback: the logged model of the run's experiment named after the path's first segment
 *   whose `source_run_id` is the run (that is where `log_model` puts a model in MLflow 3).
 * - `models:/m-<id>`: the logged model's `artifact_uri`.
 * - `models:/<name>/<version>`: the version's download URI (`get-download-uri`), which may itself
 *   be a `runs:/` or `models:/` URI, resolved in turn.
 * - `models:/<name>@<alias>`: the alias's version, then as above.
 * - `models:/<name>/<stage>` and `/latest`: the newest version in that stage (any stage), then as above.
 * - `mlflow-artifacts:/…`: that artifact location.
 */
import { formatModelUri, parseModelUri, type ModelUri } from '@mlmodel/format';
import { safeRelativePath } from '../artifacts/safe-paths.js';
import type { TrackingClient } from '../client.js';
import { ArtifactIntegrityError, ResourceNotFoundError, TrackingConfigError } from '../errors.js';
import type { ArtifactRepository } from '../store.js';
import type { LoggedModel, ModelVersion } from '../types.js';

export interface ModelSource {
  readonly repo: ArtifactRepository;
  /** The model directory inside the repository (`''`: its root). */
  readonly path: string;
  /** False when the files may still change (a running run, a pending logged model, a local store): the cache then re-downloads. */
  readonly immutable: boolean;
  /** How the URI was resolved, for messages: `runs:/abc/model → mlflow-artifacts:/1/models/m-…/artifacts`. */
  readonly trail: readonly string[];
}

const MAX_INDIRECTIONS = 4;

function notFound(client: TrackingClient, message: string): ResourceNotFoundError {
  return new ResourceNotFoundError('RESOURCE_DOES_NOT_EXIST', message, { status: 0, endpoint: 'resolve model URI', source: client.store.description });
}

/** `model/MLmodel` names the model directory `model`. */
function modelDirPath(p: string): string {
  const clean = p.replace(/\/+$/, '');
  return clean === 'MLmodel' ? '' : clean.endsWith('/MLmodel') ? clean.slice(0, -'/MLmodel'.length) : clean;
}

function newest(versions: readonly ModelVersion[]): ModelVersion | undefined {
  return [...versions].sort((a, b) => Number(b.version) - Number(a.version))[0];
}

function fromArtifactUri(client: TrackingClient, uri: string, path: string, immutable: boolean, trail: string[]): ModelSource {
  const repo = client.artifactRepository(uri);
  return {
    repo,
    path: safeRelativePath(modelDirPath(path), uri),
    immutable: immutable && !uri.startsWith('file:') && !uri.startsWith('/'),
    trail: [...trail, joinUri(uri, path)],
  };
}

/** A logged model whose upload failed is incomplete: refuse it rather than serve half a model. */
function checkUploaded(client: TrackingClient, m: LoggedModel, via: string): void {
  if (m.info.status === 'LOGGED_MODEL_UPLOAD_FAILED') {
    throw new ArtifactIntegrityError(
      `${via}: logged model ${m.info.model_id} failed to upload (LOGGED_MODEL_UPLOAD_FAILED in ${client.store.description}): log the model again`,
    );
  }
}

function joinUri(uri: string, path: string): string {
  return path ? `${uri.replace(/\/+$/, '')}/${path}` : uri;
}

async function resolveRun(client: TrackingClient, runId: string, artifactPath: string, trail: string[]): Promise<ModelSource> {
  const run = await client.store.getRun(runId);
  const path = modelDirPath(artifactPath);
  const runSource = fromArtifactUri(client, run.info.artifact_uri, path, run.info.status !== 'RUNNING', trail);
  if ((await runSource.repo.list(runSource.path)).length > 0) return runSource;
  // MLflow 3: log_model stores the files under the logged model, not the run
  const [name, ...rest] = path.split('/').filter(Boolean);
  const pick = name ? await findRunLoggedModel(client, run.info.experiment_id, runId, name) : undefined;
  if (pick) {
    checkUploaded(client, pick, `runs:/${runId}/${path}`);
    return fromArtifactUri(client, pick.info.artifact_uri, rest.join('/'), pick.info.status === 'LOGGED_MODEL_READY', [
      ...trail,
      `models:/${pick.info.model_id}`,
    ]);
  }
  throw notFound(
    client,
    `runs:/${runId}${path ? `/${path}` : ''}: run ${runId} has no artifacts at ${JSON.stringify(path || '/')}${name ? ` and no logged model named ${JSON.stringify(name)}` : ''}`,
  );
}

/**
 * The logged model a run produced under `name` (MLflow 3's `runs:/<run>/<name>`): in the run's
 * experiment, with that name and `source_run_id`; the newest READY one, else the newest.
 */
export async function findRunLoggedModel(client: TrackingClient, experimentId: string, runId: string, name: string): Promise<LoggedModel | undefined> {
  const quoted = name.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const models = (await client.searchAllLoggedModels({ experiment_ids: [experimentId], filter: `name = '${quoted}'` })).filter(
    (m) => m.info.source_run_id === runId && m.info.name === name,
  );
  const ready = models.filter((m) => m.info.status === 'LOGGED_MODEL_READY');
  return [...(ready.length ? ready : models)].sort((a, b) => b.info.creation_timestamp_ms - a.info.creation_timestamp_ms)[0];
}

/** Resolve a download URI a version points at: an artifact location, or another model URI. */
async function resolveTarget(client: TrackingClient, target: string, subPath: string | undefined, trail: string[], depth: number): Promise<ModelSource> {
  if (/^(runs|models):/i.test(target)) {
    if (depth >= MAX_INDIRECTIONS) throw new TrackingConfigError(`${trail.join(' → ')}: too many indirections resolving the model URI`);
    const parsed = parseModelUri(target);
    const withSub = subPath ? parseModelUri(`${formatModelUri(parsed).replace(/\/+$/, '')}/${subPath}`) : parsed;
    return resolveSource(client, withSub as Exclude<ModelUri, { kind: 'local' }>, trail, depth + 1);
  }
  return fromArtifactUri(client, target, subPath ?? '', true, trail);
}

async function resolveVersion(
  client: TrackingClient,
  name: string,
  version: string,
  subPath: string | undefined,
  trail: string[],
  depth: number,
): Promise<ModelSource> {
  const target = await client.registry.getModelVersionDownloadUri(name, version);
  if (!target) throw notFound(client, `models:/${name}/${version} has no download location`);
  return resolveTarget(client, target, subPath, [...trail, `models:/${name}/${version}`], depth);
}

/** Where the model a (non-local) URI names lives; null for URIs the tracking client does not handle. */
export async function resolveSource(client: TrackingClient, uri: Exclude<ModelUri, { kind: 'local' }>, trail: string[] = [], depth = 0): Promise<ModelSource> {
  const here = [...trail, formatModelUri(uri)];
  if ('profile' in uri && uri.profile) {
    throw new TrackingConfigError(
      `${formatModelUri(uri)}: models:// URIs with a profile (Databricks) are not supported; set MLFLOW_TRACKING_URI to the MLflow server instead`,
    );
  }
  switch (uri.kind) {
    case 'run':
      return resolveRun(client, uri.runId, uri.artifactPath, here);
    case 'logged-model': {
      const m = await client.store.getLoggedModel(uri.modelId);
      checkUploaded(client, m, formatModelUri(uri));
      return fromArtifactUri(client, m.info.artifact_uri, uri.subPath ?? '', m.info.status === 'LOGGED_MODEL_READY', here);
    }
    case 'registered':
      return resolveVersion(client, uri.name, uri.version, uri.subPath, trail, depth);
    case 'alias': {
      const mv = await client.registry.getModelVersionByAlias(uri.name, uri.alias);
      return resolveVersion(client, uri.name, mv.version, uri.subPath, here, depth);
    }
    case 'stage':
    case 'latest': {
      const stages = uri.kind === 'stage' ? [uri.stage] : undefined;
      const mv = newest(await client.registry.getLatestVersions(uri.name, stages));
      if (!mv) throw notFound(client, `No versions of model with name '${uri.name}'${uri.kind === 'stage' ? ` and stage '${uri.stage}'` : ''} found`);
      return resolveVersion(client, uri.name, mv.version, uri.subPath, here, depth);
    }
    case 'remote':
      if (uri.scheme === 'mlflow-artifacts' || ((uri.scheme === 'http' || uri.scheme === 'https') && uri.uri.includes('/mlflow-artifacts/artifacts'))) {
        return fromArtifactUri(client, uri.uri, '', true, trail);
      }
      throw new TrackingConfigError(
        `${uri.uri}: the tracking client cannot download ${uri.scheme}: URIs (use runs:/, models:/, mlflow-artifacts:/ or a local path)`,
      );
  }
}

/** Whether the tracking client resolves this kind of URI. */
export function handlesUri(uri: Exclude<ModelUri, { kind: 'local' }>): boolean {
  if (uri.kind !== 'remote') return true;
  return uri.scheme === 'mlflow-artifacts' || ((uri.scheme === 'http' || uri.scheme === 'https') && uri.uri.includes('/mlflow-artifacts/artifacts'));
}
