/**
 * runTransformJob failures and timeouts, buildAndPush's dry run, the SDK's own endpoint
 * variables, and the client errors: all with the real SDK against the fake AWS (no container
 * here: the end-to-end file runs jobs against a real one).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsSession,
  buildAndPush,
  createClients,
  destroyClients,
  DeploymentFailedError,
  listDeployments,
  runTransformJob,
  type TransformOptions,
} from '../src/index.js';
import { FAST, harness, IMAGE, leftovers, MODEL, ROLE, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  expect(h.fake.unsigned).toBe(0);
  await h.close();
});

const job = (over: Partial<TransformOptions> = {}): TransformOptions => ({
  model: MODEL,
  input: 's3://data/in/records.csv',
  imageUrl: IMAGE,
  executionRoleArn: ROLE,
  wait: FAST,
  ...over,
});

function putInput(): void {
  h.fake.state.buckets.set('data', {
    region: 'us-west-2',
    objects: new Map([['in/records.csv', { body: Buffer.from('x\n1\n'), contentType: 'text/csv', tags: {} }]]),
  });
}

describe('runTransformJob', () => {
  it('a job SageMaker fails reports its FailureReason and removes model, archive and bucket it made', async () => {
    putInput();
    const e = (await runTransformJob(h.session(), job()).catch((x: unknown) => x)) as DeploymentFailedError;
    expect(e).toBeInstanceOf(DeploymentFailedError);
    expect(e.failureReason).toMatch(/^AlgorithmError: no container answers/);
    expect(e.message).toMatch(
      /^transform job iris-onnx-transform-[0-9a-f]{20} ended Failed: AlgorithmError: .*; cleanup: removed model iris-onnx-transform-model-\S+, s3-object s3:\/\/mlmodel-sagemaker-us-west-2-123456789012\/\S+\/model\.tar\.gz, s3-bucket mlmodel-sagemaker-us-west-2-123456789012$/,
    );
    expect(leftovers(h.fake)).toEqual({ buckets: ['data'], objects: ['s3://data/in/records.csv'] });
    const created = h.fake.callsOf('CreateTransformJob')[0]!;
    expect(created).toMatchObject({
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://data/in/records.csv' } },
        ContentType: 'text/csv',
        SplitType: 'Line',
        CompressionType: 'None',
      },
      TransformOutput: { AssembleWith: 'Line', Accept: 'application/json' },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
    });
    // left to the container's /execution-parameters
    expect(created).not.toHaveProperty('BatchStrategy');
    expect(created).not.toHaveProperty('MaxPayloadInMB');
  });

  it('a job that does not finish in time is stopped, and what it made is removed', async () => {
    putInput();
    h.fake.behaviour.transformPolls = 1_000_000;
    await expect(
      runTransformJob(h.session(), job({ wait: { intervalMs: 5, timeoutMs: 100 }, batchStrategy: 'SingleRecord', maxPayloadMb: 1 })),
    ).rejects.toThrow(
      /timed out after 0\.1 s waiting for transform job \S+ \(last status: InProgress\) \(the job was stopped\); cleanup: removed transform-job/,
    );
    expect(h.fake.callsOf('StopTransformJob')).toHaveLength(1);
    expect(h.fake.callsOf('CreateTransformJob')[0]).toMatchObject({ BatchStrategy: 'SingleRecord', MaxPayloadInMB: 1 });
    expect(leftovers(h.fake)).toEqual({ buckets: ['data'], objects: ['s3://data/in/records.csv'] });
  });

  it('a local input is uploaded first and removed with the rest on failure; --output must be s3://', async () => {
    await expect(runTransformJob(h.session(), job({ input: MODEL + '/input_example.json' }))).rejects.toThrow(DeploymentFailedError);
    expect(h.fake.callsOf('PutObject').map((p) => p.Key)).toEqual([
      expect.stringMatching(/^iris-onnx-transform-\S+\/input\/input_example\.json$/),
      expect.stringMatching(/model\.tar\.gz$/),
    ]);
    expect(leftovers(h.fake)).toEqual({});
    await expect(runTransformJob(h.session(), job({ output: '/tmp/out' }))).rejects.toThrow(/--output must be an s3:\/\/ URI/);
  });
});

describe('buildAndPush dry run', () => {
  it('plans the repository, the build and the push without making them, the password masked', async () => {
    const session = h.session({ dryRun: true });
    const r = await buildAndPush(session, { model: MODEL, registryHost: '127.0.0.1:5001' });
    expect(r.dryRun).toBe(true);
    expect(r.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(['ecr:CreateRepository', 'docker:BuildImage', 'docker:PushImage']);
    expect(r.imageUri).toMatch(/^127\.0\.0\.1:5001\/mlmodel-iris-onnx:model-[0-9a-f]{12}$/);
    expect(JSON.stringify(r.calls)).not.toContain('fake-ecr-password');
    expect(h.fake.state.mutatingCalls()).toEqual([]);
    expect(h.fake.state.repositories.size).toBe(0);
  });
});

describe('clients', () => {
  it("the SDK's own AWS_ENDPOINT_URL_SAGEMAKER reaches the fake without --endpoint-url", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
    process.env.AWS_ENDPOINT_URL_SAGEMAKER = h.fake.url;
    try {
      const { endpointUrl: _e, ...config } = h.fake.clientConfig();
      const clients = createClients(config);
      try {
        expect(await listDeployments(new AwsSession(clients))).toEqual([]);
        expect(h.fake.callsOf('ListEndpoints')).toHaveLength(1);
      } finally {
        destroyClients(clients);
      }
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
      else process.env.AWS_ENDPOINT_URL_SAGEMAKER = saved;
    }
  });

  it('an endpoint nobody answers is one line saying which service and what to check', async () => {
    const clients = createClients({ ...h.fake.clientConfig(), endpointUrl: 'http://127.0.0.1:9', maxAttempts: 1 });
    try {
      await expect(listDeployments(new AwsSession(clients))).rejects.toThrow(
        /^sagemaker:ListEndpoints failed: ECONNREFUSED: cannot reach the sagemaker endpoint .*check --endpoint-url \/ AWS_ENDPOINT_URL\* and the network$/,
      );
    } finally {
      destroyClients(clients);
    }
  });
});
