/**
 * Managed online deployments: the request body (instance type and count, request settings,
 * probes, environment variables for the image's server), create or update as a long-running
 * operation, read, list, delete, and the container logs (getLogs).
 */
import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { AzureMlError, isNotFound, redact } from './errors.js';
import { followOperation } from './lro.js';
import { CREATED_TAG, serviceError } from './model-asset.js';
import type { Workspace } from './workspace-client.js';

/** Azure ML's probe settings, in seconds. */
export interface ProbeOptions {
  readonly initialDelayS: number;
  readonly periodS: number;
  readonly timeoutS: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
}

/** Azure ML's own defaults (reference-yaml-deployment-managed-online). */
export const DEFAULT_PROBE: ProbeOptions = { initialDelayS: 10, periodS: 10, timeoutS: 2, failureThreshold: 30, successThreshold: 1 };

export interface DeploymentSettings {
  /** VM size, default Standard_DS3_v2. */
  readonly instanceType?: string;
  /** Default 1 (Microsoft recommends 3 or more for production). */
  readonly instanceCount?: number;
  /** Per-request timeout at the endpoint, 1–180000 ms; default 60000 (the image's server answers 504 a second earlier). */
  readonly requestTimeoutMs?: number;
  /** Default 1 (Azure's): above it the endpoint answers 429 at once. */
  readonly maxConcurrentRequestsPerInstance?: number;
  readonly livenessProbe?: Partial<ProbeOptions>;
  readonly readinessProbe?: Partial<ProbeOptions>;
  /** Extra environment variables for the container (e.g. MLMODEL_WORKERS). */
  readonly environmentVariables?: Readonly<Record<string, string>>;
  readonly description?: string;
}

export const DEFAULT_INSTANCE_TYPE = 'Standard_DS3_v2';
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const MAX_REQUEST_TIMEOUT_MS = 180_000;

const DEPLOYMENT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

export function checkDeploymentName(name: string): void {
  if (!DEPLOYMENT_NAME.test(name)) {
    throw new AzureMlError(`deployment name ${JSON.stringify(name)} is not valid: 3–32 letters, digits and hyphens, starting with a letter`);
  }
}

/** ISO 8601 duration of whole seconds or milliseconds, e.g. PT10S, PT1.5S. */
export function isoDuration(ms: number): string {
  return ms % 1000 === 0 ? `PT${ms / 1000}S` : `PT${(ms / 1000).toFixed(3).replace(/0+$/, '')}S`;
}

function probeBody(p: Partial<ProbeOptions> | undefined): {
  initialDelay: string;
  period: string;
  timeout: string;
  failureThreshold: number;
  successThreshold: number;
} {
  const o = { ...DEFAULT_PROBE, ...(p ?? {}) };
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isInteger(v) || v < (k === 'initialDelayS' ? 0 : 1))
      throw new AzureMlError(`probe setting ${k} must be a whole number ≥ ${k === 'initialDelayS' ? 0 : 1}, not ${v}`);
  }
  return {
    initialDelay: isoDuration(o.initialDelayS * 1000),
    period: isoDuration(o.periodS * 1000),
    timeout: isoDuration(o.timeoutS * 1000),
    failureThreshold: o.failureThreshold,
    successThreshold: o.successThreshold,
  };
}

