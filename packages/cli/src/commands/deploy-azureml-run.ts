/**
 * The implementation of `mlmodel deploy azureml …` (loaded only when one of its subcommands runs):
 * turns the CLI options into an @mlmodel/deploy-azureml config and call, prints progress to
 * stderr and the result to stdout. Secrets are never printed: keys and tokens stay inside the
 * library, and every message goes through its `redact`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { openModelDir, parseModelUri } from '@mlmodel/format';
import type * as AzureMl from '@mlmodel/deploy-azureml';
import { contentTypeFor, keyValues, modelResolver } from '../args.js';
import { catchInterrupts, signalExitCode } from '../interrupts.js';
import { processIo, table, toJson, type Io } from '../output.js';
import { loadImageBuilder } from './image-builder.js';

export type AzureMlCommand = 'create' | 'update' | 'delete' | 'status' | 'list' | 'predict' | 'logs' | 'traffic';

export interface AzureMlCliOptions {
  subscription?: string;
  resourceGroup?: string;
  workspace?: string;
  armHost?: string;
  apiVersion?: string;
  timeout?: number;
  pollInterval?: number;
  blobEndpoint?: string;
  datastore?: string;
  quiet?: boolean;
  json?: boolean;
  dryRun?: boolean;
  // create / update
  model?: string;
  endpoint?: string;
  deployment?: string;
  modelName?: string;
  image?: string;
  baseImage?: string;
  network?: string;
  registry?: string;
  acrAuth?: 'aad' | 'admin';
  registryHost?: string;
  registryAuthUrl?: string;
  authMode?: 'key' | 'aml-token';
  instanceType?: string;
  instanceCount?: number;
  requestTimeoutMs?: number;
  maxConcurrentRequests?: number;
  workers?: number;
  probeInitialDelay?: number;
  probePeriod?: number;
  probeTimeout?: number;
  probeFailureThreshold?: number;
  probeSuccessThreshold?: number;
  env?: string[];
  traffic?: string;
  mirror?: string;
  keepOnFailure?: boolean;
  // delete
  force?: boolean;
  keepAssets?: boolean;
  // predict
  inputPath?: string;
  contentType?: string;
  outputPath?: string;
  // logs
  tail?: number;
  containerType?: 'inference-server' | 'storage-initializer';
}

const first = (...values: (string | undefined)[]): string | undefined => values.find((v) => v !== undefined && v.trim() !== '')?.trim();

function configOf(o: AzureMlCliOptions, io: Io, env: NodeJS.ProcessEnv = process.env): AzureMl.AzureMlConfig {
  const armHost = first(o.armHost, env.MLMODEL_AZURE_ARM_HOST);
  return {
    subscriptionId: first(o.subscription, env.AZURE_SUBSCRIPTION_ID, env.AZUREML_ARM_SUBSCRIPTION) ?? '',
    resourceGroup: first(o.resourceGroup, env.AZURE_RESOURCE_GROUP, env.AZUREML_ARM_RESOURCEGROUP) ?? '',
    workspace: first(o.workspace, env.AZUREML_WORKSPACE, env.AZUREML_ARM_WORKSPACE_NAME) ?? '',
    ...(armHost !== undefined ? { armHost } : {}),
    ...(o.apiVersion !== undefined ? { apiVersion: o.apiVersion } : {}),
    ...(o.timeout !== undefined ? { timeoutMs: Math.round(o.timeout * 1000) } : {}),
    ...(o.pollInterval !== undefined ? { pollIntervalMs: Math.round(o.pollInterval * 1000) } : {}),
    ...(o.blobEndpoint !== undefined ? { blobEndpoint: o.blobEndpoint } : {}),
    ...(o.datastore !== undefined ? { datastore: o.datastore } : {}),
    onStatus: (line) => {
      if (!o.quiet) io.err(`mlmodel: ${line}`);
    },
  };
}

function settingsOf(o: AzureMlCliOptions): AzureMl.DeploymentSettings {
  const probe = {
    ...(o.probeInitialDelay !== undefined ? { initialDelayS: o.probeInitialDelay } : {}),
    ...(o.probePeriod !== undefined ? { periodS: o.probePeriod } : {}),
    ...(o.probeTimeout !== undefined ? { timeoutS: o.probeTimeout } : {}),
    ...(o.probeFailureThreshold !== undefined ? { failureThreshold: o.probeFailureThreshold } : {}),
    ...(o.probeSuccessThreshold !== undefined ? { successThreshold: o.probeSuccessThreshold } : {}),
  };
  const vars = keyValues(o.env, '--env');
  if (o.workers !== undefined) vars.MLMODEL_WORKERS = String(o.workers);
  return {
    ...(o.instanceType !== undefined ? { instanceType: o.instanceType } : {}),
    ...(o.instanceCount !== undefined ? { instanceCount: o.instanceCount } : {}),
    ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    ...(o.maxConcurrentRequests !== undefined ? { maxConcurrentRequestsPerInstance: o.maxConcurrentRequests } : {}),
    livenessProbe: probe,
    readinessProbe: probe,
    ...(Object.keys(vars).length > 0 ? { environmentVariables: vars } : {}),
  };
}

/**
 * The registered model's name when --model-name is not given: the name in a models:/ URI, the last
 * segment of a runs:/ artifact path, else the directory's name. A resolved models:/ or runs:/ URI
 * lives in the download cache (`…/objects/sha256-<digest>`), whose name means nothing in Azure ML.
 */
