/**
 * What every deploy needs before it creates anything: who the caller is (STS), the execution
 * role, the bucket (created when missing, and then owned by this deploy), the image, and the
 * model archive uploaded to S3 with mlmodel's tags.
 */
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { DescribeRepositoriesCommand, type DescribeRepositoriesCommandOutput } from '@aws-sdk/client-ecr';
import { GetCallerIdentityCommand, type GetCallerIdentityCommandOutput } from '@aws-sdk/client-sts';
import { openModelDir, type ModelUriResolver } from '@mlmodel/format';
import { basename } from 'node:path';
import { isNotFound, type AwsSession } from './clients.js';
import { SageMakerDeployError } from './errors.js';
import { createModelArchive, type ModelArchive } from './model-archive.js';
import { defaultBucket, repositoryNameFor } from './naming.js';
import { s3Uri, type CreatedResources } from './resources.js';

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
}

export async function callerIdentity(session: AwsSession): Promise<CallerIdentity> {
  const id = await session.send<GetCallerIdentityCommandOutput>('sts', new GetCallerIdentityCommand({}));
  if (!id.Account || !id.Arn) throw new SageMakerDeployError('STS GetCallerIdentity returned no account: check the credentials');
  session.principal = id.Arn;
  return { account: id.Account, arn: id.Arn };
}

/**
 * The role SageMaker runs the model as: the one given, else the role of an assumed-role caller
 * (arn:aws:sts::A:assumed-role/R/s → arn:aws:iam::A:role/R). An IAM user must pass one.
 */
export function executionRoleFor(identity: CallerIdentity, given: string | undefined): string {
  if (given) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(given))
      throw new SageMakerDeployError(`--execution-role-arn ${JSON.stringify(given)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
    return given;
  }
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(identity.arn);
  if (m) return `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
  throw new SageMakerDeployError(
    `no execution role: the caller ${identity.arn} is not an assumed role, so pass --execution-role-arn with a role SageMaker may assume (trust sagemaker.amazonaws.com)`,
  );
}

/** The local model directory behind `-m` (paths, file:// and, through the resolver, runs:/ and models:/). */
export async function resolveModel(model: string, resolver?: ModelUriResolver): Promise<{ dir: string; name: string; uri: string }> {
  const m = await openModelDir(model, resolver ? { resolver } : {});
  return { dir: m.dir, name: basename(m.dir), uri: model };
}

/** The bucket, created (and recorded) when it does not exist. */
export async function ensureBucket(
  session: AwsSession,
  bucket: string,
  region: string,
  created: CreatedResources,
  onStatus?: (l: string) => void,
): Promise<void> {
  try {
    await session.send('s3', new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (e) {
    if (!isNotFound(e) && !/NotFound|404/.test((e as Error).message)) throw e;
  }
  onStatus?.(`creating bucket ${bucket}`);
  await session.send(
    's3',
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }),
  );
  created.add('s3-bucket', bucket);
}

export async function defaultBucketFor(session: AwsSession, identity: CallerIdentity): Promise<string> {
  return defaultBucket(await session.region(), identity.account);
}

/** Upload the archive with mlmodel's tags; returns its s3:// URI. */
export async function uploadArchive(
  session: AwsSession,
  bucket: string,
  key: string,
  archive: ModelArchive,
  tags: Record<string, string>,
  created: CreatedResources,
  onStatus?: (l: string) => void,
): Promise<string> {
  const uri = s3Uri(bucket, key);
  onStatus?.(`uploading model.tar.gz (${(archive.bytes.length / 1e6).toFixed(2)} MB, ${archive.files} files) to ${uri}`);
  await session.send(
    's3',
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: archive.bytes,
      ContentType: 'application/gzip',
      Tagging: new URLSearchParams(tags).toString(),
    }),
  );
  created.add('s3-object', uri);
  return uri;
}

export { createModelArchive };

/** The image to run: given, or the ECR repository's URI with the tag build-and-push uses. */
export async function resolveImage(session: AwsSession, opts: { imageUrl?: string; repository?: string; tag?: string; modelName: string }): Promise<string> {
  if (opts.imageUrl) return opts.imageUrl;
  const repository = opts.repository ?? repositoryNameFor(opts.modelName);
  let out: DescribeRepositoriesCommandOutput;
  try {
    out = await session.send<DescribeRepositoriesCommandOutput>('ecr', new DescribeRepositoriesCommand({ repositoryNames: [repository] }));
  } catch (e) {
    if (isNotFound(e)) {
      throw new SageMakerDeployError(
        `no image: ECR has no repository ${repository}; run \`mlmodel deploy sagemaker build-and-push\` first or pass --image-url`,
      );
    }
    throw e;
  }
  const uri = out.repositories?.[0]?.repositoryUri;
  if (!uri) throw new SageMakerDeployError(`ECR returned no URI for repository ${repository}`);
  return `${uri}:${opts.tag ?? 'latest'}`;
}
