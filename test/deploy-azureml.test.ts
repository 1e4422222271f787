/**
 * `mlmodel deploy azureml` end to end, with real components everywhere but Azure itself:
 *
 * - the real @azure/arm-machinelearning 2.1.1 (api-version 2024-04-01) and a real @azure/identity
 *   ClientSecretCredential (in-process) or DefaultAzureCredential from the environment (CLI)
 *   against FakeAzureArm, a fake of ARM + AAD + ACR's token exchange over HTTPS with a throwaway CA
 *   (test/support/fake-azure-arm.ts);
 * - the real Docker engine: one image built from MLflow's iris_onnx in beforeAll, pushed to the
 *   real registry (Debian's docker-registry on 127.0.0.1:5001, scripts/registry-setup.sh) through
 *   the AAD token exchange and through admin credentials, then pulled by digest and run by the
 *   fake with the deployment's settings and probed on the routes and probe settings we generate;
 * - Azurite (real Blob service) as the workspace's datastore for the model files.
 *
 * Covered: create (push, model + environment versions, endpoint, deployment, 100% traffic, real
 * predictions through the scoring URI with the endpoint key), blue/green (a second deployment at
 * 0%, checked traffic shifts, update with a traffic shift, delete refused while it takes traffic),
 * failure cleanup (nothing left behind, service error + log tail), timeout, delete (no orphans),
 * and the CLI as a child process (dry run, create with its own image build, status, list,
 * predict, logs, traffic, delete, one-line errors, no secret printed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import {
  AzureMlError,
  AzureMlServiceError,
  AzureMlTimeoutError,
  connectWorkspace,
  deleteDeployment,
  deleteEndpoint,
  deployOnlineEndpoint,
  deploymentLogs,
  endpointStatus,
  invokeEndpoint,
  pushToAcr,
  setTraffic,
  type DeployOptions,
  type ProbeOptions,
  type Workspace,
} from '@mlmodel/deploy-azureml';
import { openModelDir } from '@mlmodel/format';
import { buildImage } from '@mlmodel/image-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_BASE, docker, requireEngineAndBases } from './support/docker.js';
import { FakeAzureArm, makeTestCa, type TestCa } from './support/fake-azure-arm.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from './support/fake-azure-storage.js';
import { ACR_TOKEN_USER, ECR_USER, registryDigest, testRegistry, type TestRegistry } from './support/registry.js';
import { BIN, FIXTURES, GOLDEN, jsonDiff } from './support/serve-process.js';

const SUB = '6b0bb1ef-5f0c-4a1c-9d0e-7c2a3f1d2e11';
const RG = 'mlmodel-rg';
const WS = 'mlmodel-ws';
const CLIENT_ID = '3c9a1e2f-0000-4000-8000-00000000c11e';
const CLIENT_SECRET = `test-client-secret-${Math.random().toString(36).slice(2)}`;
const CONTAINER = 'azureml-blobstore-6b0bb1ef';
const MODEL = join(FIXTURES, 'iris_onnx');
const CASE = GOLDEN.cases.iris_onnx![0]!;
const RUN = Math.random().toString(36).slice(2, 8);
const IMAGE = `mlmodel-test/azureml-iris:${RUN}`;
/** Fast probes for the real container (the defaults wait 10 s before the first probe). */
const FAST: Partial<ProbeOptions> = { initialDelayS: 0, periodS: 1, timeoutS: 2, failureThreshold: 30, successThreshold: 1 };

let ca: TestCa;
let fake: FakeAzureArm;
let azurite: Azurite;
let registry: TestRegistry;
const tmp = mkdtempSync(join(tmpdir(), 'mlmodel-azureml-e2e-'));
const status: string[] = [];
const measured: Record<string, number> = {};

