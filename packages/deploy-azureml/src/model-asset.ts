/**
 * The registered model version: the model directory uploaded to the workspace's default datastore
 * (workspaceblobstore, an Azure Blob container reached with the key or SAS from listSecrets) and
 * a `mlflow_model` version whose modelUri points there. The image already carries the model; the
 * version is the lineage record (which files, which flavors) Azure ML users look for.
 */
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { MLmodel } from '@mlmodel/format';
import { AzureMlError, AzureMlServiceError, isNotFound, rememberSecret, serviceErrorOf } from './errors.js';
import type { Workspace } from './workspace-client.js';

/** The datastore every workspace has. */
export const DEFAULT_DATASTORE = 'workspaceblobstore';
/** Tag on every resource mlmodel creates, so that `delete` removes what it made and nothing else. */
export const CREATED_TAG = 'mlmodel-created';

/** The next free integer version of a model or environment ("1" when it has none). */
export async function nextVersion(ws: Workspace, kind: 'model' | 'environment', name: string): Promise<string> {
  let max = 0;
  try {
    const pages =
      kind === 'model' ? ws.client.modelVersions.list(ws.resourceGroup, ws.name, name) : ws.client.environmentVersions.list(ws.resourceGroup, ws.name, name);
    for await (const v of pages) {
      const n = Number(v.name);
      if (Number.isInteger(n) && n > max) max = n;
    }
  } catch (e) {
    if (!isNotFound(e)) throw serviceError(`cannot list the versions of ${kind} ${name}`, e);
  }
  return String(max + 1);
}

export function serviceError(what: string, e: unknown): AzureMlServiceError {
  if (e instanceof AzureMlServiceError) return e;
  const s = serviceErrorOf(e);
  return new AzureMlServiceError(`${what}${s.status ? ` (${s.status}${s.code ? ` ${s.code}` : ''})` : ''}: ${s.message}`, {
    serviceCode: s.code,
    status: s.status,
    cause: e,
  });
}

export interface UploadedModel {
  /** `azureml://…/datastores/workspaceblobstore/paths/<prefix>` */
  readonly uri: string;
  /** Blob path prefix inside the datastore's container. */
  readonly prefix: string;
  readonly blobs: readonly string[];
  readonly bytes: number;
  /** Removes what was uploaded. */
  remove(): Promise<void>;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A client for the datastore's container: its account, container and endpoint from ARM, its key or SAS from listSecrets. */
export async function datastoreContainer(ws: Workspace, o: { datastore?: string; blobEndpoint?: string } = {}): Promise<ContainerClient> {
  const name = o.datastore ?? DEFAULT_DATASTORE;
  let props: { datastoreType?: string; accountName?: string; containerName?: string; endpoint?: string; protocol?: string };
  try {
    props = (await ws.client.datastores.get(ws.resourceGroup, ws.name, name)).properties as typeof props;
  } catch (e) {
    throw serviceError(`cannot read datastore ${name} of workspace ${ws.name}`, e);
  }
  if (props.datastoreType !== 'AzureBlob' || !props.accountName || !props.containerName) {
    throw new AzureMlError(`datastore ${name} is not an Azure Blob datastore (${props.datastoreType ?? 'unknown'}): pass --datastore with one that is`);
  }
  let secrets: { secretsType?: string; key?: string; sasToken?: string };
  try {
    secrets = (await ws.client.datastores.listSecrets(ws.resourceGroup, ws.name, name)) as typeof secrets;
  } catch (e) {
    throw serviceError(`cannot read the credentials of datastore ${name}`, e);
  }
  const endpoint = (o.blobEndpoint ?? `${props.protocol ?? 'https'}://${props.accountName}.blob.${props.endpoint ?? 'core.windows.net'}`).replace(/\/+$/, '');
  let service: BlobServiceClient;
  if (secrets.secretsType === 'AccountKey' && secrets.key) {
    rememberSecret(secrets.key);
    service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(props.accountName, secrets.key));
  } else if (secrets.secretsType === 'Sas' && secrets.sasToken) {
    rememberSecret(secrets.sasToken.replace(/^\?/, ''));
    service = new BlobServiceClient(`${endpoint}?${secrets.sasToken.replace(/^\?/, '')}`, new AnonymousCredential());
  } else {
    throw new AzureMlError(`datastore ${name} has no account key or SAS token (identity-based datastores are not supported yet): use one with credentials`);
  }
  return service.getContainerClient(props.containerName);
}

