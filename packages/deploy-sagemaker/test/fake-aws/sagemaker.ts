/**
 * The fake SageMaker control plane (AWS JSON 1.1, `X-Amz-Target: SageMaker.<Operation>`), the
 * runtime's InvokeEndpoint (REST, forwarded to a real container) and transform jobs (run
 * against a real container the way SageMaker does: /execution-parameters first, input split by
 * line, batched by strategy and payload, outputs assembled by line). Endpoints move through
 * Creating/Updating/Deleting for a number of DescribeEndpoint polls the test sets, and end as the
 * test says: InService, Failed with a reason, rolled back with a reason, or never. As SageMaker
 * does, DeleteEndpoint is refused while an endpoint is Creating, Updating, SystemUpdating or
 * RollingBack. InvokeEndpointAsync (REST, 202) queues the request: after a delay it reads the
 * input from S3, runs it against the real container and writes the output, or the failure,
 * to S3 under the endpoint config's AsyncInferenceConfig paths.
 * FAKE: a test double of AWS, not SageMaker.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { AwsFault, epochSeconds } from './protocol.js';
import { arn, type FakeContext } from './context.js';
import type { FakeAsyncInvocation, FakeEndpoint, FakeEndpointConfig, FakeLiveVariant, FakeTag, FakeTransformJob, Outcome } from './state.js';

type Params = Record<string, unknown>;

const notFound = (what: string, a: string): AwsFault => new AwsFault('ValidationException', `Could not find ${what} "${a}".`);

function tagsOf(p: Params): FakeTag[] {
  return ((p.Tags as FakeTag[] | undefined) ?? []).map((t) => ({ Key: t.Key, Value: t.Value }));
}

function liveVariants(config: FakeEndpointConfig, previous: FakeLiveVariant[] = []): FakeLiveVariant[] {
  return config.ProductionVariants.map((v) => {
    const w = v.InitialVariantWeight ?? 1;
    const old = previous.find((p) => p.VariantName === v.VariantName);
    return {
      VariantName: v.VariantName,
      CurrentWeight: w,
      DesiredWeight: w,
      ...(v.ServerlessConfig
        ? { CurrentServerlessConfig: { ...v.ServerlessConfig } }
        : { CurrentInstanceCount: v.InitialInstanceCount ?? old?.CurrentInstanceCount ?? 1, DesiredInstanceCount: v.InitialInstanceCount ?? 1 }),
    };
  });
}

/** One poll of an endpoint in transition: count down, then end as planned. */
function advance(ctx: FakeContext, e: FakeEndpoint): void {
  const p = e.pending;
  if (!p) return;
  if (p.outcome.kind === 'never') return;
  if (p.pollsLeft > 0) {
    p.pollsLeft--;
    return;
  }
  e.pending = undefined;
  e.LastModifiedTime = epochSeconds();
  if (e.EndpointStatus === 'Deleting') {
    ctx.state.endpoints.delete(e.EndpointName);
    ctx.state.tags.delete(e.EndpointArn);
    return;
  }
  if (p.outcome.kind === 'fail') {
    e.EndpointStatus = 'Failed';
    e.FailureReason = p.outcome.reason;
    return;
  }
  if (p.outcome.kind === 'rollback') {
    // SageMaker's automatic rollback: in service again, on the old config, with the reason
    e.EndpointStatus = 'InService';
    e.FailureReason = p.outcome.reason;
    return;
  }
  e.EndpointStatus = 'InService';
  delete e.FailureReason;
  if (p.targetConfig) {
    const config = ctx.state.endpointConfigs.get(p.targetConfig);
    e.EndpointConfigName = p.targetConfig;
    if (config) e.ProductionVariants = liveVariants(config, e.ProductionVariants);
  }
  if (p.weights) {
    for (const v of e.ProductionVariants) {
      if (v.VariantName in p.weights) {
        v.CurrentWeight = p.weights[v.VariantName]!;
        v.DesiredWeight = p.weights[v.VariantName]!;
      }
    }
  }
}

