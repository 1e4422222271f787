/**
 * The Azure Container Registry the endpoint pulls from: which one (the workspace's, or a given
 * name / login server / ARM id), how to log in (AAD token exchange, or the admin user through
 * listCredentials) and the push itself (through @mlmodel/image-builder's pushImage).
 */
import { pushImage, splitImageReference, type PushEvent, type PushedImage, type RegistryCredentials } from '@mlmodel/image-builder';
import { AcrLoginError, AzureMlError, rememberSecret, redact } from './errors.js';
import { httpCall } from './http.js';
import { ACR_API_VERSION, armRequest, workspaceFacts, type Workspace } from './workspace-client.js';

/** The user name ACR expects with a refresh token from the AAD exchange. */
export const ACR_TOKEN_USER = '00000000-0000-0000-0000-000000000000';

export type AcrAuth = 'aad' | 'admin';

export interface AcrRegistry {
  /** e.g. myacr.azurecr.io */
  readonly loginServer: string;
  /** ARM id, when known (needed for admin credentials). */
  readonly id: string | undefined;
}

const REGISTRY_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[^/]+$/i;

/**
 * The registry to push to: `registry` as a login server (has a dot or a port), an ARM id, or a
 * registry name in the workspace's resource group; without it, the workspace's own registry.
 */
export async function resolveRegistry(ws: Workspace, registry?: string): Promise<AcrRegistry> {
  let id: string;
  if (registry === undefined || registry === '') {
    const facts = await workspaceFacts(ws);
    if (!facts.containerRegistry) {
      throw new AzureMlError(
        `workspace ${ws.name} has no container registry yet (Azure ML creates it on first image build): pass --registry <name or login server>`,
      );
    }
    id = facts.containerRegistry;
  } else if (registry.startsWith('/')) {
    if (!REGISTRY_ID.test(registry)) throw new AzureMlError(`--registry ${registry} is not a Microsoft.ContainerRegistry/registries ARM id`);
    id = registry;
  } else if (/[.:]/.test(registry)) {
    const name = registry.split('.')[0]!;
    return { loginServer: registry, id: /^[a-zA-Z0-9]+$/.test(name) ? registryIdOf(ws, name) : undefined };
  } else {
    if (!/^[a-zA-Z0-9]{5,50}$/.test(registry)) throw new AzureMlError(`--registry ${registry} is not a registry name (5–50 letters and digits)`);
    id = registryIdOf(ws, registry);
  }
  const r = await armRequest<{ properties?: { loginServer?: string } }>(ws, 'GET', id, ACR_API_VERSION);
  const loginServer = r.properties?.loginServer;
  if (!loginServer) throw new AzureMlError(`the container registry ${id} has no login server`);
  return { loginServer, id };
}

function registryIdOf(ws: Workspace, name: string): string {
  return `/subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${name}`;
}

/** The `tid` claim of a JWT access token (the exchange wants the tenant), when it has one. */
function tenantOf(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown };
    return typeof claims.tid === 'string' ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}

export interface AcrLoginOptions {
  readonly auth?: AcrAuth;
  /** Where the AAD exchange is sent instead of https://<loginServer> (a proxy, a test fake). */
  readonly authUrl?: string;
}

/** Registry credentials: an ACR refresh token for the ARM identity (AAD), or the admin user's. Both are remembered as secrets. */
export async function acrCredentials(ws: Workspace, registry: AcrRegistry, o: AcrLoginOptions = {}): Promise<RegistryCredentials> {
  if ((o.auth ?? 'aad') === 'admin') {
    if (!registry.id) throw new AzureMlError(`admin credentials need the registry's ARM id or name: pass --registry <name> instead of ${registry.loginServer}`);
    const c = await armRequest<{ username?: string; passwords?: { name?: string; value?: string }[] }>(
      ws,
      'POST',
      `${registry.id}/listCredentials`,
      ACR_API_VERSION,
    ).catch((e: unknown) => {
      throw new AcrLoginError(`cannot read the admin credentials of ${registry.loginServer} (is the admin user enabled?): ${(e as Error).message}`);
    });
    const password = c.passwords?.find((p) => p.value)?.value;
    if (!c.username || !password) throw new AcrLoginError(`${registry.loginServer} returned no admin credentials: enable its admin user or use --acr-auth aad`);
    rememberSecret(password);
    return { username: c.username, password };
  }
  const origin = new URL(ws.armHost).origin;
  let armToken: string;
  try {
    const t = await ws.credential.getToken(`${origin}/.default`);
    if (!t) throw new Error('the credential returned no token');
    armToken = t.token;
  } catch (e) {
    throw new AcrLoginError(`no Azure token for the registry login: ${redact((e as Error).message.split('\n')[0] ?? '')}`);
  }
  rememberSecret(armToken);
  const base = (o.authUrl ?? `https://${registry.loginServer}`).replace(/\/+$/, '');
  const tenant = tenantOf(armToken);
  const form = new URLSearchParams({ grant_type: 'access_token', service: registry.loginServer, access_token: armToken, ...(tenant ? { tenant } : {}) });
  let res;
  try {
    res = await httpCall({
      method: 'POST',
      url: `${base}/oauth2/exchange`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      ca: ws.config.ca,
      timeoutMs: 60_000,
    });
  } catch (e) {
    throw new AcrLoginError(`the AAD token exchange at ${base} failed: ${redact((e as Error).message)}`);
  }
  if (res.status !== 200) {
    throw new AcrLoginError(
      `${registry.loginServer} refused the AAD token exchange (${res.status}): ${redact(res.body.toString('utf8').slice(0, 300))} — does your identity have AcrPush on it? (or try --acr-auth admin)`,
    );
  }
  const refresh = (JSON.parse(res.body.toString('utf8')) as { refresh_token?: string }).refresh_token;
  if (!refresh) throw new AcrLoginError(`${registry.loginServer} answered the AAD token exchange without a refresh token`);
  rememberSecret(refresh);
  return { username: ACR_TOKEN_USER, password: refresh };
}

export interface PushToAcrOptions extends AcrLoginOptions {
  /** The local image (name:tag or id). */
  readonly image: string;
  /** repository:tag in the registry (default: the local image's). */
  readonly target?: string;
  /** Registry name / login server / ARM id (default: the workspace's). */
  readonly registry?: string;
  /** Push to this host[:port] instead of the login server (a mirror, a test registry); the environment names what was pushed. */
  readonly registryHost?: string;
  readonly onEvent?: (e: PushEvent) => void;
}

export interface AcrPush extends PushedImage {
  readonly loginServer: string;
}

/** Push a local image to the workspace's (or the given) ACR, logging in first. */
export async function pushToAcr(ws: Workspace, o: PushToAcrOptions): Promise<AcrPush> {
  const registry = await resolveRegistry(ws, o.registry);
  const credentials = await acrCredentials(ws, registry, o);
  const local = splitImageReference(o.target ?? o.image);
  const host = o.registryHost ?? registry.loginServer;
  const target = `${host}/${local.repository}:${local.tag}`;
  ws.status(`pushing ${o.image} to ${target}`);
  const pushed = await pushImage({ image: o.image, target, credentials, onStatus: ws.status, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
  return { ...pushed, loginServer: registry.loginServer };
}
