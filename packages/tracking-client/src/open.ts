/** Opening the tracking (and registry) store a URI or the environment names. */
import { httpSettingsFromEnv, parseTrackingUri, trackingUriFromEnv, type HttpSettings, type TrackingTarget } from './config.js';
import { TrackingClient } from './client.js';
import { FileStore, type FileStoreOptions } from './file-store/file-store.js';
import type { RetryObserver } from './http/transport.js';
import { RestStore } from './rest/rest-store.js';
import type { TrackingStore } from './store.js';

export interface OpenStoreOptions {
  /** Default: from the environment (`MLFLOW_TRACKING_TOKEN`, `MLFLOW_HTTP_REQUEST_*`, …). */
  readonly http?: HttpSettings;
  readonly onRetry?: RetryObserver | undefined;
  readonly fileStore?: FileStoreOptions;
  readonly userAgent?: string;
}

/** The store for a parsed tracking target. */
export function openStore(target: TrackingTarget, opts: OpenStoreOptions = {}): TrackingStore {
  if (target.kind === 'file') return new FileStore(target.root, opts.fileStore);
  return new RestStore(target.baseUrl, {
    settings: opts.http ?? httpSettingsFromEnv(),
    onRetry: opts.onRetry,
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
  });
}

export interface OpenClientOptions extends OpenStoreOptions {
  /** Default `$MLFLOW_TRACKING_URI`, else `./mlruns`. */
  readonly trackingUri?: string | undefined;
  /** Default `$MLFLOW_REGISTRY_URI`, else the tracking URI. */
  readonly registryUri?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly sourceName?: string;
}

/** A client for the tracking URI (and registry URI) given, or named by the environment. */
export function openTrackingClient(opts: OpenClientOptions = {}): TrackingClient {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const http = opts.http ?? httpSettingsFromEnv(env);
  const trackingUri = opts.trackingUri ?? trackingUriFromEnv(env);
  const tracking = parseTrackingUri(trackingUri, cwd);
  const registryUri = opts.registryUri ?? (env.MLFLOW_REGISTRY_URI || trackingUri);
  const registry = parseTrackingUri(registryUri, cwd);
  const store = openStore(tracking, { ...opts, http });
  const sameRegistry = registry.kind === tracking.kind && registry.uri === tracking.uri;
  return new TrackingClient(store, {
    registry: sameRegistry ? store : openStore(registry, { ...opts, http }),
    ...(opts.sourceName ? { sourceName: opts.sourceName } : {}),
  });
}
