/**
 * `mlmodel deploy sagemaker` end to end: the real CLI (child processes), the real AWS SDK v3
 * against the FAKE AWS of packages/deploy-sagemaker/test/fake-aws (SageMaker, S3, STS, ECR,
 * Application Auto Scaling on their real wire protocols), the real Docker engine, a real image
 * registry (Debian's docker-registry with htpasswd auth, started by the test command) and real
 * containers of the built image:
 *
 * - build-and-push: ECR repository created, authorization token → `AWS:<password>` login,
 *   push to the registry (--registry-host), digest as the registry stores it; a refused login
 *   removes the repository it created; no secret printed.
 * - run-local: the image run as SageMaker runs it (`serve`, SAGEMAKER_BIND_TO_PORT, the model
 *   unpacked from model.tar.gz at /opt/ml/model, read-only); /ping, /invocations (JSON, CSV,
 *   Parquet), /execution-parameters; SIGTERM stops and removes the container.
 * - create, predict (JSON, CSV, Parquet through the fake runtime to the real container; the
 *   container's error as one line), update --mode add with --traffic, status, list,
 *   batch-transform (the fake's transform engine asks the real container's
 *   /execution-parameters and splits lines), dry run, access denied, delete (nothing left).
 * - async endpoints: predict finds the AsyncInferenceConfig, uploads the request to S3, calls
 *   InvokeEndpointAsync; the fake runs it against the real container and writes the output (or
 *   the container's error, at the FailureLocation) to S3, which predict polls and prints.
 * - list: only mlmodel's endpoints (by their tags), --all for every endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal, type LocalContainer } from '@mlmodel/deploy-sagemaker';
import { startFakeAws, type FakeAws } from '../packages/deploy-sagemaker/test/fake-aws/index.js';
import { NODE_BASE, docker, dockerOk, requireEngineAndBases } from './support/docker.js';
import { ECR_USER, registryDigest, registryTags, testRegistry, type TestRegistry } from './support/registry.js';
import { BIN, freePort } from './support/serve-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-sagemaker-e2e-'));
const suffix = Math.random().toString(36).slice(2, 8);
const REPOSITORY = `mlmodel-test/sagemaker-doubler-${suffix}`;
const ROLE = 'arn:aws:iam::123456789012:role/SageMakerExecution';
const POLL = ['--poll-interval', '0.02', '--timeout', '30'];
const images: string[] = [];
const containers: LocalContainer[] = [];

let fake: FakeAws;
let registry: TestRegistry;
let model: string;
let imageUri: string;
let localImage: string;
let pushStdout = '';
let pushStderr = '';
let pushMs = 0;
/** Every CLI output of this file: no secret may appear in any of it. */
const outputs: string[] = [];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process (asynchronous: the fake AWS answers from this process). */
function mlmodel(args: readonly string[], env: Record<string, string> = {}, unset: readonly string[] = []): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...fake.env(),
    AWS_CONFIG_FILE: join(tmp, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'no-aws-credentials'),
    ...env,
  };
  for (const k of unset) delete childEnv[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (status) => {
      outputs.push(stdout, stderr);
      resolve({ status, stdout, stderr });
    });
  });
}

function sm(...args: string[]): Promise<Run> {
  return mlmodel(['deploy', 'sagemaker', ...args]);
}

beforeAll(async () => {
  requireEngineAndBases([NODE_BASE]);
  registry = await testRegistry();
  fake = await startFakeAws({ registryPassword: registry.credentialsFor(ECR_USER).password });

  // a js_function model with a column signature (x → 2x): it takes JSON, CSV and Parquet
  const src = join(tmp, 'src');
  mkdirSync(src);
  writeFileSync(
    join(src, 'doubler.mjs'),
    `export async function load() {
  return {
    async predict(batch) {
      const x = batch.columns.find((c) => c.name === 'x');
      const out = [];
      for (let i = 0; i < batch.numRows; i++) out.push(Number(x.values[i]) * 2);
      return { kind: 'json', value: out };
    },
  };
}
`,
  );
  writeFileSync(join(src, 'example.json'), JSON.stringify({ dataframe_records: [{ x: 1.5 }, { x: 2 }] }));
  model = join(tmp, 'doubler');
  const b = await mlmodel(['build', '--js', join(src, 'doubler.mjs'), '--input-example', join(src, 'example.json'), '-o', model]);
  expect(b.status, b.stderr).toBe(0);

  const t0 = Date.now();
  const r = await sm(
    'build-and-push',
    '-m',
    model,
    '--repository',
    REPOSITORY,
    '--registry-host',
    registry.address,
    '--base-image',
    NODE_BASE,
    '--network',
    'host',
  );
  pushMs = Date.now() - t0;
  pushStdout = r.stdout;
  pushStderr = r.stderr;
  expect(r.status, r.stderr).toBe(0);
  imageUri = /^pushed (\S+)/m.exec(r.stdout)![1]!;
  localImage = `${REPOSITORY}:${imageUri.split(':').pop()}`;
  images.push(localImage, imageUri);
}, 300_000);

