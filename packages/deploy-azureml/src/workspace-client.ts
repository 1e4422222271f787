/**
 * The Azure ML workspace a deployment goes to, and the SDK client that reaches it: subscription,
 * resource group and workspace, plus everything a test or a sovereign cloud overrides (ARM host,
 * api-version, credential, a private CA, polling interval and timeout).
 */
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/core-auth';
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  type Pipeline,
} from '@azure/core-rest-pipeline';
import { DefaultAzureCredential } from '@azure/identity';
import { AzureMlError, AzureMlServiceError, serviceErrorOf } from './errors.js';

/** The api-version sent with every Azure ML call (the SDK's own default, 2022-10-01, lacks later fields). */
export const DEFAULT_API_VERSION = '2024-04-01';
/** Azure Resource Manager in the public cloud. */
export const DEFAULT_ARM_HOST = 'https://management.azure.com';
/** Between two polls of a long-running operation. */
export const DEFAULT_POLL_INTERVAL_MS = 5_000;
/** A managed deployment usually takes 5–15 minutes; give up (and say where things stand) after 30. */
export const DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** api-version of the Microsoft.ContainerRegistry calls (registry GET, listCredentials). */
export const ACR_API_VERSION = '2023-07-01';

export interface AzureMlConfig {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  /** Default: `new DefaultAzureCredential()` (environment, workload identity, managed identity, Azure CLI, …). */
  readonly credential?: TokenCredential;
  /** Default https://management.azure.com (e.g. https://management.usgovcloudapi.net). */
  readonly armHost?: string;
  /** Default 2024-04-01. */
  readonly apiVersion?: string;
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
  /** Trust this CA (PEM) for ARM, the registry login and scoring calls instead of the public roots. */
  readonly ca?: string;
  /** Progress, one line at a time. */
  readonly onStatus?: (line: string) => void;
  /** The datastore model files go to (default workspaceblobstore). */
  readonly datastore?: string;
  /** Blob service URL instead of the datastore's https://<account>.blob.<suffix> (Azurite, a private endpoint). */
  readonly blobEndpoint?: string;
}

/** Microsoft's public and sovereign sign-in hosts: for these, MSAL's instance discovery applies. */
const KNOWN_AUTHORITY = /^(https:\/\/)?login\.(microsoftonline\.(com|us)|chinacloudapi\.cn|partner\.microsoftonline\.cn)\/?$/i;

/**
 * DefaultAzureCredential (environment, workload identity, managed identity, Azure CLI, …). With
 * $AZURE_AUTHORITY_HOST naming a private authority (Azure Stack, an isolated cloud), MSAL's
 * instance discovery at login.microsoftonline.com is turned off: it cannot know that authority.
 */
export function defaultCredential(ca?: string, env: NodeJS.ProcessEnv = process.env): TokenCredential {
  const authority = env.AZURE_AUTHORITY_HOST;
  const privateAuthority = authority !== undefined && authority !== '' && !KNOWN_AUTHORITY.test(authority);
  return new DefaultAzureCredential({ ...(privateAuthority ? { disableInstanceDiscovery: true } : {}), ...(ca !== undefined ? { tlsOptions: { ca } } : {}) });
}

/** The resolved config plus the SDK client: what every operation takes. */
export interface Workspace {
  readonly config: AzureMlConfig;
  readonly client: AzureMachineLearningWorkspaces;
  /** A plain ARM pipeline (auth, retries, CA) for calls outside Azure ML, which take their own api-version. */
  readonly arm: { readonly pipeline: Pipeline; readonly httpClient: HttpClient };
  readonly credential: TokenCredential;
  readonly armHost: string;
  readonly apiVersion: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly subscriptionId: string;
  /** `/subscriptions/…/workspaces/{ws}`: the prefix of every resource id. */
  readonly id: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly status: (line: string) => void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.()-]{0,89}$/;

