/**
 * Reading and removing deployments: `endpointStatus` (status, variants with weights, instances
 * and models, FailureReason), `listDeployments` (ListEndpoints, paged), and `deleteDeployment`:
 * the scaling targets, the endpoint (waited until gone), its config, and the models with their S3
 * archives that mlmodel made for it.
 */
import { DescribeScalableTargetsCommand, type DescribeScalableTargetsCommandOutput } from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  type ListEndpointConfigsCommandOutput,
  type ListModelsCommandOutput,
  type DescribeEndpointConfigCommandOutput,
  type ListEndpointsCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { isNotFound, type AwsSession, type PlannedCall } from './clients.js';
import { deleteEndpoint, removeConfigIfOurs, removeModelAndArchive, removeResource, scalableTargetId, tagsOf } from './cleanup.js';
import { SageMakerDeployError } from './errors.js';
import { describeEndpoint } from './endpoint-deploy.js';
import { checkName } from './naming.js';
import { TAG_ENDPOINT, TAG_MODEL_URI, type ResourceRef } from './resources.js';
import type { WaitSettings } from './waiter.js';

export interface VariantStatus {
  readonly name: string;
  readonly model: string | null;
  readonly currentWeight: number | null;
  readonly desiredWeight: number | null;
  readonly currentInstanceCount: number | null;
  readonly instanceType: string | null;
  readonly serverless: { readonly memorySizeMb: number; readonly maxConcurrency: number } | null;
}

export interface EndpointStatus {
  readonly name: string;
  readonly arn: string | null;
  readonly status: string;
  readonly endpointConfigName: string | null;
  readonly failureReason: string | null;
  readonly createdAt: string | null;
  readonly modifiedAt: string | null;
  readonly variants: readonly VariantStatus[];
}

export async function endpointStatus(session: AwsSession, name: string): Promise<EndpointStatus> {
  checkName(name, 'endpoint name');
  const d = await describeEndpoint(session, name);
  if (!d) throw new SageMakerDeployError(`endpoint ${name} does not exist in ${await session.region()}`, 'RESOURCE_DOES_NOT_EXIST');
  let config: DescribeEndpointConfigCommandOutput | null = null;
  if (d.EndpointConfigName) {
    try {
      config = await session.send<DescribeEndpointConfigCommandOutput>(
        'sagemaker',
        new DescribeEndpointConfigCommand({ EndpointConfigName: d.EndpointConfigName }),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  const configured = new Map((config?.ProductionVariants ?? []).map((v) => [v.VariantName, v]));
  const live = d.ProductionVariants ?? [];
  const names = live.length > 0 ? live.map((v) => v.VariantName!) : [...configured.keys()].map(String);
  return {
    name,
    arn: d.EndpointArn ?? null,
    status: d.EndpointStatus ?? 'unknown',
    endpointConfigName: d.EndpointConfigName ?? null,
    failureReason: d.FailureReason ?? null,
    createdAt: d.CreationTime ? new Date(d.CreationTime).toISOString() : null,
    modifiedAt: d.LastModifiedTime ? new Date(d.LastModifiedTime).toISOString() : null,
    variants: names.map((n) => {
      const l = live.find((v) => v.VariantName === n);
      const c = configured.get(n);
      const sl = c?.ServerlessConfig;
      return {
        name: n,
        model: c?.ModelName ?? null,
        currentWeight: l?.CurrentWeight ?? null,
        desiredWeight: l?.DesiredWeight ?? null,
        currentInstanceCount: l?.CurrentInstanceCount ?? null,
        instanceType: c?.InstanceType ?? null,
        serverless: sl ? { memorySizeMb: sl.MemorySizeInMB ?? 0, maxConcurrency: sl.MaxConcurrency ?? 0 } : null,
      };
    }),
  };
}

export interface DeploymentSummary {
  readonly name: string;
  readonly status: string;
  readonly createdAt: string | null;
  readonly modifiedAt: string | null;
  /** Whether mlmodel made it (its `mlmodel:endpoint` tag); null when tags were not read (`all`). */
  readonly mlmodel: boolean | null;
  /** The model it was deployed from (`mlmodel:model-uri` tag), when known. */
  readonly modelUri: string | null;
}

export interface ListOptions {
  readonly nameContains?: string;
  /** Every endpoint in the region, not only mlmodel's (no ListTags calls). */
  readonly all?: boolean;
  /** ListTags calls in flight at once (default 8). */
  readonly concurrency?: number;
}

/**
 * The endpoints in the region (ListEndpoints, paged). By default only mlmodel's: those whose
 * tags (ListTags, one call per endpoint, a few at a time) carry `mlmodel:endpoint`. `all` lists
 * every endpoint without reading tags.
 */
export async function listDeployments(session: AwsSession, opts: ListOptions = {}): Promise<DeploymentSummary[]> {
  const found: { name: string; arn: string | undefined; status: string; createdAt: string | null; modifiedAt: string | null }[] = [];
  let token: string | undefined;
  do {
    const r = await session.send<ListEndpointsCommandOutput>(
      'sagemaker',
      new ListEndpointsCommand({ MaxResults: 100, ...(opts.nameContains ? { NameContains: opts.nameContains } : {}), ...(token ? { NextToken: token } : {}) }),
    );
    for (const e of r.Endpoints ?? []) {
      found.push({
        name: e.EndpointName!,
        arn: e.EndpointArn,
        status: e.EndpointStatus ?? 'unknown',
        createdAt: e.CreationTime ? new Date(e.CreationTime).toISOString() : null,
        modifiedAt: e.LastModifiedTime ? new Date(e.LastModifiedTime).toISOString() : null,
      });
    }
    token = r.NextToken;
  } while (token);
  if (opts.all) return found.map(({ arn: _a, ...e }) => ({ ...e, mlmodel: null, modelUri: null }));
  const tags: Record<string, string>[] = new Array<Record<string, string>>(found.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < found.length) {
      const i = next++;
      try {
        tags[i] = await tagsOf(session, found[i]!.arn);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        tags[i] = {}; // deleted meanwhile
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, found.length)) }, worker));
  const out: DeploymentSummary[] = [];
  found.forEach(({ arn: _a, ...e }, i) => {
    const t = tags[i] ?? {};
    if (TAG_ENDPOINT in t) out.push({ ...e, mlmodel: true, modelUri: t[TAG_MODEL_URI] ?? null });
  });
  return out;
}

