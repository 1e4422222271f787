/**
 * The AWS SDK v3 clients a deployment uses, built from one configuration: region and credentials
 * from the SDK's default chain (AWS_REGION, AWS_PROFILE, env, SSO, instance roles...) unless
 * given, every endpoint overridable (`endpointUrl` for all services; the SDK itself honours
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>), retries by the SDK's standard strategy.
 *
 * `AwsSession` sends every call: it maps AWS errors to one-line typed errors naming the action
 * and the principal, keeps secrets out of messages, and in dry-run mode records mutating calls
 * instead of making them (reads still go out).
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsAccessDeniedError, AwsRequestError, oneLine, redact, SageMakerDeployError } from './errors.js';

export interface AwsConfig {
  /** Region; default from the SDK's chain (AWS_REGION, AWS_DEFAULT_REGION via profile, ...). */
  readonly region?: string;
  /** One endpoint for every service (tests, compatible clouds); the SDK's AWS_ENDPOINT_URL_* work without it. */
  readonly endpointUrl?: string;
  /** A named profile from ~/.aws/config. */
  readonly profile?: string;
  /** Static credentials (tests); default: the SDK's provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Attempts per call, including the first (the SDK's standard retry strategy; default 5). */
  readonly maxAttempts?: number;
  /** Environment read for endpoint overrides (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface AwsClients {
  readonly sagemaker: SageMakerClient;
  readonly runtime: SageMakerRuntimeClient;
  readonly s3: S3Client;
  readonly sts: STSClient;
  readonly ecr: ECRClient;
  readonly autoscaling: ApplicationAutoScalingClient;
}

export type ServiceName = keyof AwsClients;

/** The names AWS uses in IAM actions. */
const IAM_PREFIX: Record<ServiceName, string> = {
  sagemaker: 'sagemaker',
  runtime: 'sagemaker',
  s3: 's3',
  sts: 'sts',
  ecr: 'ecr',
  autoscaling: 'application-autoscaling',
};

export const DEFAULT_MAX_ATTEMPTS = 5;

/** S3 needs path-style addressing against any endpoint that is not AWS's own. */
function customS3Endpoint(config: AwsConfig): boolean {
  const env = config.env ?? process.env;
  return Boolean(config.endpointUrl || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

export function createClients(config: AwsConfig = {}): AwsClients {
  // the SDK warns on every run under Node 20 about its own future releases; not our user's concern
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const common = {
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpointUrl ? { endpoint: config.endpointUrl } : {}),
    ...(config.profile ? { profile: config.profile } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    maxAttempts: config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
  return {
    sagemaker: new SageMakerClient(common),
    runtime: new SageMakerRuntimeClient(common),
    s3: new S3Client({ ...common, ...(customS3Endpoint(config) ? { forcePathStyle: true } : {}) }),
    sts: new STSClient(common),
    ecr: new ECRClient(common),
    autoscaling: new ApplicationAutoScalingClient(common),
  };
}

export function destroyClients(clients: AwsClients): void {
  for (const c of Object.values(clients)) (c as { destroy(): void }).destroy();
}

/** One call the deployment makes (or, in dry-run, would make). */
export interface PlannedCall {
  /** An AWS service, or `docker` for the engine's build and push. */
  readonly service: ServiceName | 'docker';
  readonly operation: string;
  readonly params: Record<string, unknown>;
  /** Mutating calls are only planned in dry-run; reads are made. */
  readonly mutating: boolean;
}

const SECRET_KEYS = /password|secret|token|credential/i;

/** Parameters as recorded: bodies by their size, secret-looking string fields masked. */
export function compactParams(value: unknown): unknown {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map(compactParams);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) && typeof v === 'string' ? '***' : compactParams(v);
    return out;
  }
  return value;
}

/** Reads: made even in dry-run. */
export function isReadOperation(operation: string): boolean {
  return /^(Describe|List|Get|Head)/.test(operation);
}

/** An SDK v3 command: its class name is `<Operation>Command`. */
interface SdkCommand {
  readonly input: object;
}

function operationOf(command: SdkCommand): string {
  return command.constructor.name.replace(/Command$/, '');
}

interface AwsSdkError {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $fault?: string;
}

const ACCESS_DENIED =
  /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|UnrecognizedClientException|InvalidClientTokenId|ExpiredToken|ExpiredTokenException|SignatureDoesNotMatch|AuthFailure)$/;

