/**
 * The whole flows: create or update a deployment (push → model version → environment version →
 * endpoint → deployment → traffic) with exact cleanup of what a failed create made, delete of a
 * deployment or an endpoint with the assets mlmodel made for them, and status.
 */
import { basename } from 'node:path';
import type { OnlineDeployment } from '@azure/arm-machinelearning';
import type { PushEvent } from '@mlmodel/image-builder';
import type { MLmodel } from '@mlmodel/format';
import { pushToAcr, type AcrAuth, type AcrPush } from './acr-login.js';
import { createEnvironmentVersion, deleteEnvironmentVersion, type RegisteredEnvironment } from './environment-asset.js';
import { AzureMlError, AzureMlInterruptedError, AzureMlServiceError, AzureMlTimeoutError, oneLine } from './errors.js';
import { CREATED_TAG, datastoreContainer, deleteModelVersion, nextVersion, registerModelVersion, uploadModel, type RegisteredModel } from './model-asset.js';
import {
  deleteDeploymentResource,
  deploymentBody,
  deploymentLogs,
  getDeployment,
  listDeployments,
  putDeployment,
  checkDeploymentName,
  type DeploymentSettings,
} from './online-deployment.js';
import {
  checkEndpointName,
  createEndpoint,
  deleteEndpointResource,
  endpointInfo,
  getEndpoint,
  putEndpointTraffic,
  requireEndpoint,
  type AuthMode,
  type EndpointInfo,
} from './online-endpoint.js';
import { checkLiveVsMirror, checkMirror, checkTraffic, formatTraffic, mirrorWithout, trafficWithout, type TrafficMap } from './traffic.js';
import { workspaceFacts, type Workspace } from './workspace-client.js';

export interface DeployOptions {
  /** create: the deployment must not exist yet; update: it must. */
  readonly mode: 'create' | 'update';
  readonly endpoint: string;
  readonly deployment: string;
  /** The model directory (local; the CLI resolves runs:/ and models:/ URIs first). */
  readonly modelDir: string;
  readonly mlmodel: MLmodel;
  /** The local image serving that model (built with @mlmodel/image-builder). */
  readonly image: string;
  /** Registered model name (default: from the model directory). */
  readonly modelName?: string;
  /** repository:tag in the registry (default mlmodel/<model name>:<deployment>-<model version>). */
  readonly imageTarget?: string;
  readonly registry?: string;
  readonly acrAuth?: AcrAuth;
  readonly registryHost?: string;
  readonly registryAuthUrl?: string;
  readonly authMode?: AuthMode;
  readonly settings?: DeploymentSettings;
  /** Traffic after the deployment succeeds; default: 100% to a first deployment, otherwise unchanged (a new one gets 0%). */
  readonly traffic?: TrafficMap;
  /** Mirrored traffic afterwards (e.g. { green: 10 }; {} stops mirroring); default: unchanged. */
  readonly mirror?: TrafficMap;
  /** Leave what a failed create made (to inspect it) instead of removing it. */
  readonly keepOnFailure?: boolean;
  readonly onPushEvent?: (e: PushEvent) => void;
  /**
   * Interrupts the call (the CLI aborts it on Ctrl-C). It stops at the next step or poll and then
   * cleans up as a failure would: a create removes what it made, an update what it made before the
   * deployment PUT. Then it throws AzureMlInterruptedError.
   */
  readonly signal?: AbortSignal;
}

export interface DeployResult {
  readonly endpoint: EndpointInfo;
  readonly deployment: DeploymentInfo;
  readonly model: RegisteredModel;
  readonly environment: RegisteredEnvironment;
  readonly image: AcrPush;
  /** What this call created, e.g. `endpoint iris`, `model iris:3`. */
  readonly created: readonly string[];
  readonly pushMs: number;
  /** From the first ARM write to the deployment's Succeeded and the traffic set. */
  readonly deployMs: number;
}

export interface DeploymentInfo {
  readonly name: string;
  readonly provisioningState: string;
  readonly instanceType: string | undefined;
  readonly instanceCount: number | undefined;
  readonly model: string | undefined;
  readonly environmentId: string | undefined;
  readonly createdByMlmodel: boolean;
}

export function deploymentInfo(d: OnlineDeployment): DeploymentInfo {
  return {
    name: d.name ?? '',
    provisioningState: d.properties.provisioningState ?? 'Unknown',
    instanceType: d.properties.instanceType,
    instanceCount: d.sku?.capacity,
    model: d.properties.model,
    environmentId: d.properties.environmentId,
    createdByMlmodel: (d.tags as Record<string, string> | undefined)?.[CREATED_TAG] === 'true',
  };
}

