/**
 * `--dry-run`: the calls a command would make (method, ARM path, the body fields that matter),
 * computed without any network call, so nothing is created, changed or even read. Values only
 * known at run time (the next version, the registry's login server) are shown as <placeholders>.
 */
import { inferenceConfig } from './environment-asset.js';
import { checkDeploymentName, deploymentBody, type DeploymentSettings } from './online-deployment.js';
import { checkEndpointName, endpointBody, type AuthMode } from './online-endpoint.js';
import { formatTraffic, type TrafficMap } from './traffic.js';
import { ACR_API_VERSION, DEFAULT_API_VERSION, DEFAULT_ARM_HOST, type AzureMlConfig } from './workspace-client.js';

export interface PlannedCall {
  readonly method: string;
  /** ARM path (under the ARM host) or a URL for non-ARM calls. */
  readonly path: string;
  /** What the call is for. */
  readonly why: string;
  /** The body fields that matter (never secrets). */
  readonly body?: unknown;
  /** Only when the condition holds, e.g. "if the endpoint does not exist". */
  readonly when?: string;
}

export interface Plan {
  readonly armHost: string;
  readonly apiVersion: string;
  readonly calls: readonly PlannedCall[];
}

function prefix(c: AzureMlConfig): string {
  return `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${c.workspace}`;
}

/** Environment variable names whose values are credentials (API tokens, keys, passwords, connection strings). */
const SECRET_VAR = /secret|token|passw(or)?d|pwd|key|credential|conn(ection)?_?str|sas|auth/i;

/** The container's environment variables as the plan shows them: a credential's value is never printed (plans end up in CI logs). */
function maskSecretVars(vars: Readonly<Record<string, string | null>>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, SECRET_VAR.test(k) ? '***' : v]));
}

export interface PlanDeploymentOptions {
  readonly mode: 'create' | 'update';
  readonly endpoint: string;
  readonly deployment: string;
  readonly modelName: string;
  readonly image: string;
  readonly registry?: string;
  readonly acrAuth?: 'aad' | 'admin';
  readonly authMode?: AuthMode;
  readonly settings?: DeploymentSettings;
  readonly traffic?: TrafficMap;
  readonly mirror?: TrafficMap;
}

/** The calls `deployOnlineEndpoint` makes, in order. */
export function planDeployment(c: AzureMlConfig, o: PlanDeploymentOptions): Plan {
  // the names are checked as the real run checks them: a dry run that passes is a run that would start
  checkEndpointName(o.endpoint);
  checkDeploymentName(o.deployment);
  const W = prefix(c);
  const E = `${W}/onlineEndpoints/${o.endpoint}`;
  const ds = c.datastore ?? 'workspaceblobstore';
  const envName = `mlmodel-${o.modelName}`;
  const registryId = o.registry
    ? o.registry.startsWith('/')
      ? o.registry
      : `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${o.registry.split('.')[0]}`
    : '<workspace.properties.containerRegistry>';
  const body = deploymentBody({
    location: '<workspace location>',
    modelId: `${W}/models/${o.modelName}/versions/<next>`,
    environmentId: `${W}/environments/${envName}/versions/<next>`,
    ...(o.settings ? { settings: o.settings } : {}),
  });
  const calls: PlannedCall[] = [
    { method: 'GET', path: W, why: 'workspace location and container registry' },
    { method: 'GET', path: E, why: 'does the endpoint exist' },
    { method: 'GET', path: `${E}/deployments/${o.deployment}`, why: `the deployment must ${o.mode === 'create' ? 'not exist yet' : 'exist'}` },
    { method: 'GET', path: `${W}/models/${o.modelName}/versions`, why: 'next model version' },
    { method: 'GET', path: `${W}/environments/${envName}/versions`, why: 'next environment version' },
    { method: 'GET', path: `${registryId}?api-version=${ACR_API_VERSION}`, why: 'registry login server' },
    (o.acrAuth ?? 'aad') === 'aad'
      ? { method: 'POST', path: 'https://<loginServer>/oauth2/exchange', why: 'ACR refresh token for the ARM identity (grant_type=access_token)' }
      : { method: 'POST', path: `${registryId}/listCredentials`, why: 'ACR admin credentials' },
    {
      method: 'PUSH',
      path: `<loginServer>/mlmodel/${o.modelName.toLowerCase().replace(/_/g, '-')}:${o.deployment.toLowerCase()}-<next>`,
      why: `docker push of ${o.image}`,
    },
    { method: 'GET', path: `${W}/datastores/${ds}`, why: 'blob account and container for the model files' },
    { method: 'POST', path: `${W}/datastores/${ds}/listSecrets`, why: 'datastore key or SAS' },
    { method: 'PUT', path: `<blob>/mlmodel/${o.modelName}/<next>-<random>/model/…`, why: 'upload the model directory' },
    {
      method: 'PUT',
      path: `${W}/models/${o.modelName}/versions/<next>`,
      why: 'register the model version',
      body: { modelType: 'mlflow_model', modelUri: `azureml://…/datastores/${ds}/paths/mlmodel/${o.modelName}/<next>-<random>/model` },
    },
    {
      method: 'PUT',
      path: `${W}/environments/${envName}/versions/<next>`,
      why: 'environment with the image and its routes',
      body: { image: '<loginServer>/…@sha256:…', inferenceConfig: inferenceConfig() },
    },
    {
      method: 'PUT',
      path: E,
      why: 'create the endpoint (long-running)',
      when: 'the endpoint does not exist',
      body: { authMode: endpointBody({ location: '', authMode: o.authMode ?? 'Key' }).properties.authMode, identity: 'SystemAssigned' },
    },
    {
      method: 'PUT',
      path: `${E}/deployments/${o.deployment}`,
      why: `${o.mode} the deployment (long-running)`,
      body: { sku: body.sku, ...body.properties, environmentVariables: maskSecretVars(body.properties.environmentVariables ?? {}) },
    },
    o.traffic || o.mirror
      ? {
          method: 'PUT',
          path: E,
          why: 'set traffic',
          body: {
            ...(o.traffic ? { traffic: formatTraffic(o.traffic) } : {}),
            ...(o.mirror ? { mirrorTraffic: formatTraffic(Object.fromEntries(Object.entries(o.mirror).filter(([, p]) => p > 0))) } : {}),
          },
        }
      : { method: 'PUT', path: E, why: `set traffic ${o.deployment}=100`, when: 'the endpoint takes no traffic yet (else the new deployment stays at 0%)' },
  ];
  return { armHost: c.armHost ?? DEFAULT_ARM_HOST, apiVersion: c.apiVersion ?? DEFAULT_API_VERSION, calls };
}

