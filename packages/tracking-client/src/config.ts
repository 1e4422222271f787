/**
 * Where tracking goes and how to talk to it, from MLflow's own environment variables:
 * `MLFLOW_TRACKING_URI` (unset: the local file store `./mlruns`), `MLFLOW_REGISTRY_URI`,
 * `MLFLOW_TRACKING_TOKEN` or `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`,
 * `MLFLOW_TRACKING_INSECURE_TLS`, `MLFLOW_TRACKING_SERVER_CERT_PATH`,
 * `MLFLOW_TRACKING_CLIENT_CERT_PATH`, and the retry settings `MLFLOW_HTTP_REQUEST_MAX_RETRIES`,
 * `MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR`, `MLFLOW_HTTP_REQUEST_BACKOFF_JITTER`,
 * `MLFLOW_HTTP_REQUEST_TIMEOUT` (same defaults as MLflow: 7 retries, factor 2, jitter 1 s, 120 s).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrackingConfigError } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt (MLflow: `MLFLOW_HTTP_REQUEST_MAX_RETRIES`, default 7). */
  readonly maxRetries: number;
  /** Seconds; the n-th retry waits `factor * 2^(n-1)` (none before the first retry, as urllib3). Default 2. */
  readonly backoffFactor: number;
  /** Up to this many random seconds added to each wait (default 1). */
  readonly backoffJitter: number;
  /** Longest single wait, seconds (urllib3's 120). */
  readonly backoffMax: number;
  /** Per-request socket timeout, seconds (`MLFLOW_HTTP_REQUEST_TIMEOUT`, default 120). */
  readonly timeout: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 7, backoffFactor: 2, backoffJitter: 1, backoffMax: 120, timeout: 120 };

export type HttpAuth = { readonly kind: 'bearer'; readonly token: string } | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export interface TlsOptions {
  /** Skip server certificate verification (`MLFLOW_TRACKING_INSECURE_TLS=true`). */
  readonly insecure: boolean;
  /** A CA bundle to verify the server with (`MLFLOW_TRACKING_SERVER_CERT_PATH`). */
  readonly caCertPath?: string | undefined;
  /** A client certificate, PEM with its key (`MLFLOW_TRACKING_CLIENT_CERT_PATH`). */
  readonly clientCertPath?: string | undefined;
}

export interface HttpSettings {
  readonly auth?: HttpAuth | undefined;
  readonly tls: TlsOptions;
  readonly retry: RetryPolicy;
}

/** A tracking or registry destination. */
export type TrackingTarget =
  { readonly kind: 'file'; readonly root: string; readonly uri: string } | { readonly kind: 'rest'; readonly baseUrl: URL; readonly uri: string };

