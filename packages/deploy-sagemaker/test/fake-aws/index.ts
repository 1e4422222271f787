/**
 * FakeAws — a local FAKE of the AWS APIs `mlmodel deploy sagemaker` calls, for tests only: one
 * node:http server on 127.0.0.1:<random port> speaking the real wire protocols, so the real AWS
 * SDK v3 serializes, signs, retries and parses as it would against AWS:
 *
 * - AWS JSON 1.1 routed by `X-Amz-Target`: `SageMaker.*`, `AmazonEC2ContainerRegistry_V20150921.*`,
 *   `AnyScaleFrontendService.*` (Application Auto Scaling);
 * - awsQuery for STS (form `Action=GetCallerIdentity`, XML answers);
 * - REST for the SageMaker runtime (`POST /endpoints/{name}/invocations`, and
 *   `/async-invocations`: 202, the output written to S3 after `behaviour.asyncDelayMs`) and S3
 *   (path-style XML).
 *
 * Every request must carry a SigV4 Authorization header whose credential scope names the service
 * the request is for (the HMAC itself is not verified). Tests steer it: transitions that take N
 * polls and end InService, Failed with a reason, rolled back, or never (`behaviour`); errors
 * injected per operation, N times (`failNext`, `deny`, `throttle`); containers that answer for
 * an image (`containers`), so InvokeEndpoint and transform jobs reach a real model server. The
 * whole state is open (`state.inventory()`, `state.calls`) for "nothing left behind" checks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Behaviour, type FakeContext } from './context.js';
import { autoScaling, ecr, stsAnswer, stsError } from './others.js';
import { AwsFault, parseSigV4, readBody, sendJson, sendJsonError, sendXml, type SigV4 } from './protocol.js';
import { handleS3, s3Error, s3Operation } from './s3.js';
import { invokeEndpoint, invokeEndpointAsync, peekEndpoint, sagemakerControl } from './sagemaker.js';
import { FakeAwsState } from './state.js';

export { FakeAwsState } from './state.js';
export type { Outcome, FakeCall } from './state.js';

const TARGETS: Record<string, string> = {
  'SageMaker.': 'sagemaker',
  'AmazonEC2ContainerRegistry_V20150921.': 'ecr',
  'AnyScaleFrontendService.': 'application-autoscaling',
};

export interface FakeAwsOptions {
  readonly account?: string;
  readonly region?: string;
  /** ECR's `AWS` user password (default: a fixed test value). */
  readonly registryPassword?: string;
  readonly callerArn?: string;
}

interface Injected {
  readonly fault: AwsFault;
  remaining: number;
}

export class FakeAws {
  readonly state = new FakeAwsState();
  readonly behaviour: Behaviour = {
    createPolls: 2,
    updatePolls: 2,
    deletePolls: 1,
    nextCreate: [],
    nextUpdate: [],
    transformPolls: 1,
    asyncDelayMs: 30,
  };
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly containers = new Map<string, string>();
  readonly account: string;
  readonly region: string;
  readonly ctx: FakeContext;
  /** Requests refused for a bad or missing signature (tests assert 0). */
  unsigned = 0;
  readonly #server: Server;
  readonly #injected = new Map<string, Injected[]>();
  #url = '';

