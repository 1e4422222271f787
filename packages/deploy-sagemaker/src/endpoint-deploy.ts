/**
 * `deployEndpoint`: a model to a real-time, serverless or async endpoint, in MLflow's three
 * modes, with the safety MLflow lacks:
 *
 * - `create` (the endpoint must not exist), `replace` (a new config whose only variant is the new
 *   model) and `add` (the old variants at their current weights plus the new one at weight 0, or
 *   `initialWeight`), then optionally a traffic shift.
 * - Everything created is recorded in order; when any step fails (a refused call, SageMaker's
 *   Failed, an UpdateEndpoint that SageMaker rolled back, a timeout of a create) exactly those
 *   resources are removed again, newest first, and the error says why and what was removed.
 * - An update is a success only when the endpoint is InService *with the new config*; InService
 *   with the old one is SageMaker's automatic rollback, reported with its FailureReason.
 * - After a success the superseded config goes, and for `replace` the superseded models with
 *   their S3 archives and scaling targets (only those mlmodel made for this endpoint).
 * - `dryRun` makes the reads and returns the planned mutating calls instead of making them.
 */
import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type DescribeScalableTargetsCommandOutput,
  type DescribeScalingPoliciesCommandOutput,
  type ScalableTarget,
  type ScalingPolicy,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  type AsyncInferenceConfig,
  type DataCaptureConfig,
  type DescribeEndpointCommandOutput,
  type DescribeEndpointConfigCommandOutput,
  type ProductionVariant,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import type { ModelUriResolver } from '@mlmodel/format';
import { isNotFound, type AwsSession, type PlannedCall } from './clients.js';
import { removeConfigIfOurs, removeModelAndArchive, removeResource, rollback, scalableTargetId, SCALABLE_DIMENSION } from './cleanup.js';
import { DeploymentFailedError, DeployTimeoutError, SageMakerDeployError } from './errors.js';
import { modelArchiveKey, checkName, uniqueName } from './naming.js';
import { CreatedResources, TAG_CREATED_BY, TAG_ENDPOINT, TAG_MODEL_URI, tagValue, type ResourceRef } from './resources.js';
import { callerIdentity, createModelArchive, defaultBucketFor, ensureBucket, executionRoleFor, resolveImage, resolveModel, uploadArchive } from './setup.js';
import { applyTraffic } from './traffic.js';
import { waitFor, type WaitSettings } from './waiter.js';

export type DeployMode = 'create' | 'replace' | 'add';

export interface AutoScalingOptions {
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Target of the SageMakerVariantInvocationsPerInstance tracking policy (per minute). */
  readonly targetInvocationsPerInstance: number;
  readonly scaleInCooldownSeconds?: number;
  readonly scaleOutCooldownSeconds?: number;
}

export interface EndpointOptions {
  readonly endpointName: string;
  /** A model directory, its MLmodel file, or a URI the resolver turns into one. */
  readonly model: string;
  readonly resolver?: ModelUriResolver;
  readonly mode: DeployMode;
  /** The image; default: ECR `repository` (default mlmodel-<model dir>) with the tag build-and-push gives this model. */
  readonly imageUrl?: string;
  readonly repository?: string;
  readonly imageTag?: string;
  readonly executionRoleArn?: string;
  /** Default mlmodel-sagemaker-<region>-<account> (created when missing). */
  readonly bucket?: string;
  /** Default v<N+1> (v1 for a new endpoint). */
  readonly variantName?: string;
  readonly instanceType?: string;
  readonly instanceCount?: number;
  readonly serverless?: { readonly memorySizeMb: number; readonly maxConcurrency: number };
  /** Async inference: results under `outputPath`, failures under `failurePath` (default `<outputPath>/failures`). */
  readonly asyncInference?: { readonly outputPath: string; readonly failurePath?: string; readonly maxConcurrentInvocationsPerInstance?: number };
  readonly dataCapture?: { readonly destination: string; readonly samplingPercent?: number };
  readonly vpc?: { readonly subnets: readonly string[]; readonly securityGroupIds: readonly string[] };
  readonly env?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
  /** `add` mode: the new variant's weight (default 0: no traffic until shifted). */
  readonly initialWeight?: number;
  /** After the deploy: variant → weight (`--traffic v1=90,v2=10`). */
  readonly traffic?: Readonly<Record<string, number>>;
  readonly autoScaling?: AutoScalingOptions;
  /** Keep superseded configs, models and archives (MLflow's archive=True). */
  readonly keepSuperseded?: boolean;
  readonly wait?: WaitSettings;
  /**
   * How long a failed create's rollback waits for the endpoint to leave Creating, since SageMaker
   * refuses to delete it before (default: `wait.timeoutMs`).
   */
  readonly cleanupTimeoutMs?: number;
  readonly onStatus?: (line: string) => void;
}

