import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../server.js';

export const healthRoutes = (ctx: AppContext): FastifyPluginAsync => async (app) => {
  // the queue's gauges are the operator gauges' (api/operator/gauges.ts)
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await ctx.db.query('select 1');
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', error: { code: 'unavailable', message: 'database unreachable' } });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.render();
  });
};
