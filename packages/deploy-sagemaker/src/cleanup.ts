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
import type { CleanupReport } from './errors.js';
import { parseS3Uri, TAG_ENDPOINT, type ResourceRef } from './resources.js';
import { waitFor, type WaitSettings } from './waiter.js';

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

/** Remove one resource; a resource already gone counts as removed. */
export async function removeResource(session: AwsSession, ref: ResourceRef, wait: WaitSettings, onStatus?: (l: string) => void): Promise<void> {
  try {
    switch (ref.kind) {
      case 'endpoint':
        await session.send('sagemaker', new DeleteEndpointCommand({ EndpointName: ref.name }));
        await waitEndpointGone(session, ref.name, wait, onStatus);
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

/** Remove `resources` newest first; report what went and what could not. */
export async function rollback(
  session: AwsSession,
  resources: readonly ResourceRef[],
  wait: WaitSettings,
  onStatus?: (l: string) => void,
): Promise<CleanupReport> {
  const removed: ResourceRef[] = [];
  const failed: { resource: ResourceRef; reason: string }[] = [];
  for (const ref of [...resources].reverse()) {
    try {
      onStatus?.(`removing ${ref.kind} ${ref.name}`);
      await removeResource(session, ref, wait, onStatus);
      removed.push(ref);
    } catch (e) {
      failed.push({ resource: ref, reason: (e as Error).message });
    }
  }
  return { removed, failed };
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
