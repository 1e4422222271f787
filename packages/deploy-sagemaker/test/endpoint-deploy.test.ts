/**
 * deployEndpoint / deleteDeployment / applyTraffic with the real AWS SDK v3 against the fake
 * AWS (test/fake-aws: a FAKE of SageMaker, S3, STS, ECR and Application Auto Scaling speaking
 * the real wire protocols): create, replace, add, traffic, delete, failures with their cleanup
 * (nothing left behind), rollback detection, timeouts, access denied, throttling, dry run.
 */
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyTraffic,
  AwsAccessDeniedError,
  createModelArchive,
  deleteDeployment,
  deployEndpoint,
  DeploymentFailedError,
  endpointStatus,
  formatPlan,
  listDeployments,
  parseTraffic,
  SageMakerDeployError,
  type EndpointOptions,
} from '../src/index.js';
import { FAST, harness, IMAGE, leftovers, MODEL, ROLE, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  expect(h.fake.unsigned, 'every request carried a SigV4 signature for its service').toBe(0);
  await h.close();
});

const base = (over: Partial<EndpointOptions> = {}): EndpointOptions => ({
  endpointName: 'iris',
  model: MODEL,
  mode: 'create',
  imageUrl: IMAGE,
  executionRoleArn: ROLE,
  wait: FAST,
  ...over,
});