/** An Azure ML asset name from a directory name: letters, digits, `-` and `_`. */
export function assetName(text: string): string {
  const s = text
    .replace(/[^a-zA-Z0-9_-]+/g, '-')
    .replace(/^[^a-zA-Z0-9]+/, '')
    .slice(0, 200);
  return s === '' ? 'model' : s;
}

/** Lines of the log tail worth showing. */
function tailLines(text: string, n: number): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-n);
}

export async function deployOnlineEndpoint(ws: Workspace, o: DeployOptions): Promise<DeployResult> {
  checkEndpointName(o.endpoint);
  checkDeploymentName(o.deployment);
  const modelName = assetName(o.modelName ?? basename(o.modelDir));
  const facts = await workspaceFacts(ws);
  const existingEndpoint = await getEndpoint(ws, o.endpoint);
  const existingDeployment = existingEndpoint ? await getDeployment(ws, o.endpoint, o.deployment) : undefined;
  if (o.mode === 'create' && existingDeployment) {
    throw new AzureMlError(
      `endpoint ${o.endpoint} already has a deployment ${o.deployment}: use \`update\` to replace it, or pick another name for a blue/green rollout`,
    );
  }
  if (o.mode === 'update' && !existingDeployment) {
    throw new AzureMlError(`endpoint ${o.endpoint} has no deployment ${o.deployment} to update: use \`create\``);
  }
  if (o.traffic || o.mirror) {
    // the traffic and mirror maps are checked before anything is made, against the deployments there will be
    const known = [...new Set([...(existingEndpoint ? (await listDeployments(ws, o.endpoint)).map((d) => d.name ?? '') : []), o.deployment])];
    const current = existingEndpoint?.properties.traffic ?? {};
    const live = o.traffic
      ? checkTraffic(o.traffic, known, o.endpoint)
      : Object.values(current).reduce((a, b) => a + b, 0) === 0
        ? { [o.deployment]: 100 }
        : current;
    if (o.mirror) checkMirror(o.mirror, known, live, o.endpoint);
    else checkLiveVsMirror(live, existingEndpoint?.properties.mirrorTraffic ?? {}, o.endpoint);
  }
  if (existingEndpoint && o.authMode && existingEndpoint.properties.authMode !== o.authMode) {
    ws.status(`endpoint ${o.endpoint} keeps its auth mode ${existingEndpoint.properties.authMode} (--auth-mode applies to new endpoints)`);
  }

  const created: string[] = [];
  const undo: { what: string; run: () => Promise<void> }[] = [];
  let deploymentStarted = false;
  /** ARM ids of the model and environment versions this call registered. */
  const newAssets: string[] = [];
  const step = (what: string): void => {
    if (o.signal?.aborted) throw new AzureMlInterruptedError(`interrupted before ${what}`);
  };
  try {
    step('pushing the image');
    const modelVersion = await nextVersion(ws, 'model', modelName);
    const envName = `mlmodel-${modelName}`;
    const envVersion = await nextVersion(ws, 'environment', envName);
    const target = o.imageTarget ?? `mlmodel/${modelName.toLowerCase().replace(/_/g, '-')}:${o.deployment.toLowerCase()}-${modelVersion}`;
    const image = await pushToAcr(ws, {
      image: o.image,
      target,
      ...(o.registry !== undefined ? { registry: o.registry } : {}),
      ...(o.acrAuth !== undefined ? { auth: o.acrAuth } : {}),
      ...(o.registryHost !== undefined ? { registryHost: o.registryHost } : {}),
      ...(o.registryAuthUrl !== undefined ? { authUrl: o.registryAuthUrl } : {}),
      ...(o.onPushEvent ? { onEvent: o.onPushEvent } : {}),
    });
    const pushMs = image.durationMs;
    const imageRef = `${image.registry}/${image.repository}@${image.digest}`;
    const tArm = performance.now();

    step('uploading the model');
    const uploaded = await uploadModel(ws, {
      modelDir: o.modelDir,
      name: modelName,
      version: modelVersion,
      ...(ws.config.datastore !== undefined ? { datastore: ws.config.datastore } : {}),
      ...(ws.config.blobEndpoint !== undefined ? { blobEndpoint: ws.config.blobEndpoint } : {}),
    });
    undo.push({ what: `model files ${uploaded.prefix}`, run: uploaded.remove });
    step(`registering model ${modelName}`);
    const model = await registerModelVersion(ws, { name: modelName, version: modelVersion, uri: uploaded.uri, mlmodel: o.mlmodel });
    created.push(`model ${modelName}:${modelVersion}`);
    newAssets.push(model.id);
    undo.push({ what: `model ${modelName}:${modelVersion}`, run: () => deleteModelVersion(ws, modelName, modelVersion) });
    ws.status(`registered model ${modelName} version ${modelVersion}`);

    step(`creating environment ${envName}`);
    const environment = await createEnvironmentVersion(ws, { name: envName, version: envVersion, image: imageRef });
    created.push(`environment ${envName}:${envVersion}`);
    newAssets.push(environment.id);
    undo.push({ what: `environment ${envName}:${envVersion}`, run: () => deleteEnvironmentVersion(ws, envName, envVersion) });
    ws.status(`created environment ${envName} version ${envVersion} (${imageRef})`);

    let endpoint = existingEndpoint;
    if (!endpoint) {
      step(`creating endpoint ${o.endpoint}`);
      // registered for cleanup before the PUT: a create that fails half-way still leaves a resource
      undo.push({ what: `endpoint ${o.endpoint}`, run: () => deleteEndpointResource(ws, o.endpoint) });
      endpoint = await createEndpoint(ws, { name: o.endpoint, location: facts.location, authMode: o.authMode ?? 'Key', signal: o.signal });
      created.push(`endpoint ${o.endpoint}`);
    }

    const body = deploymentBody({
      location: facts.location,
      modelId: model.id,
      environmentId: environment.id,
      ...(o.settings ? { settings: o.settings } : {}),
    });
    ws.status(`${o.mode === 'create' ? 'creating' : 'updating'} deployment ${o.deployment} (${body.properties.instanceType} × ${body.sku?.capacity ?? 1})`);
    if (o.mode === 'create' && existingEndpoint) {
      undo.push({ what: `deployment ${o.deployment}`, run: () => deleteDeploymentResource(ws, o.endpoint, o.deployment) });
    }
    step(`${o.mode === 'create' ? 'creating' : 'updating'} deployment ${o.deployment}`);
    deploymentStarted = true;
    const deployment = await putDeployment(ws, o.endpoint, o.deployment, body, o.signal);
    if (o.mode === 'create') created.push(`deployment ${o.deployment}`);

    // traffic: as asked; else all of it to the first deployment; else the new one waits at 0%
    const current = { ...(endpoint.properties.traffic ?? {}) };
    const currentSum = Object.values(current).reduce((a, b) => a + b, 0);
    let finalEndpoint = endpoint;
    const known = (await listDeployments(ws, o.endpoint)).map((d) => d.name ?? '');
    const live = o.traffic
      ? checkTraffic(o.traffic, known, o.endpoint)
      : currentSum === 0
        ? checkTraffic({ [o.deployment]: 100 }, known, o.endpoint)
        : undefined;
    const mirror = o.mirror ? checkMirror(o.mirror, known, live ?? current, o.endpoint) : undefined;
    if (live || mirror) {
      finalEndpoint = await putEndpointTraffic(ws, o.endpoint, live ?? checkTraffic(current, known, o.endpoint), mirror);
    }
    if (!o.traffic && currentSum > 0 && o.mode === 'create') {
      ws.status(
        `deployment ${o.deployment} takes 0% of traffic (now ${formatTraffic(current)}${mirror?.[o.deployment] ? `, mirrored ${mirror[o.deployment]}%` : ''}): shift it with \`mlmodel deploy azureml traffic --endpoint ${o.endpoint} --traffic …\``,
      );
    }
    finalEndpoint = (await getEndpoint(ws, o.endpoint)) ?? finalEndpoint;
    return {
      endpoint: endpointInfo(finalEndpoint),
      deployment: deploymentInfo(deployment),
      model,
      environment,
      image,
      created,
      pushMs,
      deployMs: performance.now() - tArm,
    };
  } catch (e) {
    // An update's PUT the service refused outright (400: unknown instance type, no quota) changed nothing:
    // the deployment still refers to its previous versions, so the new ones are not in use and go too.
    if (deploymentStarted && o.mode === 'update' && newAssets.length > 0) {
      const d = await getDeployment(ws, o.endpoint, o.deployment).catch(() => undefined);
      const refs = [d?.properties.model, d?.properties.environmentId].map((id) => id?.toLowerCase());
      if (d && !newAssets.some((id) => refs.includes(id.toLowerCase()))) deploymentStarted = false;
    }
    let logsTail: string[] = [];
    if (deploymentStarted && !(e instanceof AzureMlInterruptedError)) {
      try {
        logsTail = tailLines(await deploymentLogs(ws, o.endpoint, o.deployment, { tail: 50 }), 20);
      } catch (e2) {
        ws.status(`no deployment log to show: ${oneLine((e2 as Error).message)}`);
      }
    }
    const removed: string[] = [];
    const leftOver: string[] = [];
    // an update leaves what the failed deployment already refers to; anything before that goes
    if (!o.keepOnFailure && (o.mode === 'create' || !deploymentStarted)) {
      for (const step of undo.reverse()) {
        try {
          ws.status(`cleaning up: removing ${step.what}`);
          await step.run();
          removed.push(step.what);
        } catch (e2) {
          leftOver.push(`${step.what} (${oneLine((e2 as Error).message)})`);
        }
      }
    } else if (undo.length > 0) {
      leftOver.push(...undo.map((u) => u.what));
    }
    const kept =
      o.keepOnFailure || o.mode === 'create'
        ? 'left in place'
        : `left in place (deployment ${o.deployment} now refers to them; the instances it had keep serving the previous version until an update succeeds)`;
    const base = e instanceof Error ? e.message : String(e);
    const after = [
      removed.length > 0 ? `removed what this ${o.mode} made: ${removed.join(', ')}` : '',
      leftOver.length > 0 ? `${kept}: ${leftOver.join(', ')}` : '',
      logsTail.length > 0 ? 'deployment log tail above' : '',
    ]
      .filter(Boolean)
      .join('; ');
    const message = after ? `${base} — ${after}` : base;
    if (e instanceof AzureMlInterruptedError) throw new AzureMlInterruptedError(message);
    if (e instanceof AzureMlTimeoutError) throw Object.assign(new AzureMlTimeoutError(message, e.lastState), { logsTail });
    if (e instanceof AzureMlServiceError) throw new AzureMlServiceError(message, { serviceCode: e.serviceCode, status: e.status, logsTail, cause: e });
    if (e instanceof Error && 'userError' in e) {
      (e as { message: string }).message = message;
      throw e;
    }
    throw new AzureMlServiceError(message, { logsTail, cause: e });
  }
}