export interface DeployResult {
  readonly endpointName: string;
  readonly mode: DeployMode;
  readonly status: string;
  readonly endpointConfigName: string;
  readonly modelName: string;
  readonly variantName: string;
  readonly image: string;
  readonly modelDataUrl: string;
  readonly archiveSha256: string;
  readonly created: readonly ResourceRef[];
  /** Superseded resources removed after the update. */
  readonly cleanedUp: readonly ResourceRef[];
  readonly dryRun: boolean;
  /** Every mutating call, in order (planned in dry-run). */
  readonly calls: readonly PlannedCall[];
  readonly durationMs: number;
}

export const DEFAULT_INSTANCE_TYPE = 'ml.m5.large';

const TRANSITIONAL = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

export async function describeEndpoint(session: AwsSession, name: string): Promise<DescribeEndpointCommandOutput | null> {
  try {
    return await session.send<DescribeEndpointCommandOutput>('sagemaker', new DescribeEndpointCommand({ EndpointName: name }));
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function checkOptions(o: EndpointOptions): void {
  checkName(o.endpointName, 'endpoint name');
  if (o.variantName !== undefined) checkName(o.variantName, 'variant name');
  if (o.serverless && o.asyncInference) throw new SageMakerDeployError('serverless and async inference cannot be combined: pick one');
  if (o.serverless && (o.instanceType || o.instanceCount !== undefined))
    throw new SageMakerDeployError('a serverless endpoint has no instance type or count: drop --instance-type/--instance-count');
  if (o.serverless && o.autoScaling) throw new SageMakerDeployError('a serverless endpoint scales by itself: drop the auto-scaling options');
  if (o.serverless) {
    const { memorySizeMb: m, maxConcurrency: c } = o.serverless;
    if (![1024, 2048, 3072, 4096, 5120, 6144].includes(m))
      throw new SageMakerDeployError(`--serverless-memory must be 1024, 2048, 3072, 4096, 5120 or 6144 (MB), got ${m}`);
    if (!Number.isInteger(c) || c < 1 || c > 200) throw new SageMakerDeployError(`--serverless-concurrency must be an integer from 1 to 200, got ${c}`);
  }
  if (o.instanceCount !== undefined && (!Number.isInteger(o.instanceCount) || o.instanceCount < 1))
    throw new SageMakerDeployError(`--instance-count must be a positive integer, got ${o.instanceCount}`);
  if (o.asyncInference && !/^s3:\/\/[^/]+/.test(o.asyncInference.outputPath))
    throw new SageMakerDeployError(`--async-output-path must be an s3:// URI, got ${o.asyncInference.outputPath}`);
  if (o.asyncInference?.failurePath !== undefined && !/^s3:\/\/[^/]+/.test(o.asyncInference.failurePath))
    throw new SageMakerDeployError(`--async-failure-path must be an s3:// URI, got ${o.asyncInference.failurePath}`);
  if (o.cleanupTimeoutMs !== undefined && !(o.cleanupTimeoutMs > 0))
    throw new SageMakerDeployError(`--cleanup-timeout must be positive, got ${o.cleanupTimeoutMs}`);
  const pct = o.dataCapture?.samplingPercent;
  if (pct !== undefined && !(Number.isInteger(pct) && pct >= 0 && pct <= 100))
    throw new SageMakerDeployError(`--data-capture-percent must be an integer from 0 to 100, got ${pct}`);
  if (o.dataCapture && !/^s3:\/\/[^/]+/.test(o.dataCapture.destination))
    throw new SageMakerDeployError(`--data-capture must be an s3:// URI, got ${o.dataCapture.destination}`);
  if (o.autoScaling) {
    const a = o.autoScaling;
    if (!Number.isInteger(a.minInstances) || a.minInstances < 1 || !Number.isInteger(a.maxInstances) || a.maxInstances < a.minInstances) {
      throw new SageMakerDeployError(`auto-scaling needs 1 <= --min-instances <= --max-instances (integers), got ${a.minInstances}..${a.maxInstances}`);
    }
    if (!(a.targetInvocationsPerInstance > 0))
      throw new SageMakerDeployError(`--target-invocations must be a positive number, got ${a.targetInvocationsPerInstance}`);
  }
  if (o.initialWeight !== undefined && !(o.initialWeight >= 0)) throw new SageMakerDeployError(`--initial-weight must be >= 0, got ${o.initialWeight}`);
  if (o.mode !== 'add' && o.initialWeight !== undefined) throw new SageMakerDeployError('--initial-weight only applies to --mode add');
  for (const k of Object.keys(o.tags ?? {})) if (k.startsWith('mlmodel:') || k.startsWith('aws:')) throw new SageMakerDeployError(`tag key ${k} is reserved`);
  checkTags(o.tags ?? {});
  checkEnv(o.env ?? {});
}

/** ContainerDefinition.Environment: keys `[a-zA-Z_][a-zA-Z0-9_]*`, each key and value ≤1024 bytes, ≤32 KB in all. */
function checkEnv(env: Readonly<Record<string, string>>): void {
  let total = 0;
  for (const [k, v] of Object.entries(env)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || Buffer.byteLength(k) > 1024)
      throw new SageMakerDeployError(`--env key ${JSON.stringify(k.slice(0, 64))} is invalid: up to 1024 letters, digits and _, not starting with a digit`);
    if (Buffer.byteLength(v) > 1024) throw new SageMakerDeployError(`--env ${k} is ${Buffer.byteLength(v)} bytes long: SageMaker takes at most 1024 per value`);
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > 32 * 1024) throw new SageMakerDeployError(`the --env variables are ${total} bytes in all: SageMaker takes at most 32 KB`);
}

/** SageMaker's tag rules (checked before anything is created): at most 50 tags, 3 of them mlmodel's. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_USER_TAGS = 47;
function checkTags(tags: Readonly<Record<string, string>>): void {
  const entries = Object.entries(tags);
  if (entries.length > MAX_USER_TAGS)
    throw new SageMakerDeployError(
      `--tag given ${entries.length} times: SageMaker allows 50 tags per resource and mlmodel sets 3, so at most ${MAX_USER_TAGS}`,
    );
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128 || !TAG_CHARS.test(k))
      throw new SageMakerDeployError(`tag key ${JSON.stringify(k)} is invalid: 1-128 letters, digits, spaces and _ . : / = + - @`);
    if (v.length > 256 || !TAG_CHARS.test(v))
      throw new SageMakerDeployError(`tag ${k}'s value is invalid: at most 256 letters, digits, spaces and _ . : / = + - @ (got ${v.length} characters)`);
  }
}

/** The next free `v<N>` among the variant names. */
export function nextVariantName(existing: readonly string[]): string {
  let n = 0;
  for (const v of existing) {
    const m = /^v(\d+)$/.exec(v);
    if (m) n = Math.max(n, Number(m[1]));
  }
  let candidate = `v${n + 1}`;
  while (existing.includes(candidate)) candidate = `v${++n + 1}`;
  return candidate;
}

/** Wait for an endpoint to leave its transitional states. */
export async function waitEndpointSettled(
  session: AwsSession,
  name: string,
  what: string,
  wait: WaitSettings,
  onStatus?: (l: string) => void,
): Promise<DescribeEndpointCommandOutput> {
  return waitFor(
    what,
    async () => (await describeEndpoint(session, name)) ?? ({ EndpointStatus: 'Missing' } as unknown as DescribeEndpointCommandOutput),
    (d) => !TRANSITIONAL.has(d.EndpointStatus ?? ''),
    (d) => d.EndpointStatus ?? 'unknown',
    wait,
    onStatus,
  );
}

export async function registerAutoScaling(
  session: AwsSession,
  endpoint: string,
  variant: string,
  a: AutoScalingOptions,
  created: CreatedResources | null,
  onStatus?: (l: string) => void,
): Promise<void> {
  const resourceId = scalableTargetId(endpoint, variant);
  onStatus?.(`auto-scaling ${variant}: ${a.minInstances}-${a.maxInstances} instances, target ${a.targetInvocationsPerInstance} invocations per instance`);
  await session.send(
    'autoscaling',
    new RegisterScalableTargetCommand({
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: SCALABLE_DIMENSION,
      MinCapacity: a.minInstances,
      MaxCapacity: a.maxInstances,
    }),
  );
  created?.add('scalable-target', resourceId);
  await session.send(
    'autoscaling',
    new PutScalingPolicyCommand({
      PolicyName: `${endpoint}-${variant}-invocations`.slice(0, 256),
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: SCALABLE_DIMENSION,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: a.targetInvocationsPerInstance,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: a.scaleInCooldownSeconds ?? 300,
        ScaleOutCooldown: a.scaleOutCooldownSeconds ?? 60,
      },
    }),
  );
}

