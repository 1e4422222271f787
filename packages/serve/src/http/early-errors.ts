/**
 * Requests refused before any route runs, answered in the protocol of the path asked for — the Open
 * Inference Protocol's `{"error"}` under `/v2`, MLflow's `{"error_code", "message"}` elsewhere —
 * and never echoing the request:
 *
 * - fastify's router (`frameworkErrors`): a path that cannot be percent-decoded (400), a path
 *   parameter (model name or version) longer than the router's limit (414);
 * - Node's HTTP parser (`clientError`), before fastify sees a request: a malformed request line,
 *   header, Content-Length or chunk (400), a request line longer than the header size limit (414),
 *   headers over it (431), headers not received within the request timeout (408). There is no
 *   request object then: the answer is written raw on the socket, which is closed. The path is
 *   the one of the request in flight on that connection (an error inside its body), else the one
 *   in the bytes the parser stopped at; when neither can be read, MLflow's format is used.
 */
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { encodeError } from '@mlmodel/format';
import { ServeError } from '../errors.js';
import { sendMlflowError, sendOipError } from './error-reply.js';

/** Longest path parameter the router takes: a model name (at most 128 characters) or version. */
export const MAX_PARAM_LENGTH = 128;

/** Whether a request path belongs to the Open Inference Protocol routes (their errors are `{"error"}`). */
export function isOipPath(url: string): boolean {
  return url.startsWith('/v2');
}

/** Errors of fastify's router, as the route's protocol answers them. */
export function routerErrorHandler(includeStackTrace: boolean): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => {
    let error: ServeError;
    if (err.code === 'FST_ERR_BAD_URL') {
      error = new ServeError(
        'The request path is not a valid URL: it has a "%" that is not followed by two hexadecimal digits, or encodes invalid UTF-8.',
        400,
      );
    } else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      error = new ServeError(`The URL is too long: a model name or version in it is longer than ${MAX_PARAM_LENGTH} characters.`, 414);
    } else {
      error = new ServeError('The request could not be routed.', err.statusCode ?? 500, { errorCode: 'INTERNAL_ERROR' });
    }
    if (isOipPath(req.url)) sendOipError(reply, error);
    else sendMlflowError(reply, error, includeStackTrace);
  };
}

/** What Node's parser reports with a `clientError` (`code` and `reason` from llhttp, `rawPacket` the bytes it was parsing). */
interface ParserError extends Error {
  readonly code?: string;
  readonly reason?: string;
  readonly rawPacket?: unknown;
}

const REQUEST_LINE = /^[A-Z]+ (\/[^\s?#]*)/;

/** The path of the request line at the start of `raw`, if it is one. */
function pathIn(raw: Buffer): string | null {
  return REQUEST_LINE.exec(raw.toString('latin1', 0, Math.min(raw.length, 1024)))?.[1] ?? null;
}

/** The refusal for a parser error; `raw` is the data it stopped at (when Node gives it). */
function refusal(err: ParserError, raw: Buffer | null): ServeError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ServeError('Request timeout: the server did not receive the complete request headers in time.', 408, { errorCode: 'DEADLINE_EXCEEDED' });
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // the request line alone does not fit: the bytes start with it, and its end is beyond the limit (or not there)
    const eol = raw?.indexOf(0x0a) ?? -1;
    if (raw && pathIn(raw) !== null && (eol < 0 || eol >= maxHeaderSize)) {
      return new ServeError(`The URL is too long: the request line must fit, with the headers, in ${maxHeaderSize} bytes.`, 414);
    }
    return new ServeError(`The request headers are too large: the request line and headers must fit in ${maxHeaderSize} bytes.`, 431);
  }
  const reason = err.reason ? `: ${err.reason.replace(/\.$/, '')}` : '';
  return new ServeError(`The HTTP request is malformed${reason}.`, 400);
}

/**
 * Answers Node's `clientError`s (fastify's `clientErrorHandler`); `track(server)` lets it find the
 * request in flight on a connection.
 */
export class ClientErrorResponder {
  readonly #inFlight = new WeakMap<Duplex, ServerResponse>();
  readonly #log: () => FastifyBaseLogger;

  constructor(log: () => FastifyBaseLogger) {
    this.#log = log;
  }

  /** Remember each connection's latest response. */
  track(server: Server): void {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#inFlight.set(req.socket, res));
  }

  /** The `clientError` handler. */
  readonly handle = (err: ParserError, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const res = this.#inFlight.get(socket);
    const current = res && !res.writableEnded ? res : null;
    // an answer already on its way cannot be replaced: like Node, only close
    if (current?.headersSent) {
      socket.destroy();
      return;
    }
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : null;
    const path = current?.req.url ?? (raw && pathIn(raw));
    const error = refusal(err, raw);
    this.#log().info({ status: error.httpStatus, code: err.code }, 'malformed request refused');
    const body = path !== null && path !== undefined && isOipPath(path) ? JSON.stringify({ error: error.message }) : encodeError(error).body;
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