describe('create', () => {
  it('uploads the archive, creates model, config and endpoint, waits through Creating to InService', async () => {
    const lines: string[] = [];
    const r = await deployEndpoint(h.session(), base({ onStatus: (l) => lines.push(l), tags: { team: 'ml' }, env: { MLMODEL_WORKERS: '2' } }));
    expect(r.status).toBe('InService');
    expect(r.variantName).toBe('v1');
    expect(h.fake.state.mutatingCalls()).toEqual([
      's3:CreateBucket',
      's3:PutObject',
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:CreateEndpoint',
    ]);
    // the archive in S3 is the deterministic model.tar.gz, with MLmodel at its root
    const bucket = 'mlmodel-sagemaker-us-west-2-123456789012';
    const key = `iris/${r.modelName}/model.tar.gz`;
    expect(r.modelDataUrl).toBe(`s3://${bucket}/${key}`);
    const object = h.fake.state.buckets.get(bucket)!.objects.get(key)!;
    expect(object.body.equals((await createModelArchive(MODEL)).bytes)).toBe(true);
    expect(gunzipSync(object.body).subarray(0, 7).toString()).toBe('MLmodel');
    expect(object.tags['mlmodel:endpoint']).toBe('iris');
    const model = h.fake.state.models.get(r.modelName)!;
    expect(model.PrimaryContainer).toEqual({
      Image: IMAGE,
      ModelDataUrl: r.modelDataUrl,
      Environment: { SERVING_ENVIRONMENT: 'SageMaker', MLMODEL_WORKERS: '2' },
    });
    expect(model.ExecutionRoleArn).toBe(ROLE);
    const tags = h.fake.state.tags.get(model.ModelArn)!;
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'mlmodel:endpoint', Value: 'iris' },
        { Key: 'mlmodel:model-uri', Value: MODEL },
        { Key: 'team', Value: 'ml' },
      ]),
    );
    const config = h.fake.state.endpointConfigs.get(r.endpointConfigName)!;
    expect(config.ProductionVariants).toEqual([
      { VariantName: 'v1', ModelName: r.modelName, InitialVariantWeight: 1, InstanceType: 'ml.m5.large', InitialInstanceCount: 1 },
    ]);
    expect(r.modelName).toMatch(/^iris-model-[0-9a-f]{20}$/);
    expect(lines.some((l) => /creating endpoint iris: Creating/.test(l))).toBe(true);
    expect(lines.some((l) => /creating endpoint iris: InService/.test(l))).toBe(true);
    const status = await endpointStatus(h.session(), 'iris');
    expect(status).toMatchObject({
      status: 'InService',
      endpointConfigName: r.endpointConfigName,
      variants: [{ name: 'v1', model: r.modelName, currentWeight: 1, currentInstanceCount: 1 }],
    });
    expect((await listDeployments(h.session())).map((d) => [d.name, d.status])).toEqual([['iris', 'InService']]);
  });

  it("an update without capacity options keeps the endpoint's: serverless stays serverless, an instance type and count stay", async () => {
    const lines: string[] = [];
    await deployEndpoint(h.session(), base({ endpointName: 'iris-sl', serverless: { memorySizeMb: 3072, maxConcurrency: 7 } }));
    const r = await deployEndpoint(h.session(), base({ endpointName: 'iris-sl', mode: 'replace', onStatus: (l) => lines.push(l) }));
    expect(h.fake.state.endpointConfigs.get(r.endpointConfigName)!.ProductionVariants).toEqual([
      { VariantName: 'v2', ModelName: r.modelName, InitialVariantWeight: 1, ServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 7 } },
    ]);
    expect(lines).toContain("keeping the endpoint's serverless capacity (3072 MB, concurrency 7; --serverless-memory or --instance-type to change it)");
    await deployEndpoint(h.session(), base({ endpointName: 'iris-big', instanceType: 'ml.c5.xlarge', instanceCount: 3 }));
    const a = await deployEndpoint(h.session(), base({ endpointName: 'iris-big', mode: 'add' }));
    expect(h.fake.state.endpointConfigs.get(a.endpointConfigName)!.ProductionVariants[1]).toMatchObject({
      VariantName: 'v2',
      InstanceType: 'ml.c5.xlarge',
      InitialInstanceCount: 3,
    });
    // given options win
    const g = await deployEndpoint(h.session(), base({ endpointName: 'iris-sl', mode: 'replace', instanceType: 'ml.m5.xlarge' }));
    expect(h.fake.state.endpointConfigs.get(g.endpointConfigName)!.ProductionVariants[0]).toMatchObject({
      InstanceType: 'ml.m5.xlarge',
      InitialInstanceCount: 1,
    });
  });

  it('tags and env variables SageMaker would refuse are refused before anything is created', async () => {
    const before = h.fake.state.inventory();
    await expect(deployEndpoint(h.session(), base({ tags: { team: 'v'.repeat(257) } }))).rejects.toThrow(
      /^tag team's value is invalid: at most 256 letters, digits, spaces and _ \. : \/ = \+ - @ \(got 257 characters\)$/,
    );
    await expect(deployEndpoint(h.session(), base({ tags: { ['k'.repeat(129)]: 'v' } }))).rejects.toThrow(/^tag key "k+" is invalid: 1-128/);
    await expect(deployEndpoint(h.session(), base({ tags: { team: 'a,b' } }))).rejects.toThrow(/^tag team's value is invalid/);
    const many = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, 'v']));
    await expect(deployEndpoint(h.session(), base({ tags: many }))).rejects.toThrow(
      /^--tag given 48 times: SageMaker allows 50 tags per resource and mlmodel sets 3, so at most 47$/,
    );
    await expect(deployEndpoint(h.session(), base({ dataCapture: { destination: 's3://cap/x', samplingPercent: 150 } }))).rejects.toThrow(
      /^--data-capture-percent must be an integer from 0 to 100, got 150$/,
    );
    await expect(deployEndpoint(h.session(), base({ env: { 'MY-VAR': '1' } }))).rejects.toThrow(
      /^--env key "MY-VAR" is invalid: up to 1024 letters, digits and _/,
    );
    await expect(deployEndpoint(h.session(), base({ env: { BIG: 'x'.repeat(1025) } }))).rejects.toThrow(
      /^--env BIG is 1025 bytes long: SageMaker takes at most 1024 per value$/,
    );
    const env = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`K${i}`, 'x'.repeat(1000)]));
    await expect(deployEndpoint(h.session(), base({ env }))).rejects.toThrow(/^the --env variables are \d+ bytes in all: SageMaker takes at most 32 KB$/);
    expect(h.fake.state.inventory()).toEqual(before);
    expect(h.fake.callsOf('CreateModel')).toHaveLength(0);
  });

  it('refuses an endpoint that exists, creating nothing', async () => {
    await deployEndpoint(h.session(), base());
    const before = h.fake.state.inventory();
    await expect(deployEndpoint(h.session(), base())).rejects.toThrow(/endpoint iris already exists \(InService\): use `update`/);
    expect(h.fake.state.inventory()).toEqual(before);
  });

  it('serverless, async and data capture configs reach CreateEndpointConfig; VPC reaches CreateModel', async () => {
    const r = await deployEndpoint(
      h.session(),
      base({
        serverless: { memorySizeMb: 2048, maxConcurrency: 5 },
        dataCapture: { destination: 's3://cap/iris', samplingPercent: 20 },
        vpc: { subnets: ['subnet-1'], securityGroupIds: ['sg-1'] },
      }),
    );
    const c = h.fake.state.endpointConfigs.get(r.endpointConfigName)!;
    expect(c.ProductionVariants[0]).toEqual({
      VariantName: 'v1',
      ModelName: r.modelName,
      InitialVariantWeight: 1,
      ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
    });
    expect(c.DataCaptureConfig).toEqual({
      EnableCapture: true,
      InitialSamplingPercentage: 20,
      DestinationS3Uri: 's3://cap/iris',
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    });
    expect(h.fake.state.models.get(r.modelName)!.VpcConfig).toEqual({ Subnets: ['subnet-1'], SecurityGroupIds: ['sg-1'] });
    const a = await deployEndpoint(
      h.session(),
      base({ endpointName: 'iris-async', asyncInference: { outputPath: 's3://out/iris', maxConcurrentInvocationsPerInstance: 4 } }),
    );
    expect(h.fake.state.endpointConfigs.get(a.endpointConfigName)!.AsyncInferenceConfig).toEqual({
      OutputConfig: { S3OutputPath: 's3://out/iris', S3FailurePath: 's3://out/iris/failures' },
      ClientConfig: { MaxConcurrentInvocationsPerInstance: 4 },
    });
    await expect(deployEndpoint(h.session(), base({ endpointName: 'x', serverless: { memorySizeMb: 1000, maxConcurrency: 1 } }))).rejects.toThrow(
      /--serverless-memory must be/,
    );
  });
});

