import type { FastifyInstance } from 'fastify';

const ALLOWED_HEADERS = 'authorization, content-type, accept, inference-header-content-length, x-request-id';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

/**
 * CORS for browser clients (the /docs page's "try it out", web apps): allow the listed origins
 * (or any, with `*`), answer preflights with 204.
 */
export function enableCors(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || (!any && !allowed.has(origin))) return;
    reply.header('access-control-allow-origin', any ? '*' : origin);
    if (!any) reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', 'x-request-id, inference-header-content-length, retry-after');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      reply
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .code(204)
        .send();
      return reply;
    }
  });
}