/**
 * What the update made obsolete: the old config; for `replace` also the old variants' scaling
 * targets, models and S3 archives (models only when mlmodel made them for this endpoint).
 * Failures are reported on the status line, not thrown: the endpoint already serves the new config.
 */
async function removeSuperseded(
  session: AwsSession,
  name: string,
  mode: DeployMode,
  oldConfig: DescribeEndpointConfigCommandOutput,
  newVariant: string,
  wait: WaitSettings,
  status: (l: string) => void,
  deregistered: readonly string[] = [],
): Promise<ResourceRef[]> {
  // scalable targets deregistered before the update (see suspendAutoScaling) are gone already
  const removed: ResourceRef[] = deregistered.map((id) => ({ kind: 'scalable-target', name: id }));
  const old = oldConfig.ProductionVariants ?? [];
  try {
    if (mode === 'replace') {
      const ids = old
        .filter((v) => v.VariantName !== newVariant)
        .map((v) => scalableTargetId(name, v.VariantName!))
        .filter((id) => !deregistered.includes(id));
      if (ids.length > 0) {
        const targets = await session.send<DescribeScalableTargetsCommandOutput>(
          'autoscaling',
          new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: ids }),
        );
        for (const t of targets.ScalableTargets ?? []) {
          await removeResource(session, { kind: 'scalable-target', name: t.ResourceId! }, wait);
          removed.push({ kind: 'scalable-target', name: t.ResourceId! });
        }
      }
    }
    const c = await removeConfigIfOurs(session, oldConfig, name, wait);
    removed.push(...c.removed);
    for (const k of c.kept) status(`kept ${k.kind} ${k.name}: mlmodel did not create it for ${name}`);
    if (mode === 'replace') {
      for (const v of old) {
        const r = await removeModelAndArchive(session, v.ModelName!, name);
        removed.push(...r.removed);
        for (const k of r.kept) status(`kept ${k.kind} ${k.name}: mlmodel did not create it for ${name}`);
      }
    }
  } catch (e) {
    status(`warning: could not remove every superseded resource: ${(e as Error).message}`);
  }
  return removed;
}

