/**
 * Managed online endpoints: read, create (long-running), PUT again with a new traffic map, delete,
 * list, and the credentials a caller needs (listKeys for key auth, token for AML-token auth).
 */
import type { OnlineEndpoint } from '@azure/arm-machinelearning';
import { AzureMlError, isNotFound, rememberSecret } from './errors.js';
import { armOperation, followOperation } from './lro.js';
import { CREATED_TAG, serviceError } from './model-asset.js';
import { armCall, type Workspace } from './workspace-client.js';

/**
 * An endpoint as ARM returns it. `mirrorTraffic` is not in the SDK 2.1.1 models (its serializer
 * drops it both ways), so endpoints are read and their traffic written with plain ARM calls.
 */
export type OnlineEndpointWire = OnlineEndpoint & { properties: OnlineEndpoint['properties'] & { mirrorTraffic?: Record<string, number> } };

/** How callers authenticate: a key that does not expire, or an Azure ML token that does. */
export type AuthMode = 'Key' | 'AMLToken';

export interface EndpointInfo {
  readonly name: string;
  readonly id: string;
  readonly location: string;
  readonly authMode: string;
  readonly provisioningState: string;
  readonly scoringUri: string | undefined;
  readonly traffic: Readonly<Record<string, number>>;
  /** Mirrored (shadow) traffic: the share of requests copied to a deployment whose answers are dropped. Only non-zero entries. */
  readonly mirrorTraffic: Readonly<Record<string, number>>;
  readonly tags: Readonly<Record<string, string>>;
  /** Whether mlmodel created it (its `mlmodel-created` tag). */
  readonly createdByMlmodel: boolean;
}

export function endpointInfo(e: OnlineEndpointWire): EndpointInfo {
  const tags = (e.tags ?? {}) as Record<string, string>;
  return {
    name: e.name ?? '',
    id: e.id ?? '',
    location: e.location,
    authMode: e.properties.authMode,
    provisioningState: e.properties.provisioningState ?? 'Unknown',
    scoringUri: e.properties.scoringUri,
    traffic: { ...(e.properties.traffic ?? {}) },
    mirrorTraffic: Object.fromEntries(Object.entries(e.properties.mirrorTraffic ?? {}).filter(([, p]) => p > 0)),
    tags,
    createdByMlmodel: tags[CREATED_TAG] === 'true',
  };
}

const ENDPOINT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

/** Azure's rule for endpoint names (3–32 characters, a letter first, letters, digits and hyphens). */
export function checkEndpointName(name: string): void {
  if (!ENDPOINT_NAME.test(name)) {
    throw new AzureMlError(
      `endpoint name ${JSON.stringify(name)} is not valid: 3–32 letters, digits and hyphens, starting with a letter (it becomes a DNS name)`,
    );
  }
}

const endpointPath = (ws: Workspace, name: string): string => `${ws.id}/onlineEndpoints/${name}`;

/** The endpoint as ARM returns it (with mirrorTraffic), or undefined when it does not exist. */
export async function getEndpoint(ws: Workspace, name: string): Promise<OnlineEndpointWire | undefined> {
  let r;
  try {
    r = await armCall(ws, 'GET', `${ws.armHost}${endpointPath(ws, name)}?api-version=${ws.apiVersion}`);
  } catch (e) {
    throw serviceError(`cannot read endpoint ${name}`, e);
  }
  if (r.status === 404) return undefined;
  if (r.status >= 400)
    throw serviceError(`cannot read endpoint ${name}`, { statusCode: r.status, response: { bodyAsText: r.text }, message: `HTTP ${r.status}` });
  return r.body as unknown as OnlineEndpointWire;
}

/** The endpoint, or an AzureMlError saying it does not exist and how to list the ones that do. */
export async function requireEndpoint(ws: Workspace, name: string): Promise<OnlineEndpointWire> {
  const e = await getEndpoint(ws, name);
  if (!e) throw new AzureMlError(`endpoint ${name} does not exist in workspace ${ws.name} (see \`mlmodel deploy azureml list\`)`);
  return e;
}

/** The state of the endpoint now, for progress lines. */
function endpointProbe(ws: Workspace, name: string): () => Promise<string | undefined> {
  return async () => {
    try {
      return (await ws.client.onlineEndpoints.get(ws.resourceGroup, ws.name, name)).properties.provisioningState;
    } catch (e) {
      return isNotFound(e) ? 'Deleted' : undefined;
    }
  };
}

export function endpointBody(o: { location: string; authMode: AuthMode; description?: string | undefined; traffic?: Record<string, number> }): OnlineEndpoint {
  return {
    location: o.location,
    identity: { type: 'SystemAssigned' },
    tags: { [CREATED_TAG]: 'true' },
    properties: {
      authMode: o.authMode,
      description: o.description ?? 'created by mlmodel deploy azureml',
      traffic: o.traffic ?? {},
    },
  };
}

/** PUT a new endpoint and follow the operation to Succeeded. */
export async function createEndpoint(
  ws: Workspace,
  o: { name: string; location: string; authMode: AuthMode; description?: string | undefined; signal?: AbortSignal | undefined },
): Promise<OnlineEndpoint> {
  checkEndpointName(o.name);
  ws.status(`creating endpoint ${o.name} (auth ${o.authMode}) in ${o.location}`);
  const r = await followOperation(
    {
      what: `endpoint ${o.name}`,
      start: (p) => ws.client.onlineEndpoints.beginCreateOrUpdate(ws.resourceGroup, ws.name, o.name, endpointBody(o), p),
      probe: endpointProbe(ws, o.name),
    },
    { pollIntervalMs: ws.pollIntervalMs, timeoutMs: ws.timeoutMs, onStatus: ws.status, signal: o.signal },
  );
  return r ?? (await requireEndpoint(ws, o.name));
}

