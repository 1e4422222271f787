import type { FastifyInstance, RouteHandlerMethod } from 'fastify';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/**
 * Register `url` for `methods`, and answer the other methods with 405 + Allow (MLflow's FastAPI
 * server does; fastify alone would say 404). `onWrongMethod` renders the 405 in the route's protocol.
 */
export function routeWith405(
  app: FastifyInstance,
  methods: readonly (typeof METHODS)[number][],
  url: string,
  handler: RouteHandlerMethod,
  onWrongMethod: RouteHandlerMethod,
): void {
  app.route({ method: [...methods], url, handler });
  const others = METHODS.filter((m) => !methods.includes(m));
  app.route({
    method: others,
    url,
    handler: async function (this: FastifyInstance, req, reply) {
      reply.header('allow', methods.join(', '));
      return onWrongMethod.call(this, req, reply);
    },
  });
}