function endpointOut(ctx: FakeContext, e: FakeEndpoint): Params {
  const asyncConfig = ctx.state.endpointConfigs.get(e.EndpointConfigName)?.AsyncInferenceConfig;
  return {
    EndpointName: e.EndpointName,
    EndpointArn: e.EndpointArn,
    EndpointConfigName: e.EndpointConfigName,
    EndpointStatus: e.EndpointStatus,
    ...(e.FailureReason ? { FailureReason: e.FailureReason } : {}),
    ProductionVariants: e.EndpointStatus === 'Creating' || e.EndpointStatus === 'Failed' ? [] : e.ProductionVariants,
    ...(asyncConfig ? { AsyncInferenceConfig: asyncConfig } : {}),
    CreationTime: e.CreationTime,
    LastModifiedTime: e.LastModifiedTime,
  };
}

/** States in which SageMaker refuses DeleteEndpoint (and UpdateEndpoint) with "Cannot update in-progress endpoint". */
const IN_PROGRESS = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

function consume(list: Outcome[]): Outcome {
  return list.shift() ?? { kind: 'ok' };
}

export function sagemakerControl(ctx: FakeContext, region: string, op: string, p: Params): Params {
  const s = ctx.state;
  const str = (k: string): string => {
    const v = p[k];
    if (typeof v !== 'string' || v === '')
      throw new AwsFault(
        'ValidationException',
        `1 validation error detected: Value null at '${k.charAt(0).toLowerCase()}${k.slice(1)}' failed to satisfy constraint: Member must not be null`,
      );
    return v;
  };
  switch (op) {
    case 'CreateModel': {
      const name = str('ModelName');
      const a = arn(ctx, region, 'sagemaker', `model/${name.toLowerCase()}`);
      if (s.models.has(name)) throw new AwsFault('ValidationException', `Cannot create already existing model "${a}".`);
      const pc = p.PrimaryContainer as { Image?: string; ModelDataUrl?: string };
      if (!pc?.Image) throw new AwsFault('ValidationException', 'PrimaryContainer.Image is required');
      if (pc.ModelDataUrl) {
        const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(pc.ModelDataUrl);
        if (!m || !s.buckets.get(m[1]!)?.objects.has(m[2]!)) throw new AwsFault('ValidationException', `Could not find model data at ${pc.ModelDataUrl}.`);
      }
      s.models.set(name, {
        ModelName: name,
        ModelArn: a,
        ExecutionRoleArn: str('ExecutionRoleArn'),
        PrimaryContainer: p.PrimaryContainer as never,
        ...(p.VpcConfig ? { VpcConfig: p.VpcConfig } : {}),
        CreationTime: epochSeconds(),
      });
      s.tags.set(a, tagsOf(p));
      return { ModelArn: a };
    }
    case 'DescribeModel': {
      const name = str('ModelName');
      const m = s.models.get(name);
      if (!m) throw notFound('model', arn(ctx, region, 'sagemaker', `model/${name.toLowerCase()}`));
      return { ...m };
    }
    case 'DeleteModel': {
      const name = str('ModelName');
      const m = s.models.get(name);
      if (!m) throw notFound('model', arn(ctx, region, 'sagemaker', `model/${name.toLowerCase()}`));
      s.models.delete(name);
      s.tags.delete(m.ModelArn);
      return {};
    }
    case 'CreateEndpointConfig': {
      const name = str('EndpointConfigName');
      const a = arn(ctx, region, 'sagemaker', `endpoint-config/${name.toLowerCase()}`);
      if (s.endpointConfigs.has(name)) throw new AwsFault('ValidationException', `Cannot create already existing endpoint configuration "${a}".`);
      const variants = (p.ProductionVariants as FakeEndpointConfig['ProductionVariants']) ?? [];
      if (variants.length === 0) throw new AwsFault('ValidationException', 'ProductionVariants must have at least 1 element');
      const names = new Set<string>();
      for (const v of variants) {
        if (!s.models.has(v.ModelName)) throw notFound('model', arn(ctx, region, 'sagemaker', `model/${v.ModelName.toLowerCase()}`));
        if (names.has(v.VariantName)) throw new AwsFault('ValidationException', `Duplicate variant name ${v.VariantName}`);
        names.add(v.VariantName);
        if (!v.ServerlessConfig && !v.InstanceType)
          throw new AwsFault('ValidationException', `Variant ${v.VariantName} needs an InstanceType or a ServerlessConfig`);
      }
      s.endpointConfigs.set(name, {
        EndpointConfigName: name,
        EndpointConfigArn: a,
        ProductionVariants: variants,
        ...(p.AsyncInferenceConfig ? { AsyncInferenceConfig: p.AsyncInferenceConfig } : {}),
        ...(p.DataCaptureConfig ? { DataCaptureConfig: p.DataCaptureConfig } : {}),
        CreationTime: epochSeconds(),
      });
      s.tags.set(a, tagsOf(p));
      return { EndpointConfigArn: a };
    }
    case 'DescribeEndpointConfig': {
      const name = str('EndpointConfigName');
      const c = s.endpointConfigs.get(name);
      if (!c) throw notFound('endpoint configuration', arn(ctx, region, 'sagemaker', `endpoint-config/${name.toLowerCase()}`));
      return { ...c };
    }
    case 'DeleteEndpointConfig': {
      const name = str('EndpointConfigName');
      const c = s.endpointConfigs.get(name);
      if (!c) throw notFound('endpoint configuration', arn(ctx, region, 'sagemaker', `endpoint-config/${name.toLowerCase()}`));
      s.endpointConfigs.delete(name);
      s.tags.delete(c.EndpointConfigArn);
      return {};
    }
    case 'CreateEndpoint': {
      const name = str('EndpointName');
      const a = arn(ctx, region, 'sagemaker', `endpoint/${name.toLowerCase()}`);
      if (s.endpoints.has(name)) throw new AwsFault('ValidationException', `Cannot create already existing endpoint "${a}".`);
      const config = s.endpointConfigs.get(str('EndpointConfigName'));
      if (!config) throw notFound('endpoint configuration', String(p.EndpointConfigName));
      const now = epochSeconds();
      s.endpoints.set(name, {
        EndpointName: name,
        EndpointArn: a,
        EndpointConfigName: config.EndpointConfigName,
        EndpointStatus: 'Creating',
        ProductionVariants: [],
        CreationTime: now,
        LastModifiedTime: now,
        pending: { pollsLeft: ctx.behaviour.createPolls, outcome: consume(ctx.behaviour.nextCreate), targetConfig: config.EndpointConfigName },
      });
      s.tags.set(a, tagsOf(p));
      return { EndpointArn: a };
    }
    case 'DescribeEndpoint': {
      const name = str('EndpointName');
      const e = s.endpoints.get(name);
      if (!e) throw notFound('endpoint', arn(ctx, region, 'sagemaker', `endpoint/${name.toLowerCase()}`));
      advance(ctx, e);
      if (!s.endpoints.has(name)) throw notFound('endpoint', e.EndpointArn);
      return endpointOut(ctx, e);
    }
    case 'UpdateEndpoint': {
      const name = str('EndpointName');
      const e = s.endpoints.get(name);
      if (!e) throw notFound('endpoint', arn(ctx, region, 'sagemaker', `endpoint/${name.toLowerCase()}`));
      if (e.EndpointStatus !== 'InService') throw new AwsFault('ValidationException', `Cannot update in-progress endpoint "${e.EndpointArn}".`);
      const config = s.endpointConfigs.get(str('EndpointConfigName'));
      if (!config) throw notFound('endpoint configuration', String(p.EndpointConfigName));
      // SageMaker refuses an update that removes a variant registered for auto-scaling or changes
      // its instance type (developer guide, "Update endpoints that use auto scaling").
      // FAKE: the wording is the one reported by users, not documented
      const current = s.endpointConfigs.get(e.EndpointConfigName);
      const blocked = (current?.ProductionVariants ?? [])
        .filter((v) => s.scalableTargets.has(`endpoint/${name}/variant/${v.VariantName}`))
        .filter((v) => {
          const next = config.ProductionVariants.find((n) => n.VariantName === v.VariantName);
          return !next || next.InstanceType !== v.InstanceType;
        })
        .map((v) => v.VariantName);
      if (blocked.length > 0) {
        throw new AwsFault(
          'ValidationException',
          `The variant(s) "[${blocked.join(', ')}]" is/are currently registered for autoscaling. Please deregister from autoscaling before updating the variant(s).`,
        );
      }
      e.EndpointStatus = 'Updating';
      delete e.FailureReason;
      e.LastModifiedTime = epochSeconds();
      e.pending = { pollsLeft: ctx.behaviour.updatePolls, outcome: consume(ctx.behaviour.nextUpdate), targetConfig: config.EndpointConfigName };
      return { EndpointArn: e.EndpointArn };
    }
    case 'UpdateEndpointWeightsAndCapacities': {
      const name = str('EndpointName');
      const e = s.endpoints.get(name);
      if (!e) throw notFound('endpoint', arn(ctx, region, 'sagemaker', `endpoint/${name.toLowerCase()}`));
      if (e.EndpointStatus !== 'InService') throw new AwsFault('ValidationException', `Cannot update in-progress endpoint "${e.EndpointArn}".`);
      const weights: Record<string, number> = {};
      for (const d of (p.DesiredWeightsAndCapacities as { VariantName: string; DesiredWeight?: number }[]) ?? []) {
        if (!e.ProductionVariants.some((v) => v.VariantName === d.VariantName)) {
          throw new AwsFault(
            'ValidationException',
            `The variant name(s) "${d.VariantName}" is/are not present within endpoint configuration "${e.EndpointConfigName}".`,
          );
        }
        if (d.DesiredWeight !== undefined) weights[d.VariantName] = d.DesiredWeight;
      }
      e.EndpointStatus = 'Updating';
      e.pending = { pollsLeft: ctx.behaviour.updatePolls, outcome: { kind: 'ok' }, weights };
      return { EndpointArn: e.EndpointArn };
    }
    case 'DeleteEndpoint': {
      const name = str('EndpointName');
      const e = s.endpoints.get(name);
      if (!e) throw notFound('endpoint', arn(ctx, region, 'sagemaker', `endpoint/${name.toLowerCase()}`));
      // SageMaker's answer to a delete of an endpoint in transition (the same one UpdateEndpoint gives)
      if (IN_PROGRESS.has(e.EndpointStatus)) throw new AwsFault('ValidationException', `Cannot update in-progress endpoint "${e.EndpointArn}".`);
      if (e.EndpointStatus === 'Deleting') return {};
      e.EndpointStatus = 'Deleting';
      e.pending = { pollsLeft: ctx.behaviour.deletePolls, outcome: { kind: 'ok' } };
      return {};
    }
    case 'ListEndpoints': {
      const contains = typeof p.NameContains === 'string' ? p.NameContains.toLowerCase() : '';
      for (const e of [...s.endpoints.values()]) advance(ctx, e);
      const all = [...s.endpoints.values()]
        .filter((e) => e.EndpointName.toLowerCase().includes(contains))
        .sort((a, b) => a.EndpointName.localeCompare(b.EndpointName));
      const start = typeof p.NextToken === 'string' ? Number(p.NextToken) : 0;
      const max = typeof p.MaxResults === 'number' ? p.MaxResults : 10;
      const page = all.slice(start, start + max);
      return {
        Endpoints: page.map((e) => ({
          EndpointName: e.EndpointName,
          EndpointArn: e.EndpointArn,
          EndpointStatus: e.EndpointStatus,
          CreationTime: e.CreationTime,
          LastModifiedTime: e.LastModifiedTime,
        })),
        ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
      };
    }
    case 'ListEndpointConfigs':
    case 'ListModels': {
      const contains = typeof p.NameContains === 'string' ? p.NameContains.toLowerCase() : '';
      const rows =
        op === 'ListModels'
          ? [...s.models.values()].map((m) => ({ ModelName: m.ModelName, ModelArn: m.ModelArn, CreationTime: m.CreationTime, name: m.ModelName }))
          : [...s.endpointConfigs.values()].map((c) => ({
              EndpointConfigName: c.EndpointConfigName,
              EndpointConfigArn: c.EndpointConfigArn,
              CreationTime: c.CreationTime,
              name: c.EndpointConfigName,
            }));
      const all = rows.filter((r) => r.name.toLowerCase().includes(contains)).sort((a, b) => a.name.localeCompare(b.name));
      const start = typeof p.NextToken === 'string' ? Number(p.NextToken) : 0;
      const max = typeof p.MaxResults === 'number' ? p.MaxResults : 10;
      const page = all.slice(start, start + max).map(({ name: _n, ...r }) => r);
      return { [op === 'ListModels' ? 'Models' : 'EndpointConfigs']: page, ...(start + max < all.length ? { NextToken: String(start + max) } : {}) };
    }
    case 'ListTags': {
      const a = str('ResourceArn');
      return { Tags: s.tags.get(a) ?? [] };
    }
    case 'CreateTransformJob':
      return createTransformJob(ctx, region, p);
    case 'DescribeTransformJob': {
      const name = str('TransformJobName');
      const j = s.transformJobs.get(name);
      if (!j) throw notFound('transform job', arn(ctx, region, 'sagemaker', `transform-job/${name.toLowerCase()}`));
      if (j.TransformJobStatus === 'Stopping') j.TransformJobStatus = 'Stopped';
      const visible = polled.get(j) ?? 0;
      polled.set(j, visible + 1);
      const shown = visible < ctx.behaviour.transformPolls && j.TransformJobStatus !== 'Stopped' ? 'InProgress' : j.TransformJobStatus;
      return {
        TransformJobName: j.TransformJobName,
        TransformJobArn: j.TransformJobArn,
        TransformJobStatus: shown,
        ...(shown === 'Failed' && j.FailureReason ? { FailureReason: j.FailureReason } : {}),
        ModelName: j.ModelName,
        ...j.request,
        CreationTime: j.CreationTime,
      };
    }
    case 'StopTransformJob': {
      const name = str('TransformJobName');
      const j = s.transformJobs.get(name);
      if (!j) throw notFound('transform job', name);
      if (j.TransformJobStatus === 'InProgress') j.TransformJobStatus = 'Stopping';
      return {};
    }
    default:
      throw new AwsFault('UnknownOperationException', `The fake SageMaker does not implement ${op}`);
  }
}

