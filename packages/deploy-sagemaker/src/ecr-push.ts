/**
 * `buildAndPush`: the image for a model built by @mlmodel/image-builder and pushed to ECR the
 * way the AWS CLI's `ecr get-login-password | docker login` does it, without a Docker config
 * file: the repository is created when missing, GetAuthorizationToken gives `AWS:<password>`,
 * the engine checks the login, tags and pushes. `registryHost` sends the push to another
 * registry speaking the same protocol (ECR-compatible registries; tests use a local one).
 * A repository this call created is removed again when the build or push fails.
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  type CreateRepositoryCommandOutput,
  type DescribeRepositoriesCommandOutput,
  type GetAuthorizationTokenCommandOutput,
} from '@aws-sdk/client-ecr';
import type { ModelUriResolver } from '@mlmodel/format';
import { buildImage, pushImage, type BuildEvent, type BuiltImage, type ImageFlavor, type PushEvent, type PushedImage } from '@mlmodel/image-builder';
import { isNotFound, type AwsSession, type PlannedCall } from './clients.js';
import { rollback } from './cleanup.js';
import { SageMakerDeployError } from './errors.js';
import { createModelArchive } from './model-archive.js';
import { repositoryNameFor } from './naming.js';
import { CreatedResources, TAG_CREATED_BY } from './resources.js';
import { callerIdentity, resolveModel } from './setup.js';

export interface BuildAndPushOptions {
  /** The model to put in the image; without it, a generic image for `flavors` (the model comes from /opt/ml/model). */
  readonly model?: string;
  readonly resolver?: ModelUriResolver;
  readonly flavors?: readonly ImageFlavor[];
  /** ECR repository (default mlmodel-<model dir name>, or mlmodel-serve for a generic image). */
  readonly repository?: string;
  /** Default model-<12 hex of the model archive's sha256> (what `create` looks for), or latest for a generic image. */
  readonly tag?: string;
  /** Push to this host[:port] instead of the ECR registry (an ECR-compatible registry). */
  readonly registryHost?: string;
  /** Push this local image instead of building one. */
  readonly image?: string;
  readonly baseImage?: string;
  readonly network?: string;
  readonly platform?: string;
  readonly onBuildEvent?: (e: BuildEvent) => void;
  readonly onPushEvent?: (e: PushEvent) => void;
  readonly onStatus?: (line: string) => void;
}

export interface BuildAndPushResult {
  /** What to deploy: registry/repository:tag as pushed. */
  readonly imageUri: string;
  readonly repositoryUri: string;
  readonly repository: string;
  readonly tag: string;
  readonly createdRepository: boolean;
  readonly built: BuiltImage | null;
  readonly pushed: PushedImage | null;
  readonly dryRun: boolean;
  readonly calls: readonly PlannedCall[];
}

/** ECR's token: base64 of `user:password`. */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  if (at <= 0) throw new SageMakerDeployError('ECR returned an authorization token that is not base64 of user:password');
  return { username: decoded.slice(0, at), password: decoded.slice(at + 1) };
}

export async function buildAndPush(session: AwsSession, o: BuildAndPushOptions): Promise<BuildAndPushResult> {
  const status = o.onStatus ?? (() => undefined);
  await callerIdentity(session);
  const model = o.model !== undefined ? await resolveModel(o.model, o.resolver) : null;
  if (!model && !o.image && (!o.flavors || o.flavors.length === 0))
    throw new SageMakerDeployError('build-and-push needs -m MODEL, --flavors for a generic image, or --image');
  const repository = o.repository ?? (model ? repositoryNameFor(model.name) : 'mlmodel-serve');
  if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(repository) || repository.length > 256) {
    throw new SageMakerDeployError(
      `--repository ${JSON.stringify(repository)} is not a valid ECR repository name: lowercase letters, digits, and . _ - / between them`,
    );
  }
  const tag = o.tag ?? (model ? `model-${(await createModelArchive(model.dir)).sha256.slice(0, 12)}` : 'latest');
  const created = new CreatedResources();
  let repositoryUri: string;
  try {
    const d = await session.send<DescribeRepositoriesCommandOutput>('ecr', new DescribeRepositoriesCommand({ repositoryNames: [repository] }));
    repositoryUri = d.repositories?.[0]?.repositoryUri ?? '';
  } catch (e) {
    if (!isNotFound(e)) throw e;
    status(`creating ECR repository ${repository}`);
    const c = await session.send<CreateRepositoryCommandOutput>(
      'ecr',
      new CreateRepositoryCommand({ repositoryName: repository, tags: [{ Key: TAG_CREATED_BY, Value: 'mlmodel deploy sagemaker' }] }),
      { repository: { repositoryUri: `<account>.dkr.ecr.<region>.amazonaws.com/${repository}` } } as CreateRepositoryCommandOutput,
    );
    repositoryUri = c.repository?.repositoryUri ?? '';
    created.add('ecr-repository', repository);
  }
  try {
    const token = await session.send<GetAuthorizationTokenCommandOutput>('ecr', new GetAuthorizationTokenCommand({}));
    const auth = token.authorizationData?.[0];
    if (!auth?.authorizationToken) throw new SageMakerDeployError('ECR GetAuthorizationToken returned no token');
    session.addSecret(auth.authorizationToken);
    const credentials = decodeAuthorizationToken(auth.authorizationToken);
    session.addSecret(credentials.password);
    const ecrHost = auth.proxyEndpoint ? new URL(auth.proxyEndpoint).host : repositoryUri.split('/')[0]!;
    const host = o.registryHost ?? ecrHost;
    const imageUri = `${host}/${repository}:${tag}`;
    const localTag = `${repository}:${tag}`;

    let built: BuiltImage | null = null;
    if (!o.image && session.plan('docker', 'BuildImage', { tag: localTag, model: model?.dir ?? null, flavors: o.flavors ?? null })) {
      built = await buildImage({
        tag: localTag,
        ...(model ? { model: model.dir } : { flavors: o.flavors! }),
        ...(o.baseImage ? { baseImage: o.baseImage } : {}),
        ...(o.network ? { network: o.network } : {}),
        ...(o.platform ? { platform: o.platform } : {}),
        ...(o.onBuildEvent ? { onEvent: o.onBuildEvent } : {}),
        onStatus: status,
      });
    }
    let pushed: PushedImage | null = null;
    if (session.plan('docker', 'PushImage', { image: o.image ?? localTag, target: imageUri, username: credentials.username, password: '***' })) {
      pushed = await pushImage({
        image: o.image ?? built!.tag,
        target: imageUri,
        credentials,
        ...(o.onPushEvent ? { onEvent: o.onPushEvent } : {}),
        onStatus: status,
      }).catch((e: unknown) => {
        throw e instanceof Error ? Object.assign(e, { message: session.redact(e.message) }) : e;
      });
    }
    return {
      imageUri,
      repositoryUri,
      repository,
      tag,
      createdRepository: created.list().length > 0,
      built,
      pushed,
      dryRun: session.dryRun,
      calls: [...session.calls],
    };
  } catch (e) {
    if (created.list().length > 0) {
      const report = await rollback(session, created.list(), {});
      status(`removed the ECR repository ${repository} this run created${report.failed.length > 0 ? ' (could not: ' + report.failed[0]!.reason + ')' : ''}`);
    }
    throw e;
  }
}
