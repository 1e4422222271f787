/**
 * Wire-protocol pieces of the fake AWS: SigV4 Authorization parsing (the credential scope names
 * the service and region; the HMAC is not verified), AWS JSON 1.1 and REST error bodies, S3 XML.
 * FAKE: a test double of AWS, not AWS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SigV4 {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** The SigV4 header's parts, or null when it is missing or not a SigV4 signature. */
export function parseSigV4(header: string | undefined): SigV4 | null {
  const m = header ? AUTH.exec(header) : null;
  if (!m) return null;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(';') };
}

export class AwsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body ?? {}));
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(data.length), 'x-amzn-requestid': requestId(), ...headers });
  res.end(data);
}

/** AWS JSON 1.1 error: `__type` in the body and x-amzn-ErrorType in the header. */
export function sendJsonError(res: ServerResponse, fault: AwsFault): void {
  sendJson(res, fault.status, { __type: fault.code, message: fault.message }, { 'x-amzn-errortype': fault.code });
}

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  const data = Buffer.from(xml);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(data.length), 'x-amz-request-id': requestId(), ...headers });
  res.end(data);
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

let counter = 0;
export function requestId(): string {
  return `fake-${Date.now().toString(16)}-${(++counter).toString(16)}`;
}

export const epochSeconds = (d: Date = new Date()): number => d.getTime() / 1000;