/**
 * SageMaker refuses an UpdateEndpoint that removes a variant registered for auto-scaling or changes
 * its instance type ("Update endpoints that use auto scaling"): such targets are deregistered
 * first (their policies go with them) and returned, so that a failed update can restore them.
 */
async function suspendAutoScaling(
  session: AwsSession,
  endpoint: string,
  oldVariants: readonly ProductionVariant[],
  newVariants: readonly ProductionVariant[],
  wait: WaitSettings,
  status: (l: string) => void,
): Promise<{ target: ScalableTarget; policies: ScalingPolicy[] }[]> {
  const ids = oldVariants
    .filter((v) => {
      const next = newVariants.find((n) => n.VariantName === v.VariantName);
      return !next || next.InstanceType !== v.InstanceType;
    })
    .map((v) => scalableTargetId(endpoint, v.VariantName!));
  if (ids.length === 0) return [];
  const found = await session.send<DescribeScalableTargetsCommandOutput>(
    'autoscaling',
    new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: ids }),
  );
  const out: { target: ScalableTarget; policies: ScalingPolicy[] }[] = [];
  for (const target of found.ScalableTargets ?? []) {
    const p = await session.send<DescribeScalingPoliciesCommandOutput>(
      'autoscaling',
      new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: target.ResourceId!, ScalableDimension: SCALABLE_DIMENSION }),
    );
    status(`deregistering scalable target ${target.ResourceId}: SageMaker refuses an update that removes or resizes an auto-scaled variant`);
    await removeResource(session, { kind: 'scalable-target', name: target.ResourceId! }, wait);
    out.push({ target, policies: p.ScalingPolicies ?? [] });
  }
  return out;
}

