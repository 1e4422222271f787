/**
 * Removing what a deployment made: one resource at a time (`removeResource`), a failed deploy's
 * resources newest first (`rollback`), and a model together with its archive in S3
 * (`removeModelAndArchive`). Each step that fails is reported, never thrown, so one stuck
 * resource does not leave the others behind.
 */
import { DeregisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { DeleteRepositoryCommand } from '@aws-sdk/client-ecr';
import { DeleteBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeModelCommand,
  ListTagsCommand,
  StopTransformJobCommand,
  type DescribeEndpointCommandOutput,
  type DescribeModelCommandOutput,
  type ListTagsCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { isNotFound, type AwsSession } from './clients.js';
import { DeployTimeoutError, SageMakerDeployError, type CleanupReport } from './errors.js';
import { parseS3Uri, TAG_ENDPOINT, type ResourceRef } from './resources.js';
import { DEFAULT_TIMEOUT_MS, waitFor, type WaitSettings } from './waiter.js';

export const SCALABLE_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';

export function scalableTargetId(endpoint: string, variant: string): string {
  return `endpoint/${endpoint}/variant/${variant}`;
}

/** Wait until DescribeEndpoint says the endpoint is gone. */
export async function waitEndpointGone(session: AwsSession, name: string, wait: WaitSettings, onStatus?: (l: string) => void): Promise<void> {
  if (session.dryRun) return;
  await waitFor(
    `deleting endpoint ${name}`,
    async () => {
      try {
        const d = await session.send<DescribeEndpointCommandOutput>('sagemaker', new DescribeEndpointCommand({ EndpointName: name }));
        return d.EndpointStatus ?? 'Deleting';
      } catch (e) {
        if (isNotFound(e)) return 'deleted';
        throw e;
      }
    },
    (s) => s === 'deleted',
    (s) => s,
    wait,
    onStatus,
  );
}

/** States in which SageMaker refuses DeleteEndpoint ("Cannot update in-progress endpoint"). */
export const IN_PROGRESS = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

/**
 * Wait (bounded by `wait.timeoutMs`, with progress) until the endpoint can be deleted: SageMaker
 * refuses DeleteEndpoint while it is Creating, Updating, SystemUpdating or RollingBack. Returns
 * its status then (`deleted` when it is already gone). When it stays in transition, the error
 * says so and what to do.
 */
export async function waitEndpointDeletable(session: AwsSession, name: string, wait: WaitSettings, onStatus?: (l: string) => void): Promise<string> {
  if (session.dryRun) return 'unknown';
  const poll = async (): Promise<string> => {
    try {
      const d = await session.send<DescribeEndpointCommandOutput>('sagemaker', new DescribeEndpointCommand({ EndpointName: name }));
      return d.EndpointStatus ?? 'unknown';
    } catch (e) {
      if (isNotFound(e)) return 'deleted';
      throw e;
    }
  };
  const first = await poll();
  if (!IN_PROGRESS.has(first)) return first;
  try {
    return await waitFor(
      `waiting for endpoint ${name} to leave ${first} before deleting it`,
      poll,
      (s) => !IN_PROGRESS.has(s),
      (s) => s,
      wait,
      onStatus,
    );
  } catch (e) {
    if (!(e instanceof DeployTimeoutError)) throw e;
    const timeout = (wait.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000;
    throw new SageMakerDeployError(
      `endpoint ${name} was still ${e.lastStatus ?? first} after waiting ${timeout} s to delete it, and SageMaker refuses DeleteEndpoint while an endpoint is ${e.lastStatus ?? first}: run \`mlmodel deploy sagemaker delete -n ${name}\` once it is InService or Failed`,
      'DEADLINE_EXCEEDED',
      { cause: e },
    );
  }
}

/** Delete an endpoint once SageMaker lets it be deleted, and wait until it is gone. */
export async function deleteEndpoint(session: AwsSession, name: string, wait: WaitSettings, onStatus?: (l: string) => void): Promise<void> {
  const state = await waitEndpointDeletable(session, name, wait, onStatus);
  if (state === 'deleted') return;
  if (state !== 'Deleting') await session.send('sagemaker', new DeleteEndpointCommand({ EndpointName: name }));
  await waitEndpointGone(session, name, wait, onStatus);
}

/** Remove one resource; a resource already gone counts as removed. */
export async function removeResource(session: AwsSession, ref: ResourceRef, wait: WaitSettings, onStatus?: (l: string) => void): Promise<void> {
  try {
    switch (ref.kind) {
      case 'endpoint':
        await deleteEndpoint(session, ref.name, wait, onStatus);
        return;
      case 'endpoint-config':
        await session.send('sagemaker', new DeleteEndpointConfigCommand({ EndpointConfigName: ref.name }));
        return;
      case 'model':
        await session.send('sagemaker', new DeleteModelCommand({ ModelName: ref.name }));
        return;
      case 'transform-job':
        await session.send('sagemaker', new StopTransformJobCommand({ TransformJobName: ref.name }));
        return;
      case 's3-object': {
        const loc = parseS3Uri(ref.name)!;
        await session.send('s3', new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
        return;
      }
      case 's3-bucket':
        await session.send('s3', new DeleteBucketCommand({ Bucket: ref.name }));
        return;
      case 'ecr-repository':
        await session.send('ecr', new DeleteRepositoryCommand({ repositoryName: ref.name }));
        return;
      case 'scalable-target':
        await session.send(
          'autoscaling',
          new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: ref.name, ScalableDimension: SCALABLE_DIMENSION }),
        );
        return;
    }
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
}

/**
 * Remove `resources` newest first; report what went and what could not. When an endpoint cannot
 * be removed (still Creating after the wait), what it was made from (its config, model, archive,
 * bucket: everything older) is kept, because the endpoint still uses it; the report says so.
 */
export async function rollback(
  session: AwsSession,
  resources: readonly ResourceRef[],
  wait: WaitSettings,
  onStatus?: (l: string) => void,
): Promise<CleanupReport> {
  const removed: ResourceRef[] = [];
  const failed: { resource: ResourceRef; reason: string }[] = [];
  const kept: ResourceRef[] = [];
  let endpointStays: string | null = null;
  for (const ref of [...resources].reverse()) {
    if (endpointStays !== null) {
      kept.push(ref);
      continue;
    }
    try {
      onStatus?.(`removing ${ref.kind} ${ref.name}`);
      await removeResource(session, ref, wait, onStatus);
      removed.push(ref);
    } catch (e) {
      failed.push({ resource: ref, reason: (e as Error).message });
      if (ref.kind === 'endpoint') endpointStays = ref.name;
    }
  }
  return { removed, failed, kept, ...(endpointStays !== null ? { keptFor: endpointStays } : {}) };
}

/** The tags of a SageMaker resource as a record ({} when it cannot be read). */
export async function tagsOf(session: AwsSession, arn: string | undefined): Promise<Record<string, string>> {
  if (!arn) return {};
  const out: Record<string, string> = {};
  let token: string | undefined;
  do {
    const r = await session.send<ListTagsCommandOutput>('sagemaker', new ListTagsCommand({ ResourceArn: arn, ...(token ? { NextToken: token } : {}) }));
    for (const t of r.Tags ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
    token = r.NextToken;
  } while (token);
  return out;
}

/**
 * A model and, when mlmodel made it for `endpoint` (its `mlmodel:endpoint` tag), its archive in
 * S3. Models mlmodel did not make are left alone and reported as kept.
 */
export async function removeModelAndArchive(
  session: AwsSession,
  modelName: string,
  endpoint: string | null,
): Promise<{ removed: ResourceRef[]; kept: ResourceRef[] }> {
  let model: DescribeModelCommandOutput;
  try {
    model = await session.send<DescribeModelCommandOutput>('sagemaker', new DescribeModelCommand({ ModelName: modelName }));
  } catch (e) {
    if (isNotFound(e)) return { removed: [], kept: [] };
    throw e;
  }
  const tags = await tagsOf(session, model.ModelArn);
  if (!(TAG_ENDPOINT in tags) || (endpoint !== null && tags[TAG_ENDPOINT] !== endpoint)) return { removed: [], kept: [{ kind: 'model', name: modelName }] };
  const removed: ResourceRef[] = [];
  const url = model.PrimaryContainer?.ModelDataUrl ?? model.Containers?.[0]?.ModelDataUrl;
  const loc = url ? parseS3Uri(url) : null;
  if (loc) {
    try {
      await session.send('s3', new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    removed.push({ kind: 's3-object', name: url! });
  }
  await session.send('sagemaker', new DeleteModelCommand({ ModelName: modelName }));
  removed.push({ kind: 'model', name: modelName });
  return { removed, kept: [] };
}

/**
 * An endpoint config, when mlmodel made it for `endpoint` (its `mlmodel:endpoint` tag). Another
 * config (made by MLflow, the console, …) may be shared with other endpoints: it is left alone
 * and reported as kept.
 */
export async function removeConfigIfOurs(
  session: AwsSession,
  config: { readonly EndpointConfigName?: string | undefined; readonly EndpointConfigArn?: string | undefined },
  endpoint: string,
  wait: WaitSettings,
): Promise<{ removed: ResourceRef[]; kept: ResourceRef[] }> {
  const ref: ResourceRef = { kind: 'endpoint-config', name: config.EndpointConfigName! };
  if ((await tagsOf(session, config.EndpointConfigArn))[TAG_ENDPOINT] !== endpoint) return { removed: [], kept: [ref] };
  await removeResource(session, ref, wait);
  return { removed: [ref], kept: [] };
}
