/**
 * `runTransformJob`: batch transform on S3 data. A local input file is uploaded first; the model
 * is created for the job (or an existing one is used), CreateTransformJob runs with SplitType
 * Line and AssembleWith Line as MLflow does, BatchStrategy/MaxPayloadInMB/MaxConcurrentTransforms
 * left unset unless given so that SageMaker asks the container's /execution-parameters, and the
 * job is waited for. Afterwards the job's model, archive and uploaded input are removed (unless
 * kept); the output stays where it was written. A failure removes everything the job made.
 */
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  CreateModelCommand,
  CreateTransformJobCommand,
  DescribeTransformJobCommand,
  type BatchStrategy,
  type DescribeTransformJobCommandOutput,
  type TransformInstanceType,
} from '@aws-sdk/client-sagemaker';
import type { ModelUriResolver } from '@mlmodel/format';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AwsSession, PlannedCall } from './clients.js';
import { rollback } from './cleanup.js';
import { DeploymentFailedError, DeployTimeoutError, SageMakerDeployError } from './errors.js';
import { checkName, uniqueName } from './naming.js';
import { CreatedResources, parseS3Uri, s3Uri, TAG_CREATED_BY, TAG_ENDPOINT, TAG_MODEL_URI, tagValue, type ResourceRef } from './resources.js';
import { callerIdentity, createModelArchive, defaultBucketFor, ensureBucket, executionRoleFor, resolveImage, resolveModel, uploadArchive } from './setup.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { contentTypeForFile } from '@mlmodel/format';
import { waitFor, type WaitSettings } from './waiter.js';

export interface TransformOptions {
  /** A job name prefix (default: from the model directory's name). */
  readonly jobName?: string;
  readonly model: string;
  readonly resolver?: ModelUriResolver;
  /** s3://… (a prefix or an object) or a local file to upload. */
  readonly input: string;
  /** s3:// prefix for the results (default s3://<bucket>/<job>/output). */
  readonly output?: string;
  readonly contentType?: string;
  readonly accept?: string;
  readonly splitType?: 'Line' | 'None' | 'RecordIO' | 'TFRecord';
  readonly batchStrategy?: 'SingleRecord' | 'MultiRecord';
  readonly maxPayloadMb?: number;
  readonly maxConcurrentTransforms?: number;
  readonly instanceType?: string;
  readonly instanceCount?: number;
  readonly imageUrl?: string;
  readonly repository?: string;
  readonly imageTag?: string;
  readonly executionRoleArn?: string;
  readonly bucket?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
  /** Keep the job's model and archive (and uploaded input) afterwards. */
  readonly keep?: boolean;
  readonly wait?: WaitSettings;
  readonly onStatus?: (line: string) => void;
}

export interface TransformResult {
  readonly jobName: string;
  readonly status: string;
  readonly modelName: string;
  readonly input: string;
  readonly outputPath: string;
  /** s3:// URI of the output for an input object (`<output>/<input file>.out`), when the input was one object. */
  readonly outputObject: string | null;
  readonly cleanedUp: readonly ResourceRef[];
  readonly dryRun: boolean;
  readonly calls: readonly PlannedCall[];
  readonly durationMs: number;
}

export const DEFAULT_TRANSFORM_INSTANCE_TYPE = 'ml.m5.large';

