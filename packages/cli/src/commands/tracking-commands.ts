/** Registers `mlmodel runs list|show` and `mlmodel models list|show` (MLflow tracking at a glance). */
import type { Command } from 'commander';
import { collect } from '../args.js';
import type { Io } from '../output.js';
import type { ModelsListOptions } from './models.js';
import type { RunsListOptions, TrackingCliOptions } from './runs.js';

const TRACKING_URI_HELP = 'the MLflow tracking server (http(s)://…) or mlruns directory (default $MLFLOW_TRACKING_URI, else ./mlruns)';

export function registerTrackingCommands(program: Command, io: Io, result: { code: number }): void {
  const runs = program.command('runs').description('MLflow runs in $MLFLOW_TRACKING_URI (or ./mlruns): list, show');
  runs
    .command('list')
    .description('list runs, newest first')
    .option('--experiment <name>', 'only this experiment (repeatable; default: every active experiment)', collect)
    .option('--experiment-id <id>', 'only this experiment id (repeatable)', collect)
    .option('--filter <expr>', "MLflow's search filter, e.g. \"metrics.rmse < 1 and params.alpha = '0.5'\"")
    .option('--order-by <expr>', 'e.g. "metrics.rmse ASC" (repeatable; default attributes.start_time DESC)', collect)
    .option('--max-results <n>', 'at most this many runs (default 50)')
    .option('--view <which>', 'active (default), deleted or all')
    .option('--tracking-uri <uri>', TRACKING_URI_HELP)
    .option('--json', 'print the runs as JSON (MLflow REST shapes)')
    .action(async (opts: RunsListOptions) => {
      // loaded on use, like the other commands
      const { runsListCommand } = await import('./runs.js');
      result.code = await runsListCommand(opts, io);
    });
  runs
    .command('show')
    .description('show a run: params, latest metrics, tags, logged models, top-level artifacts')
    .argument('<run-id>', 'the run id')
    .option('--tracking-uri <uri>', TRACKING_URI_HELP)
    .option('--json', 'print the run as JSON')
    .action(async (runId: string, opts: TrackingCliOptions) => {
      const { runsShowCommand } = await import('./runs.js');
      result.code = await runsShowCommand(runId, opts, io);
    });

  const models = program.command('models').description('MLflow 3 logged models and registered model versions: list, show');
  models
    .command('list')
    .description('list logged models (newest first), or with --name the versions of a registered model')
    .option('--experiment <name>', 'only this experiment (repeatable; default: every active experiment)', collect)
    .option('--name <registered-model>', "list this registered model's versions instead")
    .option('--filter <expr>', "MLflow's logged-model filter, e.g. \"name = 'model'\"")
    .option('--max-results <n>', 'at most this many (default 50)')
    .option('--tracking-uri <uri>', TRACKING_URI_HELP)
    .option('--json', 'print them as JSON')
    .action(async (opts: ModelsListOptions) => {
      const { modelsListCommand } = await import('./models.js');
      result.code = await modelsListCommand(opts, io);
    });
  models
    .command('show')
    .description('show a logged model (m-<id>, models:/m-<id>) or a registered version (models:/<name>/<version>, models:/<name>@<alias>, …)')
    .argument('<model>', 'm-<id> or a models:/ URI')
    .option('--tracking-uri <uri>', TRACKING_URI_HELP)
    .option('--json', 'print it as JSON')
    .action(async (ref: string, opts: TrackingCliOptions) => {
      const { modelsShowCommand } = await import('./models.js');
      result.code = await modelsShowCommand(ref, opts, io);
    });

  for (const group of [runs, models])
    for (const cmd of group.commands) cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const group of [runs, models]) group.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
}
