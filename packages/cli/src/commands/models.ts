/** `mlmodel models list|show`: MLflow 3 logged models and registered model versions, at a glance. */
import { InvalidArgumentError } from 'commander';
import { parseModelUri } from '@mlmodel/format';
import { TrackingError, type LoggedModel, type ModelVersion, type TrackingClient } from '@mlmodel/tracking-client';
import { table, toJson, truncate, type Io } from '../output.js';
import { experimentsFor, positive, trackingClient, when, type TrackingCliOptions } from './runs.js';

export interface ModelsListOptions extends TrackingCliOptions {
  experiment?: string[];
  name?: string;
  filter?: string;
  maxResults?: string;
}

const status = (m: LoggedModel): string => m.info.status.replace('LOGGED_MODEL_', '');

/** Versions with their aliases filled in (MLflow's version search leaves them out). */
async function versionsOf(client: TrackingClient, name: string, max: number): Promise<ModelVersion[]> {
  const escaped = name.replace(/'/g, "\\'");
  const versions = await client.searchAllModelVersions(`name='${escaped}'`, max);
  if (!versions.length) await client.registry.getRegisteredModel(name); // a clear "not found" for an unknown name
  const aliases = (await client.registry.getRegisteredModel(name)).aliases;
  return versions.map((v) => ({ ...v, aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias) }));
}

export async function modelsListCommand(o: ModelsListOptions, io: Io): Promise<number> {
  const max = positive(o.maxResults, '--max-results', 50);
  if (o.name && o.experiment?.length)
    throw new InvalidArgumentError('--name lists a registered model’s versions; --experiment lists logged models: give one of them');
  const client = trackingClient(o);
  try {
    if (o.name) {
      const versions = await versionsOf(client, o.name, max);
      if (o.json) io.out(toJson(versions));
      else
        io.out(
          table(
            ['version', 'stage', 'aliases', 'status', 'run id', 'source'],
            versions.map((v) => [v.version, v.current_stage, v.aliases.join(',') || '-', v.status, v.run_id || '-', truncate(v.source, 80)]),
            '',
          ),
        );
      return 0;
    }
    const experiments = await experimentsFor(client, o.experiment, undefined);
    const models = experiments.length
      ? await client.searchAllLoggedModels(
          { experiment_ids: experiments.map((e) => e.experiment_id), max_results: Math.min(max, 100), ...(o.filter ? { filter: o.filter } : {}) },
          max,
        )
      : [];
    if (o.json) {
      io.out(toJson(models));
      return 0;
    }
    if (!models.length) {
      io.out(`no logged models in ${experiments.length ? experiments.map((e) => e.name).join(', ') : 'any experiment'} (${client.store.description})`);
      return 0;
    }
    const names = new Map(experiments.map((e) => [e.experiment_id, e.name]));
    io.out(
      table(
        ['model id', 'name', 'status', 'run id', 'created', 'experiment'],
        models.map((m) => [
          m.info.model_id,
          m.info.name,
          status(m),
          m.info.source_run_id ?? '-',
          when(m.info.creation_timestamp_ms),
          names.get(m.info.experiment_id) ?? m.info.experiment_id,
        ]),
        '',
      ),
    );
    return 0;
  } finally {
    client.close();
  }
}

async function artifactLines(client: TrackingClient, uri: string): Promise<string[]> {
  try {
    return (await client.artifactRepository(uri).list()).map((f) => (f.is_dir ? `${f.path}/` : `${f.path} (${f.file_size ?? '?'} bytes)`));
  } catch (e) {
    if (!(e instanceof TrackingError)) throw e;
    return [`(cannot list ${uri}: ${e.message})`];
  }
}

function renderLogged(m: LoggedModel, files: string[]): string {
  const i = m.info;
  return [
    `Logged model: ${i.model_id} (${i.name})`,
    `  status:       ${status(m)}${i.status_message ? ` (${i.status_message})` : ''}`,
    `  experiment:   ${i.experiment_id}`,
    `  run:          ${i.source_run_id ?? '(none)'}`,
    `  created:      ${when(i.creation_timestamp_ms)}`,
    `  artifact uri: ${i.artifact_uri}`,
    `  load with:    -m models:/${i.model_id}`,
    '',
    'Params:',
    m.data.params.length
      ? table(
          ['key', 'value'],
          m.data.params.map((p) => [p.key, truncate(p.value, 100)]),
          '  ',
        )
      : '  (none)',
    '',
    'Tags:',
    i.tags.length
      ? table(
          ['key', 'value'],
          i.tags.map((t) => [t.key, truncate(t.value, 100)]),
          '  ',
        )
      : '  (none)',
    '',
    'Files:',
    ...(files.length ? files.map((f) => `  ${f}`) : ['  (none)']),
  ].join('\n');
}

/** `m-<id>`, `models:/m-<id>`, or a registered model URI (`models:/name/1`, `@alias`, `/stage`, `/latest`). */
export async function modelsShowCommand(ref: string, o: TrackingCliOptions, io: Io): Promise<number> {
  const uri = parseModelUri(/^m-[\w-]+$/.test(ref) ? `models:/${ref}` : ref);
  if (uri.kind === 'local' || uri.kind === 'run' || uri.kind === 'remote') {
    throw new InvalidArgumentError(`models show takes m-<id> or a models:/ URI (models:/<name>/<version>, models:/<name>@<alias>, models:/m-<id>), got ${ref}`);
  }
  const client = trackingClient(o);
  try {
    if (uri.kind === 'logged-model') {
      const m = await client.store.getLoggedModel(uri.modelId);
      const files = await artifactLines(client, m.info.artifact_uri);
      io.out(o.json ? toJson({ ...m, files }) : renderLogged(m, files));
      return 0;
    }
    let version: ModelVersion;
    if (uri.kind === 'registered') version = await client.registry.getModelVersion(uri.name, uri.version);
    else if (uri.kind === 'alias') version = await client.registry.getModelVersionByAlias(uri.name, uri.alias);
    else {
      const latest = await client.registry.getLatestVersions(uri.name, uri.kind === 'stage' ? [uri.stage] : undefined);
      const newest = latest.sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (!newest)
        throw new TrackingError(`no versions of model ${uri.name}${uri.kind === 'stage' ? ` in stage ${uri.stage}` : ''}`, 'RESOURCE_DOES_NOT_EXIST');
      version = newest;
    }
    const downloadUri = await client.registry.getModelVersionDownloadUri(version.name, version.version);
    const aliases = (await client.registry.getRegisteredModel(version.name)).aliases.filter((a) => a.version === version.version).map((a) => a.alias);
    if (o.json) {
      io.out(toJson({ ...version, aliases, download_uri: downloadUri }));
      return 0;
    }
    io.out(
      [
        `Registered model version: ${version.name} version ${version.version}`,
        `  stage:        ${version.current_stage}`,
        `  aliases:      ${aliases.join(', ') || '(none)'}`,
        `  status:       ${version.status}`,
        `  run:          ${version.run_id || '(none)'}`,
        `  created:      ${when(version.creation_timestamp)}`,
        `  source:       ${version.source}`,
        `  download uri: ${downloadUri}`,
        `  load with:    -m models:/${version.name}/${version.version}`,
        ...(version.description ? [`  description:  ${version.description}`] : []),
      ].join('\n'),
    );
    return 0;
  } finally {
    client.close();
  }
}
