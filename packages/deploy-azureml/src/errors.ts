/**
 * Typed errors of the Azure ML deployer. Each is a user error with a one-line message that says
 * what happened and what to do (the CLI prints `error: <message>`, never a stack). Secrets never
 * reach a message: everything that quotes the service goes through `redact`.
 */
import { MlmodelError, oneLine } from '@mlmodel/format';

/** A request that cannot be carried out as given (bad option, unknown deployment, traffic that does not add up). */
export class AzureMlError extends MlmodelError {}

/** The service refused a call or a long-running operation ended Failed/Canceled; carries its error code and the deployment's log tail. */
export class AzureMlServiceError extends AzureMlError {
  /** The service's error code (e.g. `ResourceNotReady`), when it gave one. */
  readonly serviceCode: string | undefined;
  /** HTTP status of the refused call, when there was one. */
  readonly status: number | undefined;
  /** The last lines of the deployment's inference-server log, when they could be read. */
  readonly logsTail: readonly string[];

  constructor(message: string, opts: { serviceCode?: string | undefined; status?: number | undefined; logsTail?: readonly string[]; cause?: unknown } = {}) {
    super(message, 'INTERNAL_ERROR', { cause: opts.cause });
    this.serviceCode = opts.serviceCode;
    this.status = opts.status;
    this.logsTail = opts.logsTail ?? [];
  }
}

/** A long-running operation did not finish within the timeout; says what state it was left in. */
export class AzureMlTimeoutError extends AzureMlError {
  /** The provisioning state last seen. */
  readonly lastState: string | undefined;

  constructor(message: string, lastState: string | undefined) {
    super(message, 'TEMPORARILY_UNAVAILABLE');
    this.lastState = lastState;
  }
}

/** The caller interrupted the operation (Ctrl-C): what it had made is removed before this is thrown. */
export class AzureMlInterruptedError extends AzureMlError {
  constructor(message: string) {
    super(message, 'CANCELLED');
  }
}

/** Logging in to or pushing to the container registry failed. */
export class AcrLoginError extends AzureMlError {}

/** No credential could produce an ARM token (not logged in, no managed identity, …). */
export class AzureCredentialError extends AzureMlError {}

const secrets = new Set<string>();

/** Remember a secret so that `redact` removes it from anything printed later (keys, tokens, passwords). */
export function rememberSecret(secret: string | undefined): void {
  if (secret && secret.length >= 6) secrets.add(secret);
}

/** The text with every remembered secret, bearer token and key-looking query parameter replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
    .replace(/((?:access_token|refresh_token|password|client_secret|sig|key)=)[^&\s"]+/gi, '$1***');
}

export { oneLine };

interface RestLike {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { error?: { code?: string; message?: string } };
  response?: { bodyAsText?: string | null };
}

/** The service's own code and message from a core-rest-pipeline RestError (or any error), redacted and on one line. */
export function serviceErrorOf(e: unknown): { code: string | undefined; status: number | undefined; message: string } {
  const r = (e ?? {}) as RestLike;
  let code = r.details?.error?.code ?? r.code;
  let message = r.details?.error?.message ?? r.message ?? String(e);
  const body = r.response?.bodyAsText;
  if (body) {
    try {
      const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
      if (parsed.error?.message) {
        message = parsed.error.message;
        code = parsed.error.code ?? code;
      }
    } catch {
      /* not JSON: keep the error's own message */
    }
  }
  if (code === 'REQUEST_SEND_ERROR' || code === 'RestError') code = undefined;
  return { code, status: r.statusCode, message: redact(oneLine(message)) };
}

/** Whether an error is the service's 404. */
export function isNotFound(e: unknown): boolean {
  return (e as RestLike | undefined)?.statusCode === 404;
}
