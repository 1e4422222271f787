/**
 * HTTP for the tracking server, on node:http/https (keep-alive agents, so TLS options such as
 * `MLFLOW_TRACKING_INSECURE_TLS` apply and artifact bodies stream to and from disk).
 *
 * Retries follow MLflow's (urllib3 `Retry` with `MLFLOW_HTTP_REQUEST_*`): connection errors and
 * 429/500/502/503/504 are retried, waiting `factor * 2^(n-1)` seconds plus jitter before the n-th
 * retry (none before the first), or what `Retry-After` says. One deliberate difference: a 500 that
 * carries MLflow's own `{"error_code": …}` body is the server's answer (e.g. a missing artifact),
 * not a hiccup, so it is returned at once instead of being retried for minutes.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpAuth, HttpSettings } from '../config.js';
import { TrackingConfigError, TrackingConnectionError } from '../errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** A buffered body, or a factory for a streamed one (called again on each retry) with its length. */
  readonly body?: Uint8Array | { readonly open: () => Readable; readonly length: number };
}

/** A response whose body has not been read yet: `consume` reads it (or it is drained). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly stream: Readable;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

/** Called before each retry: which attempt comes next, how long until then, and why. */
export type RetryObserver = (info: { readonly attempt: number; readonly delayMs: number; readonly reason: string; readonly url: string }) => void;

export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;

/** Whether an error is a network failure worth retrying (as opposed to a bug or a TLS verification failure). */
export function isNetworkError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && NETWORK_CODES.has(code)) return true;
  return e instanceof Error && /socket hang up|aborted|timed out/i.test(e.message) && !(e instanceof TrackingConnectionError);
}

