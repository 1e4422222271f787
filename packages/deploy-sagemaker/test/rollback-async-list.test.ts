/**
 * The real AWS SDK v3 against the fake AWS (test/fake-aws, a FAKE of SageMaker, S3 and the
 * runtime on their real wire protocols):
 *
 * - a create that times out while the endpoint is still Creating: SageMaker refuses DeleteEndpoint
 *   then ("Cannot update in-progress endpoint"), so the rollback waits, bounded and with
 *   progress, and removes everything once it can; when it cannot, it keeps what the endpoint
 *   uses and says so, and `delete` removes it all later;
 * - InvokeEndpointAsync: async detected from DescribeEndpoint, the request uploaded to S3 and
 *   removed again, the FailureLocation read and reported, the timeout that keeps the request;
 * - list: only the endpoints mlmodel made (their mlmodel:endpoint tag), or all.
 *
 * The success of an async request, which needs a model container, is in test/deploy-sagemaker.test.ts.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteDeployment,
  deployEndpoint,
  DeploymentFailedError,
  DeployTimeoutError,
  invokeEndpoint,
  listDeployments,
  ModelInvocationError,
  predict,
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

const BUCKET = 'mlmodel-sagemaker-us-west-2-123456789012';

const base = (over: Partial<EndpointOptions> = {}): EndpointOptions => ({
  endpointName: 'iris',
  model: MODEL,
  mode: 'create',
  imageUrl: IMAGE,
  executionRoleArn: ROLE,
  wait: FAST,
  ...over,
});

describe('rollback of an endpoint still Creating', () => {
  it('the fake refuses DeleteEndpoint while Creating as SageMaker does (ValidationException, "Cannot update in-progress endpoint")', async () => {
    h.fake.behaviour.nextCreate.push({ kind: 'never' });
    await deployEndpoint(h.session(), base({ wait: { intervalMs: 5, timeoutMs: 30 }, cleanupTimeoutMs: 30 })).catch(() => undefined);
    const e = (await h.clients.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'iris' })).catch((x: unknown) => x)) as Error & {
      $metadata: { httpStatusCode: number };
    };
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe('Cannot update in-progress endpoint "arn:aws:sagemaker:us-west-2:123456789012:endpoint/iris".');
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it('a create that times out while Creating: the rollback waits until SageMaker lets it delete the endpoint, then removes everything', async () => {
    // the endpoint takes 40 polls to come up; the deploy gives up after ~20, the rollback waits for the rest
    h.fake.behaviour.createPolls = 40;
    const lines: string[] = [];
    const t0 = Date.now();
    const e = (await deployEndpoint(
      h.session(),
      base({ wait: { intervalMs: 10, timeoutMs: 200 }, cleanupTimeoutMs: 5_000, onStatus: (l) => lines.push(l) }),
    ).catch((x: unknown) => x)) as DeploymentFailedError;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(e).toBeInstanceOf(DeploymentFailedError);
    expect(e.message).toMatch(
      /^timed out after 0\.2 s waiting for creating endpoint iris \(last status: Creating\); cleanup: removed endpoint iris, endpoint-config iris-config-\S+, model iris-model-\S+, s3-object s3:\/\/\S+, s3-bucket mlmodel-sagemaker-us-west-2-123456789012$/,
    );
    expect(e.cleanup!.failed).toEqual([]);
    expect(leftovers(h.fake)).toEqual({});
    // one DeleteEndpoint, sent only once the endpoint had left Creating (the fake refuses it before)
    expect(h.fake.callsOf('DeleteEndpoint')).toHaveLength(1);
    expect(lines).toContainEqual(expect.stringMatching(/^waiting for endpoint iris to leave Creating before deleting it: Creating \(/));
    expect(lines).toContainEqual(expect.stringMatching(/^waiting for endpoint iris to leave Creating before deleting it: InService \(/));
    expect(lines).toContainEqual(expect.stringMatching(/^deleting endpoint iris: Deleting/));
  });

  it('an endpoint stuck in Creating: the rollback gives up after the cleanup timeout, says why, keeps what the endpoint uses; delete removes it all later', async () => {
    h.fake.behaviour.nextCreate.push({ kind: 'never' });
    const e = (await deployEndpoint(h.session(), base({ wait: { intervalMs: 10, timeoutMs: 100 }, cleanupTimeoutMs: 100 })).catch(
      (x: unknown) => x,
    )) as DeploymentFailedError;
    expect(e).toBeInstanceOf(DeploymentFailedError);
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(
      /^timed out after 0\.1 s waiting for creating endpoint iris \(last status: Creating\); cleanup: nothing to remove; could NOT remove endpoint iris \(endpoint iris was still Creating after waiting 0\.1 s to delete it, and SageMaker refuses DeleteEndpoint while an endpoint is Creating: run `mlmodel deploy sagemaker delete -n iris` once it is InService or Failed\); kept endpoint-config iris-config-\S+, model iris-model-\S+, s3-object s3:\/\/\S+, s3-bucket mlmodel-sagemaker-us-west-2-123456789012 because endpoint iris still uses them$/,
    );
    expect(e.cleanup!.kept!.map((r) => r.kind)).toEqual(['endpoint-config', 'model', 's3-object', 's3-bucket']);
    // nothing was deleted from under the endpoint that is still being created
    const inv = leftovers(h.fake);
    expect(inv).toMatchObject({ endpoints: ['iris'], buckets: [BUCKET] });
    expect(inv.models).toHaveLength(1);
    expect(inv.endpointConfigs).toHaveLength(1);
    expect(inv.objects).toHaveLength(1);
    expect(h.fake.callsOf('DeleteEndpoint')).toEqual([]);

    // SageMaker fails the create in the end (as it does after about an hour): delete removes everything
    const stuck = h.fake.state.endpoints.get('iris')!;
    stuck.pending!.outcome = { kind: 'fail', reason: 'Unable to provision requested ML compute capacity' };
    stuck.pending!.pollsLeft = 3;
    const lines: string[] = [];
    const d = await deleteDeployment(h.session(), 'iris', { wait: FAST, onStatus: (l) => lines.push(l) });
    expect(d.removed.map((r) => r.kind)).toEqual(['endpoint', 'endpoint-config', 's3-object', 'model']);
    expect(leftovers(h.fake)).toEqual({ buckets: [BUCKET] });
    expect(lines).toContainEqual(expect.stringMatching(/^waiting for endpoint iris to leave Creating before deleting it: Failed/));
  });

  it('delete of an endpoint that is Updating waits for the update to end instead of failing on SageMaker’s refusal', async () => {
    await deployEndpoint(h.session(), base());
    h.fake.behaviour.nextUpdate.push({ kind: 'never' });
    await expect(deployEndpoint(h.session(), base({ mode: 'replace', wait: { intervalMs: 5, timeoutMs: 40 } }))).rejects.toThrow(/still in progress/);
    expect(h.fake.peekEndpoint('iris')!.EndpointStatus).toBe('Updating');
    // while it stays Updating, delete says why it cannot, and removes nothing
    await expect(deleteDeployment(h.session(), 'iris', { wait: { intervalMs: 5, timeoutMs: 40 } })).rejects.toThrow(
      /^endpoint iris was still Updating after waiting 0\.04 s to delete it, and SageMaker refuses DeleteEndpoint while an endpoint is Updating/,
    );
    expect(h.fake.state.endpoints.has('iris')).toBe(true);
    const e = h.fake.state.endpoints.get('iris')!;
    e.pending!.outcome = { kind: 'ok' };
    e.pending!.pollsLeft = 2;
    await deleteDeployment(h.session(), 'iris', { wait: FAST });
    expect(leftovers(h.fake)).toEqual({ buckets: [BUCKET] });
  });
});

describe('async endpoints', () => {
  const asyncEndpoint = (): Promise<unknown> =>
    deployEndpoint(h.session(), base({ endpointName: 'iris-async', asyncInference: { outputPath: `s3://${BUCKET}/iris-async/out` } }));

  it('predict detects the AsyncInferenceConfig, uploads the request, calls InvokeEndpointAsync, and reports the FailureLocation’s content', async () => {
    await asyncEndpoint();
    // the fake has no container for this image: the request fails, and SageMaker writes the failure to S3
    const lines: string[] = [];
    const e = (await predict(h.session(), {
      endpointName: 'iris-async',
      body: Buffer.from('x\n1\n'),
      fileName: 'req.csv',
      wait: { intervalMs: 10, timeoutMs: 3_000 },
      onStatus: (l) => lines.push(l),
    }).catch((x: unknown) => x)) as ModelInvocationError;
    expect(e).toBeInstanceOf(ModelInvocationError);
    const [inv] = h.fake.state.asyncInvocations;
    expect(inv).toMatchObject({ endpoint: 'iris-async', contentType: 'text/csv', status: 'failed' });
    expect(inv!.inputLocation).toMatch(new RegExp(`^s3://${BUCKET}/iris-async/async-inputs/[0-9a-f-]{36}\\.csv$`));
    expect(inv!.outputLocation).toBe(`s3://${BUCKET}/iris-async/out/${inv!.inferenceId}.out`);
    expect(inv!.failureLocation).toBe(`s3://${BUCKET}/iris-async/out/failures/${inv!.inferenceId}-error.out`);
    expect(e.message).toBe(
      `the model on iris-async failed async request ${inv!.inferenceId}: no container answers for the model (the test did not start one) (${inv!.failureLocation})`,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^uploading the request \(4 bytes\) to s3:\/\//));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^async request ${inv!.inferenceId} on iris-async: queued \\(`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^async request ${inv!.inferenceId} on iris-async: failed \\(`)));
    // the request was removed once it had ended; the failure object stays for the user
    expect(h.fake.state.inventory().objects.filter((o) => o.includes('/async-inputs/'))).toEqual([]);
    expect(h.fake.state.inventory().objects).toContain(inv!.failureLocation);
    expect(h.fake.state.calls.filter((c) => c.service === 'sagemaker-runtime').map((c) => c.operation)).toEqual(['InvokeEndpointAsync']);
  });

  it('a request that does not end in time: one line naming where the result will appear; the request stays in S3 for SageMaker to read', async () => {
    await asyncEndpoint();
    h.fake.behaviour.asyncDelayMs = 60_000;
    const e = (await predict(h.session(), {
      endpointName: 'iris-async',
      body: Buffer.from('{"inputs": [[1]]}'),
      fileName: 'req.json',
      wait: { intervalMs: 10, timeoutMs: 100 },
    }).catch((x: unknown) => x)) as DeployTimeoutError;
    expect(e).toBeInstanceOf(DeployTimeoutError);
    const [inv] = h.fake.state.asyncInvocations;
    expect(e.message).toBe(
      `timed out after 0.1 s waiting for async request ${inv!.inferenceId} on iris-async (last status: queued); SageMaker may still run it: its result will be at ${inv!.outputLocation} (or its error at ${inv!.failureLocation}); the request stays at ${inv!.inputLocation}`,
    );
    expect(h.fake.state.inventory().objects).toContain(inv!.inputLocation);
  });

  it('an update keeps the endpoint async (and its data capture) unless told otherwise; serverless cannot join it', async () => {
    await deployEndpoint(
      h.session(),
      base({
        endpointName: 'iris-async',
        asyncInference: { outputPath: `s3://${BUCKET}/iris-async/out`, maxConcurrentInvocationsPerInstance: 2 },
        dataCapture: { destination: `s3://${BUCKET}/capture`, samplingPercent: 10 },
      }),
    );
    const lines: string[] = [];
    const r = await deployEndpoint(h.session(), base({ endpointName: 'iris-async', mode: 'replace', onStatus: (l) => lines.push(l) }));
    const c = h.fake.state.endpointConfigs.get(r.endpointConfigName)!;
    expect(c.AsyncInferenceConfig).toEqual({
      OutputConfig: { S3OutputPath: `s3://${BUCKET}/iris-async/out`, S3FailurePath: `s3://${BUCKET}/iris-async/out/failures` },
      ClientConfig: { MaxConcurrentInvocationsPerInstance: 2 },
    });
    expect(c.DataCaptureConfig).toMatchObject({ DestinationS3Uri: `s3://${BUCKET}/capture`, InitialSamplingPercentage: 10 });
    expect(lines).toContain(`keeping the endpoint's async inference (results under s3://${BUCKET}/iris-async/out)`);
    expect(h.fake.peekEndpoint('iris-async')!.AsyncInferenceConfig).toEqual(c.AsyncInferenceConfig);
    const before = h.fake.state.inventory();
    await expect(
      deployEndpoint(h.session(), base({ endpointName: 'iris-async', mode: 'add', serverless: { memorySizeMb: 2048, maxConcurrency: 1 } })),
    ).rejects.toThrow(/^endpoint iris-async is asynchronous: a serverless variant cannot be added to it$/);
    expect(h.fake.state.inventory()).toEqual(before);
  });

  it('the synchronous runtime refuses an async endpoint; an s3:// input is used as is and kept; a missing bucket is one line', async () => {
    await asyncEndpoint();
    await expect(invokeEndpoint(h.session(), { endpointName: 'iris-async', body: Buffer.from('{}') })).rejects.toThrow(
      /^sagemaker:InvokeEndpoint failed: ValidationError: Endpoint iris-async of account 123456789012 is an asynchronous endpoint/,
    );
    const given = `s3://${BUCKET}/iris/model-input.json`;
    h.fake.state.buckets.get(BUCKET)!.objects.set('iris/model-input.json', { body: Buffer.from('{}'), contentType: 'application/json', tags: {} });
    await expect(
      predict(h.session(), {
        endpointName: 'iris-async',
        body: Buffer.alloc(0),
        inputLocation: given,
        async: true,
        wait: { intervalMs: 10, timeoutMs: 3_000 },
      }),
    ).rejects.toThrow(ModelInvocationError);
    expect(h.fake.state.asyncInvocations[0]!.inputLocation).toBe(given);
    expect(h.fake.state.inventory().objects).toContain(given);
    await expect(predict(h.session(), { endpointName: 'iris-async', body: Buffer.from('{}'), bucket: 'no-such-bucket' })).rejects.toThrow(
      /^bucket no-such-bucket does not exist: pass --bucket/,
    );
    expect(h.fake.state.asyncInvocations).toHaveLength(1);
  });
});

describe('request size', () => {
  it("a body over SageMaker's limit (6 MB real-time, 4 MB serverless) is refused before the call, in one line that names the way out", async () => {
    await deployEndpoint(h.session(), base());
    await deployEndpoint(h.session(), base({ endpointName: 'iris-sl', serverless: { memorySizeMb: 2048, maxConcurrency: 1 } }));
    const sent = (): number => h.fake.callsOf('InvokeEndpoint').length;
    const big = Buffer.alloc(6 * 1024 * 1024 + 1, 0x20);
    await expect(predict(h.session(), { endpointName: 'iris', body: big })).rejects.toThrow(
      /^the request is 6\.0 MB \(6291457 bytes\), but SageMaker accepts at most 6\.0 MB per InvokeEndpoint call on a real-time endpoint \(iris\): split the input, use `mlmodel deploy sagemaker batch-transform`, or deploy with --async-output-path/,
    );
    await expect(invokeEndpoint(h.session(), { endpointName: 'iris', body: big })).rejects.toThrow(/at most 6\.0 MB per InvokeEndpoint call/);
    const fiveMb = Buffer.alloc(5 * 1024 * 1024, 0x20);
    await expect(predict(h.session(), { endpointName: 'iris-sl', body: fiveMb })).rejects.toThrow(
      /^the request is 5\.0 MB \(5242880 bytes\), but SageMaker accepts at most 4\.0 MB per InvokeEndpoint call on a serverless endpoint \(iris-sl\)/,
    );
    expect(sent()).toBe(0);
  });
});

describe('configs mlmodel did not make', () => {
  it('an endpoint config someone else made (and may share) is kept by delete and by a replace, and reported', async () => {
    const sm = h.clients.sagemaker;
    await sm.send(new CreateModelCommand({ ModelName: 'theirs', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE } }));
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'shared',
        ProductionVariants: [{ VariantName: 'a', ModelName: 'theirs', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: 'theirs', EndpointConfigName: 'shared' }));
    await sm.send(new CreateEndpointCommand({ EndpointName: 'theirs-canary', EndpointConfigName: 'shared' }));
    for (let i = 0; i < 5 && h.fake.state.endpoints.get('theirs')!.EndpointStatus !== 'InService'; i++)
      await sm.send(new DescribeEndpointCommand({ EndpointName: 'theirs' }));

    const lines: string[] = [];
    const r = await deployEndpoint(h.session(), base({ endpointName: 'theirs', mode: 'replace', onStatus: (l) => lines.push(l) }));
    expect(r.cleanedUp).toEqual([]);
    expect(lines).toContain('kept endpoint-config shared: mlmodel did not create it for theirs');
    expect(lines).toContain('kept model theirs: mlmodel did not create it for theirs');
    expect(h.fake.state.endpointConfigs.has('shared')).toBe(true);

    await deleteDeployment(h.session(), 'theirs-canary', { wait: FAST });
    expect(h.fake.state.endpointConfigs.has('shared')).toBe(true);
    const d = await deleteDeployment(h.session(), 'theirs', { wait: FAST });
    expect(d.removed.map((x) => x.kind)).toEqual(['endpoint', 'endpoint-config', 's3-object', 'model']);
    expect(d.removed.find((x) => x.kind === 'endpoint-config')!.name).toBe(r.endpointConfigName);
    expect(h.fake.state.endpointConfigs.has('shared')).toBe(true);
    expect(h.fake.state.models.has('theirs')).toBe(true);
  });
});

describe('list', () => {
  it('shows only the endpoints mlmodel made (mlmodel:endpoint tag) with their model; all shows every endpoint', async () => {
    await deployEndpoint(h.session(), base());
    // an endpoint someone else made, without mlmodel's tags
    const sm = h.clients.sagemaker;
    await sm.send(
      new CreateModelCommand({ ModelName: 'theirs', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE }, Tags: [{ Key: 'team', Value: 'x' }] }),
    );
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'theirs',
        ProductionVariants: [{ VariantName: 'a', ModelName: 'theirs', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
      }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: 'theirs', EndpointConfigName: 'theirs', Tags: [{ Key: 'team', Value: 'x' }] }));

    const mine = await listDeployments(h.session());
    expect(mine.map((d) => [d.name, d.mlmodel, d.modelUri])).toEqual([['iris', true, MODEL]]);
    expect(h.fake.callsOf('ListTags')).toHaveLength(2);
    const all = await listDeployments(h.session(), { all: true });
    expect(all.map((d) => [d.name, d.mlmodel])).toEqual([
      ['iris', null],
      ['theirs', null],
    ]);
    expect(h.fake.callsOf('ListTags')).toHaveLength(2);
    expect(await listDeployments(h.session(), { nameContains: 'thei' })).toEqual([]);
  });
});