export interface DeleteResult {
  readonly endpointName: string;
  readonly removed: readonly ResourceRef[];
  /** The config and models of the endpoint that mlmodel did not create for it (left alone). */
  readonly kept: readonly ResourceRef[];
  readonly dryRun: boolean;
  readonly calls: readonly PlannedCall[];
}

export async function deleteDeployment(
  session: AwsSession,
  name: string,
  opts: { wait?: WaitSettings; onStatus?: (l: string) => void; keepModels?: boolean } = {},
): Promise<DeleteResult> {
  checkName(name, 'endpoint name');
  const wait = opts.wait ?? {};
  const status = opts.onStatus ?? (() => undefined);
  const d = await describeEndpoint(session, name);
  if (!d) throw new SageMakerDeployError(`endpoint ${name} does not exist in ${await session.region()}`, 'RESOURCE_DOES_NOT_EXIST');
  let config: DescribeEndpointConfigCommandOutput | null = null;
  try {
    config = await session.send<DescribeEndpointConfigCommandOutput>(
      'sagemaker',
      new DescribeEndpointConfigCommand({ EndpointConfigName: d.EndpointConfigName! }),
    );
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const variants = (config?.ProductionVariants ?? []).map((v) => ({ name: v.VariantName!, model: v.ModelName! }));
  const removed: ResourceRef[] = [];
  const kept: ResourceRef[] = [];

  const targets = await session.send<DescribeScalableTargetsCommandOutput>(
    'autoscaling',
    new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: variants.map((v) => scalableTargetId(name, v.name)) }),
  );
  for (const t of targets.ScalableTargets ?? []) {
    status(`deregistering scalable target ${t.ResourceId}`);
    await removeResource(session, { kind: 'scalable-target', name: t.ResourceId! }, wait);
    removed.push({ kind: 'scalable-target', name: t.ResourceId! });
  }

  status(`deleting endpoint ${name}`);
  // SageMaker refuses DeleteEndpoint while the endpoint is Creating/Updating: wait (bounded) first
  await deleteEndpoint(session, name, wait, status);
  removed.push({ kind: 'endpoint', name });
  if (config) {
    const r = await removeConfigIfOurs(session, config, name, wait);
    removed.push(...r.removed);
    kept.push(...r.kept);
  }
  if (!opts.keepModels) {
    for (const v of variants) {
      status(`deleting model ${v.model} and its archive`);
      const r = await removeModelAndArchive(session, v.model, name);
      removed.push(...r.removed);
      kept.push(...r.kept);
    }
  }
  if (!opts.keepModels) removed.push(...(await sweepLeftovers(session, name, wait, status, new Set(removed.map((r) => r.name)))));
  return { endpointName: name, removed, kept, dryRun: session.dryRun, calls: [...session.calls] };
}

/**
 * Configs and models mlmodel made for `endpoint` that nothing uses any more (e.g. left by an
 * update that timed out and completed later): found by name (`<endpoint>-config-…`,
 * `<endpoint>-model-…`, so by their first 30 characters) and kept unless their
 * `mlmodel:endpoint` tag names this endpoint. Run when the endpoint itself is gone.
 */
export async function sweepLeftovers(
  session: AwsSession,
  endpoint: string,
  wait: WaitSettings,
  onStatus?: (l: string) => void,
  alreadyRemoved: ReadonlySet<string> = new Set(),
): Promise<ResourceRef[]> {
  const prefix = endpoint.slice(0, 30);
  const removed: ResourceRef[] = [];
  let token: string | undefined;
  const configs: { name: string; arn: string }[] = [];
  do {
    const r = await session.send<ListEndpointConfigsCommandOutput>(
      'sagemaker',
      new ListEndpointConfigsCommand({ NameContains: prefix, MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
    );
    for (const c of r.EndpointConfigs ?? []) configs.push({ name: c.EndpointConfigName!, arn: c.EndpointConfigArn! });
    token = r.NextToken;
  } while (token);
  for (const c of configs) {
    if (alreadyRemoved.has(c.name)) continue;
    if ((await tagsOf(session, c.arn))[TAG_ENDPOINT] !== endpoint) continue;
    onStatus?.(`removing leftover endpoint-config ${c.name}`);
    await removeResource(session, { kind: 'endpoint-config', name: c.name }, wait);
    removed.push({ kind: 'endpoint-config', name: c.name });
  }
  const models: string[] = [];
  do {
    const r = await session.send<ListModelsCommandOutput>(
      'sagemaker',
      new ListModelsCommand({ NameContains: prefix, MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
    );
    for (const m of r.Models ?? []) models.push(m.ModelName!);
    token = r.NextToken;
  } while (token);
  for (const m of models) {
    if (alreadyRemoved.has(m)) continue;
    const r = await removeModelAndArchive(session, m, endpoint);
    if (r.removed.length > 0) onStatus?.(`removed leftover model ${m}`);
    removed.push(...r.removed);
  }
  return removed;
}