/** Model and environment versions a deployment refers to, as [name, version] pairs parsed from its ids. */
function assetsOf(d: OnlineDeployment): { model?: [string, string]; environment?: [string, string] } {
  const out: { model?: [string, string]; environment?: [string, string] } = {};
  const m = /\/models\/([^/]+)\/versions\/([^/]+)$/.exec(d.properties.model ?? '');
  if (m) out.model = [m[1]!, m[2]!];
  const env = /\/environments\/([^/]+)\/versions\/([^/]+)$/.exec(d.properties.environmentId ?? '');
  if (env) out.environment = [env[1]!, env[2]!];
  return out;
}

/** Remove the model version (with its uploaded files) and the environment version of deployments mlmodel made, unless another deployment still uses them. */
async function removeAssets(ws: Workspace, gone: readonly OnlineDeployment[], stillUsed: readonly OnlineDeployment[]): Promise<string[]> {
  const removed: string[] = [];
  const used = new Set(stillUsed.flatMap((d) => [d.properties.model, d.properties.environmentId]).filter(Boolean));
  for (const d of gone) {
    if ((d.tags as Record<string, string> | undefined)?.[CREATED_TAG] !== 'true') continue;
    const a = assetsOf(d);
    if (a.environment && !used.has(d.properties.environmentId)) {
      const [n, v] = a.environment;
      const env = await ws.client.environmentVersions.get(ws.resourceGroup, ws.name, n, v).catch(() => undefined);
      if (env?.properties.tags?.[CREATED_TAG] === 'true') {
        await deleteEnvironmentVersion(ws, n, v);
        removed.push(`environment ${n}:${v}`);
      }
    }
    if (a.model && !used.has(d.properties.model)) {
      const [n, v] = a.model;
      const mv = await ws.client.modelVersions.get(ws.resourceGroup, ws.name, n, v).catch(() => undefined);
      if (mv?.properties.tags?.[CREATED_TAG] === 'true') {
        // the files are in the datastore the model URI names, whatever --datastore this delete was given
        const at = /\/datastores\/([^/]+)\/paths\/(.+)$/.exec(mv.properties.modelUri ?? '');
        const prefix = at?.[2];
        if (prefix) {
          const container = await datastoreContainer(ws, {
            datastore: at[1]!,
            ...(ws.config.blobEndpoint !== undefined ? { blobEndpoint: ws.config.blobEndpoint } : {}),
          });
          for await (const b of container.listBlobsFlat({ prefix: `${prefix}/` })) await container.deleteBlob(b.name).catch(() => undefined);
        }
        await deleteModelVersion(ws, n, v);
        removed.push(`model ${n}:${v}`);
      }
    }
  }
  return removed;
}

