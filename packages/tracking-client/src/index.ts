/**
 * @mlmodel/tracking-client — a small MLflow tracking client: the REST API of an MLflow tracking
 * server (`MLFLOW_TRACKING_URI=http(s)://…`) and MLflow's local file store (`./mlruns`) behind one
 * interface; logging models to runs as MLflow 3 logged models; and the model URI resolver that lets
 * every `-m` take `runs:/`, `models:/` and `mlflow-artifacts:/` URIs through a content-addressed cache.
 */
export * from './errors.js';
export * from './types.js';
export * from './config.js';
export type { ArtifactRepository, TrackingStore } from './store.js';
export { TrackingClient, collectPages, contextTags, currentUser, LOG_MODEL_HISTORY_TAG, type TrackingClientOptions } from './client.js';
export { splitBatch, BATCH_LIMITS } from './batching.js';
export { RestStore, METRIC_HISTORY_PAGE, type RestStoreOptions } from './rest/rest-store.js';
export { HttpClient, RETRY_STATUSES, type RetryObserver, type HttpClientOptions } from './http/transport.js';
export { FileStore, DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, LIMITS, appendToUri, type FileStoreOptions } from './file-store/file-store.js';
export { metricLine } from './file-store/files.js';
export { parseFilter, parseOrderBy, pageToken, offsetOfToken } from './file-store/search-filter.js';
export { LocalArtifactRepository, fileUriOf, localPathOfUri } from './artifacts/local-repository.js';
export { HttpArtifactRepository, splitProxyUri, contentTypeForUpload } from './artifacts/http-repository.js';
export { safeRelativePath, safeSegment, localPathWithin, joinArtifactPath } from './artifacts/safe-paths.js';
export { downloadTree, uploadTree, listFilesRecursive, localFiles, type ManifestEntry, MAX_DEPTH, MAX_FILES } from './artifacts/transfer.js';
export { ModelCache, defaultCacheDir, treeDigest, type CacheResult } from './cache/model-cache.js';
export { openStore, openTrackingClient, type OpenStoreOptions, type OpenClientOptions } from './open.js';
export { resolveSource, handlesUri, type ModelSource } from './resolve/model-source.js';
export { createModelResolver, resolveModelUri, RESOLVED_MODELS_ENV, type ModelResolverOptions, type ResolvedModel } from './resolve/model-resolver.js';
export { logModel, type LogModelOptions, type LogModelResult } from './log-model.js';
export { registerModelVersion } from './register.js';
export { findRunLoggedModel } from './resolve/model-source.js';