export function defaultModelName(model: string | undefined, dir?: string): string {
  let u;
  try {
    u = model !== undefined ? parseModelUri(model) : undefined;
  } catch {
    u = undefined;
  }
  if (u && 'name' in u && u.name) return u.name;
  if (u?.kind === 'run') return basename(u.artifactPath.replace(/\/+$/, '')) || 'model';
  if (u?.kind === 'logged-model') return u.modelId;
  return basename(dir ?? (u?.kind === 'local' ? u.path : (model ?? 'model')));
}

const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationError']);

/** A credential failure anywhere in the cause chain, as one actionable line. */
function credentialFailure(az: typeof AzureMl, e: unknown): AzureMl.AzureCredentialError | undefined {
  for (let c: unknown = e, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    if (CREDENTIAL_ERRORS.has((c as Error).name)) {
      const why = az.redact(az.oneLine((c as Error).message)).slice(0, 400);
      return new az.AzureCredentialError(
        `no Azure credential worked (${why}): sign in with \`az login\`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or use a managed identity)`,
        'UNAUTHENTICATED',
      );
    }
  }
  return undefined;
}

export async function runAzureMlCommand(cmd: AzureMlCommand, o: AzureMlCliOptions, io: Io = processIo): Promise<number> {
  const az = await import('@mlmodel/deploy-azureml');
  const config = configOf(o, io);
  try {
    return await dispatch(az, cmd, o, config, io);
  } catch (e) {
    const cred = credentialFailure(az, e);
    if (cred) throw cred;
    if (e instanceof az.AzureMlServiceError && e.logsTail.length > 0) {
      io.err(`mlmodel: deployment log (last ${e.logsTail.length} lines):`);
      for (const l of e.logsTail) io.err(`  | ${az.redact(l)}`);
    }
    if (e instanceof Error && 'userError' in e) e.message = az.redact(az.oneLine(e.message));
    throw e;
  }
}