export interface SessionOptions {
  readonly dryRun?: boolean;
  /** Secrets to keep out of every message (ECR tokens, registry passwords). */
  readonly secrets?: readonly string[];
}

export class AwsSession {
  readonly clients: AwsClients;
  readonly dryRun: boolean;
  /** Every mutating call, in order (in dry-run: planned; otherwise: made). */
  readonly calls: PlannedCall[] = [];
  /** Every read made (`service:Operation`), in order: what a dry run still asks AWS. */
  readonly reads: string[] = [];
  /** The caller's ARN once known (GetCallerIdentity), for access-denied messages. */
  principal: string | null = null;
  readonly #secrets = new Set<string>();

  constructor(clients: AwsClients, opts: SessionOptions = {}) {
    this.clients = clients;
    this.dryRun = opts.dryRun ?? false;
    for (const s of opts.secrets ?? []) this.#secrets.add(s);
  }

  addSecret(secret: string): void {
    if (secret) this.#secrets.add(secret);
  }

  redact(text: string): string {
    return redact(text, this.#secrets);
  }

  /** The region the clients use (from config or the SDK's chain). */
  async region(): Promise<string> {
    try {
      return await this.clients.sagemaker.config.region();
    } catch (e) {
      throw new SageMakerDeployError(`no AWS region: pass --region or set AWS_REGION (${oneLine((e as Error).message)})`, 'INVALID_PARAMETER_VALUE', {
        cause: e,
      });
    }
  }

  /** Record a step that is not an AWS call (a docker build or push); true when it should be made (not dry-run). */
  plan(service: 'docker', operation: string, params: Record<string, unknown>): boolean {
    this.calls.push({ service, operation, params: compactParams(params) as Record<string, unknown>, mutating: true });
    return !this.dryRun;
  }

  /**
   * Send `command` to `service`. Mutating operations are recorded; in dry-run they are not sent
   * and `dryResult` (default `{}`) is returned instead.
   */
  async send<O>(service: ServiceName, command: SdkCommand, dryResult?: O): Promise<O> {
    const operation = operationOf(command);
    const mutating = !isReadOperation(operation);
    if (mutating) this.calls.push({ service, operation, params: compactParams(command.input) as Record<string, unknown>, mutating });
    else this.reads.push(`${service}:${operation}`);
    if (mutating && this.dryRun) return (dryResult ?? {}) as O;
    const client = this.clients[service] as unknown as { send(c: SdkCommand): Promise<O> };
    try {
      return await client.send(command);
    } catch (e) {
      throw this.wrap(service, operation, e);
    }
  }

  /** AWS's error as one of ours: access denied names the action and the principal. */
  wrap(service: ServiceName, operation: string, e: unknown): Error {
    if (e instanceof SageMakerDeployError) return e;
    const err = e as AwsSdkError;
    const action = `${IAM_PREFIX[service]}:${operation}`;
    const name = err.name ?? err.Code ?? err.code ?? 'Error';
    const status = err.$metadata?.httpStatusCode;
    const message = this.redact(oneLine(err.message ?? String(e)));
    if (/Region is missing/i.test(message)) {
      return new SageMakerDeployError('no AWS region: pass --region, set AWS_REGION, or give the profile a region', 'INVALID_PARAMETER_VALUE', { cause: e });
    }
    if (name === 'CredentialsProviderError') {
      return new SageMakerDeployError(
        `no AWS credentials for ${action}: set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login (${message})`,
        'UNAUTHENTICATED',
        { cause: e },
      );
    }
    if (ACCESS_DENIED.test(name) || status === 403) return new AwsAccessDeniedError(action, this.principal, message, { cause: e });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
      return new AwsRequestError(
        action,
        code,
        `cannot reach the ${service} endpoint (${message}); check --endpoint-url / AWS_ENDPOINT_URL* and the network`,
        status,
        { cause: e },
      );
    }
    const attempts = err.$metadata?.attempts;
    const retried = attempts !== undefined && attempts > 1 ? ` (after ${attempts} attempts)` : '';
    return new AwsRequestError(action, name, `${message}${retried}`, status, { cause: e });
  }
}

/** Whether `e` (ours, wrapping AWS's) is a "not found" of a SageMaker describe. */
export function isNotFound(e: unknown): boolean {
  if (!(e instanceof AwsRequestError)) return false;
  return (
    /NotFound|NoSuchKey|NoSuchBucket|ResourceNotFound/.test(e.awsErrorName) ||
    (e.awsErrorName === 'ValidationException' && /could not find|does not exist|not found/i.test(e.message))
  );
}