describe('failures leave nothing behind', () => {
  it('SageMaker fails the endpoint: FailureReason reported, endpoint, config, model, archive and bucket removed', async () => {
    h.fake.behaviour.nextCreate.push({ kind: 'fail', reason: 'The primary container for production variant v1 did not pass the ping health check.' });
    const e = await deployEndpoint(h.session(), base()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeploymentFailedError);
    const err = e as DeploymentFailedError;
    expect(err.failureReason).toMatch(/did not pass the ping health check/);
    expect(err.message).toMatch(
      /^endpoint iris ended Failed: The primary container .* cleanup: removed endpoint iris, endpoint-config iris-config-.*, model iris-model-.*, s3-object s3:\/\/.*, s3-bucket mlmodel-sagemaker-us-west-2-123456789012$/,
    );
    expect(err.message).not.toContain('\n');
    expect(err.cleanup!.failed).toEqual([]);
    expect(leftovers(h.fake)).toEqual({});
  });

  it('a refused call half way (CreateEndpointConfig denied): one line naming the action and the principal; what was made is removed', async () => {
    h.fake.deny('sagemaker', 'CreateEndpointConfig');
    const e = await deployEndpoint(h.session(), base()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeploymentFailedError);
    expect((e as Error).cause).toBeInstanceOf(AwsAccessDeniedError);
    expect((e as Error).message).toMatch(
      /^AWS denied sagemaker:CreateEndpointConfig to arn:aws:sts::123456789012:assumed-role\/MlmodelDeployer\/tests: User: .* is not authorized to perform: sagemaker:CreateEndpointConfig/,
    );
    expect(h.fake.state.mutatingCalls()).toEqual([
      's3:CreateBucket',
      's3:PutObject',
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:DeleteModel',
      's3:DeleteObject',
      's3:DeleteBucket',
    ]);
    expect(leftovers(h.fake)).toEqual({});
  });

  it('access denied before anything is made (DescribeEndpoint): nothing created, the error names the action', async () => {
    h.fake.deny('sagemaker', 'DescribeEndpoint');
    await expect(deployEndpoint(h.session(), base())).rejects.toThrow(
      /^AWS denied sagemaker:DescribeEndpoint to arn:aws:sts::123456789012:assumed-role\/MlmodelDeployer\/tests: /,
    );
    expect(h.fake.state.mutatingCalls()).toEqual([]);
  });

  it('an IAM user without --execution-role-arn is told to pass one; an assumed role gives its role', async () => {
    h.fake.callerArn = 'arn:aws:iam::123456789012:user/alice';
    await expect(deployEndpoint(h.session(), base({ executionRoleArn: undefined }))).rejects.toThrow(/is not an assumed role, so pass --execution-role-arn/);
    h.fake.callerArn = 'arn:aws:sts::123456789012:assumed-role/DeployRole/ci';
    const r = await deployEndpoint(h.session(), base({ executionRoleArn: undefined }));
    expect(h.fake.state.models.get(r.modelName)!.ExecutionRoleArn).toBe('arn:aws:iam::123456789012:role/DeployRole');
  });
});

