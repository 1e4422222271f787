/**
 * `mlmodel deploy azureml create|update|delete|status|list|predict|logs|traffic`: Azure ML managed
 * online endpoints. Options are declared here; the implementation (and the Azure SDK) loads only
 * when one of these subcommands runs (deploy-azureml-run.ts).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collect } from '../args.js';
import type { Io } from '../output.js';
import type { AzureMlCliOptions, AzureMlCommand } from './deploy-azureml-run.js';

/** A number of seconds (decimals allowed, e.g. 0.05 for tests); a usage error otherwise. */
function secondsOption(flag: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v.trim()) || n < min) throw new InvalidArgumentError(`${flag} must be a number of seconds ≥ ${min}, got ${v}`);
    return n;
  };
}

function intOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a whole number ${min}–${max}, got ${v}`);
    return n;
  };
}

/** The workspace and connection options every subcommand takes. */
function withWorkspace(cmd: Command): Command {
  return cmd
    .option('--subscription <id>', 'Azure subscription id (default $AZURE_SUBSCRIPTION_ID, $AZUREML_ARM_SUBSCRIPTION)')
    .option('--resource-group <name>', "the workspace's resource group (default $AZURE_RESOURCE_GROUP, $AZUREML_ARM_RESOURCEGROUP)")
    .option('--workspace <name>', 'Azure ML workspace (default $AZUREML_WORKSPACE, $AZUREML_ARM_WORKSPACE_NAME)')
    .option('--arm-host <url>', 'Azure Resource Manager (default $MLMODEL_AZURE_ARM_HOST, else https://management.azure.com; e.g. a sovereign cloud)')
    .option('--api-version <version>', 'Azure ML api-version (default 2024-04-01)')
    .option('--timeout <seconds>', 'give up on a long-running operation after this long (default 1800)', secondsOption('--timeout', 0.1))
    .option('--poll-interval <seconds>', 'between polls of a long-running operation (default 5)', secondsOption('--poll-interval', 0.01))
    .addOption(
      new Option('--blob-endpoint <url>', "blob service URL instead of the datastore's (a private endpoint, Azurite)").env('MLMODEL_AZURE_BLOB_ENDPOINT'),
    )
    .option('--datastore <name>', 'the datastore model files go to (default workspaceblobstore)')
    .option('-q, --quiet', 'no progress lines; only the result');
}

/** The image, registry, endpoint and deployment options of create and update. */
function withDeploymentOptions(cmd: Command): Command {
  return (
    withWorkspace(cmd)
      .requiredOption('-m, --model <model>', 'the model: a directory, runs:/ or models:/ URI')
      .requiredOption('--endpoint <name>', 'online endpoint name (created when missing)')
      .option('--deployment <name>', 'deployment name', 'blue')
      .option('--model-name <name>', 'registered model name (default: from the model directory)')
      .option('--image <image>', 'a local image already built with build-docker for this model (default: build one)')
      .option('--base-image <image>', 'base of the image built (as build-docker --base-image)')
      .option('--network <mode>', 'network of the build steps (as build-docker --network)')
      .option('--registry <acr>', "container registry: name, login server or ARM id (default: the workspace's)")
      .addOption(new Option('--acr-auth <how>', 'registry login: an AAD token exchange, or the admin user').choices(['aad', 'admin']).default('aad'))
      .option('--registry-host <host[:port]>', 'push to this host instead of the login server (a mirror or proxy)')
      .addOption(new Option('--registry-auth-url <url>', 'where the AAD token exchange goes instead of https://<login server>').hideHelp())
      // no commander default: an existing endpoint keeps its auth mode, and only an --auth-mode actually given is worth a remark
      .addOption(new Option('--auth-mode <mode>', 'how callers authenticate to a new endpoint (default key)').choices(['key', 'aml-token']))
      .option('--instance-type <sku>', 'VM size (default Standard_DS3_v2)')
      .option('--instance-count <n>', 'instances (default 1; 3 or more recommended for production)', intOption('--instance-count', 1))
      .option('--request-timeout-ms <ms>', 'per-request timeout at the endpoint (default 60000, at most 180000)', intOption('--request-timeout-ms', 1, 180_000))
      .option('--max-concurrent-requests <n>', 'per instance; more gets 429 at once (default 1)', intOption('--max-concurrent-requests', 1))
      .option('--workers <n>', 'server processes in each container (MLMODEL_WORKERS)', intOption('--workers', 1))
      .option('--probe-initial-delay <s>', 'liveness/readiness probe initial delay (default 10)', intOption('--probe-initial-delay', 0))
      .option('--probe-period <s>', 'probe period (default 10)', intOption('--probe-period', 1))
      .option('--probe-timeout <s>', 'probe timeout (default 2)', intOption('--probe-timeout', 1))
      .option(
        '--probe-failure-threshold <n>',
        'failed probes before the container is restarted / not ready (default 30)',
        intOption('--probe-failure-threshold', 1),
      )
      .option('--probe-success-threshold <n>', 'passed probes before ready (default 1)', intOption('--probe-success-threshold', 1))
      .option('--env <key=value>', 'environment variable for the container (repeatable)', collect)
      .option('--traffic <map>', 'traffic afterwards, e.g. blue=90,green=10 (default: 100% to a first deployment, else the new one gets 0%)')
      .option('--mirror <map>', 'mirrored (shadow) traffic afterwards, e.g. green=10 (one deployment, at most 50%), or none to stop mirroring')
      .option('--keep-on-failure', 'leave what a failed create made (to inspect it) instead of removing it')
      .option('--dry-run', 'print the calls that would be made; make none')
      .option('--json', 'print the result as JSON')
  );
}

export function registerAzureMlCommands(deploy: Command, io: Io, result: { code: number }): void {
  const azureml = deploy
    .command('azureml')
    .description('Azure ML managed online endpoints: create, update, traffic (blue/green), predict, logs, status, delete');
  const run = async (cmd: AzureMlCommand, opts: AzureMlCliOptions): Promise<void> => {
    const { runAzureMlCommand } = await import('./deploy-azureml-run.js');
    result.code = await runAzureMlCommand(cmd, opts, io);
  };

  withDeploymentOptions(
    azureml.command('create').description('push the image, register the model and an environment, create the endpoint if needed and a new deployment'),
  ).action((o: AzureMlCliOptions) => run('create', o));
  withDeploymentOptions(azureml.command('update').description('replace an existing deployment with a new model/image/settings (same steps as create)')).action(
    (o: AzureMlCliOptions) => run('update', o),
  );
  withWorkspace(azureml.command('delete').description('delete a deployment (refused while it takes traffic, unless --force) or a whole endpoint'))
    .requiredOption('--endpoint <name>', 'online endpoint name')
    .option('--deployment <name>', 'delete only this deployment (default: the whole endpoint)')
    .option('--force', 'delete a deployment that takes live or mirrored traffic: its share moves to the others first, mirroring to it stops')
    .option('--keep-assets', 'keep the model and environment versions mlmodel registered for it')
    .option('--dry-run', 'print the calls that would be made; make none')
    .action((o: AzureMlCliOptions) => run('delete', o));
  withWorkspace(azureml.command('status').description("an endpoint's state, scoring URI, traffic and deployments"))
    .requiredOption('--endpoint <name>', 'online endpoint name')
    .option('--json', 'print as JSON')
    .action((o: AzureMlCliOptions) => run('status', o));
  withWorkspace(azureml.command('list').description('the online endpoints of the workspace'))
    .option('--json', 'print as JSON')
    .action((o: AzureMlCliOptions) => run('list', o));
  withWorkspace(azureml.command('predict').description("score input through the endpoint's scoring URI (key or AML token)"))
    .requiredOption('--endpoint <name>', 'online endpoint name')
    .requiredOption('-i, --input-path <file>', 'the request body: a .json or .csv file, or - for stdin')
    .option('-t, --content-type <type>', 'json or csv or a MIME type (default: from the file extension, else json)')
    .option('--deployment <name>', 'send to this deployment whatever the traffic says (azureml-model-deployment)')
    .option('-o, --output-path <file>', 'write the response here instead of stdout')
    .action((o: AzureMlCliOptions) => run('predict', o));
  withWorkspace(azureml.command('logs').description("the tail of a deployment's container log"))
    .requiredOption('--endpoint <name>', 'online endpoint name')
    .requiredOption('--deployment <name>', 'deployment name')
    .option('--tail <n>', 'lines (default 100)', intOption('--tail', 1, 10_000))
    .addOption(new Option('--container-type <type>', 'which container').choices(['inference-server', 'storage-initializer']).default('inference-server'))
    .action((o: AzureMlCliOptions) => run('logs', o));
  withWorkspace(
    azureml.command('traffic').description('shift live traffic between deployments (--traffic blue=90,green=10) and mirror a share to one (--mirror green=10)'),
  )
    .requiredOption('--endpoint <name>', 'online endpoint name')
    .option('--traffic <map>', 'DEPLOYMENT=PERCENT pairs adding up to 100; deployments left out get 0 (default: unchanged)')
    .option(
      '--mirror <map>',
      'copy this share of the live requests to one deployment that takes no live traffic, answers dropped: e.g. green=10 (at most 50); none stops mirroring (default: unchanged)',
    )
    .option('--dry-run', 'print the calls that would be made; make none')
    .option('--json', 'print the endpoint afterwards as JSON')
    .action((o: AzureMlCliOptions) => run('traffic', o));
}