function workspace(over: { timeoutMs?: number } = {}): Workspace {
  const credential = new ClientSecretCredential(fake.tenantId, CLIENT_ID, CLIENT_SECRET, {
    authorityHost: fake.host,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: ca.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  return connectWorkspace({
    subscriptionId: SUB,
    resourceGroup: RG,
    workspace: WS,
    armHost: fake.host,
    ca: ca.caPem,
    credential,
    pollIntervalMs: 25,
    timeoutMs: over.timeoutMs ?? 90_000,
    blobEndpoint: azurite.blobEndpoint,
    onStatus: (line) => {
      status.push(line);
      if (process.env.DEBUG_AZML) console.log(new Date().toISOString(), line);
    },
  });
}

async function deployOptions(endpoint: string, deployment: string, over: Partial<DeployOptions> = {}): Promise<DeployOptions> {
  const model = await openModelDir(MODEL);
  return {
    mode: 'create',
    endpoint,
    deployment,
    modelDir: model.dir,
    mlmodel: model.mlmodel,
    image: IMAGE,
    registryHost: registry.address,
    registryAuthUrl: fake.host,
    settings: { livenessProbe: FAST, readinessProbe: FAST },
    ...over,
  };
}

const armWrites = (): number => fake.calls.filter((c) => c.method !== 'GET' && c.path.includes('/workspaces/')).length;

beforeAll(async () => {
  requireEngineAndBases([NODE_BASE]);
  registry = await testRegistry();
  ca = makeTestCa();
  azurite = await startAzurite();
  await azurite.service.getContainerClient(CONTAINER).create();
  fake = new FakeAzureArm({
    ca,
    subscriptionId: SUB,
    resourceGroup: RG,
    workspace: WS,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    loginServer: 'mlmodeltestacr.azurecr.io',
    acrRefreshToken: registry.credentialsFor(ACR_TOKEN_USER).password,
    acrAdmin: registry.credentialsFor(ECR_USER),
    storageAccount: { name: AZURITE_ACCOUNT, key: AZURITE_KEY, container: CONTAINER },
    runContainers: { registry: registry.address, ...registry.credentialsFor(ACR_TOKEN_USER) },
  });
  await fake.start();
  const built = await buildImage({ model: MODEL, tag: IMAGE, baseImage: NODE_BASE, network: 'host' });
  measured.imageBuildMs = built.durationMs;
}, 300_000);

afterAll(async () => {
  await fake?.stop();
  await azurite?.stop();
  ca?.remove();
  const images = docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n');
  // the repository mlmodel deploy azureml pushes this model to, and the images built here
  const ours = images.filter((i) => i === IMAGE || i.startsWith(`${registry?.address}/mlmodel/iris-onnx:`) || i.startsWith('mlmodel-azureml/iris-onnx:'));
  const pulled = docker(['images', '--digests', '--format', '{{.Repository}}@{{.Digest}}'])
    .stdout.split('\n')
    .filter((i) => i.startsWith(`${registry?.address}/mlmodel/iris-onnx@`));
  if (ours.length + pulled.length > 0) docker(['rmi', '-f', ...ours, ...pulled]);
  rmSync(tmp, { recursive: true, force: true });
  console.log(`deploy-azureml measurements: ${JSON.stringify(measured)}`);
});

describe('library against the fake ARM, the real registry and Azurite', () => {
  it('create: pushes through the AAD exchange, registers model and environment, creates endpoint + deployment, and the real container answers through the scoring URI', async () => {
    const ws = workspace();
    const t0 = performance.now();
    const r = await deployOnlineEndpoint(ws, await deployOptions('iris-e2e', 'blue', { imageTarget: `mlmodel/iris-onnx:blue-${RUN}` }));
    measured.createWallMs = Math.round(performance.now() - t0);
    measured.acrPushMs = Math.round(r.pushMs);
    expect(r.created).toEqual(['model iris_onnx:1', 'environment mlmodel-iris_onnx:1', 'endpoint iris-e2e', 'deployment blue']);
    expect(r.endpoint.traffic).toEqual({ blue: 100 });
    expect(r.deployment.provisioningState).toBe('Succeeded');

    // the image is in the real registry under the digest the environment names
    const user = registry.credentialsFor(ACR_TOKEN_USER);
    expect(await registryDigest(registry, 'mlmodel/iris-onnx', `blue-${RUN}`, user)).toBe(r.image.digest);
    const env = fake.environments.get(`${fake.workspaceId}/environments/mlmodel-iris_onnx/versions/1`.toLowerCase())!.body.properties as Record<
      string,
      unknown
    >;
    expect(env.image).toBe(`${registry.address}/mlmodel/iris-onnx@${r.image.digest}`);
    expect(env.inferenceConfig).toEqual({
      livenessRoute: { port: 8080, path: '/ping' },
      readinessRoute: { port: 8080, path: '/ping' },
      scoringRoute: { port: 8080, path: '/invocations' },
    });

    // the model files are in the datastore, and the version points at them
    const mv = fake.models.get(`${fake.workspaceId}/models/iris_onnx/versions/1`.toLowerCase())!.body.properties as Record<string, unknown>;
    expect(mv.modelType).toBe('mlflow_model');
    const prefix = /\/paths\/(.+)$/.exec(String(mv.modelUri))![1]!;
    expect(String(mv.modelUri)).toBe(`azureml://subscriptions/${SUB}/resourceGroups/${RG}/workspaces/${WS}/datastores/workspaceblobstore/paths/${prefix}`);
    const blobs = await azurite.blobs(CONTAINER, `${prefix}/`);
    expect(blobs.map((b) => b.slice(prefix.length + 1)).sort()).toEqual(expect.arrayContaining(['MLmodel', 'model.onnx']));
    expect(Object.keys(mv.flavors as object)).toContain('onnx');

    // the deployment body as generated
    const dep = fake.deployment('iris-e2e', 'blue')!;
    const props = dep.properties as Record<string, unknown>;
    expect(dep.sku).toEqual({ name: 'Default', capacity: 1 });
    expect(props.requestSettings).toEqual({ requestTimeout: 'PT60S', maxConcurrentRequestsPerInstance: 1 });
    expect(props.readinessProbe).toEqual({ initialDelay: 'PT0S', period: 'PT1S', timeout: 'PT2S', failureThreshold: 30, successThreshold: 1 });
    expect(props.environmentVariables).toEqual({ MLMODEL_TIMEOUT: '59' });
    expect(props.model).toBe(`${fake.workspaceId}/models/iris_onnx/versions/1`);

    // long-running operations were polled through Azure-AsyncOperation, every ARM call with the token and api-version
    expect(fake.calls.filter((c) => c.path.includes('/mfeOperationsStatus/')).length).toBeGreaterThanOrEqual(4);
    const arm = fake.calls.filter((c) => c.path.startsWith('/subscriptions/'));
    expect(arm.every((c) => c.authorized)).toBe(true);
    expect(new Set(arm.filter((c) => !c.path.includes('ContainerRegistry')).map((c) => c.apiVersion))).toEqual(new Set(['2024-04-01']));
    expect(status).toEqual(
      expect.arrayContaining([expect.stringMatching(/^deployment blue of endpoint iris-e2e: Creating/), expect.stringMatching(/: Succeeded/)]),
    );

    // the container really ran with the generated probes and answers through the scoring URI with the key
    const container = fake.containers.get(`${fake.workspaceId}/onlineEndpoints/iris-e2e/deployments/blue`.toLowerCase())!;
    expect(container.readyMs).not.toBeNull();
    measured.coldStartToReadyMs = container.readyMs!;
    const answer = await invokeEndpoint(ws, { endpoint: 'iris-e2e', body: JSON.stringify(CASE.request) });
    expect(answer.status).toBe(200);
    expect(answer.deployment).toBe('blue');
    expect(jsonDiff((JSON.parse(answer.body.toString('utf8')) as { predictions: unknown }).predictions, CASE.predictions, 1e-6)).toBeNull();
    // the container's own log, through getLogs
    const log = await deploymentLogs(ws, 'iris-e2e', 'blue', { tail: 3 });
    expect(log.trim().split('\n')).toHaveLength(3);
    expect(log).toMatch(/"msg":"request completed"/);
  });

  it('blue/green: a second deployment starts at 0%, traffic shifts are checked, update shifts traffic, a deployment with traffic is not deleted', async () => {
    const ws = workspace();
    status.length = 0;
    const green = await deployOnlineEndpoint(ws, await deployOptions('iris-e2e', 'green', { imageTarget: `mlmodel/iris-onnx:green-${RUN}` }));
    expect(green.created).toEqual(['model iris_onnx:2', 'environment mlmodel-iris_onnx:2', 'deployment green']);
    expect(green.endpoint.traffic).toEqual({ blue: 100 });
    expect(status.some((l) => /green takes 0% of traffic/.test(l))).toBe(true);
    // the azureml-model-deployment header reaches green whatever the traffic says
    const pinned = await invokeEndpoint(ws, { endpoint: 'iris-e2e', deployment: 'green', body: JSON.stringify(CASE.request) });
    expect(pinned.deployment).toBe('green');
    expect(fake.scored.at(-1)).toBe('green');

    const writes = armWrites();
    await expect(setTraffic(ws, 'iris-e2e', { blue: 90, green: 5 })).rejects.toThrow(/add up to 100, these add up to 95/);
    await expect(setTraffic(ws, 'iris-e2e', { blue: 90, purple: 10 })).rejects.toThrow(/has no deployment purple \(it has blue, green\)/);
    expect(armWrites()).toBe(writes);

    const shifted = await setTraffic(ws, 'iris-e2e', { blue: 90, green: 10 });
    expect(shifted.traffic).toEqual({ blue: 90, green: 10 });
    expect((fake.endpoint('iris-e2e')!.properties as { traffic: unknown }).traffic).toEqual({ blue: 90, green: 10 });

    // update green (new model version, 2 instances) and give it all the traffic in the same call
    const updated = await deployOnlineEndpoint(
      ws,
      await deployOptions('iris-e2e', 'green', {
        mode: 'update',
        traffic: { green: 100 },
        imageTarget: `mlmodel/iris-onnx:green2-${RUN}`,
        settings: { instanceCount: 2, livenessProbe: FAST, readinessProbe: FAST },
      }),
    );
    expect(updated.created).toEqual(['model iris_onnx:3', 'environment mlmodel-iris_onnx:3']);
    expect(updated.endpoint.traffic).toEqual({ blue: 0, green: 100 });
    expect(fake.deployment('iris-e2e', 'green')!.sku).toEqual({ name: 'Default', capacity: 2 });
    await expect(deployOnlineEndpoint(ws, await deployOptions('iris-e2e', 'green'))).rejects.toThrow(/already has a deployment green: use `update`/);

    // green takes traffic: refused without force, nothing deleted
    await expect(deleteDeployment(ws, { endpoint: 'iris-e2e', deployment: 'green' })).rejects.toThrow(/green takes 100% of endpoint iris-e2e's traffic/);
    expect(fake.deployment('iris-e2e', 'green')).toBeDefined();
    // blue takes none: deleted with the model and environment versions made for it
    const del = await deleteDeployment(ws, { endpoint: 'iris-e2e', deployment: 'blue' });
    expect(del.removed).toEqual(['deployment blue', 'environment mlmodel-iris_onnx:1', 'model iris_onnx:1']);
    expect(fake.deployment('iris-e2e', 'blue')).toBeUndefined();
    expect(fake.models.has(`${fake.workspaceId}/models/iris_onnx/versions/1`.toLowerCase())).toBe(false);
    expect((await endpointStatus(ws, 'iris-e2e')).deployments.map((d) => d.name)).toEqual(['green']);
  });

  it('a failed create removes exactly what it made and reports the service error with the deployment log tail', async () => {
    const ws = workspace();
    const before = fake.resourceIds();
    const blobsBefore = await azurite.blobs(CONTAINER);
    fake.failNextDeployment = {
      code: 'ResourceNotReady',
      message: 'User container has crashed or terminated: Liveness probe failed: HTTP probe failed with statuscode: 502',
    };
    fake.cannedLogs.set('blue', 'starting mlmodel serve\nloading model\nTraceback: model.onnx is truncated\n');
    const err = await deployOnlineEndpoint(ws, await deployOptions('iris-fail', 'blue', { imageTarget: `mlmodel/iris-onnx:fail-${RUN}` })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AzureMlServiceError);
    const e = err as AzureMlServiceError;
    expect(e.serviceCode).toBe('ResourceNotReady');
    expect(e.message).toMatch(
      /^deployment blue of endpoint iris-fail failed \(ResourceNotReady\): User container has crashed or terminated: Liveness probe failed/,
    );
    expect(e.message).toMatch(
      /removed what this create made: endpoint iris-fail, environment mlmodel-iris_onnx:\d+, model iris_onnx:\d+, model files mlmodel\/iris_onnx\//,
    );
    expect(e.logsTail).toEqual(['starting mlmodel serve', 'loading model', 'Traceback: model.onnx is truncated']);
    expect(fake.resourceIds()).toEqual(before);
    expect(await azurite.blobs(CONTAINER)).toEqual(blobsBefore);

    // on an existing endpoint: only the new deployment and its assets go; the endpoint and its traffic stay
    fake.failNextDeployment = { code: 'ImagePullFailure', message: 'Failed to pull image' };
    await expect(deployOnlineEndpoint(ws, await deployOptions('iris-e2e', 'canary', { imageTarget: `mlmodel/iris-onnx:canary-${RUN}` }))).rejects.toThrow(
      /failed \(ImagePullFailure\): Failed to pull image — removed what this create made: deployment canary, environment/,
    );
    expect(fake.resourceIds()).toEqual(before);
    expect((fake.endpoint('iris-e2e')!.properties as { traffic: unknown }).traffic).toEqual({ green: 100 });

    // a PUT the service refuses at once (400) is cleaned up the same way
    await expect(
      deployOnlineEndpoint(ws, await deployOptions('iris-bad', 'blue', { imageTarget: `mlmodel/iris-onnx:bad-${RUN}`, settings: { instanceType: '' } })),
    ).rejects.toThrow(
      /^deployment blue of endpoint iris-bad failed \(BadArgument\): a managed deployment needs .* — removed what this create made: endpoint iris-bad, /,
    );
    expect(fake.resourceIds()).toEqual(before);
    expect(await azurite.blobs(CONTAINER)).toEqual(blobsBefore);
  });

  it('a deployment that does not finish in time ends with a timeout naming its last state, and the create is undone', async () => {
    const ws = workspace({ timeoutMs: 1_500 });
    const before = fake.resourceIds();
    fake.hangDeployments = true;
    try {
      const t0 = performance.now();
      const err = await deployOnlineEndpoint(ws, await deployOptions('iris-slow', 'blue', { imageTarget: `mlmodel/iris-onnx:slow-${RUN}` })).catch(
        (e: unknown) => e,
      );
      const took = performance.now() - t0;
      expect(err).toBeInstanceOf(AzureMlTimeoutError);
      expect((err as AzureMlTimeoutError).lastState).toBe('Creating');
      expect((err as Error).message).toMatch(
        /^deployment blue of endpoint iris-slow did not finish within 1\.5 s \(last seen: Creating\).*removed what this create made: endpoint iris-slow/,
      );
      expect(took).toBeLessThan(15_000);
    } finally {
      fake.hangDeployments = false;
    }
    expect(fake.resourceIds()).toEqual(before);
  });

  it('an AML-token endpoint is called with a token; --force moves the traffic away before deleting its only deployment', async () => {
    const ws = workspace();
    const before = fake.resourceIds();
    const r = await deployOnlineEndpoint(
      ws,
      await deployOptions('iris-token', 'blue', { authMode: 'AMLToken', imageTarget: `mlmodel/iris-onnx:token-${RUN}` }),
    );
    expect(r.endpoint.authMode).toBe('AMLToken');
    const answer = await invokeEndpoint(ws, { endpoint: 'iris-token', body: JSON.stringify(CASE.request) });
    expect(jsonDiff((JSON.parse(answer.body.toString('utf8')) as { predictions: unknown }).predictions, CASE.predictions, 1e-6)).toBeNull();
    expect(fake.calls.some((c) => c.method === 'POST' && c.path.endsWith('/onlineEndpoints/iris-token/token'))).toBe(true);
    expect(fake.calls.some((c) => c.path.endsWith('/onlineEndpoints/iris-token/listKeys'))).toBe(false);

    const forced = await deleteDeployment(ws, { endpoint: 'iris-token', deployment: 'blue', force: true });
    expect(forced.traffic).toEqual({});
    expect(forced.removed).toEqual([
      'deployment blue',
      expect.stringMatching(/^environment mlmodel-iris_onnx:\d+$/),
      expect.stringMatching(/^model iris_onnx:\d+$/),
    ]);
    expect((fake.endpoint('iris-token')!.properties as { traffic: unknown }).traffic).toEqual({});
    expect((await deleteEndpoint(ws, { endpoint: 'iris-token' })).removed).toEqual(['endpoint iris-token']);
    expect(fake.resourceIds()).toEqual(before);
  });

  it('admin credentials (listCredentials) push to the registry too', async () => {
    const ws = workspace();
    const r = await pushToAcr(ws, { image: IMAGE, target: `mlmodel/iris-onnx:admin-${RUN}`, auth: 'admin', registryHost: registry.address });
    expect(r.loginServer).toBe('mlmodeltestacr.azurecr.io');
    expect(await registryDigest(registry, 'mlmodel/iris-onnx', `admin-${RUN}`, registry.credentialsFor(ECR_USER))).toBe(r.digest);
    expect(fake.calls.some((c) => c.method === 'POST' && c.path.endsWith('/registries/mlmodeltestacr/listCredentials'))).toBe(true);
  });

  it('delete of the endpoint removes it, its deployments and what mlmodel registered for them: no orphans', async () => {
    const ws = workspace();
    const r = await deleteEndpoint(ws, { endpoint: 'iris-e2e' });
    expect(r.removed).toEqual(['endpoint iris-e2e', 'deployment green', 'environment mlmodel-iris_onnx:3', 'model iris_onnx:3']);
    // model and environment 2 were green's before its update; they stay registered (lineage) until deleted by hand
    expect(fake.resourceIds()).toEqual([
      `${fake.workspaceId}/environments/mlmodel-iris_onnx/versions/2`.toLowerCase(),
      `${fake.workspaceId}/models/iris_onnx/versions/2`.toLowerCase(),
    ]);
    expect(fake.containers.size).toBe(0);
    await expect(endpointStatus(ws, 'iris-e2e')).rejects.toThrow(AzureMlError);
  });
});

interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every output of the CLI runs, checked for secrets at the end. */
const cliOutputs: string[] = [];

/** The real CLI in a child process that does not block this one (the fake answers from here). */
function cli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'deploy', 'azureml', ...args], {
      cwd: tmp,
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: ca.caFile,
        AZURE_TENANT_ID: fake.tenantId,
        AZURE_CLIENT_ID: CLIENT_ID,
        AZURE_CLIENT_SECRET: CLIENT_SECRET,
        AZURE_AUTHORITY_HOST: fake.host,
        AZURE_SUBSCRIPTION_ID: SUB,
        AZURE_RESOURCE_GROUP: RG,
        AZUREML_WORKSPACE: WS,
        MLMODEL_AZURE_ARM_HOST: fake.host,
        MLMODEL_AZURE_BLOB_ENDPOINT: azurite.blobEndpoint,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      cliOutputs.push(stdout, stderr);
      resolve({ status, stdout, stderr });
    });
  });
}