const polled = new WeakMap<FakeTransformJob, number>();

function createTransformJob(ctx: FakeContext, region: string, p: Params): Params {
  const s = ctx.state;
  const name = String(p.TransformJobName ?? '');
  const a = arn(ctx, region, 'sagemaker', `transform-job/${name.toLowerCase()}`);
  if (s.transformJobs.has(name))
    throw new AwsFault('ValidationException', `Job name must be unique within an AWS account and region, and a job with this name already exists (${a})`);
  const model = s.models.get(String(p.ModelName));
  if (!model) throw notFound('model', String(p.ModelName));
  const { ModelName: _m, TransformJobName: _n, Tags: _t, ...request } = p;
  const job: FakeTransformJob = {
    TransformJobName: name,
    TransformJobArn: a,
    ModelName: model.ModelName,
    TransformJobStatus: 'InProgress',
    request,
    CreationTime: epochSeconds(),
    invocations: [],
    executionParameters: null,
  };
  s.transformJobs.set(name, job);
  s.tags.set(a, tagsOf(p));
  const container = ctx.containers.get(model.PrimaryContainer.Image);
  void runTransform(ctx, job, container).catch((e: unknown) => {
    job.TransformJobStatus = 'Failed';
    job.FailureReason = `AlgorithmError: ${(e as Error).message}`;
  });
  return { TransformJobArn: a };
}