afterAll(async () => {
  for (const c of containers) await c.stop();
  // the pushed manifest goes from the registry too (it has deletes enabled)
  if (imageUri && registry) {
    const user = registry.credentialsFor(ECR_USER);
    const digest = await registryDigest(registry, REPOSITORY, imageUri.split(':').pop()!, user);
    if (digest) {
      await fetch(`http://${registry.address}/v2/${REPOSITORY}/manifests/${digest}`, {
        method: 'DELETE',
        headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` },
      });
    }
  }
  await fake?.stop();
  if (images.length > 0) docker(['rmi', '-f', ...images]);
  rmSync(tmp, { recursive: true, force: true });
  console.log(
    `sagemaker e2e: build-and-push ${(pushMs / 1000).toFixed(1)} s (CLI process, build included; ${/^pushed \S+ in ([\d.]+ s)/m.exec(pushStdout)?.[1] ?? '?'} of it the push)`,
  );
});

describe('build-and-push', () => {
  it('creates the ECR repository, logs in with the authorization token and pushes to the registry', async () => {
    expect(imageUri).toMatch(new RegExp(`^${registry.address.replace(/\./g, '\\.')}/${REPOSITORY}:model-[0-9a-f]{12}$`));
    expect(fake.state.repositories.get(REPOSITORY)!.repositoryUri).toBe(`123456789012.dkr.ecr.us-west-2.amazonaws.com/${REPOSITORY}`);
    expect(fake.state.calls.filter((c) => c.service === 'ecr').map((c) => c.operation)).toEqual([
      'DescribeRepositories',
      'CreateRepository',
      'GetAuthorizationToken',
    ]);
    const tag = imageUri.split(':').pop()!;
    const user = registry.credentialsFor(ECR_USER);
    expect(await registryTags(registry, REPOSITORY, user)).toEqual([tag]);
    const digest = await registryDigest(registry, REPOSITORY, tag, user);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pushStdout).toContain(`digest      ${digest}`);
    expect(pushStdout).toContain(`repository  123456789012.dkr.ecr.us-west-2.amazonaws.com/${REPOSITORY} (created)`);
    expect(pushStderr).toMatch(/mlmodel: logging in to 127\.0\.0\.1:5001 as AWS/);
    expect(pushStderr).toMatch(/mlmodel: layer [0-9a-f]+: Pushed|Layer already exists/);
  });

  it('a refused login is one line, and the repository it created is removed again', async () => {
    const other = await startFakeAws({ registryPassword: 'not-the-password' });
    try {
      const r = await mlmodel(
        ['deploy', 'sagemaker', 'build-and-push', '-m', model, '--repository', `${REPOSITORY}-x`, '--registry-host', registry.address, '--image', localImage],
        {
          ...other.env(),
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n').pop()).toMatch(/^error: the registry 127\.0\.0\.1:5001 refused the login of AWS: .*401 Unauthorized$/);
      expect(r.stderr).not.toContain('not-the-password');
      expect(other.state.mutatingCalls()).toEqual(['ecr:CreateRepository', 'ecr:DeleteRepository']);
      expect(other.state.repositories.size).toBe(0);
    } finally {
      await other.stop();
    }
  });
});

describe('run-local', () => {
  it('runs the image as SageMaker does and answers /ping, /invocations (JSON, CSV, Parquet) and /execution-parameters; SIGTERM removes it', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'deploy', 'sagemaker', 'run-local', '-m', model, '--image', localImage, '-p', String(port), '--network', 'host'],
      {
        cwd: tmp,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let id: string | undefined;
    try {
      while (!/^serving /m.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`run-local exited: ${stderr}`);
        if (Date.now() - t0 > 90_000) throw new Error(`run-local not ready: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const coldStartMs = Date.now() - t0;
      console.log(
        `sagemaker e2e: run-local command start to ready ${(coldStartMs / 1000).toFixed(1)} s (${/ready in ([\d.]+ s)/.exec(stdout)?.[1]} from container start)`,
      );
      id = /container ([0-9a-f]{12})/.exec(stdout)![1]!;
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/ping`)).status).toBe(200);
      // exactly as SageMaker starts it
      const inspect = JSON.parse(dockerOk(['inspect', id]))[0] as { Config: { Cmd: string[]; Env: string[] }; Mounts: { Destination: string; RW: boolean }[] };
      expect(inspect.Config.Cmd).toEqual(['serve']);
      expect(inspect.Config.Env).toContain(`SAGEMAKER_BIND_TO_PORT=${port}`);
      expect(inspect.Mounts).toEqual([expect.objectContaining({ Destination: '/opt/ml/model', RW: false })]);
      expect(dockerOk(['exec', id, 'ls', '/opt/ml/model']).split('\n')).toEqual(readdirSync(model).sort());
      expect(dockerOk(['exec', id, 'ls', '/opt/ml/model/code']).split('\n')).toEqual(readdirSync(join(model, 'code')).sort());

      const json = await fetch(`${url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_records: [{ x: 1 }, { x: 2.5 }] }),
      });
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual({ predictions: [2, 5] });
      const csv = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'x\n3\n4\n' });
      expect(await csv.json()).toEqual({ predictions: [6, 8] });
      const parquet = await fetch(`${url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.apache.parquet' },
        body: readFileSync(await parquetFile()),
      });
      expect(await parquet.json()).toEqual({ predictions: [3, 4] });
      const exec = await fetch(`${url}/execution-parameters`);
      expect(await exec.json()).toEqual({ MaxConcurrentTransforms: expect.any(Number), BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: expect.any(Number) });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(docker(['inspect', id]).status, 'the container is removed').not.toBe(0);
      expect(stderr).toMatch(/mlmodel: stopping the container/);
    } finally {
      // a failed assertion leaves the CLI running: kill it, and remove its container (SIGKILL gives it no chance to)
      if (child.exitCode === null) child.kill('SIGKILL');
      if (id) docker(['rm', '-f', id]);
    }
  }, 120_000);
});

describe('run-local without --image', () => {
  it('builds the image as build-and-push would (tag from the model archive), serves, and stops on SIGINT', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [BIN, 'deploy', 'sagemaker', 'run-local', '-m', model, '-p', String(port), '--network', 'host', '--base-image', NODE_BASE],
      {
        cwd: tmp,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let id: string | undefined;
    try {
      const t0 = Date.now();
      while (!/^serving /m.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`run-local exited: ${stderr}`);
        if (Date.now() - t0 > 150_000) throw new Error(`run-local not ready: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const tag = imageUri.split(':').pop()!;
      expect(stdout).toContain(`with mlmodel-doubler:${tag} at http://127.0.0.1:${port}`);
      images.push(`mlmodel-doubler:${tag}`);
      id = /container ([0-9a-f]{12})/.exec(stdout)![1]!;
      const r = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'x\n21\n' });
      expect(await r.json()).toEqual({ predictions: [42] });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(docker(['inspect', id]).status).not.toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (id) docker(['rm', '-f', id]);
    }
  }, 180_000);
});