/** The PUT body of a managed deployment of our image. */
export function deploymentBody(o: { location: string; modelId: string | undefined; environmentId: string; settings?: DeploymentSettings }): OnlineDeployment {
  const s = o.settings ?? {};
  const count = s.instanceCount ?? 1;
  const timeoutMs = s.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const concurrency = s.maxConcurrentRequestsPerInstance ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new AzureMlError(`--instance-count must be a whole number ≥ 1, not ${count}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_REQUEST_TIMEOUT_MS) {
    throw new AzureMlError(`--request-timeout-ms must be 1–${MAX_REQUEST_TIMEOUT_MS} (Azure's limit), not ${timeoutMs}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new AzureMlError(`--max-concurrent-requests must be a whole number ≥ 1, not ${concurrency}`);
  // the server in the image gives up a little before the endpoint does, so callers get its 504 with a reason
  const serverTimeoutS = Math.max(1, Math.floor((timeoutMs - 500) / 1000));
  return {
    location: o.location,
    sku: { name: 'Default', capacity: count },
    tags: { [CREATED_TAG]: 'true' },
    properties: {
      endpointComputeType: 'Managed',
      instanceType: s.instanceType ?? DEFAULT_INSTANCE_TYPE,
      ...(o.modelId ? { model: o.modelId } : {}),
      environmentId: o.environmentId,
      environmentVariables: { MLMODEL_TIMEOUT: String(serverTimeoutS), ...(s.environmentVariables ?? {}) },
      description: s.description ?? 'mlmodel serve (deployed by mlmodel deploy azureml)',
      appInsightsEnabled: false,
      requestSettings: { requestTimeout: isoDuration(timeoutMs), maxConcurrentRequestsPerInstance: concurrency },
      livenessProbe: probeBody(s.livenessProbe),
      readinessProbe: probeBody(s.readinessProbe),
      scaleSettings: { scaleType: 'Default' },
    },
  };
}

export async function getDeployment(ws: Workspace, endpoint: string, name: string): Promise<OnlineDeployment | undefined> {
  try {
    return await ws.client.onlineDeployments.get(ws.resourceGroup, ws.name, endpoint, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw serviceError(`cannot read deployment ${name} of endpoint ${endpoint}`, e);
  }
}

export async function listDeployments(ws: Workspace, endpoint: string): Promise<OnlineDeployment[]> {
  const out: OnlineDeployment[] = [];
  try {
    for await (const d of ws.client.onlineDeployments.list(ws.resourceGroup, ws.name, endpoint)) out.push(d);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw serviceError(`cannot list the deployments of endpoint ${endpoint}`, e);
  }
  return out.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
}

function deploymentProbe(ws: Workspace, endpoint: string, name: string): () => Promise<string | undefined> {
  return async () => {
    try {
      return (await ws.client.onlineDeployments.get(ws.resourceGroup, ws.name, endpoint, name)).properties.provisioningState;
    } catch (e) {
      return isNotFound(e) ? 'Deleted' : undefined;
    }
  };
}

/** PUT the deployment and follow it to Succeeded (the image is pulled and the probes pass), or throw the service's error. */
export async function putDeployment(ws: Workspace, endpoint: string, name: string, body: OnlineDeployment, signal?: AbortSignal): Promise<OnlineDeployment> {
  const r = await followOperation(
    {
      what: `deployment ${name} of endpoint ${endpoint}`,
      start: (p) => ws.client.onlineDeployments.beginCreateOrUpdate(ws.resourceGroup, ws.name, endpoint, name, body, p),
      probe: deploymentProbe(ws, endpoint, name),
    },
    { pollIntervalMs: ws.pollIntervalMs, timeoutMs: ws.timeoutMs, onStatus: ws.status, signal },
  );
  if (r) return r;
  const d = await getDeployment(ws, endpoint, name);
  if (!d) throw new AzureMlError(`deployment ${name} of endpoint ${endpoint} vanished after it was created`);
  return d;
}

export async function deleteDeploymentResource(ws: Workspace, endpoint: string, name: string): Promise<void> {
  ws.status(`deleting deployment ${name} of endpoint ${endpoint}`);
  await followOperation(
    {
      what: `deleting deployment ${name} of endpoint ${endpoint}`,
      start: (p) => ws.client.onlineDeployments.beginDelete(ws.resourceGroup, ws.name, endpoint, name, p),
      probe: deploymentProbe(ws, endpoint, name),
    },
    { pollIntervalMs: ws.pollIntervalMs, timeoutMs: ws.timeoutMs, onStatus: ws.status },
  );
}

export type LogContainer = 'InferenceServer' | 'StorageInitializer';

/** The last `tail` lines of a deployment's container log (redacted). */
export async function deploymentLogs(ws: Workspace, endpoint: string, name: string, o: { tail?: number; containerType?: LogContainer } = {}): Promise<string> {
  try {
    const r = await ws.client.onlineDeployments.getLogs(ws.resourceGroup, ws.name, endpoint, name, {
      containerType: o.containerType ?? 'InferenceServer',
      tail: o.tail ?? 100,
    });
    return redact(r.content ?? '');
  } catch (e) {
    throw serviceError(`cannot read the logs of deployment ${name} of endpoint ${endpoint}`, e);
  }
}