/** SageMaker's batch engine, in small: ask the container, split, batch, invoke, assemble. */
async function runTransform(ctx: FakeContext, job: FakeTransformJob, container: string | undefined): Promise<void> {
  if (!container) throw new Error(`no container answers for the model's image (the test did not start one)`);
  const req = job.request as {
    TransformInput: { DataSource: { S3DataSource: { S3Uri: string } }; ContentType?: string; SplitType?: string };
    TransformOutput: { S3OutputPath: string; Accept?: string; AssembleWith?: string };
    BatchStrategy?: string;
    MaxPayloadInMB?: number;
    MaxConcurrentTransforms?: number;
  };
  let exec: Record<string, unknown> = {};
  try {
    const r = await fetch(`${container}/execution-parameters`);
    if (r.ok) exec = (await r.json()) as Record<string, unknown>;
    job.executionParameters = r.ok ? exec : null;
  } catch {
    job.executionParameters = null;
  }
  // the request's values, then the container's, then SageMaker's defaults
  const strategy =
    req.BatchStrategy ?? (exec.BatchStrategy === 'MULTI_RECORD' ? 'MultiRecord' : exec.BatchStrategy === 'SINGLE_RECORD' ? 'SingleRecord' : 'MultiRecord');
  const maxPayload = (req.MaxPayloadInMB ?? (exec.MaxPayloadInMB as number | undefined) ?? 6) * 1024 * 1024;
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(req.TransformInput.DataSource.S3DataSource.S3Uri)!;
  const bucket = ctx.state.buckets.get(m[1]!);
  if (!bucket) throw new Error(`ClientError: no bucket ${m[1]}`);
  const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(m[2]!)).sort();
  if (keys.length === 0) throw new Error(`ClientError: no input objects under ${req.TransformInput.DataSource.S3DataSource.S3Uri}`);
  const contentType = req.TransformInput.ContentType ?? 'application/octet-stream';
  for (const key of keys) {
    const text = bucket.objects.get(key)!.body.toString('utf8');
    const records = req.TransformInput.SplitType === 'Line' ? text.split(/\r?\n/).filter((l) => l.length > 0) : [text];
    const batches: string[] = [];
    if (strategy === 'SingleRecord') batches.push(...records);
    else {
      let cur: string[] = [];
      let size = 0;
      for (const r of records) {
        if (cur.length > 0 && size + r.length + 1 > maxPayload) {
          batches.push(cur.join('\n'));
          cur = [];
          size = 0;
        }
        cur.push(r);
        size += r.length + 1;
      }
      if (cur.length > 0) batches.push(cur.join('\n'));
    }
    const outputs: string[] = [];
    for (const body of batches) {
      job.invocations.push({ contentType, body });
      const r = await fetch(`${container}/invocations`, {
        method: 'POST',
        headers: { 'content-type': contentType, ...(req.TransformOutput.Accept ? { accept: req.TransformOutput.Accept } : {}) },
        body,
      });
      const out = await r.text();
      if (!r.ok) throw new Error(`ClientError: the model container answered ${r.status}: ${out.slice(0, 300)}`);
      outputs.push(out.replace(/\n$/, ''));
    }
    const outM = /^s3:\/\/([^/]+)\/?(.*)$/.exec(req.TransformOutput.S3OutputPath)!;
    const outBucket = ctx.state.buckets.get(outM[1]!);
    if (!outBucket) throw new Error(`ClientError: no output bucket ${outM[1]}`);
    const prefix = outM[2]!.replace(/\/+$/, '');
    const joined = req.TransformOutput.AssembleWith === 'Line' ? `${outputs.join('\n')}\n` : outputs.join('');
    outBucket.objects.set(`${prefix ? `${prefix}/` : ''}${basename(key)}.out`, {
      body: Buffer.from(joined),
      contentType: req.TransformOutput.Accept ?? 'application/octet-stream',
      tags: {},
    });
  }
  if (job.TransformJobStatus === 'InProgress') job.TransformJobStatus = 'Completed';
}