export async function runTransformJob(session: AwsSession, o: TransformOptions): Promise<TransformResult> {
  const started = performance.now();
  const wait = o.wait ?? {};
  const status = o.onStatus ?? (() => undefined);
  if (o.output && !parseS3Uri(o.output)) throw new SageMakerDeployError(`--output must be an s3:// URI, got ${o.output}`);
  const identity = await callerIdentity(session);
  const region = await session.region();
  const role = executionRoleFor(identity, o.executionRoleArn);
  const model = await resolveModel(o.model, o.resolver);
  const prefix =
    o.jobName ??
    (model.name
      .replace(/[^a-zA-Z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) ||
      'mlmodel');
  const jobName = uniqueName(checkName(prefix, 'job name'), 'transform');
  const archive = await createModelArchive(model.dir);
  const image = await resolveImage(session, {
    ...(o.imageUrl ? { imageUrl: o.imageUrl } : {}),
    ...(o.repository ? { repository: o.repository } : {}),
    tag: o.imageTag ?? `model-${archive.sha256.slice(0, 12)}`,
    modelName: model.name,
  });
  const bucket = o.bucket ?? (await defaultBucketFor(session, identity));
  const ownTags = { [TAG_ENDPOINT]: jobName, [TAG_MODEL_URI]: tagValue(model.uri), [TAG_CREATED_BY]: 'mlmodel deploy sagemaker' };
  const tags = Object.entries({ ...(o.tags ?? {}), ...ownTags }).map(([Key, Value]) => ({ Key, Value }));
  const created = new CreatedResources();
  const modelName = uniqueName(prefix, 'transform-model');
  const outputPath = o.output ?? s3Uri(bucket, `${jobName}/output`);
  let input = o.input;
  let contentType = o.contentType ? contentTypeForFile(o.input, o.contentType) : contentTypeForFile(o.input);

  let job: DescribeTransformJobCommandOutput;
  try {
    await ensureBucket(session, bucket, region, created, status);
    if (!parseS3Uri(o.input)) {
      let data: Buffer;
      try {
        data = await readFile(o.input);
      } catch (e) {
        throw new SageMakerDeployError(`cannot read --input ${o.input}: ${(e as Error).message}`);
      }
      input = s3Uri(bucket, `${jobName}/input/${basename(o.input)}`);
      status(`uploading ${o.input} (${data.length} bytes) to ${input}`);
      const loc = parseS3Uri(input)!;
      await session.send(
        's3',
        new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: data, ContentType: contentType, Tagging: new URLSearchParams(ownTags).toString() }),
      );
      created.add('s3-object', input);
    } else if (!o.contentType) {
      contentType = contentTypeForFile(o.input);
    }
    const modelDataUrl = await uploadArchive(session, bucket, `${jobName}/${modelName}/model.tar.gz`, archive, ownTags, created, status);
    await session.send(
      'sagemaker',
      new CreateModelCommand({
        ModelName: modelName,
        ExecutionRoleArn: role,
        PrimaryContainer: { Image: image, ModelDataUrl: modelDataUrl, Environment: { SERVING_ENVIRONMENT: 'SageMaker', ...(o.env ?? {}) } },
        Tags: tags,
      }),
    );
    created.add('model', modelName);
    status(`starting transform job ${jobName} on ${input}`);
    await session.send(
      'sagemaker',
      new CreateTransformJobCommand({
        TransformJobName: jobName,
        ModelName: modelName,
        TransformInput: {
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: input } },
          ContentType: contentType,
          CompressionType: 'None',
          SplitType: o.splitType ?? 'Line',
        },
        TransformOutput: { S3OutputPath: outputPath, Accept: o.accept ?? 'application/json', AssembleWith: 'Line' },
        TransformResources: { InstanceType: (o.instanceType ?? DEFAULT_TRANSFORM_INSTANCE_TYPE) as TransformInstanceType, InstanceCount: o.instanceCount ?? 1 },
        ...(o.batchStrategy ? { BatchStrategy: o.batchStrategy as BatchStrategy } : {}),
        ...(o.maxPayloadMb !== undefined ? { MaxPayloadInMB: o.maxPayloadMb } : {}),
        ...(o.maxConcurrentTransforms !== undefined ? { MaxConcurrentTransforms: o.maxConcurrentTransforms } : {}),
        Tags: tags,
      }),
    );
    created.add('transform-job', jobName);
    if (session.dryRun) {
      return {
        jobName,
        status: 'planned',
        modelName,
        input,
        outputPath,
        outputObject: null,
        cleanedUp: [],
        dryRun: true,
        calls: [...session.calls],
        durationMs: performance.now() - started,
      };
    }
    job = await waitFor(
      `transform job ${jobName}`,
      () => session.send<DescribeTransformJobCommandOutput>('sagemaker', new DescribeTransformJobCommand({ TransformJobName: jobName })),
      (j) => ['Completed', 'Failed', 'Stopped'].includes(j.TransformJobStatus ?? ''),
      (j) => j.TransformJobStatus ?? 'unknown',
      wait,
      status,
    );
  } catch (e) {
    const cleanup = await rollback(session, created.list(), wait, status);
    const timeout = e instanceof DeployTimeoutError ? ' (the job was stopped)' : '';
    throw new DeploymentFailedError(`transform job ${jobName}: ${(e as Error).message}${timeout}`, { endpointName: jobName, cleanup, cause: e });
  }
  created.remove({ kind: 'transform-job', name: jobName });
  if (job.TransformJobStatus !== 'Completed') {
    const cleanup = await rollback(session, created.list(), wait, status);
    throw new DeploymentFailedError(`transform job ${jobName} ended ${job.TransformJobStatus}: ${job.FailureReason ?? 'no reason given'}`, {
      endpointName: jobName,
      failureReason: job.FailureReason ?? null,
      cleanup,
    });
  }
  const loc = parseS3Uri(input)!;
  const single = loc.key !== '' && !loc.key.endsWith('/');
  const outputObject = single ? `${outputPath.replace(/\/+$/, '')}/${basename(loc.key)}.out` : null;
  let cleanedUp: ResourceRef[] = [];
  if (!o.keep) {
    const toRemove = created.list().filter((r) => r.kind !== 's3-bucket');
    const report = await rollback(session, toRemove, wait, status);
    cleanedUp = [...report.removed];
    for (const f of report.failed) status(`warning: could not remove ${f.resource.kind} ${f.resource.name}: ${f.reason}`);
  }
  return {
    jobName,
    status: 'Completed',
    modelName,
    input,
    outputPath,
    outputObject,
    cleanedUp,
    dryRun: false,
    calls: [...session.calls],
    durationMs: performance.now() - started,
  };
}

/** Read an S3 object (e.g. the job's output). */
export async function readS3Object(session: AwsSession, uri: string): Promise<Buffer> {
  const loc = parseS3Uri(uri);
  if (!loc) throw new SageMakerDeployError(`not an s3:// URI: ${uri}`);
  const r = await session.send<GetObjectCommandOutput>('s3', new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}