/** Put suspended auto-scaling back (the update failed, so the old variants serve again). */
async function restoreAutoScaling(
  session: AwsSession,
  suspended: readonly { target: ScalableTarget; policies: ScalingPolicy[] }[],
  status: (l: string) => void,
): Promise<void> {
  for (const { target, policies } of suspended) {
    try {
      await session.send(
        'autoscaling',
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId: target.ResourceId!,
          ScalableDimension: SCALABLE_DIMENSION,
          MinCapacity: target.MinCapacity,
          MaxCapacity: target.MaxCapacity,
        }),
      );
      for (const p of policies) {
        await session.send(
          'autoscaling',
          new PutScalingPolicyCommand({
            PolicyName: p.PolicyName!,
            ServiceNamespace: 'sagemaker',
            ResourceId: target.ResourceId!,
            ScalableDimension: SCALABLE_DIMENSION,
            PolicyType: p.PolicyType,
            ...(p.TargetTrackingScalingPolicyConfiguration ? { TargetTrackingScalingPolicyConfiguration: p.TargetTrackingScalingPolicyConfiguration } : {}),
            ...(p.StepScalingPolicyConfiguration ? { StepScalingPolicyConfiguration: p.StepScalingPolicyConfiguration } : {}),
          }),
        );
      }
      status(`restored the auto-scaling of ${target.ResourceId}`);
    } catch (e) {
      status(
        `warning: could not restore the auto-scaling of ${target.ResourceId} (${target.MinCapacity}-${target.MaxCapacity} instances): ${(e as Error).message}`,
      );
    }
  }
}

