/**
 * A FAKE of the Azure control plane for the `mlmodel deploy azureml` tests — not Azure. It is an
 * HTTPS server on 127.0.0.1 (certificate signed by a throwaway CA made with openssl at test time:
 * the SDK refuses bearer tokens over plain HTTP) that answers the calls the real
 * @azure/arm-machinelearning and @azure/identity clients make:
 *
 * - AAD: `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/oauth2/v2.0/token`
 *   (client credentials: the client secret is checked; the access token is a JWT with a `tid`);
 * - the workspace, its datastore `workspaceblobstore` (+ listSecrets: Azurite's account key),
 *   model and environment versions (list/PUT/GET/DELETE);
 * - online endpoints and deployments: PUT/GET/DELETE as long-running operations answered with
 *   `Azure-AsyncOperation` + `Location`, InProgress for `inProgressPolls` polls, then Succeeded or
 *   Failed with an ARM error body; traffic checked as Azure does (known deployments, sum 100 or
 *   0; a deployment with traffic cannot be deleted); mirrorTraffic stored and checked by Azure's
 *   documented rules (existing deployment, one at most, sum ≤ 50, never a deployment with live
 *   traffic; a PUT without it turns mirroring off; a mirror target is not deleted); listKeys,
 *   token, getLogs (StorageInitializer: the model it downloads), list;
 * - the container registry resource (loginServer, listCredentials) and ACR's `POST /oauth2/exchange`
 *   (ARM token → refresh token, which is the password of the real test registry's
 *   00000000-… user);
 * - scoring: `POST /endpoints/{e}/score` checks the key or token and forwards to the deployment's
 *   container `/invocations` (the `azureml-model-deployment` header picks one, else traffic), and
 *   unpinned requests copied to the mirror target at exactly its rate (answers dropped).
 *
 * With `runContainers`, a deployment PUT really provisions: the image named by the environment is
 * pulled from the registry by digest, run with the deployment's environment variables (host
 * network, its port moved with MLMODEL_PORT), and the readiness and liveness routes of the
 * environment's inferenceConfig are probed with the deployment's probe settings; the deployment
 * succeeds once the readiness probe passes `successThreshold` times and fails with
 * ResourceNotReady when `failureThreshold` probes fail. getLogs then returns the container's log.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  remove(): void;
}

/** A throwaway CA and a server certificate for 127.0.0.1 and localhost signed by it. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'mlmodel-fake-azure-ca-'));
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=mlmodel throwaway test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    certPem: readFileSync(join(dir, 'server.crt'), 'utf8'),
    keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

type Json = Record<string, unknown>;

interface Resource {
  id: string;
  name: string;
  body: Json;
}

interface Operation {
  id: string;
  kind: 'endpoint' | 'deployment';
  action: 'put' | 'delete';
  resourceId: string;
  pollsLeft: number;
  outcome: 'Succeeded' | 'Failed' | 'InProgress';
  error?: { code: string; message: string };
  /** A real provisioning in progress (runContainers). */
  provisioning?: Promise<{ code: string; message: string } | null>;
  settled?: { code: string; message: string } | null;
  /** An endpoint as it was before a PUT that ends Failed. */
  previous?: Resource;
}

export interface FakeFailure {
  readonly code: string;
  readonly message: string;
}

export interface FakeAzureOptions {
  readonly ca: TestCa;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspace: string;
  readonly location?: string;
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The registry resource's loginServer. */
  readonly loginServer: string;
  /** Password the ACR exchange returns as refresh token (the real registry's 00000000-… user). */
  readonly acrRefreshToken: string;
  /** listCredentials' admin user. */
  readonly acrAdmin: { username: string; password: string };
  /** listSecrets' account key (Azurite's devstoreaccount1 key). */
  readonly storageAccount: { name: string; key: string; container: string };
  /** Provision deployments for real: pull the image, run it, probe it (see the file comment). */
  readonly runContainers?: { registry: string; username: string; password: string };
}

export interface ArmCall {
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | null;
  readonly authorized: boolean;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'x-ms-request-id': randomUUID(), ...headers });
  res.end(text);
};

/** VM sizes of managed online deployments (a subset of Azure's list; anything else is refused at once, as Azure does). */
const MANAGED_INSTANCE_TYPES = new Set(
  [
    'Standard_DS1_v2',
    'Standard_DS2_v2',
    'Standard_DS3_v2',
    'Standard_DS4_v2',
    'Standard_DS5_v2',
    'Standard_F2s_v2',
    'Standard_F4s_v2',
    'Standard_F8s_v2',
    'Standard_E2s_v3',
    'Standard_E4s_v3',
    'Standard_NC6s_v3',
  ].map((t) => t.toLowerCase()),
);

const armError = (res: ServerResponse, status: number, code: string, message: string): void => json(res, status, { error: { code, message } });

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

