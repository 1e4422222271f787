/**
 * Registering a model version from a model URI the way MLflow 3's `register_model` does:
 * `runs:/<run>/<name>` registers the run's logged model of that name as `models:/m-<id>` (with
 * its run and model ids); a run without one (a model stored the MLflow 2 way, under the run's
 * artifacts) is registered with the `runs:/` source as given, which the server keeps verbatim;
 * `models:/m-<id>` carries the logged model's run; anything else is registered as given.
 */
import { parseModelUri } from '@mlmodel/format';
import type { TrackingClient } from './client.js';
import { findRunLoggedModel } from './resolve/model-source.js';
import type { ModelVersion } from './types.js';

export async function registerModelVersion(client: TrackingClient, name: string, modelUri: string, opts: { description?: string } = {}): Promise<ModelVersion> {
  const uri = parseModelUri(modelUri);
  if (uri.kind === 'run') {
    const run = await client.store.getRun(uri.runId);
    const modelName = uri.artifactPath.split('/').filter(Boolean)[0];
    const logged = modelName && !uri.artifactPath.includes('/') ? await findRunLoggedModel(client, run.info.experiment_id, uri.runId, modelName) : undefined;
    if (logged) return client.registerModel(name, `models:/${logged.info.model_id}`, { run_id: uri.runId, model_id: logged.info.model_id, ...opts });
    return client.registerModel(name, modelUri, { run_id: uri.runId, ...opts });
  }
  if (uri.kind === 'logged-model' && !uri.subPath) {
    const m = await client.store.getLoggedModel(uri.modelId);
    return client.registerModel(name, `models:/${uri.modelId}`, {
      model_id: uri.modelId,
      ...(m.info.source_run_id ? { run_id: m.info.source_run_id } : {}),
      ...opts,
    });
  }
  return client.registerModel(name, modelUri, opts);
}
