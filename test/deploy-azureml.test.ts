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
 * mirrored traffic (create --mirror, copies reaching the shadow's real container, Azure's rules
 * here and in the fake, kept by live-traffic changes, a failed endpoint PUT, delete refused unless
 * forced), failure cleanup of a create (nothing left behind, service error + log tail), a failed
 * update (old version still serving, exactly the new versions left), timeout, delete (no orphans),
 * and the CLI as a child process (dry run, create with its own image build, status, list,
 * predict with JSON and CSV, logs of both containers, traffic and --mirror, delete, one-line
 * errors, no secret printed).
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
  listEndpoints,
  pushToAcr,
  putEndpointTraffic,
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

function workspace(over: { timeoutMs?: number; datastore?: string } = {}): Workspace {
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
    ...(over.datastore !== undefined ? { datastore: over.datastore } : {}),
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

/** The value of `read` once `ok` holds (asynchronous logs, fire-and-forget mirror copies), or the last one after 5 s. */
async function eventually<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() - t0 > timeoutMs) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
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
    // (the server writes its request line asynchronously, after the answer)
    const log = await eventually(
      () => deploymentLogs(ws, 'iris-e2e', 'blue', { tail: 3 }),
      (l) => /"msg":"request completed"/.test(l),
    );
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

  it("mirrored traffic: create --mirror, copies reach the shadow and its answers are dropped, Azure's rules checked here and by the service, kept by traffic shifts, delete refused unless forced", async () => {
    const ws = workspace();
    status.length = 0;
    const before = fake.resourceIds();
    // a shadow deployment next to green (100% live), mirrored 10% as it is created
    const shadow = await deployOnlineEndpoint(
      ws,
      await deployOptions('iris-e2e', 'shadow', { imageTarget: `mlmodel/iris-onnx:shadow-${RUN}`, mirror: { shadow: 10 } }),
    );
    expect(shadow.endpoint.traffic).toEqual({ green: 100, shadow: 0 });
    expect(shadow.endpoint.mirrorTraffic).toEqual({ shadow: 10 });
    expect((fake.endpoint('iris-e2e')!.properties as { mirrorTraffic: unknown }).mirrorTraffic).toEqual({ shadow: 10 });
    expect(status.some((l) => /shadow takes 0% of traffic \(now green=100, mirrored 10%\)/.test(l))).toBe(true);
    // the mirror PUT is a plain ARM call (api-version 2024-04-01) followed through Azure-AsyncOperation like the SDK's
    const puts = fake.calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/onlineEndpoints/iris-e2e'));
    expect(puts.at(-1)).toMatchObject({ apiVersion: '2024-04-01', authorized: true });
    const lastPut = fake.calls.lastIndexOf(puts.at(-1)!);
    expect(fake.calls.slice(lastPut).some((c) => c.path.includes('/mfeOperationsStatus/'))).toBe(true);

    // 20 requests to the endpoint: all answered by green; 10% (2) copied to shadow, whose real container answers 200
    const mirroredBefore = fake.mirrored.length;
    for (let i = 0; i < 20; i++) {
      const a = await invokeEndpoint(ws, { endpoint: 'iris-e2e', body: JSON.stringify(CASE.request) });
      expect(a.deployment).toBe('green');
      expect(jsonDiff((JSON.parse(a.body.toString('utf8')) as { predictions: unknown }).predictions, CASE.predictions, 1e-6)).toBeNull();
    }
    const copies = await eventually(
      () => fake.mirrored.slice(mirroredBefore),
      (m) => m.length >= 2,
    );
    expect(copies).toEqual([
      { deployment: 'shadow', status: 200 },
      { deployment: 'shadow', status: 200 },
    ]);
    const shadowLog = await eventually(
      () => deploymentLogs(ws, 'iris-e2e', 'shadow', { tail: 50 }),
      (l) => (l.match(/"url":"\/invocations".*"status":200/g) ?? []).length >= 2,
    );
    expect((shadowLog.match(/"url":"\/invocations".*"status":200/g) ?? []).length).toBe(2);
    // a request pinned to a deployment is not mirrored
    await invokeEndpoint(ws, { endpoint: 'iris-e2e', deployment: 'green', body: JSON.stringify(CASE.request) });
    expect(fake.mirrored.length).toBe(mirroredBefore + 2);

    // Azure's rules, refused before any write
    const writes = armWrites();
    await expect(setTraffic(ws, 'iris-e2e', undefined, { shadow: 60 })).rejects.toThrow(/mirrored traffic for shadow must be a whole percentage 0–50, not 60/);
    await expect(setTraffic(ws, 'iris-e2e', undefined, { purple: 10 })).rejects.toThrow(/has no deployment purple .*mirrored to an existing deployment/);
    await expect(setTraffic(ws, 'iris-e2e', undefined, { green: 10 })).rejects.toThrow(
      /deployment green takes 100% of the live traffic, so it cannot also get mirrored traffic/,
    );
    await expect(setTraffic(ws, 'iris-e2e', { green: 50, shadow: 50 }, { green: 30, shadow: 30 })).rejects.toThrow(/one deployment only, not green and shadow/);
    await expect(setTraffic(ws, 'iris-e2e', { green: 90, shadow: 10 })).rejects.toThrow(
      /deployment shadow receives 10% mirrored traffic on endpoint iris-e2e; .* add --mirror none/,
    );
    expect(armWrites()).toBe(writes);
    // ... and by the service (the fake checks the same rules): the endpoint PUT sent as is
    await expect(putEndpointTraffic(ws, 'iris-e2e', { green: 100 }, { shadow: 60 })).rejects.toThrow(
      /^traffic of endpoint iris-e2e failed \(BadArgument\): Mirror traffic values must sum to at most 50 \(they sum to 60\)/,
    );
    await expect(putEndpointTraffic(ws, 'iris-e2e', { green: 90, shadow: 10 }, { shadow: 10 })).rejects.toThrow(
      /\(BadArgument\): Deployment shadow cannot receive both live traffic and mirror traffic/,
    );
    await expect(putEndpointTraffic(ws, 'iris-e2e', { green: 100 }, { nope: 10 })).rejects.toThrow(
      /\(BadArgument\): Mirror traffic can only be set on existing deployments/,
    );

    // a live-traffic change keeps the mirror (a PUT without mirrorTraffic would switch it off)
    const kept = await setTraffic(ws, 'iris-e2e', { green: 100 });
    expect(kept.mirrorTraffic).toEqual({ shadow: 10 });
    expect((await endpointStatus(ws, 'iris-e2e')).endpoint.mirrorTraffic).toEqual({ shadow: 10 });
    expect((await listEndpoints(ws)).find((e) => e.name === 'iris-e2e')?.mirrorTraffic).toEqual({ shadow: 10 });

    // a traffic change the service fails: its error comes through the followed operation, the endpoint stays as it was
    fake.failNextEndpointPut = { code: 'EndpointUpdateFailed', message: 'Traffic update failed: the routing service is busy' };
    const failed = await setTraffic(ws, 'iris-e2e', undefined, { shadow: 20 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AzureMlServiceError);
    expect((failed as AzureMlServiceError).serviceCode).toBe('EndpointUpdateFailed');
    expect((failed as Error).message).toBe('traffic of endpoint iris-e2e failed (EndpointUpdateFailed): Traffic update failed: the routing service is busy');
    expect(fake.endpoint('iris-e2e')!.properties).toMatchObject({
      provisioningState: 'Failed',
      traffic: { green: 100, shadow: 0 },
      mirrorTraffic: { shadow: 10 },
    });

    // the shadow is not deleted while it is mirrored, unless forced (which stops the mirroring first)
    await expect(deleteDeployment(ws, { endpoint: 'iris-e2e', deployment: 'shadow' })).rejects.toThrow(
      /deployment shadow receives 10% mirrored traffic of endpoint iris-e2e: stop it first with `traffic --mirror none`, or pass --force/,
    );
    expect(fake.deployment('iris-e2e', 'shadow')).toBeDefined();
    const forced = await deleteDeployment(ws, { endpoint: 'iris-e2e', deployment: 'shadow', force: true });
    expect(forced.mirrorTraffic).toEqual({});
    expect(forced.removed).toEqual([
      'deployment shadow',
      expect.stringMatching(/^environment mlmodel-iris_onnx:\d+$/),
      expect.stringMatching(/^model iris_onnx:\d+$/),
    ]);
    expect(fake.endpoint('iris-e2e')!.properties).toMatchObject({ traffic: { green: 100 }, mirrorTraffic: {} });
    expect(fake.resourceIds()).toEqual(before);
  });

  it('a failed update reports the service error with the log tail, leaves the old version serving and only the new versions the deployment now refers to', async () => {
    const ws = workspace();
    const opts = { modelName: 'iris_upd', imageTarget: `mlmodel/iris-onnx:upd-${RUN}` };
    const before = fake.resourceIds();
    const blobsBefore = await azurite.blobs(CONTAINER);
    const first = await deployOnlineEndpoint(ws, await deployOptions('iris-upd', 'blue', opts));
    expect(first.created).toEqual(['model iris_upd:1', 'environment mlmodel-iris_upd:1', 'endpoint iris-upd', 'deployment blue']);
    const key = `${fake.workspaceId}/onlineEndpoints/iris-upd/deployments/blue`.toLowerCase();
    const container = fake.containers.get(key)!.id;
    const v1Image = `${registry.address}/mlmodel/iris-onnx@${first.image.digest}`;
    await invokeEndpoint(ws, { endpoint: 'iris-upd', body: JSON.stringify(CASE.request) });
    const blobsV1 = await azurite.blobs(CONTAINER);

    fake.failNextDeployment = {
      code: 'ResourceNotReady',
      message: 'User container has crashed or terminated: Readiness probe failed: HTTP probe failed with statuscode: 503',
    };
    const err = await deployOnlineEndpoint(ws, await deployOptions('iris-upd', 'blue', { ...opts, mode: 'update', traffic: { blue: 100 } })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AzureMlServiceError);
    const e = err as AzureMlServiceError;
    expect(e.serviceCode).toBe('ResourceNotReady');
    const v2Prefix = /mlmodel\/iris_upd\/2-[a-z0-9]+\/model/.exec(e.message)?.[0];
    expect(v2Prefix).toBeDefined();
    expect(e.message).toBe(
      'deployment blue of endpoint iris-upd failed (ResourceNotReady): User container has crashed or terminated: Readiness probe failed: HTTP probe failed with statuscode: 503' +
        ' — left in place (deployment blue now refers to them; the instances it had keep serving the previous version until an update succeeds):' +
        ` model files ${v2Prefix}, model iris_upd:2, environment mlmodel-iris_upd:2; deployment log tail above`,
    );
    // the tail of the deployment's log: the running container's own lines
    expect(e.logsTail.length).toBeGreaterThanOrEqual(3);
    expect(e.logsTail.join('\n')).toMatch(/"msg":"1 model\(s\) ready in \d+ ms: iris_onnx \(onnx\)"/);
    expect(e.logsTail.join('\n')).toMatch(/"url":"\/invocations".*"status":200/);

    // the deployment says Failed and names the new versions; the old container still answers through the scoring URI
    const st = await endpointStatus(ws, 'iris-upd');
    expect(st.endpoint.traffic).toEqual({ blue: 100 });
    expect(st.deployments).toEqual([
      expect.objectContaining({ name: 'blue', provisioningState: 'Failed', model: `${fake.workspaceId}/models/iris_upd/versions/2` }),
    ]);
    expect(fake.containers.get(key)?.id).toBe(container);
    expect(docker(['inspect', '--format', '{{.Config.Image}}', container]).stdout.trim()).toBe(v1Image);
    const answer = await invokeEndpoint(ws, { endpoint: 'iris-upd', body: JSON.stringify(CASE.request) });
    expect(answer.deployment).toBe('blue');
    expect(jsonDiff((JSON.parse(answer.body.toString('utf8')) as { predictions: unknown }).predictions, CASE.predictions, 1e-6)).toBeNull();

    // exactly what exists now: what was there, the endpoint and deployment, versions 1 (served) and 2 (the failed update's), and their files
    const W = fake.workspaceId;
    expect(fake.resourceIds()).toEqual(
      [
        ...before,
        `${W}/environments/mlmodel-iris_upd/versions/1`,
        `${W}/environments/mlmodel-iris_upd/versions/2`,
        `${W}/models/iris_upd/versions/1`,
        `${W}/models/iris_upd/versions/2`,
        `${W}/onlineEndpoints/iris-upd`,
        `${W}/onlineEndpoints/iris-upd/deployments/blue`,
      ]
        .map((id) => id.toLowerCase())
        .sort(),
    );
    const blobsNow = await azurite.blobs(CONTAINER);
    expect(blobsNow.filter((b) => !blobsV1.includes(b)).every((b) => b.startsWith(`${v2Prefix}/`))).toBe(true);
    expect(blobsNow.some((b) => b.startsWith(`${v2Prefix}/`))).toBe(true);

    // an update whose PUT the service refuses at once (an unknown VM size) changed nothing: its new versions and files go
    const idsBeforeRefused = fake.resourceIds();
    const blobsBeforeRefused = await azurite.blobs(CONTAINER);
    const refused = await deployOnlineEndpoint(
      ws,
      await deployOptions('iris-upd', 'blue', {
        ...opts,
        mode: 'update',
        settings: { instanceType: 'Standard_DS3_v9', livenessProbe: FAST, readinessProbe: FAST },
      }),
    ).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(AzureMlServiceError);
    expect((refused as Error).message).toMatch(
      /^deployment blue of endpoint iris-upd failed \(BadArgument\): The specified instance type Standard_DS3_v9 is not supported for managed online deployments\. — removed what this update made: environment mlmodel-iris_upd:3, model iris_upd:3, model files mlmodel\/iris_upd\/3-[a-z0-9]+\/model$/,
    );
    expect(fake.resourceIds()).toEqual(idsBeforeRefused);
    expect(await azurite.blobs(CONTAINER)).toEqual(blobsBeforeRefused);
    expect((await endpointStatus(ws, 'iris-upd')).deployments[0]!.model).toBe(`${fake.workspaceId}/models/iris_upd/versions/2`);

    // deleting the endpoint removes what the deployment refers to (2); version 1 stays as lineage, as the README says
    const del = await deleteEndpoint(ws, { endpoint: 'iris-upd' });
    expect(del.removed).toEqual(['endpoint iris-upd', 'deployment blue', 'environment mlmodel-iris_upd:2', 'model iris_upd:2']);
    expect(fake.resourceIds()).toEqual(
      [...before, `${W}/environments/mlmodel-iris_upd/versions/1`, `${W}/models/iris_upd/versions/1`].map((id) => id.toLowerCase()).sort(),
    );
    const v1Blobs = blobsV1.filter((b) => !blobsBefore.includes(b));
    expect((await azurite.blobs(CONTAINER)).filter((b) => !blobsBefore.includes(b))).toEqual(v1Blobs);
    // tidy up version 1 by hand, as a user would (az ml model archive / delete)
    await ws.client.modelVersions.delete(RG, WS, 'iris_upd', '1');
    await ws.client.environmentVersions.delete(RG, WS, 'mlmodel-iris_upd', '1');
    for (const b of v1Blobs) await azurite.service.getContainerClient(CONTAINER).deleteBlob(b);
    expect(fake.resourceIds()).toEqual(before);
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

  it('delete removes the model files from the datastore the model URI names, whatever datastore the delete is configured with', async () => {
    const before = fake.resourceIds();
    const blobsBefore = await azurite.blobs(CONTAINER);
    const other = 'mlmodel-other-datastore';
    fake.extraDatastores.set('otherstore', other);
    await azurite.service.getContainerClient(other).createIfNotExists();
    try {
      const r = await deployOnlineEndpoint(
        workspace({ datastore: 'otherstore' }),
        await deployOptions('iris-ds', 'blue', { imageTarget: `mlmodel/iris-onnx:ds-${RUN}` }),
      );
      expect(r.model.uri).toMatch(/\/datastores\/otherstore\/paths\/mlmodel\/iris_onnx\/\d+-[a-z0-9]+\/model$/);
      expect((await azurite.blobs(other)).length).toBeGreaterThan(0);
      expect(await azurite.blobs(CONTAINER)).toEqual(blobsBefore);
      const del = await deleteEndpoint(workspace(), { endpoint: 'iris-ds' });
      expect(del.removed).toEqual([
        'endpoint iris-ds',
        'deployment blue',
        expect.stringMatching(/^environment mlmodel-iris_onnx:\d+$/),
        expect.stringMatching(/^model iris_onnx:\d+$/),
      ]);
      expect(await azurite.blobs(other)).toEqual([]);
    } finally {
      fake.extraDatastores.delete('otherstore');
    }
    expect(fake.resourceIds()).toEqual(before);
    expect(await azurite.blobs(CONTAINER)).toEqual(blobsBefore);
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
function cli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void,
): Promise<CliRun> {
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
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
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

  it('--dry-run names the registered model after a models:/ or runs:/ URI (not the download cache), and refuses names a real run refuses', async () => {
    const registered = await cli(['create', '-m', 'models:/iris-classifier/3', '--endpoint', 'cli-iris', '--dry-run']);
    expect(registered.status).toBe(0);
    expect(registered.stdout).toContain(`/workspaces/${WS}/models/iris-classifier/versions/<next>`);
    expect(registered.stdout).toContain(`/workspaces/${WS}/environments/mlmodel-iris-classifier/versions/<next>`);
    const run = await cli(['create', '-m', 'runs:/0a1b2c3d/my_model', '--endpoint', 'cli-iris', '--dry-run']);
    expect(run.stdout).toContain('PUSH <loginServer>/mlmodel/my-model:blue-<next>');
    expect(run.stdout).toContain(`/models/my_model/versions/<next>`);
    const badEndpoint = await cli(['create', '-m', MODEL, '--endpoint', 'ab', '--dry-run']);
    expect(badEndpoint.status).toBe(1);
    expect(badEndpoint.stdout).toBe('');
    expect(badEndpoint.stderr).toMatch(/^error: endpoint name "ab" is not valid: 3–32 letters, digits and hyphens, starting with a letter.*\n$/);
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

    // a CSV body goes as text/csv to the real container; this model takes a tensor, so its CSV parser refuses it
    // (400, the server's own reason) and the CLI says so on one line
    writeFileSync(join(tmp, 'request.csv'), 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n7.0,3.2,4.7,1.4\n');
    const csv = await cli(['predict', '--endpoint', 'cli-iris', '-i', 'request.csv']);
    expect(csv.status).toBe(1);
    expect(csv.stdout).toBe('');
    expect(csv.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(csv.stderr).toMatch(
      /^error: endpoint cli-iris answered 400: \{"error_code": "BAD_REQUEST", "message": "Failed to parse input as a Pandas DataFrame\. .*This model takes a tensor/,
    );
    const csvLog = await cli(['logs', '--endpoint', 'cli-iris', '--deployment', 'blue', '--tail', '2']);
    expect(csvLog.stdout).toMatch(
      /"status":400,"error":"Failed to parse input as a Pandas DataFrame[^\n]*"msg":"request refused"\}\n.*"url":"\/invocations","status":400/,
    );

    // the storage initializer's log names the model version this deployment downloads
    const model = /blue\s+Succeeded\s+100%.*?(iris_onnx:\d+)/.exec(status.stdout)![1]!;
    const init = await cli(['logs', '--endpoint', 'cli-iris', '--deployment', 'blue', '--container-type', 'storage-initializer']);
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toMatch(
      new RegExp(
        `^storage-initializer: downloading azureml://subscriptions/${SUB}/resourceGroups/${RG}/workspaces/${WS}/datastores/workspaceblobstore/paths/mlmodel/iris_onnx/\\d+-[0-9a-f]+/model\nstorage-initializer: model ${model} is in /var/azureml-app/azureml-models\n$`,
      ),
    );
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

  it('Ctrl-C during a create stops polling, removes exactly what the create made and exits 130 with one error line', async () => {
    const before = fake.resourceIds();
    const blobsBefore = await azurite.blobs(CONTAINER);
    fake.hangDeployments = true;
    let sent = false;
    try {
      const t0 = performance.now();
      const r = await cli(
        ['create', '-m', MODEL, '--endpoint', 'cli-sigint', '--image', IMAGE, '--probe-initial-delay', '0', ...CONNECT, ...PUSH()],
        {},
        (stderr, child) => {
          if (!sent && /deployment blue of endpoint cli-sigint: Creating/.test(stderr)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      );
      expect(sent).toBe(true);
      expect(performance.now() - t0).toBeLessThan(30_000);
      expect(r.status).toBe(130);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/mlmodel: SIGINT: stopping and removing what this create made/);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^error: interrupted while waiting for deployment blue of endpoint cli-sigint after [\d.]+ s \(last seen: Creating\) — removed what this create made: endpoint cli-sigint, environment mlmodel-iris_onnx:\d+, model iris_onnx:\d+, model files mlmodel\/iris_onnx\//,
      );
    } finally {
      fake.hangDeployments = false;
    }
    expect(fake.resourceIds()).toEqual(before);
    expect(fake.endpoint('cli-sigint')).toBeUndefined();
    expect(await azurite.blobs(CONTAINER)).toEqual(blobsBefore);
  });

  it('a create on an existing AML-token endpoint without --auth-mode says nothing about its auth mode; --auth-mode key does', async () => {
    const ws = workspace();
    const before = fake.resourceIds();
    await ws.client.onlineEndpoints.beginCreateOrUpdateAndWait(
      RG,
      WS,
      'cli-token',
      { location: fake.location, identity: { type: 'SystemAssigned' }, properties: { authMode: 'AMLToken', traffic: {} } },
      { updateIntervalInMs: 25 },
    );
    try {
      const remark = /keeps its auth mode AMLToken/;
      fake.failNextDeployment = { code: 'ImagePullFailure', message: 'Failed to pull image' };
      const plain = await cli(['create', '-m', MODEL, '--endpoint', 'cli-token', '--image', IMAGE, ...CONNECT, ...PUSH()]);
      expect(plain.status).toBe(1);
      expect(plain.stderr).toMatch(/ImagePullFailure/);
      expect(plain.stderr).not.toMatch(remark);
      fake.failNextDeployment = { code: 'ImagePullFailure', message: 'Failed to pull image' };
      const explicit = await cli(['create', '-m', MODEL, '--endpoint', 'cli-token', '--image', IMAGE, '--auth-mode', 'key', ...CONNECT, ...PUSH()]);
      expect(explicit.status).toBe(1);
      expect(explicit.stderr).toMatch(/mlmodel: endpoint cli-token keeps its auth mode AMLToken \(--auth-mode applies to new endpoints\)/);
    } finally {
      fake.failNextDeployment = undefined;
      await ws.client.onlineEndpoints.beginDeleteAndWait(RG, WS, 'cli-token', { updateIntervalInMs: 25 });
    }
    expect(fake.resourceIds()).toEqual(before);
  });

  it("mirror from the CLI: create --mirror, status shows it, Azure's rules as one-line errors, traffic --mirror none to promote, delete --force of a mirrored deployment", async () => {
    const created = await cli([
      'create',
      '-m',
      MODEL,
      '--endpoint',
      'cli-iris',
      '--deployment',
      'green',
      '--image',
      IMAGE,
      '--mirror',
      'green=10',
      ...PUSH(),
      ...CONNECT,
      '--probe-initial-delay',
      '0',
      '--probe-period',
      '1',
    ]);
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/\n {2}traffic {6}blue=100,green=0; mirror green=10\n/);
    expect((fake.endpoint('cli-iris')!.properties as { mirrorTraffic: unknown }).mirrorTraffic).toEqual({ green: 10 });

    const status = await cli(['status', '--endpoint', 'cli-iris']);
    expect(status.stdout).toMatch(/\n {2}traffic {6}blue=100,green=0\n {2}mirrored {5}green=10\n/);
    expect(status.stdout).toMatch(/green\s+Succeeded\s+0% \(\+10% mirrored\)\s+Standard_DS3_v2 × 1/);

    // Azure's rules as one-line errors before any write (all of them are checked in the library test above)
    const writes = armWrites();
    const promote = await cli(['traffic', '--endpoint', 'cli-iris', '--traffic', 'blue=90,green=10']);
    expect(promote.status).toBe(1);
    expect(promote.stderr).toMatch(/^error: deployment green receives 10% mirrored traffic on endpoint cli-iris; .*add --mirror none .*\n$/);
    const neither = await cli(['traffic', '--endpoint', 'cli-iris']);
    expect([neither.status, neither.stderr]).toEqual([1, 'error: give --traffic (e.g. blue=90,green=10), --mirror (e.g. green=10, or none) or both\n']);
    expect(armWrites()).toBe(writes);

    // promote in one step: live traffic to green, mirroring off
    const promoted = await cli(['traffic', '--endpoint', 'cli-iris', '--traffic', 'blue=90,green=10', '--mirror', 'none', ...CONNECT]);
    expect(promoted.status, promoted.stderr).toBe(0);
    expect(promoted.stdout).toBe('endpoint cli-iris: traffic blue=90,green=10\n');
    expect(fake.endpoint('cli-iris')!.properties).toMatchObject({ traffic: { blue: 90, green: 10 }, mirrorTraffic: {} });

    // back to mirroring; the mirrored green is not deleted unless forced
    const back = await cli(['traffic', '--endpoint', 'cli-iris', '--traffic', 'blue=100', '--mirror', 'green=20', ...CONNECT]);
    expect(back.stdout).toBe('endpoint cli-iris: traffic blue=100,green=0; mirror green=20\n');
    const refused = await cli(['delete', '--endpoint', 'cli-iris', '--deployment', 'green', ...CONNECT]);
    expect([refused.status, refused.stderr]).toEqual([
      1,
      'error: deployment green receives 20% mirrored traffic of endpoint cli-iris: stop it first with `traffic --mirror none`, or pass --force\n',
    ]);
    const forced = await cli(['delete', '--endpoint', 'cli-iris', '--deployment', 'green', '--force', ...CONNECT]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(
      /^deleted deployment green, environment mlmodel-iris_onnx:\d+, model iris_onnx:\d+\n {2}traffic now blue=100\n {2}mirror now \(none\)\n$/,
    );
    expect(fake.endpoint('cli-iris')!.properties).toMatchObject({ traffic: { blue: 100 }, mirrorTraffic: {} });
    expect(fake.deployment('cli-iris', 'green')).toBeUndefined();
  }, 120_000);

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