function docker(args: string[], timeout = 180_000): { status: number | null; out: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function seconds(iso: unknown, fallback: number): number {
  const m = /^PT(\d+(?:\.\d+)?)S$/.exec(String(iso ?? ''));
  return m ? Number(m[1]) : fallback;
}

function httpGetStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export class FakeAzureArm {
  readonly opts: FakeAzureOptions;
  private server: Server | undefined;
  port = 0;
  /** Every ARM/AAD/ACR call, in order. */
  readonly calls: ArmCall[] = [];
  readonly models = new Map<string, Resource>();
  readonly environments = new Map<string, Resource>();
  readonly endpoints = new Map<string, Resource>();
  readonly deployments = new Map<string, Resource>();
  readonly keys = new Map<string, { primaryKey: string; secondaryKey: string }>();
  readonly operations = new Map<string, Operation>();
  /** Polls an operation answers InProgress before its outcome. */
  inProgressPolls = 2;
  /** The next deployment PUT ends Failed with this error (consumed). */
  failNextDeployment: FakeFailure | undefined;
  /** Deployment operations never finish (for timeouts). */
  hangDeployments = false;
  /** More Azure Blob datastores of the workspace (name → container in the same account), besides workspaceblobstore. */
  readonly extraDatastores = new Map<string, string>();
  /** The next endpoint PUT (e.g. a traffic change) ends Failed with this error, the endpoint as it was (consumed). */
  failNextEndpointPut: FakeFailure | undefined;
  /** Canned log text per deployment name (when no container runs). */
  readonly cannedLogs = new Map<string, string>();
  /** Containers started for deployments: deployment id → container id and host port. */
  readonly containers = new Map<string, { id: string; port: number; readyMs: number | null }>();
  /** Scoring requests forwarded: deployment names in order. */
  readonly scored: string[] = [];
  /** Mirrored copies sent (deployment and the status its container answered; the answer itself is dropped). */
  readonly mirrored: { deployment: string; status: number }[] = [];
  /** Per endpoint, the mirror share accumulated so far: a copy goes out each time it reaches 100 (deterministic, e.g. 1 in 10 for 10%). */
  private readonly mirrorCredit = new Map<string, number>();
  private readonly tokens = new Set<string>();
  private readonly issuedKeys: string[] = [];
  private readonly amlTokens = new Set<string>();
  private dockerConfig: string | undefined;

  constructor(opts: FakeAzureOptions) {
    this.opts = opts;
  }

  get host(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get workspaceId(): string {
    const o = this.opts;
    return `/subscriptions/${o.subscriptionId}/resourceGroups/${o.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${o.workspace}`;
  }

  get registryId(): string {
    return `/subscriptions/${this.opts.subscriptionId}/resourceGroups/${this.opts.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/mlmodeltestacr`;
  }

  get tenantId(): string {
    return this.opts.tenantId ?? '72f988bf-0000-0000-0000-000000000000';
  }

  async start(): Promise<void> {
    this.server = createServer({ cert: this.opts.ca.certPem, key: this.opts.ca.keyPem }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) armError(res, 500, 'FakeInternalError', (e as Error).stack ?? String(e));
        else res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    if (this.opts.runContainers) {
      this.dockerConfig = mkdtempSync(join(tmpdir(), 'mlmodel-fake-azure-docker-'));
      const r = spawnSync(
        'docker',
        ['--config', this.dockerConfig, 'login', '-u', this.opts.runContainers.username, '--password-stdin', this.opts.runContainers.registry],
        {
          input: this.opts.runContainers.password,
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`the fake could not log in to ${this.opts.runContainers.registry}: ${r.stderr}`);
    }
  }

  async stop(): Promise<void> {
    for (const c of this.containers.values()) docker(['rm', '-f', c.id]);
    this.containers.clear();
    if (this.dockerConfig) rmSync(this.dockerConfig, { recursive: true, force: true });
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** Everything that exists, as ARM ids (for "no orphans" checks). */
  resourceIds(): string[] {
    return [...this.models.keys(), ...this.environments.keys(), ...this.endpoints.keys(), ...this.deployments.keys()].sort();
  }

  endpoint(name: string): Json | undefined {
    return this.endpoints.get(`${this.workspaceId}/onlineEndpoints/${name}`.toLowerCase())?.body;
  }

  deployment(endpoint: string, name: string): Json | undefined {
    return this.deployments.get(`${this.workspaceId}/onlineEndpoints/${endpoint}/deployments/${name}`.toLowerCase())?.body;
  }

  /** A signed-looking (unsigned) JWT with the claims ACR's exchange reads. */
  private issueToken(audience: string): string {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ aud: audience, tid: this.tenantId, oid: randomUUID(), exp: Math.floor(Date.now() / 1000) + 3600 })}.${randomBytes(16).toString('base64url')}`;
    this.tokens.add(token);
    return token;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.host);
    const path = decodeURIComponent(url.pathname);
    const body = await readBody(req);
    const auth = req.headers.authorization ?? '';
    const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    this.calls.push({ method: req.method ?? '', path, apiVersion: url.searchParams.get('api-version'), authorized: this.tokens.has(bearer) });

    // --- AAD (for @azure/identity's ClientSecretCredential with authorityHost = this fake)
    const tenantRe = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/instance)$/.exec(path);
    if (tenantRe) return this.aad(req, res, tenantRe[1]!, tenantRe[2]!, body);
    if (path === '/common/discovery/instance')
      return json(res, 200, { tenant_discovery_endpoint: `${this.host}/${this.tenantId}/v2.0/.well-known/openid-configuration` });

    // --- ACR token exchange
    if (path === '/oauth2/exchange' && req.method === 'POST') {
      const form = new URLSearchParams(body.toString('utf8'));
      if (form.get('grant_type') !== 'access_token' || !this.tokens.has(form.get('access_token') ?? '')) {
        return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'the access token is not valid' }] });
      }
      if (form.get('service') !== this.opts.loginServer)
        return json(res, 400, { errors: [{ code: 'DENIED', message: `service must be ${this.opts.loginServer}` }] });
      return json(res, 200, { refresh_token: this.opts.acrRefreshToken });
    }

    // --- scoring
    const score = /^\/endpoints\/([^/]+)\/score$/.exec(path);
    if (score && req.method === 'POST') return this.score(req, res, score[1]!, bearer, body);

    // --- ARM: every call needs a token this fake issued
    if (!this.tokens.has(bearer)) return armError(res, 401, 'AuthenticationFailed', 'Authentication failed: no valid bearer token.');
    if (!url.searchParams.get('api-version')) return armError(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter is required.');

    const opStatus = /\/mfeOperations(Status|Results)\/([^/]+)$/.exec(path);
    if (opStatus) return this.operation(res, opStatus[2]!, opStatus[1] === 'Results');

    const reg = this.registryId;
    if (path.toLowerCase() === reg.toLowerCase() && req.method === 'GET') {
      return json(res, 200, {
        id: reg,
        name: 'mlmodeltestacr',
        location: this.location,
        properties: { loginServer: this.opts.loginServer, adminUserEnabled: true },
      });
    }
    if (path.toLowerCase() === `${reg}/listCredentials`.toLowerCase() && req.method === 'POST') {
      return json(res, 200, { username: this.opts.acrAdmin.username, passwords: [{ name: 'password', value: this.opts.acrAdmin.password }] });
    }

    const W = this.workspaceId;
    if (!path.toLowerCase().startsWith(W.toLowerCase())) return armError(res, 404, 'ResourceGroupNotFound', `no such resource: ${path}`);
    const rest = path.slice(W.length);
    const parts = rest.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const parsed = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Json) : {};

    if (parts.length === 0 && method === 'GET') {
      return json(res, 200, {
        id: W,
        name: this.opts.workspace,
        location: this.location,
        type: 'Microsoft.MachineLearningServices/workspaces',
        properties: { containerRegistry: reg, friendlyName: this.opts.workspace },
      });
    }
    if (parts[0] === 'datastores' && (parts[1] === 'workspaceblobstore' || this.extraDatastores.has(parts[1]!))) {
      const ds = parts[1]!;
      if (parts.length === 2 && method === 'GET') {
        return json(res, 200, {
          id: `${W}/datastores/${ds}`,
          name: ds,
          properties: {
            datastoreType: 'AzureBlob',
            accountName: this.opts.storageAccount.name,
            containerName: this.extraDatastores.get(ds) ?? this.opts.storageAccount.container,
            endpoint: 'core.windows.net',
            protocol: 'https',
            isDefault: ds === 'workspaceblobstore',
            credentials: { credentialsType: 'AccountKey' },
          },
        });
      }
      if (parts[2] === 'listSecrets' && method === 'POST') return json(res, 200, { secretsType: 'AccountKey', key: this.opts.storageAccount.key });
    }
    if ((parts[0] === 'models' || parts[0] === 'environments') && parts[2] === 'versions') {
      return this.asset(res, parts[0] === 'models' ? this.models : this.environments, parts[0], parts[1]!, parts[3], method, parsed);
    }
    if (parts[0] === 'onlineEndpoints') {
      if (parts.length === 1 && method === 'GET') {
        return json(res, 200, { value: [...this.endpoints.values()].map((r) => r.body) });
      }
      const e = parts[1]!;
      if (parts.length === 2) return this.endpointCall(res, e, method, parsed);
      if (parts.length === 3 && method === 'POST' && parts[2] === 'listKeys') {
        const k = this.keys.get(e.toLowerCase());
        return k ? json(res, 200, k) : armError(res, 404, 'NotFound', `endpoint ${e} not found`);
      }
      if (parts.length === 3 && method === 'POST' && parts[2] === 'token') {
        if (!this.endpoint(e)) return armError(res, 404, 'NotFound', `endpoint ${e} not found`);
        const t = randomBytes(24).toString('base64url');
        this.amlTokens.add(t);
        const now = Math.floor(Date.now() / 1000);
        return json(res, 200, { accessToken: t, tokenType: 'Bearer', expiryTimeUtc: now + 3600, refreshAfterTimeUtc: now + 1800 });
      }
      if (parts[2] === 'deployments') {
        if (parts.length === 3 && method === 'GET') {
          const prefix = `${W}/onlineEndpoints/${e}/deployments/`.toLowerCase();
          return json(res, 200, { value: [...this.deployments.entries()].filter(([id]) => id.startsWith(prefix)).map(([, r]) => r.body) });
        }
        const d = parts[3]!;
        if (parts.length === 4) return this.deploymentCall(res, e, d, method, parsed);
        if (parts.length === 5 && parts[4] === 'getLogs' && method === 'POST') return this.logs(res, e, d, parsed);
      }
    }
    return armError(res, 404, 'NoRegisteredProviderFound', `the fake does not implement ${method} ${rest}`);
  }

  get location(): string {
    return this.opts.location ?? 'eastus2';
  }

  private aad(req: IncomingMessage, res: ServerResponse, tenant: string, what: string, body: Buffer): void {
    if (what.startsWith('v2.0')) {
      return json(res, 200, {
        issuer: `${this.host}/${tenant}/v2.0`,
        authorization_endpoint: `${this.host}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${this.host}/${tenant}/oauth2/v2.0/token`,
        jwks_uri: `${this.host}/${tenant}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        tenant_region_scope: 'NA',
      });
    }
    if (what === 'discovery/instance') return json(res, 200, { tenant_discovery_endpoint: `${this.host}/${tenant}/v2.0/.well-known/openid-configuration` });
    const form = new URLSearchParams(body.toString('utf8'));
    if (req.method !== 'POST' || form.get('grant_type') !== 'client_credentials') {
      return json(res, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: the fake issues client_credentials only' });
    }
    if (form.get('client_id') !== this.opts.clientId || form.get('client_secret') !== this.opts.clientSecret) {
      return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
    }
    const scope = form.get('scope') ?? '';
    return json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: this.issueToken(scope.replace(/\/\.default$/, '')) });
  }

  /** Every secret the fake handed out (AAD and AML tokens, endpoint keys), for "never printed" checks. */
  secretsIssued(): string[] {
    return [...this.tokens, ...this.amlTokens, ...this.issuedKeys, this.opts.acrRefreshToken, this.opts.acrAdmin.password];
  }

  /** A bearer token for in-process callers that do not go through AAD. */
  staticToken(): string {
    return this.issueToken(this.host);
  }

  private asset(res: ServerResponse, store: Map<string, Resource>, kind: string, name: string, version: string | undefined, method: string, body: Json): void {
    const base = `${this.workspaceId}/${kind}/${name}/versions`;
    if (version === undefined) {
      if (method !== 'GET') return armError(res, 405, 'MethodNotAllowed', method);
      const prefix = `${base}/`.toLowerCase();
      const value = [...store.entries()].filter(([id]) => id.startsWith(prefix)).map(([, r]) => r.body);
      if (value.length === 0) return armError(res, 404, 'UserError', `${kind} container ${name} not found`);
      return json(res, 200, { value });
    }
    const id = `${base}/${version}`;
    const key = id.toLowerCase();
    if (method === 'GET') {
      const r = store.get(key);
      return r ? json(res, 200, r.body) : armError(res, 404, 'UserError', `${kind} ${name}:${version} not found`);
    }
    if (method === 'DELETE') {
      const had = store.delete(key);
      return json(res, had ? 200 : 204, had ? {} : undefined);
    }
    if (method === 'PUT') {
      if (store.has(key)) return armError(res, 409, 'UserError', `${kind} ${name}:${version} already exists and assets are immutable`);
      const props = (body.properties ?? {}) as Json;
      if (kind === 'models' && (props.modelType !== 'mlflow_model' || !String(props.modelUri ?? '').startsWith('azureml://'))) {
        return armError(res, 400, 'UserError', 'modelType must be mlflow_model and modelUri an azureml:// datastore URI');
      }
      if (kind === 'environments') {
        const ic = props.inferenceConfig as Json | undefined;
        if (!props.image || !ic?.livenessRoute || !ic.readinessRoute || !ic.scoringRoute) {
          return armError(res, 400, 'UserError', 'a custom-container environment needs image and inferenceConfig with liveness, readiness and scoring routes');
        }
      }
      const out = {
        id,
        name: version,
        type: `Microsoft.MachineLearningServices/workspaces/${kind}/versions`,
        properties: { ...props, provisioningState: 'Succeeded' },
      };
      store.set(key, { id, name: version, body: out });
      return json(res, 201, out);
    }
    return armError(res, 405, 'MethodNotAllowed', method);
  }

  private startOperation(res: ServerResponse, op: Omit<Operation, 'id' | 'pollsLeft'>, status: number, body: unknown): void {
    const id = `${op.kind === 'endpoint' ? 'oe' : 'od'}:${randomUUID()}`;
    // the same object: a provisioning in progress settles it later
    this.operations.set(id, Object.assign(op as Operation, { id, pollsLeft: this.inProgressPolls }));
    const base = `${this.host}/subscriptions/${this.opts.subscriptionId}/providers/Microsoft.MachineLearningServices/locations/${this.location}`;
    json(res, status, body, {
      'azure-asyncoperation': `${base}/mfeOperationsStatus/${id}?api-version=2024-04-01`,
      location: `${base}/mfeOperationResults/${id}?api-version=2024-04-01`,
      'retry-after': '0',
    });
  }

  private finish(op: Operation): void {
    const r = op.kind === 'endpoint' ? this.endpoints.get(op.resourceId) : this.deployments.get(op.resourceId);
    if (op.action === 'delete') {
      if (op.outcome === 'Succeeded') {
        if (op.kind === 'endpoint') {
          this.endpoints.delete(op.resourceId);
          this.keys.delete(op.resourceId.split('/').pop()!);
          for (const id of [...this.deployments.keys()]) if (id.startsWith(`${op.resourceId}/deployments/`)) this.removeDeployment(id);
        } else this.removeDeployment(op.resourceId);
      }
      return;
    }
    if (op.kind === 'endpoint' && op.outcome === 'Failed' && op.previous) {
      this.endpoints.set(op.resourceId, op.previous);
      (op.previous.body.properties as Json).provisioningState = 'Failed';
      return;
    }
    if (r) (r.body.properties as Json).provisioningState = op.outcome === 'Succeeded' ? 'Succeeded' : 'Failed';
  }

  private removeDeployment(id: string): void {
    this.deployments.delete(id);
    const endpointId = id.slice(0, id.indexOf('/deployments/'));
    const traffic = (this.endpoints.get(endpointId)?.body.properties as Json | undefined)?.traffic as Record<string, number> | undefined;
    const name = id.split('/').pop()!;
    if (traffic) for (const k of Object.keys(traffic)) if (k.toLowerCase() === name) delete traffic[k];
    const mirror = (this.endpoints.get(endpointId)?.body.properties as Json | undefined)?.mirrorTraffic as Record<string, number> | undefined;
    if (mirror) for (const k of Object.keys(mirror)) if (k.toLowerCase() === name) delete mirror[k];
    const c = this.containers.get(id);
    if (c) {
      docker(['rm', '-f', c.id]);
      this.containers.delete(id);
    }
  }

  private operation(res: ServerResponse, id: string, result: boolean): void {
    const op = this.operations.get(id);
    if (!op) return armError(res, 404, 'NotFound', `operation ${id} not found`);
    if (op.outcome === 'InProgress' || op.pollsLeft > 0 || (op.provisioning && op.settled === undefined)) {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      if (result)
        return json(res, 202, undefined, {
          location: `${this.host}/subscriptions/${this.opts.subscriptionId}/providers/Microsoft.MachineLearningServices/locations/${this.location}/mfeOperationResults/${id}?api-version=2024-04-01`,
          'retry-after': '0',
        });
      return json(res, 200, { id, name: id, status: 'InProgress', startTime: new Date().toISOString() });
    }
    if (op.settled) {
      op.outcome = 'Failed';
      op.error = op.settled;
    }
    if (!('done' in op)) {
      this.finish(op);
      Object.assign(op, { done: true });
    }
    if (result) return op.outcome === 'Succeeded' ? json(res, 200, {}) : armError(res, 400, op.error!.code, op.error!.message);
    return json(res, 200, {
      id,
      name: id,
      status: op.outcome,
      endTime: new Date().toISOString(),
      ...(op.outcome === 'Failed' ? { error: { code: op.error!.code, message: op.error!.message, details: [] } } : {}),
    });
  }

  private endpointCall(res: ServerResponse, name: string, method: string, body: Json): void {
    const id = `${this.workspaceId}/onlineEndpoints/${name}`;
    const key = id.toLowerCase();
    const existing = this.endpoints.get(key);
    if (method === 'GET') return existing ? json(res, 200, existing.body) : armError(res, 404, 'NotFound', `Could not find endpoint ${name}.`);
    if (method === 'DELETE') {
      if (!existing) return json(res, 204, undefined);
      (existing.body.properties as Json).provisioningState = 'Deleting';
      return this.startOperation(res, { kind: 'endpoint', action: 'delete', resourceId: key, outcome: 'Succeeded' }, 202, undefined);
    }
    if (method !== 'PUT') return armError(res, 405, 'MethodNotAllowed', method);
    const props = (body.properties ?? {}) as Json;
    if (!['Key', 'AMLToken', 'AADToken'].includes(String(props.authMode)))
      return armError(res, 400, 'BadArgument', `authMode ${String(props.authMode)} is not valid`);
    if (!body.location) return armError(res, 400, 'BadArgument', 'location is required');
    const traffic = (props.traffic ?? {}) as Record<string, number>;
    const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
    for (const d of Object.keys(traffic)) {
      if (!this.deployment(name, d)) return armError(res, 400, 'BadArgument', `Traffic can only be set on existing deployments: ${d} does not exist.`);
    }
    if (sum !== 0 && sum !== 100) return armError(res, 400, 'BadArgument', `Traffic values must add up to 100 (they add up to ${sum}).`);
    // mirrorTraffic as Azure documents it (how-to-safely-rollout-online-endpoints): existing deployments,
    // one deployment, at most 50% in all, never a deployment that takes live traffic. A PUT without it
    // switches mirroring off (the documented effect of an older CLI/SDK updating the endpoint).
    const mirror = Object.fromEntries(Object.entries((props.mirrorTraffic ?? {}) as Record<string, number>).filter(([, v]) => v !== 0));
    for (const [d, v] of Object.entries(mirror)) {
      if (!this.deployment(name, d)) return armError(res, 400, 'BadArgument', `Mirror traffic can only be set on existing deployments: ${d} does not exist.`);
      if (!Number.isInteger(v) || v < 0) return armError(res, 400, 'BadArgument', `Mirror traffic for ${d} must be a whole percentage, not ${v}.`);
      if ((traffic[d] ?? 0) > 0) return armError(res, 400, 'BadArgument', `Deployment ${d} cannot receive both live traffic and mirror traffic.`);
    }
    if (Object.keys(mirror).length > 1) return armError(res, 400, 'BadArgument', 'Mirror traffic can be set on one deployment only.');
    const mirrorSum = Object.values(mirror).reduce((a, b) => a + b, 0);
    if (mirrorSum > 50) return armError(res, 400, 'BadArgument', `Mirror traffic values must sum to at most 50 (they sum to ${mirrorSum}).`);
    if (existing && (existing.body.properties as Json).authMode !== props.authMode) return armError(res, 400, 'BadArgument', 'authMode cannot be changed.');
    const out = {
      id,
      name,
      type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
      location: body.location,
      identity: { type: 'SystemAssigned', principalId: randomUUID(), tenantId: this.tenantId },
      tags: body.tags ?? {},
      kind: 'Managed',
      properties: {
        ...props,
        traffic,
        mirrorTraffic: mirror,
        scoringUri: `${this.host}/endpoints/${name}/score`,
        swaggerUri: `${this.host}/endpoints/${name}/swagger.json`,
        provisioningState: existing ? 'Updating' : 'Creating',
      },
    };
    this.endpoints.set(key, { id, name, body: out });
    if (!existing) {
      const k = { primaryKey: randomBytes(24).toString('base64'), secondaryKey: randomBytes(24).toString('base64') };
      this.keys.set(name.toLowerCase(), k);
      this.issuedKeys.push(k.primaryKey, k.secondaryKey);
    }
    const failure = existing ? this.failNextEndpointPut : undefined;
    if (failure) this.failNextEndpointPut = undefined;
    this.startOperation(
      res,
      {
        kind: 'endpoint',
        action: 'put',
        resourceId: key,
        outcome: failure ? 'Failed' : 'Succeeded',
        ...(failure ? { error: failure, previous: structuredClone(existing!) } : {}),
      },
      existing ? 200 : 201,
      out,
    );
  }

  private deploymentCall(res: ServerResponse, endpoint: string, name: string, method: string, body: Json): void {
    const ep = this.endpoint(endpoint);
    const id = `${this.workspaceId}/onlineEndpoints/${endpoint}/deployments/${name}`;
    const key = id.toLowerCase();
    const existing = this.deployments.get(key);
    if (method === 'GET') return existing ? json(res, 200, existing.body) : armError(res, 404, 'NotFound', `Could not find deployment ${name}.`);
    if (!ep) return armError(res, 404, 'NotFound', `Could not find endpoint ${endpoint}.`);
    if (method === 'DELETE') {
      if (!existing) return json(res, 204, undefined);
      const share = ((ep.properties as Json).traffic as Record<string, number>)[name] ?? 0;
      if (share > 0) return armError(res, 400, 'BadArgument', `Deployment ${name} has ${share}% traffic; set its traffic to 0 before deleting it.`);
      // not documented either way: the fake is strict, so a client must stop the mirroring first
      const mirrored = (((ep.properties as Json).mirrorTraffic ?? {}) as Record<string, number>)[name] ?? 0;
      if (mirrored > 0) return armError(res, 400, 'BadArgument', `Deployment ${name} has ${mirrored}% mirror traffic; set it to 0 before deleting it.`);
      (existing.body.properties as Json).provisioningState = 'Deleting';
      return this.startOperation(res, { kind: 'deployment', action: 'delete', resourceId: key, outcome: 'Succeeded' }, 202, undefined);
    }
    if (method !== 'PUT') return armError(res, 405, 'MethodNotAllowed', method);
    const props = (body.properties ?? {}) as Json;
    if (props.endpointComputeType !== 'Managed' || !props.instanceType || !props.environmentId) {
      return armError(res, 400, 'BadArgument', 'a managed deployment needs endpointComputeType Managed, instanceType and environmentId');
    }
    if (!MANAGED_INSTANCE_TYPES.has(String(props.instanceType).toLowerCase())) {
      return armError(res, 400, 'BadArgument', `The specified instance type ${String(props.instanceType)} is not supported for managed online deployments.`);
    }
    const envId = String(props.environmentId).toLowerCase();
    const env = this.environments.get(envId);
    if (!env) return armError(res, 400, 'UserError', `environment ${String(props.environmentId)} does not exist`);
    if (props.model && !this.models.get(String(props.model).toLowerCase()))
      return armError(res, 400, 'UserError', `model ${String(props.model)} does not exist`);
    for (const p of ['livenessProbe', 'readinessProbe']) {
      const probe = props[p] as Json | undefined;
      if (probe && !/^PT\d+(\.\d+)?S$/.test(String(probe.period)) && probe.period !== undefined)
        return armError(res, 400, 'BadArgument', `${p}.period must be an ISO 8601 duration`);
    }
    const out = {
      id,
      name,
      type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
      location: body.location,
      tags: body.tags ?? {},
      sku: body.sku ?? { name: 'Default', capacity: 1 },
      kind: 'Managed',
      properties: { ...props, provisioningState: existing ? 'Updating' : 'Creating' },
    };
    this.deployments.set(key, { id, name, body: out });
    const op: Omit<Operation, 'id' | 'pollsLeft'> = {
      kind: 'deployment',
      action: 'put',
      resourceId: key,
      outcome: this.hangDeployments ? 'InProgress' : 'Succeeded',
    };
    if (this.failNextDeployment) {
      op.outcome = 'Failed';
      op.error = this.failNextDeployment;
      this.failNextDeployment = undefined;
    } else if (this.opts.runContainers && !this.hangDeployments) {
      op.provisioning = this.provision(key, env.body.properties as Json, props).catch((e: unknown) => ({ code: 'FakeProvisioningError', message: String(e) }));
      void op.provisioning.then((r) => (op.settled = r));
    }
    this.startOperation(res, op, existing ? 200 : 201, out);
  }

  /** Pull, run and probe the image as Azure ML would; null when the readiness probe passed, else the error. */
  private async provision(key: string, env: Json, props: Json): Promise<{ code: string; message: string } | null> {
    const image = String(env.image);
    const pull = docker(['--config', this.dockerConfig!, 'pull', image]);
    if (pull.status !== 0) return { code: 'ImagePullFailure', message: `Failed to pull image ${image}: ${pull.out.trim()}` };
    const old = this.containers.get(key);
    if (old) docker(['rm', '-f', old.id]);
    const port = await new Promise<number>((resolve) => {
      const s = createServer({ cert: this.opts.ca.certPem, key: this.opts.ca.keyPem });
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const envVars = Object.entries((props.environmentVariables ?? {}) as Record<string, string>).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const run = docker(['run', '-d', '--network', 'host', '-e', `MLMODEL_PORT=${port}`, ...envVars, image]);
    if (run.status !== 0) return { code: 'ContainerStartFailure', message: run.out.trim() };
    const containerId = run.out.trim().split('\n').pop()!;
    const entry = { id: containerId, port, readyMs: null as number | null };
    this.containers.set(key, entry);
    const ic = env.inferenceConfig as Record<string, { port: number; path: string }>;
    const readiness = (props.readinessProbe ?? {}) as Json;
    const liveness = (props.livenessProbe ?? {}) as Json;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, seconds(readiness.initialDelay, 10) * 1000));
    const period = seconds(readiness.period, 10) * 1000;
    const timeout = seconds(readiness.timeout, 2) * 1000;
    const failureThreshold = Number(readiness.failureThreshold ?? 30);
    const successThreshold = Number(readiness.successThreshold ?? 1);
    let failures = 0;
    let successes = 0;
    for (;;) {
      if (!this.containers.has(key)) return { code: 'Canceled', message: 'the deployment was deleted while provisioning' };
      const status = await httpGetStatus(`http://127.0.0.1:${port}${ic.readinessRoute!.path}`, timeout);
      if (status === 200) {
        successes += 1;
        if (successes >= successThreshold) break;
      } else {
        successes = 0;
        failures += 1;
        if (failures >= failureThreshold) {
          return {
            code: 'ResourceNotReady',
            message: `User container has crashed or terminated: Readiness probe failed: HTTP probe failed with statuscode: ${status}`,
          };
        }
      }
      await new Promise((r) => setTimeout(r, period));
    }
    entry.readyMs = Date.now() - t0;
    const live = await httpGetStatus(`http://127.0.0.1:${port}${ic.livenessRoute!.path}`, seconds(liveness.timeout, 2) * 1000);
    if (live !== 200)
      return {
        code: 'ResourceNotReady',
        message: `User container has crashed or terminated: Liveness probe failed: HTTP probe failed with statuscode: ${live}`,
      };
    return null;
  }

  private logs(res: ServerResponse, endpoint: string, name: string, body: Json): void {
    const key = `${this.workspaceId}/onlineEndpoints/${endpoint}/deployments/${name}`.toLowerCase();
    if (!this.deployments.has(key)) return armError(res, 404, 'NotFound', `Could not find deployment ${name}.`);
    const tail = Number(body.tail ?? 100);
    let content: string;
    const c = this.containers.get(key);
    if (body.containerType === 'StorageInitializer') {
      const model = String((this.deployments.get(key)!.body.properties as Json).model ?? '');
      const uri = String((this.models.get(model.toLowerCase())?.body.properties as Json | undefined)?.modelUri ?? '(no model)');
      content = `storage-initializer: downloading ${uri}\nstorage-initializer: model ${model.replace(/^.*\/models\//, '').replace('/versions/', ':')} is in /var/azureml-app/azureml-models\n`;
    } else if (c) content = spawnSync('sh', ['-c', `docker logs ${c.id} 2>&1`], { encoding: 'utf8' }).stdout;
    else content = this.cannedLogs.get(name) ?? `${name}: no container log\n`;
    const lines = content.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return json(res, 200, { content: `${lines.slice(-tail).join('\n')}\n` });
  }

  /** POST a scoring request to a deployment's container on the environment's scoring route. */
  private forward(key: string, port: number, contentType: string, body: Buffer): Promise<{ status: number; type: string; body: Buffer }> {
    const env = this.environments.get(String(((this.deployments.get(key)!.body.properties as Json).environmentId as string).toLowerCase()));
    const scoringPath = ((env?.body.properties as Json).inferenceConfig as Record<string, { path: string }>).scoringRoute!.path;
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        `http://127.0.0.1:${port}${scoringPath}`,
        { method: 'POST', headers: { 'content-type': contentType, 'content-length': String(body.length) } },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (d: Buffer) => chunks.push(d));
          up.on('end', () => resolve({ status: up.statusCode ?? 502, type: String(up.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  }

  private async score(req: IncomingMessage, res: ServerResponse, endpoint: string, bearer: string, body: Buffer): Promise<void> {
    const ep = this.endpoint(endpoint);
    if (!ep) return json(res, 404, { message: 'endpoint not found' });
    const p = ep.properties as Json;
    const k = this.keys.get(endpoint.toLowerCase());
    const ok = p.authMode === 'Key' ? bearer !== '' && (bearer === k?.primaryKey || bearer === k?.secondaryKey) : this.amlTokens.has(bearer);
    if (!ok) return json(res, 401, { message: 'key_auth_access_denied' });
    let target = req.headers['azureml-model-deployment'] as string | undefined;
    // traffic sent to a named deployment is not mirrored (as Azure documents)
    let mirrorTo: string | undefined;
    if (!target) {
      for (const [d, v] of Object.entries((p.mirrorTraffic ?? {}) as Record<string, number>)) {
        if (v <= 0) continue;
        const credit = (this.mirrorCredit.get(endpoint) ?? 0) + v;
        if (credit >= 100) mirrorTo = d;
        this.mirrorCredit.set(endpoint, credit >= 100 ? credit - 100 : credit);
      }
    }
    if (!target) {
      const traffic = Object.entries((p.traffic ?? {}) as Record<string, number>).filter(([, v]) => v > 0);
      if (traffic.length === 0) return json(res, 503, { message: 'no deployment takes traffic' });
      let roll = Math.random() * 100;
      target = traffic[traffic.length - 1]![0];
      for (const [d, v] of traffic) {
        if ((roll -= v) < 0) {
          target = d;
          break;
        }
      }
    }
    const key = `${this.workspaceId}/onlineEndpoints/${endpoint}/deployments/${target}`.toLowerCase();
    const c = this.containers.get(key);
    if (!this.deployments.has(key)) return json(res, 404, { message: `deployment ${target} not found` });
    if (!c) return json(res, 502, { message: `deployment ${target} has no running container in this fake` });
    this.scored.push(target);
    const contentType = req.headers['content-type'] ?? 'application/json';
    if (mirrorTo) {
      const mkey = `${this.workspaceId}/onlineEndpoints/${endpoint}/deployments/${mirrorTo}`.toLowerCase();
      const mc = this.containers.get(mkey);
      if (mc) {
        // fire and forget: the caller's answer never waits for, nor sees, the shadow's
        this.forward(mkey, mc.port, contentType, body).then(
          (r) => this.mirrored.push({ deployment: mirrorTo, status: r.status }),
          () => this.mirrored.push({ deployment: mirrorTo, status: 0 }),
        );
      }
    }
    const upstream = await this.forward(key, c.port, contentType, body);
    res.writeHead(upstream.status, { 'content-type': upstream.type, 'azureml-model-deployment': target });
    res.end(upstream.body);
  }
}