const CONNECT = ['--poll-interval', '0.05', '--timeout', '120'];
const PUSH = (): string[] => ['--registry-host', registry.address, '--registry-auth-url', fake.host];

describe('the CLI (child processes: DefaultAzureCredential from the environment, NODE_EXTRA_CA_CERTS)', () => {
  it('--dry-run prints the planned calls and makes none', async () => {
    const before = fake.calls.length;
    const r = await cli(['create', '-m', MODEL, '--endpoint', 'cli-iris', '--deployment', 'blue', '--instance-count', '3', '--probe-period', '5', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dry run: no call is made \(ARM https:\/\/127\.0\.0\.1:\d+, api-version 2024-04-01\)/);
    expect(r.stdout).toContain(
      `PUT /subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS}/onlineEndpoints/cli-iris/deployments/blue`,
    );
    expect(r.stdout).toContain('"sku":{"name":"Default","capacity":3}');
    expect(r.stdout).toContain('"readinessProbe":{"initialDelay":"PT10S","period":"PT5S","timeout":"PT2S","failureThreshold":30,"successThreshold":1}');
    expect(r.stdout).toContain('"scoringRoute":{"port":8080,"path":"/invocations"}');
    expect(fake.calls.length).toBe(before);
  });

  it('create builds the image, deploys it and prints where to call it; status, list, predict and logs read it back', async () => {
    const created = await cli([
      'create',
      '-m',
      MODEL,
      '--endpoint',
      'cli-iris',
      '--base-image',
      NODE_BASE,
      '--network',
      'host',
      ...PUSH(),
      ...CONNECT,
      '--workers',
      '2',
      '--probe-initial-delay',
      '0',
      '--probe-period',
      '1',
    ]);
    expect(created.stderr).toMatch(/mlmodel: deployment blue of endpoint cli-iris: Creating/);
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      /^created deployment blue of endpoint cli-iris: Succeeded\n {2}scoring URI {2}https:\/\/127\.0\.0\.1:\d+\/endpoints\/cli-iris\/score\n {2}traffic {6}blue=100\n/,
    );
    expect((fake.deployment('cli-iris', 'blue')!.properties as { environmentVariables: unknown }).environmentVariables).toEqual({
      MLMODEL_TIMEOUT: '59',
      MLMODEL_WORKERS: '2',
    });

    const status = await cli(['status', '--endpoint', 'cli-iris']);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^endpoint cli-iris: Succeeded \(auth Key, eastus2\)/);
    expect(status.stdout).toMatch(/blue\s+Succeeded\s+100%\s+Standard_DS3_v2 × 1\s+iris_onnx:\d+/);
    const list = await cli(['list', '--json']);
    expect((JSON.parse(list.stdout) as { name: string; traffic: unknown }[]).find((e) => e.name === 'cli-iris')?.traffic).toEqual({ blue: 100 });

    writeFileSync(join(tmp, 'request.json'), JSON.stringify(CASE.request));
    const predicted = await cli(['predict', '--endpoint', 'cli-iris', '-i', 'request.json']);
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(jsonDiff((JSON.parse(predicted.stdout) as { predictions: unknown }).predictions, CASE.predictions, 1e-6)).toBeNull();
    expect(predicted.stderr).toBe('mlmodel: answered by deployment blue\n');

    const logs = await cli(['logs', '--endpoint', 'cli-iris', '--deployment', 'blue', '--tail', '4']);
    expect(logs.status).toBe(0);
    const lines = logs.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => /"url":"\/invocations".*"status":200/.test(l))).toBe(true);
  }, 240_000);

  it('user errors are one line with exit 1: bad traffic, deleting a deployment that takes traffic, no workspace, a refused credential', async () => {
    const bad = await cli(['traffic', '--endpoint', 'cli-iris', '--traffic', 'blue=50']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('error: traffic percentages must add up to 100, these add up to 50 (blue=50)\n');

    const refused = await cli(['delete', '--endpoint', 'cli-iris', '--deployment', 'blue', ...CONNECT]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      "error: deployment blue takes 100% of endpoint cli-iris's traffic (blue=100): shift it away first with `traffic`, or pass --force\n",
    );
    expect(fake.deployment('cli-iris', 'blue')).toBeDefined();

    const noWorkspace = await cli(['status', '--endpoint', 'cli-iris'], { AZUREML_WORKSPACE: undefined, AZUREML_ARM_WORKSPACE_NAME: undefined });
    expect(noWorkspace.status).toBe(1);
    expect(noWorkspace.stderr).toMatch(/^error: no valid Azure ML workspace given \(""\): pass --workspace or set its environment variable\n$/);

    const wrongSecret = await cli(['status', '--endpoint', 'cli-iris'], { AZURE_CLIENT_SECRET: 'not-the-secret' });
    expect(wrongSecret.status).toBe(1);
    expect(wrongSecret.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(wrongSecret.stderr).toMatch(/^error: no Azure credential worked \(.*Invalid client secret.*\): sign in with `az login`/);
  });

  it('traffic and delete: the endpoint and what mlmodel made for it are removed, and no secret was ever printed', async () => {
    const shifted = await cli(['traffic', '--endpoint', 'cli-iris', '--traffic', 'blue=100', ...CONNECT]);
    expect(shifted.status, shifted.stderr).toBe(0);
    expect(shifted.stdout).toBe('endpoint cli-iris: traffic blue=100\n');
    const before = fake.resourceIds().filter((id) => !id.includes('cli-iris') && !/iris_onnx\/versions\/(\d+)$/.test(id));
    const deleted = await cli(['delete', '--endpoint', 'cli-iris', ...CONNECT]);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(deleted.stdout).toMatch(/^deleted endpoint cli-iris, deployment blue, environment mlmodel-iris_onnx:\d+, model iris_onnx:\d+\n$/);
    expect(fake.endpoint('cli-iris')).toBeUndefined();
    expect(fake.resourceIds().filter((id) => !id.includes('/versions/2'))).toEqual(before);

    const all = cliOutputs.join('\n');
    const secrets = [...fake.secretsIssued(), CLIENT_SECRET];
    expect(secrets.length).toBeGreaterThan(5);
    for (const s of secrets) expect(all.includes(s), 'a secret was printed').toBe(false);
  });
});