export async function deployEndpoint(session: AwsSession, o: EndpointOptions): Promise<DeployResult> {
  const started = performance.now();
  checkOptions(o);
  const wait = o.wait ?? {};
  const status = o.onStatus ?? (() => undefined);
  const name = o.endpointName;

  // reads first: nothing is created before every check has passed
  const identity = await callerIdentity(session);
  const region = await session.region();
  const role = executionRoleFor(identity, o.executionRoleArn);
  const model = await resolveModel(o.model, o.resolver);
  const archive = await createModelArchive(model.dir);
  const image = await resolveImage(session, {
    ...(o.imageUrl ? { imageUrl: o.imageUrl } : {}),
    ...(o.repository ? { repository: o.repository } : {}),
    tag: o.imageTag ?? `model-${archive.sha256.slice(0, 12)}`,
    modelName: model.name,
  });
  const existing = await describeEndpoint(session, name);
  let oldConfig: DescribeEndpointConfigCommandOutput | null = null;
  if (o.mode === 'create') {
    if (existing)
      throw new SageMakerDeployError(`endpoint ${name} already exists (${existing.EndpointStatus}): use \`update\` (--mode replace or add) or delete it first`);
  } else {
    if (!existing) throw new SageMakerDeployError(`endpoint ${name} does not exist in ${region}: use \`create\``);
    if (existing.EndpointStatus !== 'InService') {
      throw new SageMakerDeployError(
        `endpoint ${name} is ${existing.EndpointStatus}${existing.FailureReason ? ` (${existing.FailureReason})` : ''}: it can be updated only when InService${existing.EndpointStatus === 'Failed' ? '; delete it and create it again' : '; wait and retry'}`,
      );
    }
    oldConfig = await session.send<DescribeEndpointConfigCommandOutput>(
      'sagemaker',
      new DescribeEndpointConfigCommand({ EndpointConfigName: existing.EndpointConfigName! }),
    );
  }
  const oldVariants = oldConfig?.ProductionVariants ?? [];
  const variantName = o.variantName ?? nextVariantName(oldVariants.map((v) => v.VariantName ?? ''));
  if (o.mode === 'add' && oldVariants.some((v) => v.VariantName === variantName)) {
    throw new SageMakerDeployError(`endpoint ${name} already has a variant ${variantName}: pick another --variant-name`);
  }
  if (o.traffic) {
    const after = o.mode === 'add' ? [...oldVariants.map((v) => v.VariantName!), variantName] : [variantName];
    for (const v of Object.keys(o.traffic))
      if (!after.includes(v)) throw new SageMakerDeployError(`--traffic names variant ${v}, but the endpoint will have ${after.join(', ')}`);
  }
  const bucket = o.bucket ?? (await defaultBucketFor(session, identity));
  const modelName = uniqueName(name, 'model');
  const configName = uniqueName(name, 'config');
  const ownTags = { [TAG_ENDPOINT]: name, [TAG_MODEL_URI]: tagValue(model.uri), [TAG_CREATED_BY]: 'mlmodel deploy sagemaker' };
  const tags = tagList({ ...(o.tags ?? {}), ...ownTags });

  // endpoint-level settings: given, else (update) the ones the endpoint has now, so that an update
  // does not silently turn an async endpoint into a real-time one or stop its data capture
  const asyncConfig: AsyncInferenceConfig | undefined = o.asyncInference
    ? {
        OutputConfig: {
          S3OutputPath: o.asyncInference.outputPath,
          S3FailurePath: o.asyncInference.failurePath ?? `${o.asyncInference.outputPath.replace(/\/+$/, '')}/failures`,
        },
        ...(o.asyncInference.maxConcurrentInvocationsPerInstance
          ? { ClientConfig: { MaxConcurrentInvocationsPerInstance: o.asyncInference.maxConcurrentInvocationsPerInstance } }
          : {}),
      }
    : oldConfig?.AsyncInferenceConfig;
  const captureConfig: DataCaptureConfig | undefined = o.dataCapture
    ? {
        EnableCapture: true,
        InitialSamplingPercentage: o.dataCapture.samplingPercent ?? 100,
        DestinationS3Uri: o.dataCapture.destination,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      }
    : oldConfig?.DataCaptureConfig;
  // capacity: given, else (update) that of the newest old variant, so that an update of a
  // serverless endpoint does not turn it into a provisioned ml.m5.large one (or vice versa)
  const template = oldVariants.at(-1);
  const capacityGiven = o.serverless !== undefined || o.instanceType !== undefined || o.instanceCount !== undefined;
  const keptServerless = !capacityGiven ? template?.ServerlessConfig : undefined;
  const serverless =
    o.serverless ?? (keptServerless ? { memorySizeMb: keptServerless.MemorySizeInMB ?? 2048, maxConcurrency: keptServerless.MaxConcurrency ?? 5 } : undefined);
  const instanceType = o.instanceType ?? (!capacityGiven ? template?.InstanceType : undefined) ?? DEFAULT_INSTANCE_TYPE;
  const instanceCount = o.instanceCount ?? (!capacityGiven ? template?.InitialInstanceCount : undefined) ?? 1;
  if (!capacityGiven && template) {
    status(
      serverless
        ? `keeping the endpoint's serverless capacity (${serverless.memorySizeMb} MB, concurrency ${serverless.maxConcurrency}; --serverless-memory or --instance-type to change it)`
        : `keeping the endpoint's capacity (${instanceCount} × ${instanceType}; --instance-type/--instance-count or --serverless-memory to change it)`,
    );
  }
  if (serverless && o.autoScaling) throw new SageMakerDeployError('a serverless endpoint scales by itself: drop the auto-scaling options');
  if (serverless && asyncConfig) throw new SageMakerDeployError(`endpoint ${name} is asynchronous: a serverless variant cannot be added to it`);
  if (!o.asyncInference && asyncConfig) status(`keeping the endpoint's async inference (results under ${asyncConfig.OutputConfig?.S3OutputPath ?? '?'})`);
  if (!o.dataCapture && captureConfig) status(`keeping the endpoint's data capture (to ${captureConfig.DestinationS3Uri ?? '?'})`);

  const created = new CreatedResources();
  // auto-scaling taken off old variants for the update (SageMaker refuses it otherwise): put back on failure
  const suspended: { target: ScalableTarget; policies: ScalingPolicy[] }[] = [];
  const fail = async (e: unknown, what: { failureReason?: string | null; rolledBack?: boolean } = {}): Promise<never> => {
    status(`deploy failed: ${(e as Error).message}; removing what it created`);
    const cleanupWait = o.cleanupTimeoutMs !== undefined ? { ...wait, timeoutMs: o.cleanupTimeoutMs } : wait;
    const cleanup = await rollback(session, created.list(), cleanupWait, status);
    await restoreAutoScaling(session, suspended, status);
    const message = e instanceof Error ? e.message : String(e);
    throw new DeploymentFailedError(message, { endpointName: name, ...what, cleanup, cause: e });
  };

  try {
    await ensureBucket(session, bucket, region, created, status);
    const modelDataUrl = await uploadArchive(session, bucket, modelArchiveKey(name, modelName), archive, ownTags, created, status);
    status(`creating model ${modelName} (image ${image})`);
    await session.send(
      'sagemaker',
      new CreateModelCommand({
        ModelName: modelName,
        ExecutionRoleArn: role,
        PrimaryContainer: {
          Image: image,
          ModelDataUrl: modelDataUrl,
          Environment: { SERVING_ENVIRONMENT: 'SageMaker', ...(o.env ?? {}) },
        },
        ...(o.vpc ? { VpcConfig: { Subnets: [...o.vpc.subnets], SecurityGroupIds: [...o.vpc.securityGroupIds] } } : {}),
        Tags: tags,
      }),
    );
    created.add('model', modelName);

    const newVariant: ProductionVariant = {
      VariantName: variantName,
      ModelName: modelName,
      InitialVariantWeight: o.mode === 'add' ? (o.initialWeight ?? 0) : 1,
      ...(serverless
        ? { ServerlessConfig: { MemorySizeInMB: serverless.memorySizeMb, MaxConcurrency: serverless.maxConcurrency } }
        : { InstanceType: instanceType as ProductionVariant['InstanceType'], InitialInstanceCount: instanceCount }),
    };
    let variants: ProductionVariant[] = [newVariant];
    if (o.mode === 'add') {
      // the old variants keep the weights they serve with now
      const current = new Map((existing?.ProductionVariants ?? []).map((v) => [v.VariantName, v]));
      variants = [
        ...oldVariants.map((v) => ({ ...v, InitialVariantWeight: current.get(v.VariantName)?.CurrentWeight ?? v.InitialVariantWeight ?? 1 })),
        newVariant,
      ];
    }
    status(`creating endpoint config ${configName} (${variants.map((v) => `${v.VariantName}=${v.InitialVariantWeight}`).join(', ')})`);
    await session.send(
      'sagemaker',
      new CreateEndpointConfigCommand({
        EndpointConfigName: configName,
        ProductionVariants: variants,
        ...(asyncConfig ? { AsyncInferenceConfig: asyncConfig } : {}),
        ...(captureConfig ? { DataCaptureConfig: captureConfig } : {}),
        Tags: tags,
      }),
    );
    created.add('endpoint-config', configName);

    if (o.mode === 'create') {
      status(`creating endpoint ${name}`);
      await session.send('sagemaker', new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: configName, Tags: tags }));
      created.add('endpoint', name);
    } else {
      suspended.push(...(await suspendAutoScaling(session, name, oldVariants, variants, wait, status)));
      status(`updating endpoint ${name} to ${configName}`);
      await session.send('sagemaker', new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: configName }));
    }
  } catch (e) {
    return await fail(e);
  }

  const modelDataUrl = created.list().find((r) => r.kind === 's3-object')?.name ?? '';
  const result = (finalStatus: string, cleanedUp: ResourceRef[]): DeployResult => ({
    endpointName: name,
    mode: o.mode,
    status: finalStatus,
    endpointConfigName: configName,
    modelName,
    variantName,
    image,
    modelDataUrl,
    archiveSha256: archive.sha256,
    created: created.list(),
    cleanedUp,
    dryRun: session.dryRun,
    calls: [...session.calls],
    durationMs: performance.now() - started,
  });
  // what the new config supersedes (planned in a dry run, removed after a success)
  const removeSupersededOnce = async (): Promise<ResourceRef[]> =>
    oldConfig && !o.keepSuperseded
      ? removeSuperseded(
          session,
          name,
          o.mode,
          oldConfig,
          variantName,
          wait,
          status,
          suspended.map((x) => x.target.ResourceId!),
        )
      : [];
  if (session.dryRun) {
    if (o.autoScaling) await registerAutoScaling(session, name, variantName, o.autoScaling, null);
    const planned = await removeSupersededOnce();
    if (o.traffic) {
      await session.send(
        'sagemaker',
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: name,
          DesiredWeightsAndCapacities: Object.entries(o.traffic).map(([VariantName, DesiredWeight]) => ({ VariantName, DesiredWeight })),
        }),
      );
    }
    return result('planned', planned);
  }

  // wait: InService with the new config is the only success
  let final: DescribeEndpointCommandOutput;
  try {
    final = await waitEndpointSettled(session, name, o.mode === 'create' ? `creating endpoint ${name}` : `updating endpoint ${name}`, wait, status);
  } catch (e) {
    if (e instanceof DeployTimeoutError && o.mode !== 'create') {
      // SageMaker cannot cancel an update: the new config may still go live, so it stays
      const off = suspended.map((x) => x.target.ResourceId).join(', ');
      throw new DeploymentFailedError(
        `${e.message}; the update is still in progress, so ${configName} and ${modelName} were kept${off ? ` and the auto-scaling of ${off} stays off` : ''}: run \`mlmodel deploy sagemaker status -n ${name}\` and, when it has settled, update or delete again (superseded resources are then cleaned up)`,
        { endpointName: name, cause: e },
      );
    }
    return await fail(e);
  }
  if (final.EndpointStatus !== 'InService') {
    return await fail(new SageMakerDeployError(`endpoint ${name} ended ${final.EndpointStatus}: ${final.FailureReason ?? 'SageMaker gave no reason'}`), {
      failureReason: final.FailureReason ?? null,
    });
  }
  if (final.EndpointConfigName !== configName) {
    // SageMaker rolled the update back: the old config serves again; ours must go
    return await fail(
      new SageMakerDeployError(
        `SageMaker rolled the update of ${name} back to ${final.EndpointConfigName}: ${final.FailureReason ?? 'no FailureReason given'}`,
      ),
      { failureReason: final.FailureReason ?? null, rolledBack: true },
    );
  }

  if (o.autoScaling) {
    try {
      await registerAutoScaling(session, name, variantName, o.autoScaling, created, status);
    } catch (e) {
      if (o.mode === 'create') return await fail(e);
      throw new DeploymentFailedError(`endpoint ${name} now serves ${configName}, but its auto-scaling could not be set: ${(e as Error).message}`, {
        endpointName: name,
        cause: e,
      });
    }
  }

  const cleanedUp = await removeSupersededOnce();
  if (o.traffic) {
    try {
      await applyTraffic(session, name, o.traffic, wait, status);
    } catch (e) {
      throw new DeploymentFailedError(`endpoint ${name} now serves ${configName}, but shifting traffic failed: ${(e as Error).message}`, {
        endpointName: name,
        cause: e,
      });
    }
  }
  return result('InService', cleanedUp);
}