/** Upload every file of the model directory under `mlmodel/<name>/<version>-<random>/model/`. */
export async function uploadModel(
  ws: Workspace,
  o: { modelDir: string; name: string; version: string; datastore?: string; blobEndpoint?: string },
): Promise<UploadedModel> {
  const container = await datastoreContainer(ws, o);
  const prefix = `mlmodel/${o.name}/${o.version}-${randomBytes(4).toString('hex')}/model`;
  const files = await filesUnder(o.modelDir);
  if (files.length === 0) throw new AzureMlError(`the model directory ${o.modelDir} is empty`);
  const blobs: string[] = [];
  let bytes = 0;
  const remove = async (): Promise<void> => {
    for (const b of blobs) await container.deleteBlob(b, { deleteSnapshots: 'include' }).catch(() => undefined);
  };
  ws.status(`uploading ${files.length} model file(s) to datastore ${o.datastore ?? DEFAULT_DATASTORE} at ${prefix}`);
  try {
    for (const f of files) {
      const blob = `${prefix}/${relative(o.modelDir, f).split(sep).join('/')}`;
      await container.getBlockBlobClient(blob).uploadFile(f);
      blobs.push(blob);
      bytes += (await stat(f)).size;
    }
  } catch (e) {
    await remove();
    throw serviceError(`uploading the model to datastore ${o.datastore ?? DEFAULT_DATASTORE} failed`, e);
  }
  const uri = `azureml://subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/workspaces/${ws.name}/datastores/${o.datastore ?? DEFAULT_DATASTORE}/paths/${prefix}`;
  return { uri, prefix, blobs, bytes, remove };
}

/** MLmodel flavors as Azure ML's `flavors` map (string-valued data only). */
export function flavorsOf(m: MLmodel): Record<string, { data: Record<string, string> }> {
  const out: Record<string, { data: Record<string, string> }> = {};
  for (const [name, conf] of Object.entries(m.flavors)) {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries((conf ?? {}) as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') data[k] = String(v);
    }
    out[name] = { data };
  }
  return out;
}

export interface RegisteredModel {
  readonly name: string;
  readonly version: string;
  /** ARM id: what a deployment's `model` names. */
  readonly id: string;
  readonly uri: string;
}

export async function registerModelVersion(
  ws: Workspace,
  o: { name: string; version: string; uri: string; mlmodel: MLmodel; description?: string; tags?: Record<string, string> },
): Promise<RegisteredModel> {
  try {
    const r = await ws.client.modelVersions.createOrUpdate(ws.resourceGroup, ws.name, o.name, o.version, {
      properties: {
        modelType: 'mlflow_model',
        modelUri: o.uri,
        flavors: flavorsOf(o.mlmodel),
        description: o.description ?? `registered by mlmodel deploy azureml`,
        tags: { ...(o.tags ?? {}), [CREATED_TAG]: 'true' },
        properties: { ...(o.mlmodel.run_id ? { 'mlflow.runId': o.mlmodel.run_id } : {}) },
      },
    });
    return { name: o.name, version: o.version, id: r.id ?? `${ws.id}/models/${o.name}/versions/${o.version}`, uri: o.uri };
  } catch (e) {
    throw serviceError(`registering model ${o.name} version ${o.version} failed`, e);
  }
}

export async function deleteModelVersion(ws: Workspace, name: string, version: string): Promise<void> {
  try {
    await ws.client.modelVersions.delete(ws.resourceGroup, ws.name, name, version);
  } catch (e) {
    if (!isNotFound(e)) throw serviceError(`deleting model ${name} version ${version} failed`, e);
  }
}
