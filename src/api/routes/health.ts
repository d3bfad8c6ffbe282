import type { FastifyPluginAsync } from 'fastify';
import { Gauge } from 'prom-client';
import { dueDeliveryCount, oldestDueDelivery } from '../../store/operator-overview.js';
import type { AppContext } from '../server.js';

export const healthRoutes = (ctx: AppContext): FastifyPluginAsync => async (app) => {
  // Queue gauges are read from the database when Prometheus scrapes: the
  // oldest due delivery's age is the alert that catches a stalled queue.
  new Gauge({
    name: 'herald_queue_due_deliveries',
    help: 'Pending deliveries that are due now (not held by a live lease), with those of batches not yet written out by a worker.',
    registers: [ctx.metrics.registry],
    async collect() {
      this.set(await dueDeliveryCount(ctx.db));
    },
  });
  new Gauge({
    name: 'herald_queue_oldest_due_age_seconds',
    help: 'How long the oldest due delivery has been waiting (0 when none), a batch not yet written out by a worker included.',
    registers: [ctx.metrics.registry],
    async collect() {
      // the operator view's index-bounded probe (min(due_at) here scanned the whole queue at every scrape)
      this.set((await oldestDueDelivery(ctx.db))?.ageSeconds ?? 0);
    },
  });

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
