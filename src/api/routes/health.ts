import type { FastifyPluginAsync } from 'fastify';
import { Gauge } from 'prom-client';
import { oldestDueDelivery } from '../../store/operator-overview.js';
import type { AppContext } from '../server.js';

export const healthRoutes = (ctx: AppContext): FastifyPluginAsync => async (app) => {
  // Queue gauges are read from the database when Prometheus scrapes: the
  // oldest due delivery's age is the alert that catches a stalled queue.
  new Gauge({
    name: 'herald_queue_due_deliveries',
    help: 'Pending deliveries that are due now (not held by a live lease).',
    registers: [ctx.metrics.registry],
    async collect() {
      const r = await ctx.db.query<{ n: number }>(
        // Also counts deliveries whose worker died and whose lease has run out.
        `select count(*)::int as n from queue where due_at <= now() and (lease_until is null or lease_until <= now())`,
      );
      this.set(Number(r.rows[0]?.n ?? 0));
    },
  });
  new Gauge({
    name: 'herald_queue_oldest_due_age_seconds',
    help: 'How long the oldest due delivery has been waiting (0 when none).',
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