describe('throttling', () => {
  it('ThrottlingException twice on CreateModel: the SDK retries and the deploy succeeds', async () => {
    h.fake.throttle('CreateModel', 2);
    const r = await deployEndpoint(h.session(), base());
    expect(r.status).toBe('InService');
    expect(h.fake.callsOf('CreateModel')).toHaveLength(3);
  });

  it('throttled past the attempts: one line saying so, and the deploy rolls back', async () => {
    const h2 = await harness({ maxAttempts: 2 });
    try {
      h2.fake.throttle('CreateEndpoint', 5);
      const e = await deployEndpoint(h2.session(), base()).catch((x: unknown) => x);
      expect((e as Error).message).toMatch(
        /^sagemaker:CreateEndpoint failed: ThrottlingException: Rate exceeded \(after 2 attempts\); cleanup: removed endpoint-config/,
      );
      expect(h2.fake.callsOf('CreateEndpoint')).toHaveLength(2);
      expect(leftovers(h2.fake)).toEqual({});
    } finally {
      await h2.close();
    }
  });
});

describe('update', () => {
  it('replace: InService on the new config, then the old config, model and archive are removed', async () => {
    const first = await deployEndpoint(h.session(), base());
    const second = await deployEndpoint(h.session(), base({ mode: 'replace' }));
    expect(second.status).toBe('InService');
    expect(second.variantName).toBe('v2');
    expect(second.cleanedUp.map((r) => r.kind)).toEqual(['endpoint-config', 's3-object', 'model']);
    expect(h.fake.state.inventory()).toMatchObject({
      models: [second.modelName],
      endpointConfigs: [second.endpointConfigName],
      endpoints: ['iris'],
      objects: [second.modelDataUrl],
    });
    expect(h.fake.state.models.has(first.modelName)).toBe(false);
    expect(h.fake.peekEndpoint('iris')).toMatchObject({
      EndpointConfigName: second.endpointConfigName,
      ProductionVariants: [{ VariantName: 'v2', CurrentWeight: 1 }],
    });
  });

  it('rollback: InService on the OLD config is a failure with the reason; the new resources go, the old stay', async () => {
    const first = await deployEndpoint(h.session(), base());
    const before = h.fake.state.inventory();
    h.fake.behaviour.nextUpdate.push({ kind: 'rollback', reason: 'Failed to pull the image: access denied for the ECR repository.' });
    const e = (await deployEndpoint(h.session(), base({ mode: 'replace' })).catch((x: unknown) => x)) as DeploymentFailedError;
    expect(e).toBeInstanceOf(DeploymentFailedError);
    expect(e.rolledBack).toBe(true);
    expect(e.message).toMatch(new RegExp(`^SageMaker rolled the update of iris back to ${first.endpointConfigName}: Failed to pull the image`));
    expect(e.cleanup!.removed.map((r) => r.kind)).toEqual(['endpoint-config', 'model', 's3-object']);
    expect(h.fake.state.inventory()).toEqual(before);
    expect(h.fake.peekEndpoint('iris')).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: first.endpointConfigName });
  });

  it('an update that fails the endpoint reports FailureReason and removes the new resources', async () => {
    await deployEndpoint(h.session(), base());
    h.fake.behaviour.nextUpdate.push({ kind: 'fail', reason: 'Insufficient capacity for ml.m5.large' });
    await expect(deployEndpoint(h.session(), base({ mode: 'replace' }))).rejects.toThrow(
      /^endpoint iris ended Failed: Insufficient capacity for ml\.m5\.large; cleanup: removed endpoint-config/,
    );
    expect(h.fake.state.models.size).toBe(1);
  });

  it('an update that times out keeps the new resources (SageMaker cannot cancel it) and says what to do; delete later finds every leftover', async () => {
    const first = await deployEndpoint(h.session(), base());
    h.fake.behaviour.nextUpdate.push({ kind: 'never' });
    await expect(deployEndpoint(h.session(), base({ mode: 'replace', wait: { intervalMs: 10, timeoutMs: 200 } }))).rejects.toThrow(
      /timed out after 0\.2 s waiting for updating endpoint iris \(last status: Updating\); the update is still in progress, so iris-config-\S+ and iris-model-\S+ were kept: run `mlmodel deploy sagemaker status -n iris` and, when it has settled/,
    );
    // SageMaker finishes the update later: the first config and model are now referenced by nothing
    const e = h.fake.state.endpoints.get('iris')!;
    e.pending!.outcome = { kind: 'ok' };
    e.pending!.pollsLeft = 0;
    expect(h.fake.peekEndpoint('iris')!.EndpointConfigName).toBe(first.endpointConfigName);
    const settled = await endpointStatus(h.session(), 'iris');
    expect(settled.endpointConfigName).not.toBe(first.endpointConfigName);
    // a model of another endpoint whose name matches the prefix is not touched
    const other = await deployEndpoint(h.session(), base({ endpointName: 'iris-b' }));
    const d = await deleteDeployment(h.session(), 'iris', { wait: FAST });
    expect(d.removed.map((r) => r.name)).toEqual(expect.arrayContaining([first.endpointConfigName, first.modelName, first.modelDataUrl]));
    expect(h.fake.state.inventory()).toMatchObject({ models: [other.modelName], endpointConfigs: [other.endpointConfigName], endpoints: ['iris-b'] });
  });

  it('add: the old variant keeps its traffic, the new one gets weight 0; --traffic shifts; bad weights are refused', async () => {
    const first = await deployEndpoint(h.session(), base());
    const second = await deployEndpoint(h.session(), base({ mode: 'add' }));
    expect(second.variantName).toBe('v2');
    const config = h.fake.state.endpointConfigs.get(second.endpointConfigName)!;
    expect(config.ProductionVariants.map((v) => [v.VariantName, v.ModelName, v.InitialVariantWeight])).toEqual([
      ['v1', first.modelName, 1],
      ['v2', second.modelName, 0],
    ]);
    // add keeps the old model (still serving), removes only the old config
    expect(h.fake.state.inventory().models).toEqual([first.modelName, second.modelName].sort());
    expect(h.fake.state.endpointConfigs.has(first.endpointConfigName)).toBe(false);

    const weights = await applyTraffic(h.session(), 'iris', parseTraffic('v1=90,v2=10'), FAST);
    expect(weights).toEqual({ v1: 90, v2: 10 });
    expect(h.fake.callsOf('UpdateEndpointWeightsAndCapacities')).toEqual([
      {
        EndpointName: 'iris',
        DesiredWeightsAndCapacities: [
          { VariantName: 'v1', DesiredWeight: 90 },
          { VariantName: 'v2', DesiredWeight: 10 },
        ],
      },
    ]);
    await expect(applyTraffic(h.session(), 'iris', parseTraffic('v3=10'), FAST)).rejects.toThrow(/endpoint iris has no variant v3 \(it has v1, v2\)/);
    await expect(applyTraffic(h.session(), 'iris', parseTraffic('v1=0,v2=0'), FAST)).rejects.toThrow(/every variant weight 0/);
    expect(() => parseTraffic('v1=ninety')).toThrow(/--traffic must be variant=weight pairs/);
    expect(() => parseTraffic('v1=1,v1=2')).toThrow(/names variant v1 twice/);
    // a third variant added with traffic in the same call
    const third = await deployEndpoint(h.session(), base({ mode: 'add', traffic: { v1: 50, v2: 0, v3: 50 } }));
    expect(third.variantName).toBe('v3');
    expect(h.fake.peekEndpoint('iris')!.ProductionVariants).toEqual([
      expect.objectContaining({ VariantName: 'v1', CurrentWeight: 50 }),
      expect.objectContaining({ VariantName: 'v2', CurrentWeight: 0 }),
      expect.objectContaining({ VariantName: 'v3', CurrentWeight: 50 }),
    ]);
    await expect(deployEndpoint(h.session(), base({ mode: 'add', traffic: { v9: 1 } }))).rejects.toThrow(/--traffic names variant v9/);
  });

  it('update of an endpoint that does not exist, or is not InService, is refused before anything is made', async () => {
    await expect(deployEndpoint(h.session(), base({ mode: 'replace' }))).rejects.toThrow(/endpoint iris does not exist in us-west-2: use `create`/);
    await deployEndpoint(h.session(), base());
    const made = h.fake.state.mutatingCalls().length;
    Object.assign(h.fake.state.endpoints.get('iris')!, { EndpointStatus: 'Failed', FailureReason: 'the instance was lost' });
    await expect(deployEndpoint(h.session(), base({ mode: 'add' }))).rejects.toThrow(
      /^endpoint iris is Failed \(the instance was lost\): it can be updated only when InService; delete it and create it again$/,
    );
    expect(h.fake.state.mutatingCalls()).toHaveLength(made);
  });
});

