/**
 * Log a local model directory to a run the way MLflow 3's `log_model` does (reference §9.2):
 *
 * 1. the experiment (get or create) and a new run — or an existing run;
 * 2. the run's params (`log-batch`);
 * 3. a logged model (`POST logged-models`) with the run's params and the context tags;
 * 4. the run → model link (`runs/outputs`);
 * 5. `run_id`, `model_id`, `model_uuid` and `artifact_path` written into the local MLmodel;
 * 6. every file uploaded to the logged model's artifact location;
 * 7. the model finalized READY, recorded in the run's `mlflow.log-model.history` tag, optionally
 *    registered; a run this created is ended FINISHED.
 *
 * On a failure after the model exists it is finalized `LOGGED_MODEL_UPLOAD_FAILED`, a run this
 * created is ended FAILED, and the local MLmodel is put back as it was.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { directorySize, openModelDir, writeMLmodel } from '@mlmodel/format';
import { uploadTree } from './artifacts/transfer.js';
import { contextTags, type TrackingClient } from './client.js';
import { InvalidParameterError } from './errors.js';
import type { ModelVersion, Run } from './types.js';

export interface LogModelOptions {
  /** The model directory (with its MLmodel) to log. */
  readonly modelDir: string;
  /** Log to a new run in this experiment (created when missing)… */
  readonly experimentName?: string | undefined;
  /** …or to this existing run (it stays open). */
  readonly runId?: string | undefined;
  readonly runName?: string | undefined;
  /** The logged model's name (default `model`, so `runs:/<run>/model` finds it). */
  readonly modelName?: string | undefined;
  /** Params logged to the run (and copied to the logged model). */
  readonly params?: Readonly<Record<string, string>>;
  /** Extra tags for a run this creates. */
  readonly runTags?: Readonly<Record<string, string>>;
  /** Register the model under this name as a new version. */
  readonly registeredModelName?: string | undefined;
  readonly log?: (message: string) => void;
}

export interface LogModelResult {
  readonly experimentId: string;
  readonly runId: string;
  /** Whether this call created (and ended) the run. */
  readonly createdRun: boolean;
  readonly modelId: string;
  /** `models:/m-…` */
  readonly modelUri: string;
  /** `runs:/<run>/<model name>` */
  readonly runModelUri: string;
  readonly artifactUri: string;
  readonly uploadedFiles: number;
  readonly registeredVersion?: ModelVersion;
}

export async function logModel(client: TrackingClient, o: LogModelOptions): Promise<LogModelResult> {
  if (!o.experimentName === !o.runId) {
    throw new InvalidParameterError('INVALID_PARAMETER_VALUE', 'give an experiment name or a run id to log the model to (one of them)', {
      status: 0,
      endpoint: 'log model',
      source: client.store.description,
    });
  }
  const modelName = o.modelName ?? 'model';
  const local = await openModelDir(o.modelDir);
  let run: Run;
  let createdRun = false;
  if (o.runId) {
    run = await client.store.getRun(o.runId);
    if (run.info.lifecycle_stage !== 'active') {
      throw new InvalidParameterError('INVALID_PARAMETER_VALUE', `run ${o.runId} is deleted: restore it or log to another run`, {
        status: 0,
        endpoint: 'log model',
        source: client.store.description,
      });
    }
  } else {
    const exp = await client.getOrCreateExperiment(o.experimentName!);
    const tags = Object.entries(o.runTags ?? {}).map(([key, value]) => ({ key, value }));
    run = await client.createRun({ experiment_id: exp.experiment_id, ...(o.runName ? { run_name: o.runName } : {}), tags });
    createdRun = true;
    o.log?.(`created run ${run.info.run_id} (${run.info.run_name}) in experiment ${exp.name} (${exp.experiment_id})`);
  }
  const runId = run.info.run_id;
  const mlmodelFile = join(local.dir, 'MLmodel');
  const originalMLmodel = await readFile(mlmodelFile);
  let modelId: string | undefined;
  let finalized = false;
  try {
    const params = Object.entries(o.params ?? {}).map(([key, value]) => ({ key, value }));
    if (params.length) await client.logBatch(runId, { params });
    const runParams = (await client.store.getRun(runId)).data.params;
    const model = await client.store.createLoggedModel({
      experiment_id: run.info.experiment_id,
      name: modelName,
      source_run_id: runId,
      // MLflow sends the first 100 with the model
      params: runParams.slice(0, 100),
      tags: contextTags(client.sourceName),
    });
    modelId = model.info.model_id;
    await client.store.logOutputs(runId, [{ model_id: modelId, step: 0 }]);

    const mlmodel = { ...local.mlmodel, run_id: runId, model_id: modelId, model_uuid: modelId, artifact_path: model.info.artifact_uri };
    await writeMLmodel(local.dir, mlmodel);
    mlmodel.model_size_bytes = await directorySize(local.dir);
    await writeMLmodel(local.dir, mlmodel);

    o.log?.(`uploading ${local.dir} to ${model.info.artifact_uri}`);
    const files = await uploadTree(client.artifactRepository(model.info.artifact_uri), local.dir, '');
    await client.store.finalizeLoggedModel(modelId, 'LOGGED_MODEL_READY');
    finalized = true;
    await client.recordLoggedModel(runId, {
      run_id: runId,
      artifact_path: model.info.artifact_uri,
      utc_time_created: mlmodel.utc_time_created,
      model_uuid: modelId,
      flavors: mlmodel.flavors,
    });
    let registeredVersion: ModelVersion | undefined;
    if (o.registeredModelName) {
      registeredVersion = await client.registerModel(o.registeredModelName, `models:/${modelId}`, { run_id: runId, model_id: modelId });
      o.log?.(`registered ${o.registeredModelName} version ${registeredVersion.version}`);
    }
    if (createdRun) await client.store.updateRun(runId, { status: 'FINISHED', end_time: Date.now() });
    return {
      experimentId: run.info.experiment_id,
      runId,
      createdRun,
      modelId,
      modelUri: `models:/${modelId}`,
      runModelUri: `runs:/${runId}/${modelName}`,
      artifactUri: model.info.artifact_uri,
      uploadedFiles: files.length,
      ...(registeredVersion ? { registeredVersion } : {}),
    };
  } catch (e) {
    // best effort: leave the server and the local directory in an honest state, then report the first error
    if (modelId && !finalized) await client.store.finalizeLoggedModel(modelId, 'LOGGED_MODEL_UPLOAD_FAILED').catch(() => undefined);
    if (createdRun) await client.store.updateRun(runId, { status: 'FAILED', end_time: Date.now() }).catch(() => undefined);
    await writeFile(mlmodelFile, originalMLmodel).catch(() => undefined);
    throw e;
  }
}