  constructor(opts: FakeAwsOptions = {}) {
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-west-2';
    this.ctx = {
      state: this.state,
      behaviour: this.behaviour,
      account: this.account,
      registryPassword: opts.registryPassword ?? 'fake-ecr-password',
      callerArn: opts.callerArn ?? `arn:aws:sts::${this.account}:assumed-role/MlmodelDeployer/tests`,
      containers: this.containers,
      timers: this.#timers,
    };
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { __type: 'InternalFailure', message: String((e as Error).message) });
      });
    });
  }

  get url(): string {
    return this.#url;
  }

  set callerArn(a: string) {
    this.ctx.callerArn = a;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The SDK configuration that reaches this fake (static dummy credentials). */
  clientConfig(): { region: string; endpointUrl: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } } {
    return {
      region: this.region,
      endpointUrl: this.#url,
      credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE1234', secretAccessKey: 'fake-secret-access-key-0123456789', sessionToken: 'fake-session-token-SECRET' },
    };
  }

  /** Environment for a CLI child process: the SDK's own endpoint variable and dummy credentials. */
  env(): Record<string, string> {
    const c = this.clientConfig();
    return {
      AWS_ENDPOINT_URL: this.#url,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: c.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: c.credentials.sessionToken,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  /** The next `times` calls of `operation` fail with `code` (status 400 unless given). */
  failNext(operation: string, code: string, message: string, opts: { times?: number; status?: number } = {}): void {
    const list = this.#injected.get(operation) ?? [];
    list.push({ fault: new AwsFault(code, message, opts.status ?? 400), remaining: opts.times ?? 1 });
    this.#injected.set(operation, list);
  }

  /** `operation` is denied as IAM denies it (every time until `allow`). */
  deny(service: string, operation: string): void {
    this.failNext(
      operation,
      service === 's3' ? 'AccessDenied' : 'AccessDeniedException',
      `User: ${this.ctx.callerArn} is not authorized to perform: ${service}:${operation} because no identity-based policy allows the ${service}:${operation} action`,
      { times: Number.MAX_SAFE_INTEGER, status: service === 's3' ? 403 : 400 },
    );
  }

  allow(operation: string): void {
    this.#injected.delete(operation);
  }

  /** `times` ThrottlingExceptions for `operation` (the SDK retries them). */
  throttle(operation: string, times: number): void {
    this.failNext(operation, 'ThrottlingException', 'Rate exceeded', { times });
  }

  /** DescribeEndpoint's answer without advancing the simulated transition. */
  peekEndpoint(name: string): Record<string, unknown> | null {
    return peekEndpoint(this.ctx, name);
  }

  /** Calls of `operation` made so far. */
  callsOf(operation: string): Record<string, unknown>[] {
    return this.state.calls.filter((c) => c.operation === operation).map((c) => c.params);
  }

  #inject(operation: string): void {
    const list = this.#injected.get(operation);
    const first = list?.[0];
    if (!first) return;
    if (--first.remaining <= 0) list!.shift();
    throw first.fault;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const sig = parseSigV4(req.headers.authorization);
    const target = req.headers['x-amz-target'];
    const contentType = String(req.headers['content-type'] ?? '');

    if (typeof target === 'string') {
      const prefix = Object.keys(TARGETS).find((p) => target.startsWith(p));
      const op = prefix ? target.slice(prefix.length) : target;
      try {
        if (!prefix) throw new AwsFault('UnknownOperationException', `unknown target ${target}`);
        this.#checkSignature(sig, TARGETS[prefix]!);
        const params = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        this.state.calls.push({ service: TARGETS[prefix]!, operation: op, params, region: sig!.region, accessKeyId: sig!.accessKeyId });
        this.#inject(op);
        const region = sig!.region;
        const out =
          prefix === 'SageMaker.'
            ? sagemakerControl(this.ctx, region, op, params)
            : prefix === 'AnyScaleFrontendService.'
              ? autoScaling(this.ctx, region, op, params)
              : ecr(this.ctx, region, op, params);
        sendJson(res, 200, out);
      } catch (e) {
        sendJsonError(res, e instanceof AwsFault ? e : new AwsFault('InternalFailure', String(e), 500));
      }
      return;
    }

    if (req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded') && url.pathname === '/') {
      const form = new URLSearchParams(body.toString('utf8'));
      const action = form.get('Action') ?? '';
      try {
        this.#checkSignature(sig, 'sts');
        this.state.calls.push({ service: 'sts', operation: action, params: Object.fromEntries(form), region: sig!.region, accessKeyId: sig!.accessKeyId });
        this.#inject(action);
        sendXml(res, 200, stsAnswer(this.ctx, action), { 'content-type': 'text/xml' });
      } catch (e) {
        const f = e instanceof AwsFault ? e : new AwsFault('InternalFailure', String(e), 500);
        sendXml(res, f.code === 'AccessDeniedException' ? 403 : f.status, stsError(f), { 'content-type': 'text/xml' });
      }
      return;
    }

    const invoke = /^\/endpoints\/([^/]+)\/invocations$/.exec(url.pathname);
    if (invoke && sig?.service === 'sagemaker') {
      const endpoint = decodeURIComponent(invoke[1]!);
      try {
        this.#checkSignature(sig, 'sagemaker');
        this.state.calls.push({
          service: 'sagemaker-runtime',
          operation: 'InvokeEndpoint',
          params: { EndpointName: endpoint },
          region: sig.region,
          accessKeyId: sig.accessKeyId,
        });
        this.#inject('InvokeEndpoint');
        const a = await invokeEndpoint(this.ctx, sig.region, endpoint, req.headers, body);
        res.writeHead(a.status, { ...a.headers, 'content-length': String(a.body.length), 'x-amzn-requestid': 'fake' });
        res.end(a.body);
      } catch (e) {
        const f = e instanceof AwsFault ? e : new AwsFault('InternalFailure', String(e), 500);
        sendJson(res, f.status, { message: f.message }, { 'x-amzn-errortype': f.code, 'content-type': 'application/json' });
      }
      return;
    }

    const invokeAsync = /^\/endpoints\/([^/]+)\/async-invocations$/.exec(url.pathname);
    if (invokeAsync && req.method === 'POST' && sig?.service === 'sagemaker') {
      const endpoint = decodeURIComponent(invokeAsync[1]!);
      try {
        this.#checkSignature(sig, 'sagemaker');
        this.state.calls.push({
          service: 'sagemaker-runtime',
          operation: 'InvokeEndpointAsync',
          params: { EndpointName: endpoint, InputLocation: req.headers['x-amzn-sagemaker-inputlocation'] },
          region: sig.region,
          accessKeyId: sig.accessKeyId,
        });
        this.#inject('InvokeEndpointAsync');
        const a = invokeEndpointAsync(this.ctx, endpoint, req.headers, body);
        res.writeHead(a.status, { ...a.headers, 'content-length': String(a.body.length), 'x-amzn-requestid': 'fake' });
        res.end(a.body);
      } catch (e) {
        const f = e instanceof AwsFault ? e : new AwsFault('InternalFailure', String(e), 500);
        sendJson(res, f.status, { message: f.message }, { 'x-amzn-errortype': f.code, 'content-type': 'application/json' });
      }
      return;
    }

    // S3, path-style
    const parts = url.pathname.split('/').slice(1);
    const bucket = decodeURIComponent(parts[0] ?? '');
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    const op = s3Operation(req.method ?? 'GET', bucket, key, url.searchParams);
    try {
      this.#checkSignature(sig, 's3');
      this.state.calls.push({
        service: 's3',
        operation: op,
        params: { Bucket: bucket, ...(key ? { Key: key } : {}) },
        region: sig!.region,
        accessKeyId: sig!.accessKeyId,
      });
      this.#inject(op);
      handleS3(this.ctx, sig!.region, req, res, bucket, key, url.searchParams, body);
    } catch (e) {
      s3Error(res, e instanceof AwsFault ? e : new AwsFault('InternalError', String(e), 500), req.method ?? 'GET');
    }
  }

  #checkSignature(sig: SigV4 | null, service: string): void {
    if (!sig) {
      this.unsigned++;
      throw new AwsFault('MissingAuthenticationTokenException', 'Missing or malformed SigV4 Authorization header', 403);
    }
    if (sig.service !== service) {
      this.unsigned++;
      throw new AwsFault('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`, 403);
    }
    if (!sig.signedHeaders.includes('host') || !sig.signedHeaders.includes('x-amz-date')) {
      this.unsigned++;
      throw new AwsFault('IncompleteSignatureException', 'The request signature does not sign host and x-amz-date', 403);
    }
  }
}

export async function startFakeAws(opts: FakeAwsOptions = {}): Promise<FakeAws> {
  return new FakeAws(opts).start();
}
