import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.js';

/** Prometheus text exposition of the server's metrics. */
export function metricsRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    return reply.type(contentType).send(body);
  });
}