/** Read a whole body, refusing more than `max` bytes. */
export async function readBody(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    size += b.length;
    if (size > max) {
      stream.destroy();
      throw new TrackingConnectionError(`response body larger than ${max} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function drain(res: Readable): Promise<void> {
  return new Promise((resolve) => {
    res.on('error', () => resolve());
    res.on('end', () => resolve());
    res.on('close', () => resolve());
    res.resume();
  });
}

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date), or undefined. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function authHeader(auth: HttpAuth): string {
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TrackingConfigError(`${what} ${path} cannot be read: ${(e as Error).message}`);
  }
}

export interface HttpClientOptions {
  readonly settings: HttpSettings;
  /** Credentials are sent only to this origin (the tracking server's), never to others (e.g. after a redirect). */
  readonly authOrigin: string;
  readonly userAgent: string;
  readonly onRetry?: RetryObserver | undefined;
}

/** A keep-alive HTTP(S) client with MLflow's retry policy and auth. */
export class HttpClient {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(private readonly opts: HttpClientOptions) {
    const tls = opts.settings.tls;
    this.httpAgent = new HttpAgent({ keepAlive: true });
    const cert = tls.clientCertPath ? readPem(tls.clientCertPath, 'MLFLOW_TRACKING_CLIENT_CERT_PATH') : undefined;
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      rejectUnauthorized: !tls.insecure,
      ...(tls.caCertPath ? { ca: readPem(tls.caCertPath, 'MLFLOW_TRACKING_SERVER_CERT_PATH') } : {}),
      // a PEM holding both the certificate and its key, as requests' `cert=` takes it
      ...(cert ? { cert, key: cert } : {}),
    });
  }

  /** Close idle keep-alive sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private once(req: HttpRequest, url: URL): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent, Accept: '*/*', ...req.headers };
    const auth = this.opts.settings.auth;
    if (auth && url.origin === this.opts.authOrigin && !('Authorization' in headers)) headers.Authorization = authHeader(auth);
    const body = req.body;
    if (body !== undefined) headers['Content-Length'] = String(body instanceof Uint8Array ? body.length : body.length);
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = send(url, { method: req.method, headers, agent: secure ? this.httpsAgent : this.httpAgent }, (res) => {
        res.setTimeout(this.opts.settings.retry.timeout * 1000, () => res.destroy(Object.assign(new Error('response timed out'), { code: 'ETIMEDOUT' })));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res, url });
      });
      r.setTimeout(this.opts.settings.retry.timeout * 1000, () => r.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      r.on('error', reject);
      if (body === undefined) r.end();
      else if (body instanceof Uint8Array) r.end(body);
      else {
        const s = body.open();
        s.on('error', (e) => r.destroy(e));
        s.pipe(r);
      }
    });
  }

  /** One request, following redirects for GET (credentials dropped when the origin changes). */
  private async withRedirects(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    for (let i = 0; ; i++) {
      const res = await this.once(req, url);
      const location = res.headers.location;
      if (req.method !== 'GET' || ![301, 302, 303, 307, 308].includes(res.status) || !location || i >= MAX_REDIRECTS) return res;
      await drain(res.stream);
      url = new URL(location, url);
    }
  }

  private delayMs(retry: number, retryAfter: number | undefined): number {
    const p = this.opts.settings.retry;
    if (retryAfter !== undefined) return Math.min(retryAfter, 600_000);
    if (retry <= 1) return 0;
    const s = p.backoffFactor * 2 ** (retry - 1) + (p.backoffJitter ? Math.random() * p.backoffJitter : 0);
    return Math.max(0, Math.min(p.backoffMax, s)) * 1000;
  }

  /**
   * Send a request and hand the response to `consume`, retrying connection errors and retryable
   * statuses. `consume` sees every final response (2xx or not); an error it throws that is a
   * network failure (a reset mid-download) is retried too.
   */
  async request<T>(req: HttpRequest, consume: (res: HttpResponse) => Promise<T>): Promise<T> {
    const max = this.opts.settings.retry.maxRetries;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let retryAfter: number | undefined;
      let res: HttpResponse | undefined;
      try {
        res = await this.withRedirects(req);
      } catch (e) {
        // nothing of ours runs while sending: every failure here is the connection's (refused, reset, DNS, TLS)
        if (!isNetworkError(e) || attempt >= max) throw connectionError(req.url, e, attempt);
        reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      if (res) {
        try {
          if (RETRY_STATUSES.has(res.status) && attempt < max) {
            const peek = await readBody(res.stream, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
            if (res.status === 500 && isMlflowErrorBody(peek)) return await consume(bufferedResponse(res, peek));
            reason = `HTTP ${res.status}`;
            retryAfter = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers['retry-after']) : undefined;
          } else {
            return await consume(res);
          }
        } catch (e) {
          // a reset while reading the body is retried; errors of `consume` itself (typed API errors, disk errors) are not
          if (!isNetworkError(e) || e instanceof TrackingConnectionError) throw e;
          if (attempt >= max) throw connectionError(req.url, e, attempt);
          reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        }
      }
      const delayMs = this.delayMs(attempt + 1, retryAfter);
      this.opts.onRetry?.({ attempt: attempt + 1, delayMs, reason: reason!, url: req.url.href });
      if (delayMs > 0) await sleep(delayMs);
    }
  }
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE)|ERR_OSSL)/;

/** A failed connection as a one-line TrackingConnectionError that says what to check. */
function connectionError(url: URL, e: unknown, retries: number): TrackingConnectionError {
  const code = (e as NodeJS.ErrnoException).code;
  const what = code ?? (e as Error).message;
  if (code && TLS_CODES.test(code)) {
    return new TrackingConnectionError(
      `TLS connection to ${url.origin} failed (${code}: ${(e as Error).message}): set MLFLOW_TRACKING_SERVER_CERT_PATH to the server's CA bundle, or MLFLOW_TRACKING_INSECURE_TLS=true to skip verification`,
      e,
    );
  }
  return new TrackingConnectionError(
    `cannot reach the MLflow tracking server at ${url.origin} (${what}${retries ? ` after ${retries} retries` : ''}): check MLFLOW_TRACKING_URI and that the server is running`,
    e,
  );
}

/** Whether a body is MLflow's JSON error (`{"error_code": …}`). */
export function isMlflowErrorBody(body: Buffer): boolean {
  try {
    const d = JSON.parse(body.toString('utf8')) as unknown;
    return typeof d === 'object' && d !== null && typeof (d as { error_code?: unknown }).error_code === 'string';
  } catch {
    return false;
  }
}

/** A response whose body was already read, re-served from memory. */
function bufferedResponse(res: HttpResponse, body: Buffer): HttpResponse {
  return { ...res, stream: Readable.from([body]) };
}