describe('auto-scaling and delete', () => {
  it('registers the variant as a scalable target with a target-tracking policy; replace moves it; delete removes everything', async () => {
    const auto = { minInstances: 1, maxInstances: 4, targetInvocationsPerInstance: 100 };
    const first = await deployEndpoint(h.session(), base({ autoScaling: auto }));
    expect(h.fake.state.scalableTargets.get('endpoint/iris/variant/v1')).toMatchObject({
      MinCapacity: 1,
      MaxCapacity: 4,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    });
    const [policy] = [...h.fake.state.scalingPolicies.values()];
    expect(policy).toMatchObject({
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 100,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      },
    });
    const second = await deployEndpoint(h.session(), base({ mode: 'replace', autoScaling: auto }));
    expect(h.fake.state.inventory().scalableTargets).toEqual(['endpoint/iris/variant/v2']);
    expect(h.fake.state.models.has(first.modelName)).toBe(false);

    const lines: string[] = [];
    const d = await deleteDeployment(h.session(), 'iris', { wait: FAST, onStatus: (l) => lines.push(l) });
    expect(d.removed.map((r) => r.kind)).toEqual(['scalable-target', 'endpoint', 'endpoint-config', 's3-object', 'model']);
    expect(d.removed.find((r) => r.kind === 'model')!.name).toBe(second.modelName);
    // only the shared bucket stays
    expect(leftovers(h.fake)).toEqual({ buckets: ['mlmodel-sagemaker-us-west-2-123456789012'] });
    expect(lines.some((l) => /deleting endpoint iris: Deleting/.test(l))).toBe(true);
    await expect(deleteDeployment(h.session(), 'iris', { wait: FAST })).rejects.toThrow(/endpoint iris does not exist in us-west-2/);
  });

  it('a failing auto-scaling registration on create rolls the whole deploy back', async () => {
    h.fake.deny('application-autoscaling', 'PutScalingPolicy');
    const e = await deployEndpoint(h.session(), base({ autoScaling: { minInstances: 1, maxInstances: 2, targetInvocationsPerInstance: 10 } })).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toMatch(
      /^AWS denied application-autoscaling:PutScalingPolicy to .*; cleanup: removed scalable-target endpoint\/iris\/variant\/v1, endpoint iris/,
    );
    expect(leftovers(h.fake)).toEqual({});
  });

  it('delete leaves models mlmodel did not make (no mlmodel:endpoint tag)', async () => {
    const r = await deployEndpoint(h.session(), base());
    const arn = h.fake.state.models.get(r.modelName)!.ModelArn;
    h.fake.state.tags.set(arn, []);
    const d = await deleteDeployment(h.session(), 'iris', { wait: FAST });
    expect(d.kept).toEqual([{ kind: 'model', name: r.modelName }]);
    expect(h.fake.state.models.has(r.modelName)).toBe(true);
  });
});

