/**
 * Plain HTTPS calls outside ARM (the ACR token exchange, an endpoint's scoring URI), through
 * node:https so that a private CA given in the config is trusted (sovereign clouds, test fakes).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface HttpCall {
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly ca?: string | Buffer | undefined;
  readonly timeoutMs?: number;
}

export function httpCall(c: HttpCall): Promise<HttpResponse> {
  const url = new URL(c.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: c.method,
        headers: { ...(c.headers ?? {}), ...(c.body !== undefined ? { 'content-length': String(Buffer.byteLength(c.body)) } : {}) },
        ...(c.ca !== undefined && url.protocol === 'https:' ? { ca: c.ca } : {}),
        timeout: c.timeoutMs ?? 120_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${((c.timeoutMs ?? 120_000) / 1000).toFixed(0)} s`)));
    req.on('error', reject);
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}
