import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MlmodelError } from '@mlmodel/format';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The configured token, trimmed: a secret read from a file often ends with a newline, and a header
 * value never carries surrounding whitespace, so an untrimmed token could never match. Absent
 * (null/undefined): no auth. Empty after trimming: refused, rather than silently serving without auth.
 */
export function checkedAuthToken(token: string | null | undefined): string | null {
  if (token === null || token === undefined) return null;
  const trimmed = token.trim();
  if (trimmed === '') {
    throw new MlmodelError(`The auth token is ${token === '' ? 'empty' : 'only whitespace'}: give the token clients must send, or none to serve without auth.`);
  }
  return trimmed;
}

/** Whether a request carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasBearerToken(req: FastifyRequest, expected: Buffer): boolean {
  const h = req.headers.authorization;
  if (!h || !/^bearer /i.test(h)) return false;
  return timingSafeEqual(digest(h.slice(7).trim()), expected);
}

/**
 * Require a bearer token on every route except health checks (load balancers and SageMaker
 * probe them without credentials) and CORS preflights. `reject` answers in the route's protocol.
 */
export function requireBearerToken(app: FastifyInstance, token: string, isPublic: (path: string) => boolean): void {
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'OPTIONS' || isPublic(req.url.split('?', 1)[0]!)) return;
    if (hasBearerToken(req, expected)) return;
    reply.header('www-authenticate', 'Bearer');
    throw Object.assign(new Error('Missing or invalid bearer token: send "Authorization: Bearer <token>".'), { statusCode: 401, code: 'UNAUTHENTICATED' });
  });
}