async function dispatch(az: typeof AzureMl, cmd: AzureMlCommand, o: AzureMlCliOptions, config: AzureMl.AzureMlConfig, io: Io): Promise<number> {
  const traffic = o.traffic !== undefined ? az.parseTraffic(o.traffic) : undefined;
  const mirror = o.mirror !== undefined ? az.parseMirror(o.mirror) : undefined;
  if (cmd === 'traffic' && traffic === undefined && mirror === undefined) {
    throw new az.AzureMlError('give --traffic (e.g. blue=90,green=10), --mirror (e.g. green=10, or none) or both');
  }
  if (o.dryRun) {
    // checked like a real run, so that a dry run that passes is a run that would start
    az.connectWorkspace({ ...config, credential: { getToken: () => Promise.resolve(null) } });
    let plan: AzureMl.Plan;
    if (cmd === 'create' || cmd === 'update') {
      const modelName = az.assetName(o.modelName ?? defaultModelName(o.model));
      plan = az.planDeployment(config, {
        mode: cmd,
        endpoint: o.endpoint!,
        deployment: o.deployment ?? 'blue',
        modelName,
        image: o.image ?? '<image built from the model>',
        ...(o.registry !== undefined ? { registry: o.registry } : {}),
        ...(o.acrAuth !== undefined ? { acrAuth: o.acrAuth } : {}),
        authMode: o.authMode === 'aml-token' ? 'AMLToken' : 'Key',
        settings: settingsOf(o),
        ...(traffic ? { traffic } : {}),
        ...(mirror ? { mirror } : {}),
      });
    } else if (cmd === 'traffic') plan = az.planTraffic(config, o.endpoint!, traffic, mirror);
    else plan = az.planDelete(config, { endpoint: o.endpoint!, deployment: o.deployment, force: o.force === true, keepAssets: o.keepAssets === true });
    io.out(o.json ? toJson(plan) : az.formatPlan(plan).join('\n'));
    return 0;
  }
  const ws = az.connectWorkspace(config);
  switch (cmd) {
    case 'create':
    case 'update':
      return deploy(az, ws, cmd, o, traffic, mirror, io);
    case 'traffic': {
      const e = await az.setTraffic(ws, o.endpoint!, traffic, mirror);
      io.out(o.json ? toJson(e) : `endpoint ${e.name}: traffic ${az.formatTraffic(e.traffic)}${mirrorText(az, e.mirrorTraffic)}`);
      return 0;
    }
    case 'delete': {
      const r = o.deployment
        ? await az.deleteDeployment(ws, { endpoint: o.endpoint!, deployment: o.deployment, force: o.force === true, keepAssets: o.keepAssets === true })
        : await az.deleteEndpoint(ws, { endpoint: o.endpoint!, keepAssets: o.keepAssets === true });
      io.out(
        `deleted ${r.removed.join(', ')}${r.traffic ? `\n  traffic now ${az.formatTraffic(r.traffic)}` : ''}${r.mirrorTraffic ? `\n  mirror now ${az.formatTraffic(r.mirrorTraffic)}` : ''}`,
      );
      return 0;
    }
    case 'status': {
      const s = await az.endpointStatus(ws, o.endpoint!);
      if (o.json) {
        io.out(toJson(s));
        return 0;
      }
      const e = s.endpoint;
      io.out(
        [
          `endpoint ${e.name}: ${e.provisioningState} (auth ${e.authMode}, ${e.location})`,
          `  scoring URI  ${e.scoringUri ?? '(none yet)'}`,
          `  traffic      ${az.formatTraffic(e.traffic)}`,
          `  mirrored     ${Object.keys(e.mirrorTraffic).length > 0 ? az.formatTraffic(e.mirrorTraffic) : '(none)'}`,
          s.deployments.length === 0
            ? '  no deployments'
            : table(
                ['DEPLOYMENT', 'STATE', 'TRAFFIC', 'INSTANCES', 'MODEL'],
                s.deployments.map((d) => [
                  d.name,
                  d.provisioningState,
                  `${e.traffic[d.name] ?? 0}%${e.mirrorTraffic[d.name] ? ` (+${e.mirrorTraffic[d.name]}% mirrored)` : ''}`,
                  `${d.instanceType ?? '?'} × ${d.instanceCount ?? '?'}`,
                  (d.model ?? '').replace(/^.*\/models\/([^/]+)\/versions\/([^/]+)$/, '$1:$2'),
                ]),
              ),
        ].join('\n'),
      );
      return 0;
    }
    case 'list': {
      const list = await az.listEndpoints(ws);
      if (o.json) io.out(toJson(list));
      else if (list.length === 0) io.out(`no online endpoints in workspace ${ws.name}`);
      else
        io.out(
          table(
            ['ENDPOINT', 'STATE', 'AUTH', 'TRAFFIC', 'SCORING URI'],
            list.map((e) => [e.name, e.provisioningState, e.authMode, `${az.formatTraffic(e.traffic)}${mirrorText(az, e.mirrorTraffic)}`, e.scoringUri ?? '']),
          ),
        );
      return 0;
    }
    case 'predict': {
      const input = o.inputPath === '-' ? readStdin() : readInput(az, o.inputPath!);
      const r = await az.invokeEndpoint(ws, {
        endpoint: o.endpoint!,
        body: input,
        contentType: contentTypeFor(o.inputPath === '-' ? 'stdin.json' : o.inputPath!, o.contentType),
        ...(o.deployment !== undefined ? { deployment: o.deployment } : {}),
      });
      if (o.outputPath) writeFileSync(o.outputPath, r.body);
      else io.out(r.body.toString('utf8'));
      if (!o.quiet && r.deployment) io.err(`mlmodel: answered by deployment ${r.deployment}`);
      return 0;
    }
    case 'logs': {
      const text = await az.deploymentLogs(ws, o.endpoint!, o.deployment!, {
        tail: o.tail ?? 100,
        containerType: o.containerType === 'storage-initializer' ? 'StorageInitializer' : 'InferenceServer',
      });
      io.out(text.replace(/\n$/, ''));
      return 0;
    }
  }
}

/** `; mirror green=10` when the endpoint mirrors traffic, else nothing. */
function mirrorText(az: typeof AzureMl, mirror: Readonly<Record<string, number>>): string {
  return Object.keys(mirror).length > 0 ? `; mirror ${az.formatTraffic(mirror)}` : '';
}

function readStdin(): Buffer {
  return readFileSync(0);
}