/** Read-only properties ARM returns and a PUT must not carry. */
const READ_ONLY = ['provisioningState', 'scoringUri', 'swaggerUri'];

/**
 * PUT the endpoint again with a new traffic map and mirror map, everything else as ARM returned it
 * (including properties this package does not know). A PUT replaces the resource: leaving
 * `mirrorTraffic` out would switch mirroring off (what an older Azure CLI or SDK does), so
 * `mirror` undefined keeps the current one. Followed like every long-running operation.
 */
export async function putEndpointTraffic(
  ws: Workspace,
  name: string,
  traffic: Record<string, number>,
  mirror?: Record<string, number>,
): Promise<OnlineEndpointWire> {
  const current = await requireEndpoint(ws, name);
  const properties: Record<string, unknown> = Object.fromEntries(
    Object.entries(current.properties as unknown as Record<string, unknown>).filter(([k]) => !READ_ONLY.includes(k)),
  );
  properties.traffic = traffic;
  properties.mirrorTraffic = mirror ?? current.properties.mirrorTraffic ?? {};
  const identity = current.identity
    ? {
        type: current.identity.type,
        ...(current.identity.userAssignedIdentities
          ? { userAssignedIdentities: Object.fromEntries(Object.keys(current.identity.userAssignedIdentities).map((k) => [k, {}])) }
          : {}),
      }
    : undefined;
  const body = {
    location: current.location,
    ...(identity ? { identity } : {}),
    ...(current.tags ? { tags: current.tags } : {}),
    ...(current.kind ? { kind: current.kind } : {}),
    properties,
  };
  const r = await followOperation(
    armOperation(ws, { what: `traffic of endpoint ${name}`, method: 'PUT', path: endpointPath(ws, name), body, probe: endpointProbe(ws, name) }),
    { pollIntervalMs: ws.pollIntervalMs, timeoutMs: ws.timeoutMs, onStatus: ws.status },
  );
  return (r as OnlineEndpointWire | undefined) ?? (await requireEndpoint(ws, name));
}

/** DELETE the endpoint (Azure removes its deployments with it) and follow the operation. */
export async function deleteEndpointResource(ws: Workspace, name: string): Promise<void> {
  ws.status(`deleting endpoint ${name}`);
  await followOperation(
    {
      what: `deleting endpoint ${name}`,
      start: (p) => ws.client.onlineEndpoints.beginDelete(ws.resourceGroup, ws.name, name, p),
      probe: endpointProbe(ws, name),
    },
    { pollIntervalMs: ws.pollIntervalMs, timeoutMs: ws.timeoutMs, onStatus: ws.status },
  );
}

/** Every online endpoint of the workspace (plain ARM list with nextLink paging, so that mirrorTraffic is kept). */
export async function listEndpoints(ws: Workspace): Promise<EndpointInfo[]> {
  const out: EndpointInfo[] = [];
  let url: string | undefined = `${ws.armHost}${ws.id}/onlineEndpoints?api-version=${ws.apiVersion}`;
  try {
    while (url) {
      const r = await armCall(ws, 'GET', url);
      if (r.status >= 400) throw Object.assign(new Error(`HTTP ${r.status}`), { statusCode: r.status, response: { bodyAsText: r.text } });
      for (const e of (r.body.value ?? []) as OnlineEndpointWire[]) out.push(endpointInfo(e));
      url = typeof r.body.nextLink === 'string' && r.body.nextLink !== '' ? r.body.nextLink : undefined;
    }
  } catch (e) {
    throw serviceError(`cannot list the endpoints of workspace ${ws.name}`, e);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The bearer credential for the scoring URI: the primary key (Key auth) or a fresh AML token. Remembered as a secret. */
export async function endpointCredential(ws: Workspace, endpoint: OnlineEndpoint): Promise<string> {
  const name = endpoint.name ?? '';
  try {
    if (endpoint.properties.authMode === 'AMLToken') {
      const t = await ws.client.onlineEndpoints.getToken(ws.resourceGroup, ws.name, name);
      if (!t.accessToken) throw new AzureMlError(`endpoint ${name} returned no token`);
      rememberSecret(t.accessToken);
      return t.accessToken;
    }
    if (endpoint.properties.authMode === 'Key') {
      const k = await ws.client.onlineEndpoints.listKeys(ws.resourceGroup, ws.name, name);
      if (!k.primaryKey) throw new AzureMlError(`endpoint ${name} returned no key`);
      rememberSecret(k.primaryKey);
      rememberSecret(k.secondaryKey);
      return k.primaryKey;
    }
  } catch (e) {
    if (e instanceof AzureMlError) throw e;
    throw serviceError(`cannot get the credentials of endpoint ${name}`, e);
  }
  const token = await ws.credential.getToken('https://ml.azure.com/.default');
  if (!token) throw new AzureMlError(`no Azure AD token for endpoint ${name} (auth mode ${endpoint.properties.authMode})`);
  rememberSecret(token.token);
  return token.token;
}
