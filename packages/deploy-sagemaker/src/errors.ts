/**
 * Typed errors of SageMaker deployment. Every one is a user error with a one-line message that
 * says what happened and what to do (the CLI prints `error: <message>`, never a stack). Secrets
 * never reach a message: AWS messages pass through `redact` first.
 */
import { MlmodelError } from '@mlmodel/format';
import type { ResourceRef } from './resources.js';

/** A bad request: an option, a name, a state the endpoint is in. */
export class SageMakerDeployError extends MlmodelError {}

/** AWS refused a call for lack of permission. */
export class AwsAccessDeniedError extends SageMakerDeployError {
  readonly action: string;
  readonly principal: string | null;
  constructor(action: string, principal: string | null, detail: string, options?: { cause?: unknown }) {
    super(
      `AWS denied ${action} to ${principal ?? 'the caller'}: ${detail} (grant ${action} to that principal, or use other credentials)`,
      'UNAUTHENTICATED',
      options,
    );
    this.action = action;
    this.principal = principal;
  }
}

/** Any other failed AWS call (after the SDK's retries): service, operation, AWS's error name and message. */
export class AwsRequestError extends SageMakerDeployError {
  readonly action: string;
  readonly awsErrorName: string;
  readonly httpStatus: number | undefined;
  constructor(action: string, awsErrorName: string, detail: string, httpStatus: number | undefined, options?: { cause?: unknown }) {
    super(
      `${action} failed: ${awsErrorName}: ${detail}`,
      httpStatus !== undefined && httpStatus >= 500 ? 'TEMPORARILY_UNAVAILABLE' : 'INVALID_PARAMETER_VALUE',
      options,
    );
    this.action = action;
    this.awsErrorName = awsErrorName;
    this.httpStatus = httpStatus;
  }
}

/** What a failed deploy removed again and what it could not remove. */
export interface CleanupReport {
  readonly removed: readonly ResourceRef[];
  readonly failed: readonly { readonly resource: ResourceRef; readonly reason: string }[];
  /** Left on purpose: the endpoint `keptFor` could not be removed and still uses them. */
  readonly kept?: readonly ResourceRef[];
  readonly keptFor?: string;
}

export function describeCleanup(c: CleanupReport): string {
  const removed = c.removed.length === 0 ? 'nothing to remove' : `removed ${c.removed.map((r) => `${r.kind} ${r.name}`).join(', ')}`;
  const failed = c.failed.length === 0 ? '' : `; could NOT remove ${c.failed.map((f) => `${f.resource.kind} ${f.resource.name} (${f.reason})`).join(', ')}`;
  const kept =
    c.kept && c.kept.length > 0 ? `; kept ${c.kept.map((r) => `${r.kind} ${r.name}`).join(', ')} because endpoint ${c.keptFor ?? '?'} still uses them` : '';
  return `${removed}${failed}${kept}`;
}

/**
 * A deployment that SageMaker failed or rolled back, or that timed out: the reason, and what was
 * cleaned up so that nothing is left behind.
 */
export class DeploymentFailedError extends SageMakerDeployError {
  readonly endpointName: string;
  /** SageMaker's FailureReason, when it gave one. */
  readonly failureReason: string | null;
  readonly rolledBack: boolean;
  readonly cleanup: CleanupReport | null;
  constructor(
    message: string,
    opts: { endpointName: string; failureReason?: string | null; rolledBack?: boolean; cleanup?: CleanupReport | null; cause?: unknown },
  ) {
    const tail = opts.cleanup ? `; cleanup: ${describeCleanup(opts.cleanup)}` : '';
    super(`${message}${tail}`, 'INVALID_PARAMETER_VALUE', opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.endpointName = opts.endpointName;
    this.failureReason = opts.failureReason ?? null;
    this.rolledBack = opts.rolledBack ?? false;
    this.cleanup = opts.cleanup ?? null;
  }
}

/** A wait that did not end in time (SageMaker may still be working). */
export class DeployTimeoutError extends SageMakerDeployError {
  readonly lastStatus: string | null;
  constructor(message: string, lastStatus: string | null) {
    super(message, 'DEADLINE_EXCEEDED');
    this.lastStatus = lastStatus;
  }
}

/** The container answered InvokeEndpoint with an error (SageMaker's ModelError, HTTP 424). */
export class ModelInvocationError extends SageMakerDeployError {
  readonly originalStatusCode: number | null;
  constructor(message: string, originalStatusCode: number | null, options?: { cause?: unknown }) {
    super(message, 'INVALID_PARAMETER_VALUE', options);
    this.originalStatusCode = originalStatusCode;
  }
}

/** Replace every known secret in `text` by `***`, and anything that looks like an AWS secret key or token header value. */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out
    .replace(/(X-Amz-Security-Token|X-Amz-Credential|aws_secret_access_key|aws_session_token|Signature)=([^&\s"',;]+)/gi, '$1=***')
    .replace(/(password|token|secret)("?\s*[:=]\s*"?)([^"\s,;&]{8,})/gi, '$1$2***');
}

export { oneLine } from '@mlmodel/format';