export function planTraffic(c: AzureMlConfig, endpoint: string, traffic: TrafficMap | undefined, mirror?: TrafficMap): Plan {
  const E = `${prefix(c)}/onlineEndpoints/${endpoint}`;
  return {
    armHost: c.armHost ?? DEFAULT_ARM_HOST,
    apiVersion: c.apiVersion ?? DEFAULT_API_VERSION,
    calls: [
      { method: 'GET', path: E, why: 'current endpoint, traffic and mirrored traffic' },
      { method: 'GET', path: `${E}/deployments`, why: 'deployments the traffic may name' },
      {
        method: 'PUT',
        path: E,
        why: 'set traffic (long-running; plain ARM call, the SDK drops mirrorTraffic)',
        body: {
          traffic: traffic ? formatTraffic(traffic) : '<unchanged>',
          mirrorTraffic: mirror ? formatTraffic(Object.fromEntries(Object.entries(mirror).filter(([, p]) => p > 0))) : '<unchanged>',
        },
      },
    ],
  };
}

export function planDelete(c: AzureMlConfig, o: { endpoint: string; deployment?: string | undefined; force?: boolean; keepAssets?: boolean }): Plan {
  const W = prefix(c);
  const E = `${W}/onlineEndpoints/${o.endpoint}`;
  const calls: PlannedCall[] = [{ method: 'GET', path: E, why: 'current endpoint and traffic' }];
  if (o.deployment) {
    calls.push({ method: 'GET', path: `${E}/deployments/${o.deployment}`, why: 'its model and environment' });
    calls.push(
      o.force
        ? { method: 'PUT', path: E, why: 'move its traffic to the other deployments and stop mirroring to it', when: 'it takes live or mirrored traffic' }
        : { method: '—', path: E, why: 'refuse', when: 'it takes live or mirrored traffic (pass --force to move it)' },
    );
    calls.push({ method: 'DELETE', path: `${E}/deployments/${o.deployment}`, why: 'delete the deployment (long-running)' });
  } else {
    calls.push({ method: 'GET', path: `${E}/deployments`, why: 'its deployments, models and environments' });
    calls.push({ method: 'DELETE', path: E, why: 'delete the endpoint with its deployments (long-running)' });
  }
  if (!o.keepAssets) {
    calls.push({
      method: 'DELETE',
      path: `${W}/models/<name>/versions/<v>, ${W}/environments/<name>/versions/<v>, model files`,
      why: 'what mlmodel made for the deployment(s)',
      when: 'tagged mlmodel-created and unused by other deployments',
    });
  }
  return { armHost: c.armHost ?? DEFAULT_ARM_HOST, apiVersion: c.apiVersion ?? DEFAULT_API_VERSION, calls };
}

/** The plan as text lines for a terminal. */
export function formatPlan(p: Plan): string[] {
  const lines = [`dry run: no call is made (ARM ${p.armHost}, api-version ${p.apiVersion})`];
  p.calls.forEach((c, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${c.method} ${c.path}${c.when ? `   [if ${c.when}]` : ''}`);
    lines.push(`      ${c.why}`);
    if (c.body !== undefined) lines.push(`      body: ${JSON.stringify(c.body)}`);
  });
  return lines;
}
