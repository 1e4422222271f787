/** `mlmodel runs list|show`: a quick look at MLflow runs in $MLFLOW_TRACKING_URI (or ./mlruns). */
import { InvalidArgumentError } from 'commander';
import {
  LOG_MODEL_HISTORY_TAG,
  TrackingError,
  openTrackingClient,
  type Experiment,
  type Run,
  type TrackingClient,
  type ViewType,
} from '@mlmodel/tracking-client';
import { table, toJson, truncate, type Io } from '../output.js';

export interface TrackingCliOptions {
  trackingUri?: string;
  json?: boolean;
}

export interface RunsListOptions extends TrackingCliOptions {
  experiment?: string[];
  experimentId?: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: string;
  view?: string;
}

export function trackingClient(o: TrackingCliOptions): TrackingClient {
  return openTrackingClient({ ...(o.trackingUri ? { trackingUri: o.trackingUri } : {}), sourceName: 'mlmodel' });
}

export function when(ms: number | undefined): string {
  return ms === undefined
    ? ''
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

export function positive(v: string | undefined, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a whole number ≥ 1, got ${v}`);
  return n;
}

const VIEWS: Record<string, ViewType> = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };

/** The experiments named by --experiment / --experiment-id, else every active one. */
export async function experimentsFor(client: TrackingClient, names: string[] | undefined, ids: string[] | undefined): Promise<Experiment[]> {
  const out: Experiment[] = [];
  for (const name of names ?? []) {
    const e = await client.store.getExperimentByName(name);
    if (!e) throw new TrackingError(`experiment ${JSON.stringify(name)} does not exist in ${client.store.description}`, 'RESOURCE_DOES_NOT_EXIST');
    out.push(e);
  }
  for (const id of ids ?? []) out.push(await client.store.getExperiment(id));
  if (out.length || names?.length || ids?.length) return out;
  const all: Experiment[] = [];
  let token: string | undefined;
  do {
    const page = await client.store.searchExperiments({ max_results: 1000, ...(token ? { page_token: token } : {}) });
    all.push(...page.items);
    token = page.items.length ? page.next_page_token : undefined;
  } while (token);
  return all;
}

export async function runsListCommand(o: RunsListOptions, io: Io): Promise<number> {
  const view = VIEWS[(o.view ?? 'active').toLowerCase()];
  if (!view) throw new InvalidArgumentError(`--view must be active, deleted or all, got ${o.view}`);
  const max = positive(o.maxResults, '--max-results', 50);
  const client = trackingClient(o);
  try {
    const experiments = await experimentsFor(client, o.experiment, o.experimentId);
    const names = new Map(experiments.map((e) => [e.experiment_id, e.name]));
    const runs = experiments.length
      ? await client.searchAllRuns(
          {
            experiment_ids: experiments.map((e) => e.experiment_id),
            run_view_type: view,
            max_results: Math.min(max, 1000),
            ...(o.filter ? { filter: o.filter } : {}),
            order_by: o.orderBy?.length ? o.orderBy : ['attributes.start_time DESC'],
          },
          max,
        )
      : [];
    if (o.json) {
      io.out(toJson(runs));
      return 0;
    }
    if (!runs.length) {
      io.out(`no runs in ${experiments.length ? experiments.map((e) => e.name).join(', ') : 'any experiment'} (${client.store.description})`);
      return 0;
    }
    io.out(
      table(
        ['run id', 'name', 'status', 'started', 'experiment', 'models'],
        runs.map((r) => [
          r.info.run_id,
          truncate(r.info.run_name, 40),
          r.info.lifecycle_stage === 'deleted' ? `${r.info.status} (deleted)` : r.info.status,
          when(r.info.start_time),
          names.get(r.info.experiment_id) ?? r.info.experiment_id,
          String(r.outputs.model_outputs?.length ?? 0),
        ]),
        '',
      ),
    );
    return 0;
  } finally {
    client.close();
  }
}

function renderRun(run: Run, exp: Experiment | null, artifacts: string[], models: { id: string; name: string; status: string }[]): string {
  const i = run.info;
  const lines = [
    `Run: ${i.run_id} (${i.run_name})`,
    `  experiment:   ${exp ? `${exp.name} (${exp.experiment_id})` : i.experiment_id}`,
    `  status:       ${i.status}${i.lifecycle_stage === 'deleted' ? ' (deleted)' : ''}`,
    `  started:      ${when(i.start_time)}${i.end_time !== undefined ? `   ended: ${when(i.end_time)}` : ''}`,
    `  user:         ${i.user_id || '(none)'}`,
    `  artifact uri: ${i.artifact_uri}`,
    '',
    'Params:',
  ];
  lines.push(
    run.data.params.length
      ? table(
          ['key', 'value'],
          run.data.params.map((p) => [p.key, truncate(p.value, 100)]),
          '  ',
        )
      : '  (none)',
  );
  lines.push('', 'Metrics (latest):');
  lines.push(
    run.data.metrics.length
      ? table(
          ['key', 'value', 'step', 'time'],
          run.data.metrics.map((m) => [m.key, String(m.value), String(m.step), when(m.timestamp)]),
          '  ',
        )
      : '  (none)',
  );
  const tags = run.data.tags.filter((t) => t.key !== LOG_MODEL_HISTORY_TAG);
  lines.push('', 'Tags:');
  lines.push(
    tags.length
      ? table(
          ['key', 'value'],
          tags.map((t) => [t.key, truncate(t.value.replace(/\n/g, ' '), 100)]),
          '  ',
        )
      : '  (none)',
  );
  lines.push('', 'Logged models:');
  lines.push(
    models.length
      ? table(
          ['model id', 'name', 'status', 'load with'],
          models.map((m) => [m.id, m.name, m.status, `models:/${m.id}`]),
          '  ',
        )
      : '  (none)',
  );
  lines.push('', 'Artifacts:', ...(artifacts.length ? artifacts.map((a) => `  ${a}`) : ['  (none)']));
  return lines.join('\n');
}

export async function runsShowCommand(runId: string, o: TrackingCliOptions, io: Io): Promise<number> {
  const client = trackingClient(o);
  try {
    const run = await client.store.getRun(runId);
    const exp = await client.store.getExperiment(run.info.experiment_id).catch(() => null);
    const models = [];
    for (const out of run.outputs.model_outputs ?? []) {
      const m = await client.store.getLoggedModel(out.model_id).catch(() => null);
      models.push({ id: out.model_id, name: m?.info.name ?? '?', status: m?.info.status.replace('LOGGED_MODEL_', '') ?? 'unknown' });
    }
    let artifacts: string[] = [];
    try {
      artifacts = (await client.artifactRepository(run.info.artifact_uri).list()).map((f) =>
        f.is_dir ? `${f.path}/` : `${f.path} (${f.file_size ?? '?'} bytes)`,
      );
    } catch (e) {
      if (!(e instanceof TrackingError)) throw e;
      artifacts = [`(cannot list ${run.info.artifact_uri}: ${e.message})`];
    }
    if (o.json) io.out(toJson({ ...run, logged_models: models, artifacts }));
    else io.out(renderRun(run, exp, artifacts, models));
    return 0;
  } finally {
    client.close();
  }
}