export interface RuntimeAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The runtime's InvokeEndpoint: pick the variant (TargetVariant, else by weight), forward to its container. */
export async function invokeEndpoint(
  ctx: FakeContext,
  region: string,
  endpoint: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): Promise<RuntimeAnswer> {
  const e = ctx.state.endpoints.get(endpoint);
  if (!e || e.EndpointStatus !== 'InService') {
    throw new AwsFault('ValidationError', `Endpoint ${endpoint} of account ${ctx.account} not found.`);
  }
  const config = ctx.state.endpointConfigs.get(e.EndpointConfigName);
  if (config?.AsyncInferenceConfig) {
    // FAKE: the exact wording of AWS's refusal is not documented; the error type is the runtime's ValidationError
    throw new AwsFault('ValidationError', `Endpoint ${endpoint} of account ${ctx.account} is an asynchronous endpoint: call InvokeEndpointAsync.`);
  }
  const target = headers['x-amzn-sagemaker-target-variant'] as string | undefined;
  let variant: FakeLiveVariant | undefined;
  if (target) {
    variant = e.ProductionVariants.find((v) => v.VariantName === target);
    if (!variant) throw new AwsFault('ValidationError', `The variant ${target} is not present in endpoint ${endpoint}.`);
  } else {
    const total = e.ProductionVariants.reduce((n, v) => n + v.CurrentWeight, 0);
    let pick = Math.random() * total;
    variant = e.ProductionVariants.find((v) => (pick -= v.CurrentWeight) < 0) ?? e.ProductionVariants[0];
  }
  const modelName = config?.ProductionVariants.find((v) => v.VariantName === variant!.VariantName)?.ModelName;
  const model = modelName ? ctx.state.models.get(modelName) : undefined;
  const container = model ? ctx.containers.get(model.PrimaryContainer.Image) : undefined;
  if (!container) throw new AwsFault('ServiceUnavailable', `no container answers for ${endpoint}/${variant!.VariantName} (the test did not start one)`, 503);
  const fwd: Record<string, string> = {};
  for (const h of ['content-type', 'accept', 'x-amzn-sagemaker-custom-attributes']) if (typeof headers[h] === 'string') fwd[h] = headers[h] as string;
  const r = await fetch(`${container}/invocations`, { method: 'POST', headers: fwd, body });
  const out = Buffer.from(await r.arrayBuffer());
  if (!r.ok) {
    const message = out.toString('utf8');
    const err = {
      message: `Received client error (${r.status}) from primary with message "${message}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpoint} in account ${ctx.account} for more information.`,
      OriginalStatusCode: r.status,
      OriginalMessage: message,
      LogStreamArn: `arn:aws:logs:${region}:${ctx.account}:log-group:/aws/sagemaker/Endpoints/${endpoint}`,
    };
    return { status: 424, headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError' }, body: Buffer.from(JSON.stringify(err)) };
  }
  const h: Record<string, string> = {
    'content-type': r.headers.get('content-type') ?? 'application/octet-stream',
    'x-amzn-invoked-production-variant': variant!.VariantName,
  };
  const ca = r.headers.get('x-amzn-sagemaker-custom-attributes');
  if (ca) h['x-amzn-sagemaker-custom-attributes'] = ca;
  return { status: 200, headers: h, body: out };
}

/** DescribeEndpoint without advancing (for tests). */
export function peekEndpoint(ctx: FakeContext, name: string): Params | null {
  const e = ctx.state.endpoints.get(name);
  return e ? endpointOut(ctx, e) : null;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function joinS3(prefix: string, name: string): string {
  return `${prefix.replace(/\/+$/, '')}/${name}`;
}

/** Put `body` at an s3:// URI of the fake S3 (false when the bucket does not exist). */
function putS3(ctx: FakeContext, uri: string, body: Buffer, contentType: string): boolean {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  const bucket = m ? ctx.state.buckets.get(m[1]!) : undefined;
  if (!bucket) return false;
  bucket.objects.set(m![2]!, { body, contentType, tags: {} });
  return true;
}

/**
 * The runtime's InvokeEndpointAsync: checks the endpoint (InService, with an AsyncInferenceConfig)
 * and the request (X-Amzn-SageMaker-InputLocation, or an inline body), answers 202 with the
 * InferenceId and the OutputLocation/FailureLocation headers, and after `asyncDelayMs` runs the
 * request against the variant's real container: `<S3OutputPath>/<id>.out` on success,
 * `<S3FailurePath>/<id>-error.out` on failure.
 */
export function invokeEndpointAsync(ctx: FakeContext, endpoint: string, headers: Record<string, string | string[] | undefined>, body: Buffer): RuntimeAnswer {
  const e = ctx.state.endpoints.get(endpoint);
  if (!e || e.EndpointStatus !== 'InService') throw new AwsFault('ValidationError', `Endpoint ${endpoint} of account ${ctx.account} not found.`);
  const config = ctx.state.endpointConfigs.get(e.EndpointConfigName);
  const asyncConfig = config?.AsyncInferenceConfig as { OutputConfig?: { S3OutputPath?: string; S3FailurePath?: string } } | undefined;
  const outputPath = asyncConfig?.OutputConfig?.S3OutputPath;
  if (!outputPath)
    throw new AwsFault('ValidationError', `Endpoint ${endpoint} of account ${ctx.account} is not an asynchronous endpoint: call InvokeEndpoint.`);
  const inputLocation = header(headers, 'x-amzn-sagemaker-inputlocation');
  if (!inputLocation && body.length === 0) throw new AwsFault('ValidationError', 'Either InputLocation or Body must be provided.');
  if (inputLocation && body.length > 0) throw new AwsFault('ValidationError', 'InputLocation and Body are mutually exclusive.');
  if (inputLocation && !/^s3:\/\/[^/]+\/.+/.test(inputLocation)) throw new AwsFault('ValidationError', `InputLocation ${inputLocation} is not a valid S3 URI.`);
  const inferenceId = header(headers, 'x-amzn-sagemaker-inference-id') ?? randomUUID();
  const failurePath = asyncConfig?.OutputConfig?.S3FailurePath;
  const contentType = header(headers, 'x-amzn-sagemaker-content-type') ?? null;
  const accept = header(headers, 'x-amzn-sagemaker-accept');
  const inv: FakeAsyncInvocation = {
    inferenceId,
    endpoint,
    inputLocation: inputLocation ?? '<inline body>',
    contentType,
    outputLocation: joinS3(outputPath, `${inferenceId}.out`),
    failureLocation: failurePath ? joinS3(failurePath, `${inferenceId}-error.out`) : null,
    status: 'queued',
  };
  ctx.state.asyncInvocations.push(inv);
  const variant = e.ProductionVariants[0]!;
  const model = ctx.state.models.get(config!.ProductionVariants.find((v) => v.VariantName === variant.VariantName)?.ModelName ?? '');
  const container = model ? ctx.containers.get(model.PrimaryContainer.Image) : undefined;
  const run = async (): Promise<{ ok: boolean; body: Buffer; contentType: string }> => {
    let input = body;
    if (inputLocation) {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(inputLocation)!;
      const o = ctx.state.buckets.get(m[1]!)?.objects.get(m[2]!);
      if (!o) return { ok: false, body: Buffer.from(`ClientError: could not read the input at ${inputLocation}: NoSuchKey`), contentType: 'text/plain' };
      input = o.body;
    }
    if (!container) return { ok: false, body: Buffer.from('no container answers for the model (the test did not start one)'), contentType: 'text/plain' };
    const r = await fetch(`${container}/invocations`, {
      method: 'POST',
      headers: { ...(contentType ? { 'content-type': contentType } : {}), ...(accept ? { accept } : {}) },
      body: input,
    });
    const out = Buffer.from(await r.arrayBuffer());
    if (!r.ok)
      return {
        ok: false,
        body: Buffer.from(`Received client error (${r.status}) from primary with message "${out.toString('utf8')}".`),
        contentType: 'text/plain',
      };
    return { ok: true, body: out, contentType: r.headers.get('content-type') ?? 'application/octet-stream' };
  };
  const timer = setTimeout(() => {
    ctx.timers.delete(timer);
    void run()
      .catch((err: unknown) => ({ ok: false, body: Buffer.from(`InternalFailure: ${(err as Error).message}`), contentType: 'text/plain' }))
      .then((r) => {
        inv.status = r.ok ? 'done' : 'failed';
        if (r.ok) putS3(ctx, inv.outputLocation, r.body, r.contentType);
        else if (inv.failureLocation) putS3(ctx, inv.failureLocation, r.body, r.contentType);
      });
  }, ctx.behaviour.asyncDelayMs);
  ctx.timers.add(timer);
  const h: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-sagemaker-outputlocation': inv.outputLocation };
  if (inv.failureLocation) h['x-amzn-sagemaker-failurelocation'] = inv.failureLocation;
  return { status: 202, headers: h, body: Buffer.from(JSON.stringify({ InferenceId: inferenceId })) };
}
