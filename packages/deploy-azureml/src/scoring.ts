/**
 * Calling a deployed model: POST to the endpoint's scoring URI with the endpoint key (Key auth) or
 * an AML token, optionally pinned to one deployment with `azureml-model-deployment`.
 */
import { AzureMlError, AzureMlServiceError, redact } from './errors.js';
import { httpCall } from './http.js';
import { endpointCredential, requireEndpoint } from './online-endpoint.js';
import type { Workspace } from './workspace-client.js';

export interface InvokeOptions {
  readonly endpoint: string;
  readonly body: Buffer | string;
  /** Default application/json. */
  readonly contentType?: string;
  /** Send the request to this deployment, whatever the traffic rules say. */
  readonly deployment?: string;
  readonly timeoutMs?: number;
}

export interface InvokeResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  /** The deployment that answered, when the endpoint says. */
  readonly deployment: string | undefined;
}

export async function invokeEndpoint(ws: Workspace, o: InvokeOptions): Promise<InvokeResult> {
  const e = await requireEndpoint(ws, o.endpoint);
  const uri = e.properties.scoringUri;
  if (!uri) throw new AzureMlError(`endpoint ${o.endpoint} has no scoring URI yet (state ${e.properties.provisioningState ?? 'unknown'})`);
  const bearer = await endpointCredential(ws, e);
  let res;
  try {
    res = await httpCall({
      method: 'POST',
      url: uri,
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': o.contentType ?? 'application/json',
        accept: 'application/json, text/csv;q=0.5, */*;q=0.1',
        ...(o.deployment ? { 'azureml-model-deployment': o.deployment } : {}),
      },
      body: o.body,
      ca: ws.config.ca,
      timeoutMs: o.timeoutMs ?? 200_000,
    });
  } catch (e2) {
    throw new AzureMlServiceError(`calling ${new URL(uri).host} failed: ${redact((e2 as Error).message)}`);
  }
  const deployment = res.headers['azureml-model-deployment'];
  if (res.status >= 400) {
    const text = redact(res.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 500));
    const hint =
      res.status === 401 || res.status === 403 ? ' (the key or token was refused)' : res.status === 429 ? ' (over max concurrent requests per instance)' : '';
    throw new AzureMlServiceError(`endpoint ${o.endpoint} answered ${res.status}${hint}: ${text}`, { status: res.status });
  }
  return { status: res.status, contentType: res.headers['content-type'] ?? '', body: res.body, deployment };
}