describe('dry run', () => {
  it('makes the reads, plans the writes (no mutating call reaches AWS), and prints no secret', async () => {
    const r = await deployEndpoint(h.session({ dryRun: true }), base({ autoScaling: { minInstances: 1, maxInstances: 2, targetInvocationsPerInstance: 5 } }));
    expect(r.status).toBe('planned');
    expect(h.fake.state.mutatingCalls()).toEqual([]);
    expect(h.fake.state.calls.map((c) => c.operation)).toEqual(['GetCallerIdentity', 'DescribeEndpoint', 'HeadBucket']);
    expect(r.calls.map((c) => `${c.service}:${c.operation}`)).toEqual([
      's3:CreateBucket',
      's3:PutObject',
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:CreateEndpoint',
      'autoscaling:RegisterScalableTarget',
      'autoscaling:PutScalingPolicy',
    ]);
    const text = formatPlan(r.calls).join('\n');
    expect(text).toMatch(
      /s3 {10}PutObject \{"Bucket":"mlmodel-sagemaker-us-west-2-123456789012","Key":"iris\/iris-model-[0-9a-f]{20}\/model.tar.gz","Body":"<\d+ bytes>"/,
    );
    expect(text).toContain('"ExecutionRoleArn":"arn:aws:iam::123456789012:role/SageMakerExecution"');
    expect(text).not.toContain('fake-secret-access-key');
    expect(leftovers(h.fake)).toEqual({});
  });

  it('a replace of an auto-scaled variant deregisters it first (SageMaker refuses otherwise); a rolled-back update puts its auto-scaling back', async () => {
    const auto = { minInstances: 2, maxInstances: 5, targetInvocationsPerInstance: 70 };
    await deployEndpoint(h.session(), base({ autoScaling: auto }));
    const policyBefore = [...h.fake.state.scalingPolicies.values()];
    h.fake.behaviour.nextUpdate.push({ kind: 'rollback', reason: 'Failed to pull the image' });
    const lines: string[] = [];
    const e = (await deployEndpoint(h.session(), base({ mode: 'replace', onStatus: (l) => lines.push(l) })).catch((x: unknown) => x)) as DeploymentFailedError;
    expect(e).toBeInstanceOf(DeploymentFailedError);
    expect(e.rolledBack).toBe(true);
    expect(h.fake.callsOf('DeregisterScalableTarget')).toEqual([expect.objectContaining({ ResourceId: 'endpoint/iris/variant/v1' })]);
    expect(lines).toContain('restored the auto-scaling of endpoint/iris/variant/v1');
    expect(h.fake.state.scalableTargets.get('endpoint/iris/variant/v1')).toMatchObject({ MinCapacity: 2, MaxCapacity: 5 });
    expect([...h.fake.state.scalingPolicies.values()].map((p) => [p.PolicyName, p.TargetTrackingScalingPolicyConfiguration])).toEqual(
      policyBefore.map((p) => [p.PolicyName, p.TargetTrackingScalingPolicyConfiguration]),
    );
  });

  it('an update dry run plans the new resources, UpdateEndpoint, the traffic shift and the removal of what it supersedes', async () => {
    const first = await deployEndpoint(h.session(), base({ autoScaling: { minInstances: 1, maxInstances: 2, targetInvocationsPerInstance: 5 } }));
    const made = h.fake.state.mutatingCalls().length;
    const r = await deployEndpoint(h.session({ dryRun: true }), base({ mode: 'replace' }));
    expect(r.calls.map((c) => `${c.service}:${c.operation}`)).toEqual([
      's3:PutObject',
      'sagemaker:CreateModel',
      'sagemaker:CreateEndpointConfig',
      // SageMaker refuses to update away a variant that auto-scales: its target goes first
      'autoscaling:DeregisterScalableTarget',
      'sagemaker:UpdateEndpoint',
      'sagemaker:DeleteEndpointConfig',
      's3:DeleteObject',
      'sagemaker:DeleteModel',
    ]);
    expect(r.cleanedUp.map((c) => c.name)).toEqual(['endpoint/iris/variant/v1', first.endpointConfigName, first.modelDataUrl, first.modelName]);
    const add = await deployEndpoint(h.session({ dryRun: true }), base({ mode: 'add', traffic: { v1: 90, v2: 10 } }));
    expect(add.calls.map((c) => c.operation).slice(-2)).toEqual(['DeleteEndpointConfig', 'UpdateEndpointWeightsAndCapacities']);
    expect(h.fake.state.mutatingCalls()).toHaveLength(made);
  });

  it('checks the options before any call', async () => {
    await expect(deployEndpoint(h.session(), base({ endpointName: 'bad_name' }))).rejects.toThrow(SageMakerDeployError);
    await expect(deployEndpoint(h.session(), base({ tags: { 'mlmodel:endpoint': 'x' } }))).rejects.toThrow(/tag key mlmodel:endpoint is reserved/);
    expect(h.fake.state.calls).toEqual([]);
  });
});
