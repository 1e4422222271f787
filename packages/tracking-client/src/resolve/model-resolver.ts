/**
 * The `ModelUriResolver` (format's hook) that makes every `-m` take MLflow model URIs:
 * `runs:/<run>/<path>`, `models:/<name>/<version>`, `models:/<name>@<alias>`,
 * `models:/<name>/<stage>`, `models:/<name>/latest`, `models:/m-<id>` and `mlflow-artifacts:/…`.
 * The model is downloaded once into the content-addressed cache (checked: sizes against the
 * listing, an MLmodel file present, safe paths only) and the cached directory is returned.
 *
 * The tracking client is opened on the first remote URI, so local paths never read tracking
 * settings. Resolutions are remembered for the life of the resolver (a server resolving the same
 * alias for several processes or models asks the registry once).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatModelUri, type ModelUri, type ModelUriResolver } from '@mlmodel/format';
import { downloadTree } from '../artifacts/transfer.js';
import type { TrackingClient } from '../client.js';
import { ArtifactIntegrityError } from '../errors.js';
import { ModelCache, defaultCacheDir } from '../cache/model-cache.js';
import { openTrackingClient, type OpenClientOptions } from '../open.js';
import { handlesUri, resolveSource } from './model-source.js';

export interface ModelResolverOptions extends OpenClientOptions {
  /** The cache root (default `$MLMODEL_CACHE_DIR`, `$XDG_CACHE_HOME/mlmodel`, `~/.cache/mlmodel`). */
  readonly cacheDir?: string;
  /** A client to use instead of opening one from the tracking URI. */
  readonly client?: TrackingClient;
  /** Progress lines (`downloading runs:/… → …`), e.g. to stderr. */
  readonly log?: (message: string) => void;
  /**
   * Remember resolutions in this environment (`MLMODEL_RESOLVED_MODELS`, a JSON map of URI →
   * directory) and reuse the ones found there, so processes forked after a resolution (a server's
   * workers) load the very same model — an alias that moves meanwhile does not split them.
   */
  readonly pinIn?: NodeJS.ProcessEnv;
}

/** The environment variable pinned resolutions are kept in (see `ModelResolverOptions.pinIn`). */
export const RESOLVED_MODELS_ENV = 'MLMODEL_RESOLVED_MODELS';

function pinned(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  if (!env?.[RESOLVED_MODELS_ENV]) return {};
  try {
    const d = JSON.parse(env[RESOLVED_MODELS_ENV]) as unknown;
    return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export interface ResolvedModel {
  /** The local model directory (in the cache). */
  readonly dir: string;
  readonly digest: string;
  /** True when the cache already held it. */
  readonly cached: boolean;
  /** How the URI was resolved, e.g. `models:/m@champion → models:/m/1 → mlflow-artifacts:/1/models/m-…/artifacts`. */
  readonly trail: readonly string[];
}

/** Resolve one model URI to a cached local directory. */
export async function resolveModelUri(
  client: TrackingClient,
  uri: Exclude<ModelUri, { kind: 'local' }>,
  cache: ModelCache,
  log?: (m: string) => void,
): Promise<ResolvedModel> {
  const source = await resolveSource(client, uri);
  const key = `${client.store.description}|${source.repo.uri}|${source.path}`;
  const result = await cache.getOrAdd(
    key,
    async (tmp) => {
      log?.(`downloading ${source.trail.join(' → ')} into ${cache.root}`);
      return downloadTree(source.repo, source.path, tmp);
    },
    {
      reuse: source.immutable,
      check: async (dir) => {
        if (!(await stat(join(dir, 'MLmodel')).catch(() => null))?.isFile()) {
          throw new ArtifactIntegrityError(
            `${formatModelUri(uri)}: ${source.trail[source.trail.length - 1]} holds no MLmodel file, so it is not an MLflow model (name the model's directory)`,
          );
        }
      },
    },
  );
  return { dir: result.dir, digest: result.digest, cached: result.hit, trail: source.trail };
}

/** A resolver for `openModelDir` / `ModelRunner.open` / the server: remote model URIs become cached local directories. */
export function createModelResolver(opts: ModelResolverOptions = {}): ModelUriResolver {
  let client: TrackingClient | undefined = opts.client;
  let cache: ModelCache | undefined;
  const memo = new Map<string, Promise<string>>();
  return async (uri, raw) => {
    if (!handlesUri(uri)) return null;
    const pin = pinned(opts.pinIn)[raw];
    if (typeof pin === 'string' && (await stat(join(pin, 'MLmodel')).catch(() => null))?.isFile()) return pin;
    client ??= openTrackingClient(opts);
    cache ??= new ModelCache(opts.cacheDir ?? defaultCacheDir(opts.env ?? process.env));
    const c = client;
    const k = cache;
    let pending = memo.get(raw);
    if (!pending) {
      pending = resolveModelUri(c, uri, k, opts.log).then((r) => {
        if (opts.pinIn) opts.pinIn[RESOLVED_MODELS_ENV] = JSON.stringify({ ...pinned(opts.pinIn), [raw]: r.dir });
        return r.dir;
      });
      memo.set(raw, pending);
      pending.catch(() => memo.delete(raw));
    }
    return pending;
  };
}