export interface DeleteResult {
  /** What was removed, in order. */
  readonly removed: readonly string[];
  /** The endpoint's traffic afterwards (deleting a deployment). */
  readonly traffic?: Readonly<Record<string, number>>;
  /** The endpoint's mirrored traffic afterwards, when deleting the deployment changed it. */
  readonly mirrorTraffic?: Readonly<Record<string, number>>;
}

/**
 * Delete one deployment. Refuses while it takes live or mirrored traffic unless `force`, which
 * first moves its live share to the other deployments in proportion and stops the mirroring. Also removes the model and environment versions
 * mlmodel made for it (unless `keepAssets` or another deployment uses them).
 */
export async function deleteDeployment(
  ws: Workspace,
  o: { endpoint: string; deployment: string; force?: boolean; keepAssets?: boolean },
): Promise<DeleteResult> {
  const e = await requireEndpoint(ws, o.endpoint);
  const d = await getDeployment(ws, o.endpoint, o.deployment);
  if (!d) throw new AzureMlError(`endpoint ${o.endpoint} has no deployment ${o.deployment}`);
  const traffic = { ...(e.properties.traffic ?? {}) };
  const mirror = { ...(e.properties.mirrorTraffic ?? {}) };
  const share = traffic[o.deployment] ?? 0;
  const mirrored = mirror[o.deployment] ?? 0;
  const removed: string[] = [];
  let after = traffic;
  let mirrorAfter: Record<string, number> | undefined;
  if (share > 0 || mirrored > 0) {
    if (!o.force) {
      throw new AzureMlError(
        share > 0
          ? `deployment ${o.deployment} takes ${share}% of endpoint ${o.endpoint}'s traffic (${formatTraffic(traffic)}): shift it away first with \`traffic\`, or pass --force`
          : `deployment ${o.deployment} receives ${mirrored}% mirrored traffic of endpoint ${o.endpoint}: stop it first with \`traffic --mirror none\`, or pass --force`,
      );
    }
    after = trafficWithout(traffic, o.deployment);
    if (share > 0) ws.status(`moving ${o.deployment}'s ${share}% away: ${formatTraffic(after)}`);
    if (mirrored > 0) {
      mirrorAfter = mirrorWithout(mirror, o.deployment);
      ws.status(`stopping the ${mirrored}% mirrored to ${o.deployment}`);
    }
    await putEndpointTraffic(ws, o.endpoint, after, mirrorAfter);
  } else if (o.deployment in traffic) {
    after = trafficWithout(traffic, o.deployment);
  }
  await deleteDeploymentResource(ws, o.endpoint, o.deployment);
  removed.push(`deployment ${o.deployment}`);
  if (!o.keepAssets) removed.push(...(await removeAssets(ws, [d], await listDeployments(ws, o.endpoint))));
  return { removed, traffic: after, ...(mirrorAfter ? { mirrorTraffic: mirrorAfter } : {}) };
}

/** Delete an endpoint with its deployments, and the model and environment versions mlmodel made for them (unless `keepAssets`). */
export async function deleteEndpoint(ws: Workspace, o: { endpoint: string; keepAssets?: boolean }): Promise<DeleteResult> {
  await requireEndpoint(ws, o.endpoint);
  const deployments = await listDeployments(ws, o.endpoint);
  await deleteEndpointResource(ws, o.endpoint);
  const removed = [`endpoint ${o.endpoint}`, ...deployments.map((d) => `deployment ${d.name ?? ''}`)];
  if (!o.keepAssets) removed.push(...(await removeAssets(ws, deployments, [])));
  return { removed };
}

export interface EndpointStatus {
  readonly endpoint: EndpointInfo;
  readonly deployments: readonly DeploymentInfo[];
}

export async function endpointStatus(ws: Workspace, endpoint: string): Promise<EndpointStatus> {
  const e = await requireEndpoint(ws, endpoint);
  return { endpoint: endpointInfo(e), deployments: (await listDeployments(ws, endpoint)).map(deploymentInfo) };
}
