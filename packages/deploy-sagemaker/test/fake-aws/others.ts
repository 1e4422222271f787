/**
 * The fake STS (awsQuery: form `Action=…`, XML answers), ECR and Application Auto Scaling (AWS
 * JSON 1.1). FAKE: a test double of AWS.
 */
import { AwsFault, epochSeconds, escapeXml, requestId } from './protocol.js';
import { arn, type FakeContext } from './context.js';

type Params = Record<string, unknown>;

export function stsAnswer(ctx: FakeContext, action: string): string {
  if (action !== 'GetCallerIdentity') throw new AwsFault('InvalidAction', `The fake STS does not implement ${action}`);
  const userId = ctx.callerArn.includes(':assumed-role/') ? `AROAFAKE:${ctx.callerArn.split('/').pop()}` : 'AIDAFAKE';
  return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${escapeXml(ctx.callerArn)}</Arn><UserId>${userId}</UserId><Account>${ctx.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
}

export function stsError(fault: AwsFault): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${fault.code}</Code><Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`;
}

export function ecr(ctx: FakeContext, region: string, op: string, p: Params): Params {
  const s = ctx.state;
  const registry = `${ctx.account}.dkr.ecr.${region}.amazonaws.com`;
  const missing = (name: string): AwsFault =>
    new AwsFault('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${ctx.account}'`);
  switch (op) {
    case 'DescribeRepositories': {
      const names = (p.repositoryNames as string[] | undefined) ?? [...s.repositories.keys()];
      const out = names.map((n) => {
        const r = s.repositories.get(n);
        if (!r) throw missing(n);
        return r;
      });
      return { repositories: out };
    }
    case 'CreateRepository': {
      const name = String(p.repositoryName ?? '');
      if (s.repositories.has(name))
        throw new AwsFault('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${ctx.account}'`);
      const r = {
        repositoryName: name,
        repositoryArn: arn(ctx, region, 'ecr', `repository/${name}`),
        repositoryUri: `${registry}/${name}`,
        registryId: ctx.account,
        createdAt: epochSeconds(),
      };
      s.repositories.set(name, r);
      return { repository: r };
    }
    case 'DeleteRepository': {
      const name = String(p.repositoryName ?? '');
      const r = s.repositories.get(name);
      if (!r) throw missing(name);
      s.repositories.delete(name);
      return { repository: r };
    }
    case 'GetAuthorizationToken':
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${ctx.registryPassword}`).toString('base64'),
            expiresAt: epochSeconds(new Date(Date.now() + 12 * 3600_000)),
            proxyEndpoint: `https://${registry}`,
          },
        ],
      };
    default:
      throw new AwsFault('UnknownOperationException', `The fake ECR does not implement ${op}`);
  }
}

export function autoScaling(ctx: FakeContext, region: string, op: string, p: Params): Params {
  const s = ctx.state;
  const key = `${String(p.ServiceNamespace)}|${String(p.ResourceId)}|${String(p.ScalableDimension)}`;
  switch (op) {
    case 'RegisterScalableTarget': {
      const resourceId = String(p.ResourceId);
      const m = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(resourceId);
      const e = m ? s.endpoints.get(m[1]!) : undefined;
      if (!e || !e.ProductionVariants.some((v) => v.VariantName === m![2])) {
        throw new AwsFault('ValidationException', `The target resource ${resourceId} does not exist or is not in service`);
      }
      if (p.ScalableDimension !== 'sagemaker:variant:DesiredInstanceCount')
        throw new AwsFault('ValidationException', `Unsupported scalable dimension ${String(p.ScalableDimension)}`);
      s.scalableTargets.set(resourceId, {
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId,
        ScalableDimension: String(p.ScalableDimension),
        MinCapacity: Number(p.MinCapacity),
        MaxCapacity: Number(p.MaxCapacity),
        CreationTime: epochSeconds(),
      });
      return { ScalableTargetARN: arn(ctx, region, 'application-autoscaling', `scalable-target/${key.length}${resourceId.replace(/\//g, '')}`) };
    }
    case 'DeregisterScalableTarget': {
      const resourceId = String(p.ResourceId);
      if (!s.scalableTargets.has(resourceId))
        throw new AwsFault(
          'ObjectNotFoundException',
          `No scalable target registered for service namespace: sagemaker, resource ID: ${resourceId}, scalable dimension: ${String(p.ScalableDimension)}`,
        );
      s.scalableTargets.delete(resourceId);
      for (const [k, pol] of s.scalingPolicies) if (pol.ResourceId === resourceId) s.scalingPolicies.delete(k);
      return {};
    }
    case 'DescribeScalableTargets': {
      const ids = p.ResourceIds as string[] | undefined;
      return { ScalableTargets: [...s.scalableTargets.values()].filter((t) => !ids || ids.length === 0 || ids.includes(t.ResourceId)) };
    }
    case 'PutScalingPolicy': {
      const resourceId = String(p.ResourceId);
      if (!s.scalableTargets.has(resourceId))
        throw new AwsFault('ObjectNotFoundException', `No scalable target registered for service namespace: sagemaker, resource ID: ${resourceId}`);
      const name = String(p.PolicyName);
      const policyArn = arn(ctx, region, 'autoscaling', `scalingPolicy:fake:resource/sagemaker/${resourceId}:policyName/${name}`);
      s.scalingPolicies.set(`${resourceId}|${name}`, {
        PolicyName: name,
        PolicyARN: policyArn,
        ResourceId: resourceId,
        ScalableDimension: String(p.ScalableDimension),
        ServiceNamespace: 'sagemaker',
        PolicyType: String(p.PolicyType),
        TargetTrackingScalingPolicyConfiguration: p.TargetTrackingScalingPolicyConfiguration,
      });
      return { PolicyARN: policyArn, Alarms: [] };
    }
    case 'DescribeScalingPolicies': {
      const rid = p.ResourceId as string | undefined;
      return { ScalingPolicies: [...s.scalingPolicies.values()].filter((x) => !rid || x.ResourceId === rid) };
    }
    default:
      throw new AwsFault('UnknownOperationException', `The fake Application Auto Scaling does not implement ${op}`);
  }
}