function isTrue(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '') return false;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new TrackingConfigError(`${name} must be true, false, 1 or 0, got ${JSON.stringify(v)}`);
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, integer: boolean): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new TrackingConfigError(`${name} must be a ${integer ? 'whole ' : ''}number ≥ 0, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The retry policy from `MLFLOW_HTTP_REQUEST_*`. */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  return {
    maxRetries: number(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', DEFAULT_RETRY_POLICY.maxRetries, true),
    backoffFactor: number(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', DEFAULT_RETRY_POLICY.backoffFactor, false),
    backoffJitter: number(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', DEFAULT_RETRY_POLICY.backoffJitter, false),
    backoffMax: DEFAULT_RETRY_POLICY.backoffMax,
    timeout: number(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT', DEFAULT_RETRY_POLICY.timeout, false) || DEFAULT_RETRY_POLICY.timeout,
  };
}

/** Auth, TLS and retries for the tracking server, from the environment. */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  const token = env.MLFLOW_TRACKING_TOKEN;
  const username = env.MLFLOW_TRACKING_USERNAME;
  const password = env.MLFLOW_TRACKING_PASSWORD;
  let auth: HttpAuth | undefined;
  // as MLflow's rest_utils: basic auth when both username and password are set, else the bearer token
  if (username && password) auth = { kind: 'basic', username, password };
  else if (token) auth = { kind: 'bearer', token };
  else if (username || password) {
    const missing = username ? 'MLFLOW_TRACKING_PASSWORD' : 'MLFLOW_TRACKING_USERNAME';
    throw new TrackingConfigError(
      `${username ? 'MLFLOW_TRACKING_USERNAME' : 'MLFLOW_TRACKING_PASSWORD'} is set without ${missing}: set both, or use MLFLOW_TRACKING_TOKEN`,
    );
  }
  const insecure = isTrue(env, 'MLFLOW_TRACKING_INSECURE_TLS');
  const caCertPath = env.MLFLOW_TRACKING_SERVER_CERT_PATH || undefined;
  if (insecure && caCertPath) {
    throw new TrackingConfigError(
      'MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH cannot both be set: verify with the CA, or skip verification',
    );
  }
  return { auth, tls: { insecure, caCertPath, clientCertPath: env.MLFLOW_TRACKING_CLIENT_CERT_PATH || undefined }, retry: retryPolicyFromEnv(env) };
}

const DATABASE_SCHEMES = ['sqlite', 'postgresql', 'postgres', 'mysql', 'mssql'];

/** Parse a tracking URI. Unset or empty means `./mlruns` (MLflow 3.5's default file store). */
export function parseTrackingUri(uri: string | undefined, cwd: string = process.cwd()): TrackingTarget {
  const raw = (uri ?? '').trim();
  if (raw === '') {
    const root = resolve(cwd, 'mlruns');
    return { kind: 'file', root, uri: root };
  }
  // MLflow spells Databricks workspaces `databricks`, `databricks://profile` or `databricks-uc`
  if (/^databricks(-uc)?$/i.test(raw)) {
    throw new TrackingConfigError(
      `tracking URI ${raw}: Databricks workspaces are not supported; use an MLflow tracking server (http://… or https://…) or a local mlruns directory`,
    );
  }
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(raw);
  // no scheme, or a one-letter one (a Windows drive): a local path
  if (!m || m[1]!.length === 1) {
    const root = resolve(cwd, raw);
    return { kind: 'file', root, uri: root };
  }
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'file') {
    let root: string;
    try {
      // file:///abs, file://localhost/abs, file:/abs; file:relative is relative to the working directory
      root = rest.startsWith('/') ? fileURLToPath(`file://${rest.startsWith('//') ? rest.slice(2) : rest}`) : resolve(cwd, decodeURIComponent(rest));
    } catch (e) {
      throw new TrackingConfigError(`tracking URI ${raw} is not a usable file URI: ${(e as Error).message}`);
    }
    return { kind: 'file', root: resolve(root), uri: raw };
  }
  if (scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new TrackingConfigError(`tracking URI ${raw} is not a valid URL`);
    }
    return { kind: 'rest', baseUrl: url, uri: raw };
  }
  if (scheme === 'databricks' || scheme === 'databricks-uc' || scheme === 'uc') {
    throw new TrackingConfigError(
      `tracking URI ${raw}: Databricks workspaces are not supported; use an MLflow tracking server (http://… or https://…) or a local mlruns directory`,
    );
  }
  if (DATABASE_SCHEMES.some((s) => scheme === s || scheme.startsWith(`${s}+`))) {
    throw new TrackingConfigError(
      `tracking URI ${raw}: database stores are reached through an MLflow server; run \`mlflow server --backend-store-uri ${raw}\` and set MLFLOW_TRACKING_URI to its http:// address`,
    );
  }
  throw new TrackingConfigError(`tracking URI ${raw}: unsupported scheme ${scheme}: (use http://, https://, file: or a local path)`);
}

/** The tracking URI the environment names (undefined: the default `./mlruns`). */
export function trackingUriFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.MLFLOW_TRACKING_URI || undefined;
}

/** The registry URI: `MLFLOW_REGISTRY_URI`, else the tracking URI (as MLflow). */
export function registryUriFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.MLFLOW_REGISTRY_URI || trackingUriFromEnv(env);
}