/** A Parquet file with x = 1.5, 2 (written by DuckDB, independent of our code). */
async function parquetFile(): Promise<string> {
  const path = join(tmp, 'input.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`COPY (SELECT * FROM (VALUES (1.5::DOUBLE), (2.0::DOUBLE)) t(x)) TO '${path}' (FORMAT parquet)`);
  conn.closeSync();
  return path;
}

describe('endpoints through the fake SageMaker, served by a real container', () => {
  beforeAll(async () => {
    // the container the fake's runtime and transform jobs forward to, started as SageMaker would
    const c = await runLocal({ model, image: localImage, port: await freePort(), network: 'host', readyTimeoutMs: 90_000 });
    containers.push(c);
    fake.containers.set(imageUri, c.url);
  }, 120_000);

  it('create: a dry run first changes nothing and prints no secret; then the endpoint is created', async () => {
    const dry = await sm('create', '-n', 'doubler', '-m', model, '--image-url', imageUri, '--execution-role-arn', ROLE, '--dry-run', ...POLL);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /^dry run: nothing was changed\. These calls would be made:\n {2}s3 +CreateBucket .*\n {2}s3 +PutObject .*"Body":"<\d+ bytes>".*\n {2}sagemaker +CreateModel .*\n {2}sagemaker +CreateEndpointConfig .*\n {2}sagemaker +CreateEndpoint .*\nreads made to plan them: sts:GetCallerIdentity, sagemaker:DescribeEndpoint, s3:HeadBucket\n$/,
    );
    expect(fake.state.mutatingCalls().filter((c) => !c.startsWith('ecr:'))).toEqual([]);
    const dryJson = await sm('create', '-n', 'doubler', '-m', model, '--image-url', imageUri, '--execution-role-arn', ROLE, '--dry-run', '--json', ...POLL);
    expect(dryJson.stdout.length).toBeLessThan(20_000);
    const plan = JSON.parse(dryJson.stdout) as { status: string; calls: { operation: string; params: Record<string, unknown> }[] };
    expect(plan.status).toBe('planned');
    expect(plan.calls.find((c) => c.operation === 'PutObject')!.params.Body).toMatch(/^<\d+ bytes>$/);

    const t0 = Date.now();
    const r = await sm('create', '-n', 'doubler', '-m', model, '--image-url', imageUri, '--execution-role-arn', ROLE, '--tag', 'team=ml', ...POLL);
    console.log(`sagemaker e2e: create against the fake ${((Date.now() - t0) / 1000).toFixed(2)} s (CLI process included)`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^endpoint doubler is InService \(create, [\d.]+ s\)\n {2}config {4}doubler-config-[0-9a-f]{20}\n {2}variant {3}v1 → model doubler-model-[0-9a-f]{20}/,
    );
    expect(r.stderr).toMatch(/mlmodel: creating endpoint doubler: Creating .*\nmlmodel: creating endpoint doubler: InService/);
  });

  it('predict: JSON, CSV and Parquet bodies by extension reach the container; its error is one line', async () => {
    writeFileSync(join(tmp, 'req.json'), JSON.stringify({ dataframe_split: { columns: ['x'], data: [[10], [20]] } }));
    writeFileSync(join(tmp, 'req.csv'), 'x\n7\n');
    const j = await sm('predict', '-n', 'doubler', '-i', join(tmp, 'req.json'));
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ predictions: [20, 40] });
    expect(j.stderr).toMatch(/answered by variant v1 \(application\/json/);
    const c = await sm('predict', '-n', 'doubler', '-i', join(tmp, 'req.csv'));
    expect(JSON.parse(c.stdout)).toEqual({ predictions: [14] });
    const p = await sm('predict', '-n', 'doubler', '-i', await parquetFile(), '--json');
    expect(JSON.parse((JSON.parse(p.stdout) as { body: string }).body)).toEqual({ predictions: [3, 4] });
    const bad = await sm('predict', '-n', 'doubler', '-i', join(tmp, 'req.csv'), '-t', 'json');
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(
      /^error: the model on doubler answered 400: \{"error_code": "BAD_REQUEST", "message": .*\(logs: arn:aws:logs:us-west-2:123456789012:log-group:\/aws\/sagemaker\/Endpoints\/doubler\)$/,
    );
    expect(bad.stderr).not.toContain('    at ');
  });

  it('update --mode add with --traffic: two variants at 90/10; status shows them; predict can target one', async () => {
    const r = await sm(
      'update',
      '-n',
      'doubler',
      '-m',
      model,
      '--mode',
      'add',
      '--image-url',
      imageUri,
      '--execution-role-arn',
      ROLE,
      '--traffic',
      'v1=90,v2=10',
      ...POLL,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/shifting traffic on doubler: v1=90, v2=10/);
    const s = await sm('status', '-n', 'doubler', '--json');
    const status = JSON.parse(s.stdout) as { status: string; variants: { name: string; currentWeight: number }[] };
    expect(status.status).toBe('InService');
    expect(status.variants.map((v) => [v.name, v.currentWeight])).toEqual([
      ['v1', 90],
      ['v2', 10],
    ]);
    const text = await sm('status', '-n', 'doubler');
    expect(text.stdout).toMatch(
      /VARIANT +MODEL +WEIGHT +INSTANCES +TYPE\n.*\n {2}v1 +doubler-model-\S+ +90 +1 +ml\.m5\.large\n {2}v2 +doubler-model-\S+ +10 +1 +ml\.m5\.large/,
    );
    const t = await sm('predict', '-n', 'doubler', '-i', join(tmp, 'req.csv'), '--target-variant', 'v2');
    expect(t.stderr).toMatch(/answered by variant v2/);
    const shift = await sm('update', '-n', 'doubler', '--traffic', 'v1=0,v2=100', ...POLL);
    expect(shift.stdout.trim()).toBe('traffic on doubler: v1=0, v2=100');
    const bad = await sm('update', '-n', 'doubler', '--traffic', 'v1=50,v7=50', ...POLL);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('error: endpoint doubler has no variant v7 (it has v1, v2)');
    const list = await sm('list');
    expect(list.stdout).toMatch(
      new RegExp(`ENDPOINT +STATUS +MODIFIED +MODEL\\n.*\\n {2}doubler +InService +\\S+ +${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
    );
  });

  it('batch-transform: the job asks the container for its execution parameters, splits lines, and the output comes back', async () => {
    writeFileSync(join(tmp, 'batch.csv'), 'x\n1\n2\n3\n');
    const out = join(tmp, 'batch.out');
    const r = await sm(
      'batch-transform',
      '-m',
      model,
      '--input',
      join(tmp, 'batch.csv'),
      '-o',
      out,
      '--image-url',
      imageUri,
      '--execution-role-arn',
      ROLE,
      ...POLL,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ predictions: [2, 4, 6] });
    const job = [...fake.state.transformJobs.values()].at(-1)!;
    expect(job.executionParameters).toMatchObject({ BatchStrategy: 'MULTI_RECORD' });
    expect(job.request).not.toHaveProperty('BatchStrategy');
    expect(job.invocations).toEqual([{ contentType: 'text/csv', body: 'x\n1\n2\n3' }]);
    expect(r.stdout).toMatch(
      /^transform job doubler-transform-[0-9a-f]{20} Completed in [\d.]+ s\n {2}input {3}s3:\/\/mlmodel-sagemaker-us-west-2-123456789012\/doubler-transform-\S+\/input\/batch\.csv\n {2}output {2}s3:\/\/\S+\/output\/batch\.csv\.out \(downloaded to /,
    );
    // the job's model, archive and uploaded input are gone; its output stays
    expect(fake.state.models.has(job.ModelName)).toBe(false);
    expect(fake.state.inventory().objects.filter((o) => o.includes(job.TransformJobName))).toEqual([
      `s3://mlmodel-sagemaker-us-west-2-123456789012/${job.TransformJobName}/output/batch.csv.out`,
    ]);

    // one record per request when asked: JSON lines, SingleRecord
    writeFileSync(join(tmp, 'lines.jsonl'), `${JSON.stringify({ dataframe_records: [{ x: 1 }] })}\n${JSON.stringify({ dataframe_records: [{ x: 5 }] })}\n`);
    const out2 = join(tmp, 'lines.out');
    const r2 = await sm(
      'batch-transform',
      '-m',
      model,
      '--input',
      join(tmp, 'lines.jsonl'),
      '-t',
      'json',
      '--batch-strategy',
      'SingleRecord',
      '-o',
      out2,
      '--image-url',
      imageUri,
      '--execution-role-arn',
      ROLE,
      ...POLL,
    );
    expect(r2.status, r2.stderr).toBe(0);
    expect(
      readFileSync(out2, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([{ predictions: [2] }, { predictions: [10] }]);
    expect([...fake.state.transformJobs.values()].at(-1)!.invocations).toHaveLength(2);
  });

  it('access denied is one line naming the action and the principal, exit 1, and nothing is left', async () => {
    const before = fake.state.inventory();
    fake.deny('sagemaker', 'CreateEndpoint');
    try {
      const r = await sm('create', '-n', 'denied', '-m', model, '--image-url', imageUri, '--execution-role-arn', ROLE, ...POLL);
      expect(r.status).toBe(1);
      const last = r.stderr.trim().split('\n').pop()!;
      expect(last).toMatch(
        /^error: AWS denied sagemaker:CreateEndpoint to arn:aws:sts::123456789012:assumed-role\/MlmodelDeployer\/tests: User: .*; cleanup: removed endpoint-config denied-config-\S+, model denied-model-\S+, s3-object s3:\/\/\S+$/,
      );
      expect(r.stderr).not.toContain('    at ');
      expect(fake.state.inventory()).toEqual(before);
    } finally {
      fake.allow('CreateEndpoint');
    }
  });

  it('--endpoint-url wins over AWS_ENDPOINT_URL; an unknown endpoint is one line', async () => {
    const r = await mlmodel(['deploy', 'sagemaker', 'list', '--endpoint-url', fake.url, '--json'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((e) => e.name)).toEqual(['doubler']);
    const s = await sm('status', '-n', 'nope');
    expect(s.status).toBe(1);
    expect(s.stderr.trim()).toBe('error: endpoint nope does not exist in us-west-2');
  });

  it('no region, or no credentials: one line saying what to set', async () => {
    const noRegion = await mlmodel(['deploy', 'sagemaker', 'list'], {}, ['AWS_REGION', 'AWS_DEFAULT_REGION']);
    expect(noRegion.status).toBe(1);
    expect(noRegion.stderr.trim()).toBe('error: no AWS region: pass --region, set AWS_REGION, or give the profile a region');
    const noCredentials = await mlmodel(['deploy', 'sagemaker', 'list'], {}, [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
    ]);
    expect(noCredentials.status).toBe(1);
    expect(noCredentials.stderr.trim()).toMatch(
      /^error: no AWS credentials for sagemaker:ListEndpoints: set AWS_PROFILE \(or --profile\), .*\(Could not load credentials from any providers\)$/,
    );
  });

  it('usage errors exit 2', async () => {
    const r = await sm('update', '-n', 'doubler', ...POLL);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: update needs -m MODEL to deploy, or --traffic to shift traffic');
    const t = await sm('create', '-n', 'x', '-m', model, '--timeout', 'soon');
    expect(t.status).toBe(2);
  });

  it('delete removes the endpoint, its config, and the models and archives it made: only the bucket stays', async () => {
    const made = fake.state.mutatingCalls().length;
    const dry = await sm('delete', '-n', 'doubler', '--dry-run', ...POLL);
    expect(dry.status, dry.stderr).toBe(0);
    expect(
      dry.stdout
        .split('\n')
        .filter((l) => l.startsWith('  '))
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual([
      'sagemaker DeleteEndpoint',
      'sagemaker DeleteEndpointConfig',
      's3 DeleteObject',
      'sagemaker DeleteModel',
      's3 DeleteObject',
      'sagemaker DeleteModel',
    ]);
    expect(fake.state.mutatingCalls()).toHaveLength(made);
    const r = await sm('delete', '-n', 'doubler', ...POLL);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deleted doubler: endpoint doubler, endpoint-config \S+, s3-object \S+, model \S+, s3-object \S+, model \S+\n$/);
    const inv = fake.state.inventory();
    expect(inv.models).toEqual([]);
    expect(inv.endpointConfigs).toEqual([]);
    expect(inv.endpoints).toEqual([]);
    expect(inv.objects.every((o) => o.includes('/output/'))).toBe(true);
    expect(fake.unsigned).toBe(0);
  });

  const BUCKET = 'mlmodel-sagemaker-us-west-2-123456789012';

  it('async endpoint: predict detects it, uploads the request, calls InvokeEndpointAsync and prints the output the container produced', async () => {
    const c = await sm(
      'create',
      '-n',
      'doubler-async',
      '-m',
      model,
      '--image-url',
      imageUri,
      '--execution-role-arn',
      ROLE,
      '--async-output-path',
      `s3://${BUCKET}/doubler-async/output`,
      ...POLL,
    );
    expect(c.status, c.stderr).toBe(0);
    const t0 = Date.now();
    const j = await sm('predict', '-n', 'doubler-async', '-i', join(tmp, 'req.json'), ...POLL);
    console.log(`sagemaker e2e: async predict against the fake ${((Date.now() - t0) / 1000).toFixed(2)} s (CLI process included)`);
    expect(j.status, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ predictions: [20, 40] });
    const [first] = fake.state.asyncInvocations;
    expect(first).toMatchObject({ endpoint: 'doubler-async', contentType: 'application/json', status: 'done' });
    expect(j.stderr).toContain(`mlmodel: uploading the request (`);
    expect(j.stderr).toContain(`mlmodel: queued request ${first!.inferenceId}: waiting for ${first!.outputLocation} or ${first!.failureLocation}`);
    expect(j.stderr).toMatch(
      new RegExp(
        `mlmodel: async request ${first!.inferenceId} on doubler-async: queued \\(.*\\nmlmodel: async request ${first!.inferenceId} on doubler-async: done \\(`,
      ),
    );
    expect(first!.outputLocation).toBe(`s3://${BUCKET}/doubler-async/output/${first!.inferenceId}.out`);

    const csv = await sm('predict', '-n', 'doubler-async', '-i', join(tmp, 'req.csv'), '--json', ...POLL);
    expect(csv.status, csv.stderr).toBe(0);
    const out = JSON.parse(csv.stdout) as { inferenceId: string; outputLocation: string; failureLocation: string; body: string };
    expect(JSON.parse(out.body)).toEqual({ predictions: [14] });
    expect(out.outputLocation).toBe(fake.state.asyncInvocations[1]!.outputLocation);

    // the container's error arrives at the FailureLocation: one line, exit 1
    const bad = await sm('predict', '-n', 'doubler-async', '-i', join(tmp, 'req.csv'), '-t', 'json', ...POLL);
    expect(bad.status).toBe(1);
    const failed = fake.state.asyncInvocations[2]!;
    expect(failed.status).toBe('failed');
    expect(bad.stderr.trim().split('\n').pop()).toMatch(
      new RegExp(
        `^error: the model on doubler-async failed async request ${failed.inferenceId}: Received client error \\(400\\) from primary with message "\\{"error_code": "BAD_REQUEST", .*\\(${failed.failureLocation!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`,
      ),
    );
    // every uploaded request was removed once it had ended; the results stay
    const objects = fake.state.inventory().objects;
    expect(objects.filter((o) => o.includes('/async-inputs/'))).toEqual([]);
    expect(objects).toEqual(expect.arrayContaining([first!.outputLocation, out.outputLocation, failed.failureLocation]));
  });

  it('list shows the endpoints mlmodel made, with their model; --all shows every endpoint', async () => {
    // an endpoint someone else made (no mlmodel tags)
    const now = Date.now() / 1000;
    fake.state.endpoints.set('not-ours', {
      EndpointName: 'not-ours',
      EndpointArn: 'arn:aws:sagemaker:us-west-2:123456789012:endpoint/not-ours',
      EndpointConfigName: 'not-ours',
      EndpointStatus: 'InService',
      ProductionVariants: [],
      CreationTime: now,
      LastModifiedTime: now,
    });
    try {
      const mine = await sm('list');
      expect(mine.status, mine.stderr).toBe(0);
      expect(mine.stdout).toMatch(/^ {2}ENDPOINT +STATUS +MODIFIED +MODEL\n.*\n {2}doubler-async +InService +\S+ +\S+doubler\n$/);
      const all = await sm('list', '--all');
      expect(all.stdout).toMatch(/^ {2}ENDPOINT +STATUS +MODIFIED\n.*\n {2}doubler-async +InService +\S+\n {2}not-ours +InService +\S+\n$/);
      const none = await sm('list', '--name-contains', 'not-');
      expect(none.stdout.trim()).toBe('no endpoints made by mlmodel (--all lists every endpoint)');
    } finally {
      fake.state.endpoints.delete('not-ours');
    }
    const d = await sm('delete', '-n', 'doubler-async', ...POLL);
    expect(d.status, d.stderr).toBe(0);
    expect(fake.state.inventory()).toMatchObject({ endpoints: [], models: [], endpointConfigs: [] });
  });

  it('no output printed a secret: not the session token, the secret key or the registry password', () => {
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of [
      fake.clientConfig().credentials.secretAccessKey,
      fake.clientConfig().credentials.sessionToken,
      registry.credentialsFor(ECR_USER).password,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toContain(Buffer.from(`AWS:${registry.credentialsFor(ECR_USER).password}`).toString('base64'));
  });
});