function readInput(az: typeof AzureMl, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new az.AzureMlError(`cannot read --input-path ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function deploy(
  az: typeof AzureMl,
  ws: AzureMl.Workspace,
  cmd: 'create' | 'update',
  o: AzureMlCliOptions,
  traffic: Record<string, number> | undefined,
  mirror: Record<string, number> | undefined,
  io: Io,
): Promise<number> {
  if (!o.model) throw new InvalidArgumentError('-m/--model is required');
  const model = await openModelDir(o.model, { resolver: modelResolver({ log: io.err }) });
  const modelName = o.modelName ?? defaultModelName(o.model, parseModelUri(o.model).kind === 'local' ? model.dir : undefined);
  const ib = await loadImageBuilder();
  let image = o.image;
  let built = false;
  if (image === undefined) {
    const tag = `mlmodel-azureml/${az.assetName(modelName).toLowerCase().replace(/_/g, '-')}:${Date.now().toString(36)}`;
    const view = o.quiet ? null : ib.plainProgress((line) => io.err(line));
    try {
      const b = await ib.buildImage({
        tag,
        model: model.dir,
        ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
        ...(o.network !== undefined ? { network: o.network } : {}),
        onEvent: (e) => view?.event(e),
        onStatus: (line) => {
          if (!o.quiet) io.err(`mlmodel: ${line}`);
        },
      });
      image = b.tag;
      built = true;
    } finally {
      view?.finish();
    }
  }
  const push = o.quiet ? undefined : ib.plainPushProgress((line) => io.err(`mlmodel: ${line}`));
  // Ctrl-C (or SIGTERM): stop at the next step or poll and clean up like a failure; a second one exits at once
  const interrupt = new AbortController();
  const interrupts = catchInterrupts((sig) => {
    io.err(
      `mlmodel: ${sig}: stopping ${cmd === 'create' ? 'and removing what this create made' : 'the update'}; press Ctrl-C again to exit at once and leave things as they are`,
    );
    interrupt.abort();
  });
  let r: AzureMl.DeployResult;
  try {
    r = await az.deployOnlineEndpoint(ws, {
      mode: cmd,
      endpoint: o.endpoint!,
      deployment: o.deployment ?? 'blue',
      modelDir: model.dir,
      mlmodel: model.mlmodel,
      image,
      modelName,
      ...(o.registry !== undefined ? { registry: o.registry } : {}),
      ...(o.acrAuth !== undefined ? { acrAuth: o.acrAuth } : {}),
      ...(o.registryHost !== undefined ? { registryHost: o.registryHost } : {}),
      ...(o.registryAuthUrl !== undefined ? { registryAuthUrl: o.registryAuthUrl } : {}),
      ...(o.authMode !== undefined ? { authMode: o.authMode === 'aml-token' ? ('AMLToken' as const) : ('Key' as const) } : {}),
      settings: settingsOf(o),
      ...(traffic ? { traffic } : {}),
      ...(mirror ? { mirror } : {}),
      ...(o.keepOnFailure ? { keepOnFailure: true } : {}),
      ...(push ? { onPushEvent: push } : {}),
      signal: interrupt.signal,
    });
  } catch (e) {
    const signalled = interrupts.received;
    if (!signalled) throw e;
    const why = e instanceof az.AzureMlInterruptedError ? e.message : `interrupted; ${(e as Error).message}`;
    io.err(`error: ${az.redact(az.oneLine(why))}`);
    return signalExitCode(signalled);
  } finally {
    interrupts.dispose();
  }
  if (o.json) {
    io.out(toJson({ ...r, builtImage: built ? image : null }));
    return 0;
  }
  io.out(
    [
      `${cmd === 'create' ? 'created' : 'updated'} deployment ${r.deployment.name} of endpoint ${r.endpoint.name}: ${r.deployment.provisioningState}`,
      `  scoring URI  ${r.endpoint.scoringUri ?? '(none yet)'}`,
      `  traffic      ${az.formatTraffic(r.endpoint.traffic)}${mirrorText(az, r.endpoint.mirrorTraffic)}`,
      `  image        ${r.image.registry}/${r.image.repository}@${r.image.digest} (pushed in ${(r.pushMs / 1000).toFixed(1)} s)`,
      `  model        ${r.model.name}:${r.model.version} (${r.model.uri})`,
      `  environment  ${r.environment.name}:${r.environment.version}`,
      `  deployed in  ${(r.deployMs / 1000).toFixed(1)} s`,
      `  call it      mlmodel deploy azureml predict --endpoint ${r.endpoint.name} -i input.json`,
    ].join('\n'),
  );
  return 0;
}