export function connectWorkspace(config: AzureMlConfig): Workspace {
  for (const [what, v] of [
    ['subscription', config.subscriptionId],
    ['resource group', config.resourceGroup],
    ['workspace', config.workspace],
  ] as const) {
    if (!v || !NAME.test(v)) {
      throw new AzureMlError(`no valid Azure ML ${what} given (${JSON.stringify(v ?? '')}): pass --${what.replace(' ', '-')} or set its environment variable`);
    }
  }
  const armHost = (config.armHost ?? DEFAULT_ARM_HOST).replace(/\/+$/, '');
  let origin: string;
  try {
    origin = new URL(armHost).origin;
  } catch {
    throw new AzureMlError(`--arm-host ${JSON.stringify(armHost)} is not a URL, e.g. https://management.azure.com`);
  }
  const apiVersion = config.apiVersion ?? DEFAULT_API_VERSION;
  const credential = config.credential ?? defaultCredential(config.ca);
  const client = new AzureMachineLearningWorkspaces(credential, config.subscriptionId, {
    $host: armHost,
    endpoint: armHost,
    apiVersion,
    credentialScopes: [`${origin}/.default`],
    ...(config.ca !== undefined ? { tlsOptions: { ca: config.ca } } : {}),
    userAgentOptions: { userAgentPrefix: 'mlmodel-deploy-azureml' },
  });
  const pipeline = createPipelineFromOptions({
    ...(config.ca !== undefined ? { tlsOptions: { ca: config.ca } } : {}),
    userAgentOptions: { userAgentPrefix: 'mlmodel-deploy-azureml' },
  });
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: [`${origin}/.default`] }));
  const id = `/subscriptions/${config.subscriptionId}/resourceGroups/${config.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${config.workspace}`;
  return {
    config,
    client,
    arm: { pipeline, httpClient: createDefaultHttpClient() },
    credential,
    armHost,
    apiVersion,
    resourceGroup: config.resourceGroup,
    name: config.workspace,
    subscriptionId: config.subscriptionId,
    id,
    pollIntervalMs: config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    status: config.onStatus ?? (() => undefined),
  };
}

/** An ARM answer as received: status, lower-cased headers and the parsed JSON body ({} when empty or not JSON). */
export interface ArmResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

/**
 * One call through the package's ARM pipeline (bearer token, retries, the configured CA) to a full
 * URL, without throwing on an error status: the long-running-operation follower and the calls the
 * SDK cannot make (its models drop `mirrorTraffic`) read the answer themselves.
 */
export async function armCall(ws: Workspace, method: HttpMethods, url: string, body?: unknown, abortSignal?: AbortSignal): Promise<ArmResponse> {
  const request = createPipelineRequest({
    url,
    method,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(abortSignal ? { abortSignal } : {}),
  });
  request.headers.set('accept', 'application/json');
  if (body !== undefined) request.headers.set('content-type', 'application/json');
  const res = await ws.arm.pipeline.sendRequest(ws.arm.httpClient, request);
  const text = res.bodyAsText ?? '';
  let parsed: Record<string, unknown> = {};
  try {
    const v: unknown = text ? JSON.parse(text) : {};
    if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
  } catch {
    /* not JSON: callers see the status and the text */
  }
  return { status: res.status, headers: res.headers.toJSON(), body: parsed, text };
}

/** The service's error (code, message) from an ARM answer with an error status. */
export function armErrorOf(method: string, path: string, res: ArmResponse): AzureMlServiceError {
  const s = serviceErrorOf({ statusCode: res.status, response: { bodyAsText: res.text }, message: `HTTP ${res.status}` });
  return new AzureMlServiceError(`${method} ${path} failed (${res.status}${s.code ? ` ${s.code}` : ''}): ${s.message}`, {
    serviceCode: s.code,
    status: res.status,
  });
}

/** An ARM call the Azure ML SDK has no operation for (the container registry, mirror traffic), with its own api-version (the SDK's client would overwrite it). */
export async function armRequest<T>(ws: Workspace, method: HttpMethods, path: string, apiVersion: string, body?: unknown): Promise<T> {
  const res = await armCall(ws, method, `${ws.armHost}${path}?api-version=${apiVersion}`, body);
  if (res.status >= 400) throw armErrorOf(method, path, res);
  return res.body as T;
}

/** What a workspace GET says that a deployment needs. */
export interface WorkspaceFacts {
  readonly location: string;
  /** ARM id of the workspace's container registry, when it has one. */
  readonly containerRegistry: string | undefined;
}

export async function workspaceFacts(ws: Workspace): Promise<WorkspaceFacts> {
  try {
    const w = await ws.client.workspaces.get(ws.resourceGroup, ws.name);
    if (!w.location) throw new AzureMlError(`workspace ${ws.name} has no location`);
    return { location: w.location, containerRegistry: w.containerRegistry ?? undefined };
  } catch (e) {
    if (e instanceof AzureMlError) throw e;
    const s = serviceErrorOf(e);
    throw new AzureMlServiceError(`cannot read workspace ${ws.name} in resource group ${ws.resourceGroup}${s.status ? ` (${s.status})` : ''}: ${s.message}`, {
      serviceCode: s.code,
      status: s.status,
      cause: e,
    });
  }
}
